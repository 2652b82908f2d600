"""The Account tab: register, log in (with a two-factor code if on), see who is logged in,
log out here or everywhere, change password, two-factor authentication, API tokens.

The access token lives in the per-browser-session `gr.State` passed in by `ui.app`, so
every visitor has their own login; nothing about a user is kept in module globals.
"""

from __future__ import annotations

import contextlib
from typing import Any

import gradio as gr

from errors import AuthError
from services import Services
from ui import personal_tokens, two_factor
from ui.common import client_info, request_token, shown_to_user

NOT_SIGNED_IN = "Not logged in"


def build(services: Services, session: gr.State) -> None:
    """Render the Account tab and wire its events."""
    accounts = services.accounts
    with gr.Tab("Account", id="account"):
        whoami = gr.Textbox(
            label="Logged in as", value=NOT_SIGNED_IN, interactive=False, elem_id="whoami"
        )
        notice = gr.Textbox(label="Status", interactive=False, elem_id="account-status")
        with gr.Column(visible=True) as signed_out:
            with gr.Group():
                gr.Markdown("### Log in")
                login_name = gr.Textbox(label="Username", elem_id="login-username")
                login_password = gr.Textbox(
                    label="Password", type="password", elem_id="login-password"
                )
                login_code = gr.Textbox(
                    label="Two-factor code",
                    info="Only if you turned on two-factor authentication; a recovery code "
                    "also works",
                    elem_id="login-code",
                )
                login_button = gr.Button("Log in", variant="primary", elem_id="login-button")
            with gr.Group():
                gr.Markdown("### Create an account")
                new_name = gr.Textbox(
                    label="Username",
                    info="3 to 32 letters, digits, '.', '_' or '-'",
                    elem_id="register-username",
                )
                new_password = gr.Textbox(
                    label="Password",
                    type="password",
                    info="8 to 128 characters; a long passphrase is best",
                    elem_id="register-password",
                )
                register_button = gr.Button("Create account", elem_id="register-button")
        with gr.Column(visible=False) as signed_in:
            logout_button = gr.Button("Log out", variant="stop", elem_id="logout-button")
            with gr.Group():
                gr.Markdown(
                    "### Log out everywhere\nEnds every login of this account, on every device "
                    "and browser, this one included. Personal API tokens keep working: delete "
                    "them below to revoke them."
                )
                logout_all_button = gr.Button("Log out everywhere", elem_id="logout-all-button")
            with gr.Group():
                gr.Markdown("### Change password")
                current_password = gr.Textbox(
                    label="Current password", type="password", elem_id="current-password"
                )
                changed_password = gr.Textbox(
                    label="New password", type="password", elem_id="new-password"
                )
                change_button = gr.Button("Change password", elem_id="change-password-button")
            two_factor.build(services, session)
            personal_tokens.build(services, session)
            with gr.Group():
                gr.Markdown(
                    "### Delete my account\nRemoves your account, history, batches and API "
                    "tokens for good."
                )
                delete_password = gr.Textbox(
                    label="Confirm with your password", type="password", elem_id="delete-password"
                )
                delete_button = gr.Button(
                    "Delete my account and all my data", variant="stop", elem_id="delete-account"
                )

        def show(token: str | None, username: str | None, message: str) -> dict[Any, Any]:
            return {
                session: token,
                whoami: username or NOT_SIGNED_IN,
                notice: message,
                signed_out: gr.Column(visible=token is None),
                signed_in: gr.Column(visible=token is not None),
                login_password: "",
                login_code: "",
                current_password: "",
                changed_password: "",
                delete_password: "",
            }

        shown = [session, whoami, notice, signed_out, signed_in]
        shown += [login_password, login_code, current_password, changed_password, delete_password]

        def register(username: str, password: str, request: gr.Request) -> dict[Any, Any]:
            """Create an account, then offer its name in the login form."""
            with shown_to_user():
                account = accounts.register(username, password, client_info(request))
            return {
                notice: f"Account {account.username} created. Log in below.",
                login_name: account.username,
                new_name: "",
                new_password: "",
            }

        def login(username: str, password: str, code: str, request: gr.Request) -> dict[Any, Any]:
            """Check the credentials and keep the token in this browser session."""
            with shown_to_user():
                result = accounts.login(username, password, client_info(request), otp=code)
            name = result.account.username
            return show(result.token.access_token, name, f"Logged in as {name}.")

        def logout(token: str | None, request: gr.Request) -> dict[Any, Any]:
            """End this session; a token that already expired just clears here."""
            with contextlib.suppress(AuthError):
                accounts.logout(token, client_info(request))
            return show(None, None, "Logged out.")

        def logout_everywhere(token: str | None, request: gr.Request) -> dict[Any, Any]:
            """End every login session of this account, this one included."""
            with shown_to_user():
                accounts.logout_everywhere(token, client_info(request))
            return show(None, None, "Logged out everywhere. Personal API tokens still work.")

        def change_password(
            token: str | None, current: str, new: str, request: gr.Request
        ) -> dict[Any, Any]:
            """Change the password and keep this session logged in with a fresh token."""
            with shown_to_user():
                account = accounts.authenticate(token)
                issued = accounts.change_password(token, current, new, client_info(request))
            message = "Password changed. Other sessions have been logged out."
            return show(issued.access_token, account.username, message)

        def delete_account(token: str | None, password: str, request: gr.Request):
            """Delete the account and everything in it, after checking the password."""
            with shown_to_user():
                accounts.delete_account(token, password, client_info(request))
            return show(None, None, "Your account and all its data were deleted.")

        def restored(token: str | None, request: gr.Request) -> dict[Any, Any]:
            """Reflect the login after it changes elsewhere (restored after a page refresh)."""
            try:
                account = accounts.authenticate(request_token(token, request))
            except AuthError:
                return {
                    whoami: NOT_SIGNED_IN,
                    signed_out: gr.Column(visible=True),
                    signed_in: gr.Column(visible=False),
                }
            return {
                whoami: account.username,
                signed_out: gr.Column(visible=False),
                signed_in: gr.Column(visible=True),
            }

        register_button.click(
            register,
            [new_name, new_password],
            [notice, login_name, new_name, new_password],
            api_name="register",
        )
        gr.on(
            [login_button.click, login_password.submit, login_code.submit],
            login,
            [login_name, login_password, login_code],
            shown,
            api_name="login_form",  # `/login` (ui/api.py) returns the token to API clients
            api_visibility="private",
        )
        logout_button.click(logout, [session], shown, api_visibility="private")
        logout_all_button.click(logout_everywhere, [session], shown, api_visibility="private")
        change_button.click(
            change_password,
            [session, current_password, changed_password],
            shown,
            api_visibility="private",
        )
        delete_button.click(
            delete_account, [session, delete_password], shown, api_visibility="private"
        )
        session.change(restored, session, [whoami, signed_out, signed_in], api_visibility="private")
