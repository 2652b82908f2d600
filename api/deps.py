"""Dependencies shared by the REST routes: the services, the caller, the client info."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from auth.service import Account, ClientInfo
from services import Services

TOKEN_URL = "/api/auth/token"  # noqa: S105 - a path, not a secret

# auto_error=False: a missing token reaches the service, which raises the same
# InvalidToken as a bad one, so every 401 has the project's error shape.
bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


# Dependencies that only read the request are `async def`: FastAPI runs a plain `def`
# dependency on a worker thread, and each such hop costs two thread switches and the GIL
# twice per request (under load, where a History page spent most of its time waiting).


async def get_services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


async def get_client(request: Request) -> ClientInfo:
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


ServicesDep = Annotated[Services, Depends(get_services)]
ClientDep = Annotated[ClientInfo, Depends(get_client)]
TokenDep = Annotated[str | None, Depends(bearer)]


def current_account(services: ServicesDep, token: TokenDep) -> Account:
    """The logged-in account; raises InvalidToken (401) otherwise."""
    return services.accounts.authenticate(token)


CurrentAccount = Annotated[Account, Depends(current_account)]


def authenticated_token(services: ServicesDep, token: TokenDep) -> str:
    """The caller's token once checked, so a bad token is a 401 before any body is read."""
    services.accounts.authenticate(token)
    assert token is not None
    return token


AuthenticatedToken = Annotated[str, Depends(authenticated_token)]
