"""Forged tokens and the route census: >= 1,000 forged token variants against every
protected REST route (found from app.routes) and the Gradio endpoints that take a token;
every route and endpoint except login, register, health and docs refuses a missing token.
The variants include genuine tokens whose session ended: logged out (their jti revoked),
logged out everywhere, password changed, account disabled, account deleted."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from gradio_client import Client
from sqlalchemy import update

from services import Services
from storage import users
from storage.models import User
from tests.forgery import forged_tokens
from tests.helpers import PASSWORD, SECRET, bearer, new_username

# Routes that answer without a token, each for a reason; any other new route must not.
PUBLIC_REST = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/healthz"),
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/token"),
}
CATCH_ALL = "/api/{path:path}"  # answers 404/405 in the API's error shape
PUBLIC_GRADIO = {"/login", "/register"}
REFUSED = re.compile(r"not logged in|not valid|invalid|session has|expired", re.I)


def rest_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) the FastAPI app serves, HEAD aside, discovered from app.routes."""
    found = set()
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD" and route.path != CATCH_ALL:
                found.add((method, route.path))
    return sorted(found)


def protected_routes(client: TestClient) -> list[tuple[str, str]]:
    routes = [route for route in rest_routes(client) if route not in PUBLIC_REST]
    return [(method, re.sub(r"\{[^}]+\}", "1", path)) for method, path in routes]


@pytest.fixture(scope="module")
def victim(services: Services) -> tuple[int, str]:
    """A real user and a genuine token of theirs, the base of the forgeries."""
    username = new_username()
    account = services.accounts.register(username, PASSWORD)
    return account.id, services.accounts.login(username, PASSWORD).token.access_token


ENDED_KINDS = {
    "revoked-jti",
    "logged-out-everywhere",
    "password-changed",
    "account-disabled",
    "account-deleted",
}


def logins(services: Services, username: str, count: int) -> list[str]:
    return [services.accounts.login(username, PASSWORD).token.access_token for _ in range(count)]


@pytest.fixture(scope="module")
def ended(services: Services, victim: tuple[int, str]) -> list[tuple[str, str]]:
    """Genuine tokens whose session has ended, each in one of the five ways."""
    accounts = services.accounts
    with services.db.session_scope() as session:
        user = users.get(session, victim[0])
        assert user is not None
        victim_name = user.username
    found = []
    # The victim logs out of 40 other sessions; their genuine token must stay valid.
    for token in logins(services, victim_name, 40):
        accounts.logout(token)
        found.append(("revoked-jti", token))
    names = {kind: new_username() for kind in ENDED_KINDS - {"revoked-jti"}}
    for name in names.values():
        accounts.register(name, PASSWORD)
    tokens = {kind: logins(services, name, 10) for kind, name in names.items()}
    accounts.logout_everywhere(tokens["logged-out-everywhere"][0])
    accounts.change_password(tokens["password-changed"][0], PASSWORD, "a changed passphrase")
    with services.db.session_scope() as session:
        disabled = update(User).where(User.username == names["account-disabled"])
        session.execute(disabled.values(disabled=True))
    accounts.delete_account(tokens["account-deleted"][0], PASSWORD)
    return found + [(kind, token) for kind, group in tokens.items() for token in group]


@pytest.fixture(scope="module")
def forgeries(
    services: Services, victim: tuple[int, str], ended: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    user_id, genuine = victim
    with services.db.session_scope() as session:
        user = users.get(session, user_id)
        assert user is not None
        version = user.token_version
    return list(forged_tokens(genuine, SECRET, user_id, version, datetime.now(UTC), ended))


def test_the_census_lists_every_route_and_the_public_ones_are_known(client: TestClient) -> None:
    routes = rest_routes(client)
    assert set(PUBLIC_REST) <= set(routes)
    assert len(protected_routes(client)) >= 15, routes


def test_every_protected_route_refuses_a_missing_token(client: TestClient) -> None:
    answers = {
        (method, path): client.request(method, path).status_code
        for method, path in protected_routes(client)
    }
    assert answers and set(answers.values()) == {401}, answers


def test_public_routes_answer_without_a_token(client: TestClient) -> None:
    for method, path in PUBLIC_REST:
        assert client.request(method, path).status_code != 401, path


def test_at_least_1000_forged_tokens_are_refused_by_every_protected_route(
    client: TestClient, services: Services, forgeries: list[tuple[str, str]]
) -> None:
    kinds = Counter(kind for kind, _ in forgeries)
    assert len(forgeries) >= 1000, kinds
    assert {"alg-none", "alg-rsa", "alg-hs-other", "wrong-key", "expired"} <= set(kinds)
    # 40 logged-out sessions and 10 tokens for each other ending, each also unsigned.
    assert kinds["revoked-jti"] == 80
    assert all(kinds[kind] == 20 for kind in ENDED_KINDS - {"revoked-jti"}), kinds
    routes = protected_routes(client)
    accepted = []
    tried = 0
    for kind, token in forgeries:
        for method, path in routes:
            header = f"Bearer {token}".encode()  # bytes: some forgeries are not ASCII
            status = client.request(method, path, headers={"Authorization": header}).status_code
            tried += 1
            if status != 401:
                accepted.append((kind, method, path, status))
    assert accepted == [], Counter((kind, status) for kind, _, _, status in accepted)
    assert tried == len(forgeries) * len(routes)


def test_the_genuine_token_still_works(client: TestClient, victim: tuple[int, str]) -> None:
    assert client.get("/api/auth/me", headers=bearer(victim[1])).status_code == 200


@pytest.fixture(scope="module")
def gradio(live_server: str) -> Iterator[Client]:
    client = Client(live_server, verbose=False)
    yield client
    client.close()


def gradio_endpoints(live_server: str) -> dict[str, list[dict[str, object]]]:
    info = httpx.get(f"{live_server}/gradio_api/info", timeout=30).json()
    return {name: endpoint["parameters"] for name, endpoint in info["named_endpoints"].items()}


def token_call(parameters: list[dict[str, object]], token: str) -> list[object]:
    """Arguments for an endpoint: the token where it goes, harmless values elsewhere."""
    args: list[object] = []
    for parameter in parameters:
        if parameter["parameter_name"] == "token":
            args.append(token)
        elif parameter["parameter_name"] == "file":
            args.append(None)
        elif parameter.get("parameter_has_default"):
            args.append(parameter.get("parameter_default"))
        else:
            args.append(parameter.get("example_input"))
    return args


def test_gradio_census_every_endpoint_but_login_and_register_needs_a_token(
    gradio: Client, live_server: str
) -> None:
    endpoints = gradio_endpoints(live_server)
    assert set(endpoints) >= PUBLIC_GRADIO
    protected = {name: params for name, params in endpoints.items() if name not in PUBLIC_GRADIO}
    assert protected, endpoints
    for name, parameters in protected.items():
        assert any(p["parameter_name"] == "token" for p in parameters), name
        with pytest.raises(Exception, match=REFUSED):
            gradio.predict(*token_call(parameters, ""), api_name=name)


def test_a_sample_of_forged_tokens_is_refused_by_the_gradio_endpoints(
    gradio: Client, live_server: str, forgeries: list[tuple[str, str]]
) -> None:
    endpoints = gradio_endpoints(live_server)
    protected = {n: p for n, p in endpoints.items() if n not in PUBLIC_GRADIO and n != "/batch"}
    # Every kind of forgery, a few of each: Gradio calls cost ~50 ms each.
    sample: dict[str, list[str]] = {}
    for kind, token in forgeries:
        if len(sample.setdefault(kind, [])) < 4 and token:
            sample[kind].append(token)
    tokens = [token for group in sample.values() for token in group]
    assert len(tokens) >= 50
    for name, parameters in protected.items():
        for token in tokens:
            with pytest.raises(Exception, match=REFUSED):
                gradio.predict(*token_call(parameters, token), api_name=name)
