"""REST routes for accounts: register, token (log in), me, logout (this session or all),
password change and two-factor authentication (setup, confirm, disable)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.deps import AuthenticatedToken, ClientDep, CurrentAccount, ServicesDep
from api.schemas import ERRORS, THROTTLED, ErrorResponse, ResponseModel

router = APIRouter(prefix="/api/auth", tags=["auth"])


class RegisterRequest(BaseModel):
    username: str = Field(max_length=64, examples=["alice"])
    password: str = Field(max_length=1024, examples=["correct horse battery staple"])


class PasswordChangeRequest(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class AccountDeleteRequest(BaseModel):
    password: str = Field(max_length=1024, description="The account's password, to confirm.")


# An account, read off an `auth.service.Account`.
class AccountOut(ResponseModel):
    id: int
    username: str
    is_admin: bool
    created_at: datetime
    mfa_enabled: bool = Field(description="Whether logging in needs a two-factor code.")


# An access token, read off an `auth.tokens.IssuedToken`.
class TokenOut(ResponseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires.")


class TwoFactorSetupOut(BaseModel):
    secret: str = Field(description="The TOTP secret (base32), to type into an app by hand.")
    otpauth_uri: str = Field(description="The otpauth:// URI an authenticator app imports.")
    qr_svg: str = Field(description="The URI as a QR code: an SVG data URI (data:image/svg+xml).")


class TwoFactorConfirmRequest(BaseModel):
    code: str = Field(max_length=64, examples=["123456"])


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(
        description="Ten one-time codes for when the app is lost; shown only this once."
    )


class TwoFactorDisableRequest(BaseModel):
    password: str = Field(max_length=1024)
    code: str = Field(max_length=64, description="A current TOTP code or a recovery code.")


_AUTH_ERRORS: dict[int | str, dict[str, object]] = {401: {"model": ErrorResponse}}
_STATE_ERRORS: dict[int | str, dict[str, object]] = {**ERRORS, 409: {"model": ErrorResponse}}


@router.post(
    "/register",
    status_code=201,
    response_model=AccountOut,
    responses={409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}, 429: THROTTLED[429]},
)
def register(body: RegisterRequest, services: ServicesDep, client: ClientDep) -> AccountOut:
    """Create an account (username 3-32 of letters, digits, `._-`; password 8-128 chars)."""
    return AccountOut.of(services.accounts.register(body.username, body.password, client))


@router.post("/token", response_model=TokenOut, responses=THROTTLED)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    services: ServicesDep,
    client: ClientDep,
    otp: Annotated[
        str,
        Form(
            max_length=64,
            description="With two-factor authentication on: the current 6-digit code or a "
            "recovery code. Without it such an account gets 401 `mfa_required`.",
        ),
    ] = "",
) -> TokenOut:
    """Log in with username and password (OAuth2 password form); returns a bearer token."""
    login = services.accounts.login(form.username, form.password, client, otp=otp)
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
    """Log out this session: this token stops working; other logins stay."""
    services.accounts.logout(token, client)
    return Response(status_code=204)


@router.post(
    "/logout-all",
    status_code=204,
    response_class=Response,
    responses=_AUTH_ERRORS,
)
def logout_all(services: ServicesDep, token: AuthenticatedToken, client: ClientDep) -> Response:
    """Log out everywhere: every login token of this account stops working (API tokens stay)."""
    services.accounts.logout_everywhere(token, client)
    return Response(status_code=204)


@router.post("/password", response_model=TokenOut, responses=THROTTLED)
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


@router.post("/delete-account", status_code=204, response_class=Response, responses=THROTTLED)
def delete_account(
    body: AccountDeleteRequest,
    services: ServicesDep,
    token: AuthenticatedToken,
    client: ClientDep,
) -> Response:
    """Delete this account and all its data (history, batches and their files, API tokens).

    The password confirms it; a wrong one counts as a failed login. Cannot be undone.
    """
    services.accounts.delete_account(token, body.password, client)
    return Response(status_code=204)


@router.post("/2fa/setup", response_model=TwoFactorSetupOut, responses=_STATE_ERRORS)
def two_factor_setup(services: ServicesDep, token: AuthenticatedToken) -> TwoFactorSetupOut:
    """Start turning on two-factor authentication: scan the QR code, then confirm a code."""
    setup = services.accounts.start_two_factor(token)
    return TwoFactorSetupOut(secret=setup.secret, otpauth_uri=setup.uri, qr_svg=setup.qr_svg)


@router.post("/2fa/confirm", response_model=RecoveryCodesOut, responses=_STATE_ERRORS)
def two_factor_confirm(
    body: TwoFactorConfirmRequest,
    services: ServicesDep,
    token: AuthenticatedToken,
    client: ClientDep,
) -> RecoveryCodesOut:
    """Turn two-factor authentication on with a current code; returns 10 recovery codes once."""
    codes = services.accounts.confirm_two_factor(token, body.code, client)
    return RecoveryCodesOut(recovery_codes=codes)


@router.post(
    "/2fa/disable",
    status_code=204,
    response_class=Response,
    responses={**_STATE_ERRORS, 429: THROTTLED[429]},
)
def two_factor_disable(
    body: TwoFactorDisableRequest,
    services: ServicesDep,
    token: AuthenticatedToken,
    client: ClientDep,
) -> Response:
    """Turn two-factor authentication off (password and a current or recovery code)."""
    services.accounts.disable_two_factor(token, body.password, body.code, client)
    return Response(status_code=204)
