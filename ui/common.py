"""Helpers every tab shares: the caller's identity and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from auth.service import Account, ClientInfo
from errors import AppError
from services import Services


@contextmanager
def shown_to_user() -> Iterator[None]:
    """Turn domain errors into a `gr.Error` popup carrying the message."""
    try:
        yield
    except AppError as exc:
        raise gr.Error(exc.message) from None


def client_info(request: gr.Request | None) -> ClientInfo:
    if request is None:
        return ClientInfo()
    host = request.client.host if request.client else None
    return ClientInfo(ip=host, user_agent=request.headers.get("user-agent"))


def request_token(token: str | None, request: gr.Request | None) -> str | None:
    """The session's token, else a `Authorization: Bearer` header (for gradio_client)."""
    if token:
        return token
    header = request.headers.get("authorization", "") if request is not None else ""
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_account(services: Services, token: str | None, request: gr.Request | None) -> Account:
    """The logged-in account; raises gr.Error asking the user to log in otherwise."""
    with shown_to_user():
        return services.accounts.authenticate(request_token(token, request))


LOG_IN_FIRST = "Log in on the **Account** tab to see this."


def client_key(request: gr.Request | None) -> str:
    """Who a guest is for rate limiting: the client IP (unknown clients share one bucket)."""
    if request is not None and request.client is not None:
        return request.client.host
    return "unknown"
