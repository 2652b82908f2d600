"""REST routes for accounts: register, token (log in), me, logout, password change."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.deps import AuthenticatedToken, ClientDep, CurrentAccount, ServicesDep
from api.schemas import ERRORS, ErrorResponse
from auth.service import Account
from auth.tokens import IssuedToken

router = APIRouter(prefix="/api/auth", tags=["auth"])


class RegisterRequest(BaseModel):
    username: str = Field(max_length=64, examples=["alice"])
    password: str = Field(max_length=1024, examples=["correct horse battery staple"])


class PasswordChangeRequest(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class AccountOut(BaseModel):
    id: int
    username: str
    is_admin: bool
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls(**asdict(account))


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires.")

    @classmethod
    def of(cls, issued: IssuedToken) -> TokenOut:
        return cls(
            access_token=issued.access_token,
            token_type=issued.token_type,
            expires_in=issued.expires_in,
        )


_AUTH_ERRORS: dict[int | str, dict[str, object]] = {401: {"model": ErrorResponse}}


@router.post(
    "/register",
    status_code=201,
    response_model=AccountOut,
    responses={409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
def register(body: RegisterRequest, services: ServicesDep, client: ClientDep) -> AccountOut:
    """Create an account (username 3-32 of letters, digits, `._-`; password 8-128 chars)."""
    return AccountOut.of(services.accounts.register(body.username, body.password, client))


@router.post("/token", response_model=TokenOut, responses=ERRORS)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    services: ServicesDep,
    client: ClientDep,
) -> TokenOut:
    """Log in with username and password (OAuth2 password form); returns a bearer token."""
    login = services.accounts.login(form.username, form.password, client)
    return TokenOut.of(login.token)


@router.get("/me", response_model=AccountOut, responses=_AUTH_ERRORS)
def me(account: CurrentAccount) -> AccountOut:
    """The account the bearer token belongs to."""
    return AccountOut.of(account)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    responses=_AUTH_ERRORS,
)
def logout(services: ServicesDep, token: AuthenticatedToken, client: ClientDep) -> Response:
    """Log out: every token issued to this account so far stops working."""
    services.accounts.logout(token, client)
    return Response(status_code=204)


@router.post("/password", response_model=TokenOut, responses=ERRORS)
def change_password(
    body: PasswordChangeRequest,
    services: ServicesDep,
    token: AuthenticatedToken,
    client: ClientDep,
) -> TokenOut:
    """Change the password; old tokens stop working and a fresh token is returned."""
    issued = services.accounts.change_password(
        token, body.current_password, body.new_password, client
    )
    return TokenOut.of(issued)
