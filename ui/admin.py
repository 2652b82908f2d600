"""The Admin tab: users, their usage and the auth event audit trail (filters, paging).

Shown to admins only; every handler checks the role itself, since hiding a tab protects
nothing. Event fields are what a client sent (a typed username, a user agent), so they
are shown as plain-text cells with control characters escaped (`analysis.admin.inert`).
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from analysis.admin import EventPage, UserUsage, inert, make_event_filters
from auth.service import Account
from errors import AppError
from services import Services
from ui.common import current_account, request_token, shown_to_user

USER_COLUMNS = ["id", "username", "admin", "disabled", "created (UTC)", "predictions"]
EVENT_COLUMNS = ["when (UTC)", "event", "username", "client IP", "user id", "user agent"]
PAGE_SIZE = 50
ANY = "all"


def users_frame(rows: list[UserUsage]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [u.id, u.username, u.is_admin, u.disabled, f"{u.created_at:%Y-%m-%d}", u.predictions]
            for u in rows
        ],
        columns=USER_COLUMNS,
    )


def events_frame(page: EventPage) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [
                f"{e.created_at:%Y-%m-%d %H:%M:%S}",
                inert(e.event),
                inert(e.username),
                inert(e.client_ip),
                "" if e.user_id is None else str(e.user_id),
                inert(e.user_agent),
            ]
            for e in page.rows
        ],
        columns=EVENT_COLUMNS,
    )


def build(services: Services, session: gr.State) -> None:
    """Render the (hidden) Admin tab; it appears when an admin logs in."""
    admin = services.admin
    with gr.Tab("Admin", id="admin", visible=False) as tab:
        refresh = gr.Button("Refresh", elem_id="admin-refresh")
        users = gr.Dataframe(
            headers=USER_COLUMNS, interactive=False, label="Users", elem_id="admin-users"
        )
        gr.Markdown("### Account activity (auth events)")
        with gr.Row():
            event = gr.Dropdown([ANY], value=ANY, label="Event", elem_id="admin-event")
            username = gr.Textbox(label="Username contains", elem_id="admin-username")
            client_ip = gr.Textbox(label="Client IP starts with", elem_id="admin-ip")
            since = gr.Textbox(label="From (UTC)", placeholder="YYYY-MM-DD", elem_id="admin-since")
            until = gr.Textbox(label="To (UTC)", placeholder="YYYY-MM-DD", elem_id="admin-until")
        with gr.Row():
            show_button = gr.Button("Show events", variant="primary", elem_id="admin-events-show")
            newer = gr.Button("← Newer", interactive=False, elem_id="admin-events-newer")
            older = gr.Button("Older →", interactive=False, elem_id="admin-events-older")
        status = gr.Markdown(elem_id="admin-events-status")
        events = gr.Dataframe(
            headers=EVENT_COLUMNS,
            datatype=["str"] * len(EVENT_COLUMNS),
            interactive=False,
            wrap=True,
            label="Auth events, newest first",
            elem_id="admin-events",
        )
        offset = gr.State(0)
        filters = [event, username, client_ip, since, until]
        outputs = [users, event, status, events, offset, newer, older]

        def render(account: Account, start: int, *values: str | None) -> dict[Any, Any]:
            chosen, name, ip, first, last = values
            with shown_to_user():
                picked = make_event_filters(
                    event=chosen, username=name, client_ip=ip, since=first, until=last
                )
                page = admin.events(account, picked, offset=max(start, 0), limit=PAGE_SIZE)
                names = admin.event_names(account)
                listed = admin.users(account)
            return {
                users: users_frame(listed),
                event: gr.Dropdown(choices=[ANY, *names], value=chosen or ANY),
                status: page.describe(),
                events: events_frame(page),
                offset: page.offset,
                newer: gr.Button(interactive=page.offset > 0),
                older: gr.Button(interactive=page.has_older),
            }

        def show_events(
            token: str | None, request: gr.Request, *values: str | None
        ) -> dict[Any, Any]:
            """The newest events for the filters; refused for anyone but an admin."""
            return render(current_account(services, token, request), 0, *values)

        def page_older(token: str | None, start: int, request: gr.Request, *values: str | None):
            """The next (older) page of events."""
            return render(current_account(services, token, request), start + PAGE_SIZE, *values)

        def page_newer(token: str | None, start: int, request: gr.Request, *values: str | None):
            """The previous (newer) page of events."""
            return render(current_account(services, token, request), start - PAGE_SIZE, *values)

        def on_login_change(token: str | None, request: gr.Request) -> dict[Any, Any]:
            """Show the tab (with data) to admins; hide and empty it for everyone else."""
            try:
                account = services.accounts.authenticate(request_token(token, request))
                shown = render(account, 0, ANY, "", "", "", "")
            except (AppError, gr.Error):
                return {
                    tab: gr.Tab(visible=False),
                    users: None,
                    events: None,
                    status: "",
                    offset: 0,
                }
            return {tab: gr.Tab(visible=True), **shown}

        private: dict[str, Any] = {"api_visibility": "private"}
        gr.on(
            [refresh.click, show_button.click], show_events, [session, *filters], outputs, **private
        )
        older.click(page_older, [session, offset, *filters], outputs, **private)
        newer.click(page_newer, [session, offset, *filters], outputs, **private)
        session.change(on_login_change, session, [tab, *outputs], **private)
