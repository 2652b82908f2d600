"""The Account tab's personal API tokens: create (secret shown once), list, revoke."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from auth.personal_tokens import TokenInfo
from errors import AuthError
from services import Services
from storage.models import as_row_id
from ui.common import current_account, shown_to_user

COLUMNS = ["id", "name", "starts with", "created (UTC)", "last used (UTC)"]


def tokens_frame(tokens: list[TokenInfo]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [
                t.id,
                t.name,
                t.prefix + "…",
                f"{t.created_at:%Y-%m-%d %H:%M}",
                f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
            ]
            for t in tokens
        ],
        columns=COLUMNS,
    )


def build(services: Services, session: gr.State) -> None:
    """Render the token section and wire its events."""
    tokens = services.personal_tokens
    with gr.Group():
        gr.Markdown(
            "### Personal API tokens\nFor scripts: send `Authorization: Bearer <token>` to the "
            "REST API, or pass the token to gradio_client calls."
        )
        with gr.Row():
            name = gr.Textbox(label="New token name", elem_id="token-name")
            create = gr.Button("Create token", elem_id="token-create")
        secret = gr.Textbox(
            label="Your new token (copy it now: it is shown only once)",
            interactive=False,
            buttons=["copy"],
            elem_id="token-secret",
        )
        table = gr.Dataframe(
            headers=COLUMNS, interactive=False, label="Your tokens", elem_id="token-list"
        )
        with gr.Row():
            revoke_id = gr.Number(label="Token id to revoke", precision=0, elem_id="token-id")
            revoke = gr.Button("Revoke", variant="stop", elem_id="token-revoke")

    def create_token(token: str | None, label: str, request: gr.Request) -> dict[Any, Any]:
        """Create a token and show its secret once."""
        account = current_account(services, token, request)
        with shown_to_user():
            created = tokens.create(account.id, label)
        return {secret: created.token, name: "", table: tokens_frame(tokens.list(account.id))}

    def revoke_token(token: str | None, token_id: float | None, request: gr.Request):
        """Revoke one of the caller's tokens."""
        account = current_account(services, token, request)
        token_number = as_row_id(token_id)
        if token_number is None:
            raise gr.Error("Type the id of one of your tokens, as the table lists it.")
        with shown_to_user():
            tokens.revoke(account.id, token_number)
        return {secret: "", table: tokens_frame(tokens.list(account.id))}

    def listed(token: str | None, request: gr.Request) -> dict[Any, Any]:
        """Refresh the list when the login changes; forget a secret shown earlier."""
        try:
            account = services.accounts.authenticate(token)
        except AuthError:
            return {secret: "", table: tokens_frame([])}
        with shown_to_user():
            return {secret: "", table: tokens_frame(tokens.list(account.id))}

    private: dict[str, Any] = {"api_visibility": "private"}
    create.click(create_token, [session, name], [secret, name, table], **private)
    revoke.click(revoke_token, [session, revoke_id], [secret, table], **private)
    session.change(listed, session, [secret, table], **private)
