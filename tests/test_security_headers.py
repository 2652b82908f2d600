"""Security headers on REST, docs and UI responses; CORS refuses unknown and `null` origins."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app import create_app
from services import build_services
from settings import Settings
from tests.helpers import make_settings

ALLOWED = "https://app.example.org"


@pytest.mark.parametrize("path", ["/api/health", "/api/nope", "/docs", "/openapi.json", "/"])
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://huggingface.co https://*.hf.space;" in csp


def test_frame_ancestors_and_cors_follow_the_settings(settings: Settings) -> None:
    assert settings.DATABASE_URL is not None
    custom = make_settings(
        settings.DATABASE_URL,
        settings.DATA_DIR,
        FRAME_ANCESTORS="'none'",
        CORS_ORIGINS=ALLOWED,
    )
    services = build_services(custom)
    try:
        with TestClient(create_app(custom, services)) as client:
            csp = client.get("/api/health").headers["Content-Security-Policy"]
            replies = {
                origin: client.options(
                    "/api/auth/me",
                    headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
                )
                for origin in (ALLOWED, "null", "https://evil.example")
            }
    finally:
        services.close()
    assert csp.startswith("frame-ancestors 'none';")
    assert replies[ALLOWED].headers["access-control-allow-origin"] == ALLOWED
    for origin in ("null", "https://evil.example"):
        assert "access-control-allow-origin" not in replies[origin].headers, origin
    for reply in replies.values():
        assert "access-control-allow-credentials" not in reply.headers


@pytest.mark.parametrize("origins", ["*", "null", f"{ALLOWED},*"])
def test_wildcard_and_null_origins_stop_start_up(origins: str) -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        Settings(_env_file=None, CORS_ORIGINS=origins)  # type: ignore[call-arg]


@pytest.mark.parametrize("value", ["", "https://a.example; script-src *", "a,b"])
def test_malformed_frame_ancestors_stop_start_up(value: str) -> None:
    with pytest.raises(ValidationError, match="FRAME_ANCESTORS"):
        Settings(_env_file=None, FRAME_ANCESTORS=value)  # type: ignore[call-arg]
