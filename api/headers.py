"""Security headers on every response (REST, docs and the Gradio UI alike)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def security_headers(frame_ancestors: str) -> dict[str, str]:
    """The headers to add; the CSP only restricts framing, plugins and `<base>`, so
    Gradio's inline scripts and styles keep working."""
    return {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Content-Security-Policy": (
            f"frame-ancestors {frame_ancestors}; object-src 'none'; base-uri 'self'"
        ),
    }


class SecurityHeadersMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware) so Gradio's streamed responses pass untouched."""

    def __init__(self, app: ASGIApp, frame_ancestors: str) -> None:
        self.app = app
        self.headers = security_headers(frame_ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
