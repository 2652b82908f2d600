"""REST: the caller's personal API tokens (list, create, revoke)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from api.deps import CurrentAccount, ServicesDep
from api.schemas import ERRORS, ErrorResponse, ResponseModel, RowId
from auth.personal_tokens import NAME_MAX

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


class TokenRequest(BaseModel):
    name: str = Field(max_length=NAME_MAX, examples=["nightly report script"])


# A personal API token, read off an `auth.personal_tokens.TokenInfo`.
class TokenInfoOut(ResponseModel):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    created_at: datetime
    last_used_at: datetime | None


class NewTokenOut(TokenInfoOut):
    token: str = Field(description="The secret. Shown only in this response; store it now.")


@router.get("", response_model=list[TokenInfoOut], responses=ERRORS)
def list_tokens(account: CurrentAccount, services: ServicesDep) -> list[TokenInfoOut]:
    """Your personal API tokens (never the secrets)."""
    return [TokenInfoOut.of(info) for info in services.personal_tokens.list(account.id)]


@router.post("", status_code=201, response_model=NewTokenOut, responses=ERRORS)
def create_token(body: TokenRequest, account: CurrentAccount, services: ServicesDep) -> NewTokenOut:
    """Create a token; use it as `Authorization: Bearer <token>` like a login token."""
    created = services.personal_tokens.create(account.id, body.name)
    return NewTokenOut(**TokenInfoOut.of(created.info).model_dump(), token=created.token)


@router.delete(
    "/{token_id}",
    status_code=204,
    response_class=Response,
    responses={404: {"model": ErrorResponse}, **ERRORS},
)
def revoke_token(token_id: RowId, account: CurrentAccount, services: ServicesDep) -> Response:
    """Revoke one of your tokens; it stops working at once."""
    services.personal_tokens.revoke(account.id, token_id)
    return Response(status_code=204)
