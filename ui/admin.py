"""The Admin tab: users, their usage and recent auth events. Shown to admins only; the
handler checks the role itself, since hiding a tab protects nothing."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from analysis.admin import Overview
from errors import AppError
from services import Services
from ui.common import current_account, request_token, shown_to_user

USER_COLUMNS = ["id", "username", "admin", "disabled", "created (UTC)", "predictions"]
EVENT_COLUMNS = ["when (UTC)", "event", "username", "client IP"]


def frames(overview: Overview) -> tuple[pd.DataFrame, pd.DataFrame]:
    users = pd.DataFrame(
        [
            [u.id, u.username, u.is_admin, u.disabled, f"{u.created_at:%Y-%m-%d}", u.predictions]
            for u in overview.users
        ],
        columns=USER_COLUMNS,
    )
    events = pd.DataFrame(
        [
            [f"{e.created_at:%Y-%m-%d %H:%M:%S}", e.event, e.username, e.client_ip or ""]
            for e in overview.events
        ],
        columns=EVENT_COLUMNS,
    )
    return users, events


def build(services: Services, session: gr.State) -> None:
    """Render the (hidden) Admin tab; it appears when an admin logs in."""
    with gr.Tab("Admin", id="admin", visible=False) as tab:
        refresh = gr.Button("Refresh", elem_id="admin-refresh")
        users = gr.Dataframe(
            headers=USER_COLUMNS, interactive=False, label="Users", elem_id="admin-users"
        )
        events = gr.Dataframe(
            headers=EVENT_COLUMNS,
            interactive=False,
            label="Recent account activity",
            elem_id="admin-events",
        )

        def load(token: str | None, request: gr.Request) -> dict[Any, Any]:
            """Users, usage and events; PermissionDenied for anyone but an admin."""
            account = current_account(services, token, request)
            with shown_to_user():
                user_frame, event_frame = frames(services.admin.overview(account))
            return {users: user_frame, events: event_frame}

        def on_login_change(token: str | None, request: gr.Request) -> dict[Any, Any]:
            """Show the tab (with data) to admins; hide and empty it for everyone else."""
            try:
                account = services.accounts.authenticate(request_token(token, request))
                user_frame, event_frame = frames(services.admin.overview(account))
            except AppError:
                return {tab: gr.Tab(visible=False), users: None, events: None}
            return {tab: gr.Tab(visible=True), users: user_frame, events: event_frame}

        refresh.click(load, session, [users, events], api_visibility="private")
        session.change(on_login_change, session, [tab, users, events], api_visibility="private")
