"""The Account tab's two-factor section: set up (QR code, confirm, recovery codes), turn off."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from errors import AuthError
from services import Services
from ui.common import client_info, request_token, shown_to_user

OFF = "Two-factor authentication is **off**: your password alone logs you in."
ON = (
    "Two-factor authentication is **on**: logging in also needs the code from your "
    "authenticator app (or one of your recovery codes)."
)


def qr_html(data_uri: str) -> str:
    src = html.escape(data_uri, quote=True)
    return f'<img src="{src}" alt="QR code for your authenticator app" width="220">'


def build(services: Services, session: gr.State) -> None:
    """Render the two-factor section and wire its events."""
    accounts = services.accounts
    with gr.Group():
        gr.Markdown("### Two-factor authentication")
        status = gr.Markdown(OFF, elem_id="mfa-status")
        setup_button = gr.Button("Set up two-factor authentication", elem_id="mfa-setup")
        with gr.Column(visible=False) as enrol:
            gr.Markdown(
                "Scan the QR code with an authenticator app (or type the secret in), then "
                "enter the 6-digit code it shows."
            )
            qr = gr.HTML(elem_id="mfa-qr")
            secret = gr.Textbox(label="Secret", interactive=False, elem_id="mfa-secret")
            confirm_code = gr.Textbox(label="Code from the app", elem_id="mfa-confirm-code")
            confirm_button = gr.Button("Turn on", variant="primary", elem_id="mfa-confirm")
        recovery = gr.Textbox(
            label="Recovery codes: save them now, they are shown only this once",
            info="Each works once in place of a code if you lose your device.",
            lines=10,
            interactive=False,
            visible=False,
            elem_id="mfa-recovery-codes",
        )
        with gr.Column(visible=False) as disable:
            disable_password = gr.Textbox(
                label="Password", type="password", elem_id="mfa-disable-password"
            )
            disable_code = gr.Textbox(
                label="Code from the app, or a recovery code", elem_id="mfa-disable-code"
            )
            disable_button = gr.Button(
                "Turn off two-factor authentication", variant="stop", elem_id="mfa-disable"
            )

    def state(enabled: bool) -> dict[Any, Any]:
        return {
            status: ON if enabled else OFF,
            setup_button: gr.Button(visible=not enabled),
            disable: gr.Column(visible=enabled),
        }

    def setup(token: str | None, request: gr.Request) -> dict[Any, Any]:
        """A new secret and its QR code; two-factor is on only after the code is confirmed."""
        with shown_to_user():
            started = accounts.start_two_factor(request_token(token, request))
        return {
            enrol: gr.Column(visible=True),
            qr: qr_html(started.qr_svg),
            secret: started.secret,
            recovery: gr.Textbox(value="", visible=False),
        }

    def confirm(token: str | None, code: str, request: gr.Request) -> dict[Any, Any]:
        """Turn two-factor on and show the recovery codes once."""
        with shown_to_user():
            codes = accounts.confirm_two_factor(
                request_token(token, request), code, client_info(request)
            )
        return {
            **state(True),
            enrol: gr.Column(visible=False),
            qr: "",
            secret: "",
            confirm_code: "",
            recovery: gr.Textbox(value="\n".join(codes), visible=True),
        }

    def turn_off(token: str | None, password: str, code: str, request: gr.Request):
        """Turn two-factor off after checking the password and a code."""
        with shown_to_user():
            accounts.disable_two_factor(
                request_token(token, request), password, code, client_info(request)
            )
        return {**state(False), disable_password: "", disable_code: ""}

    def refreshed(token: str | None, request: gr.Request) -> dict[Any, Any]:
        """Show this account's state after a login, logout or page refresh."""
        try:
            enabled = accounts.authenticate(request_token(token, request)).mfa_enabled
        except AuthError:
            enabled = False
        return {
            **state(enabled),
            enrol: gr.Column(visible=False),
            qr: "",
            secret: "",
            recovery: gr.Textbox(value="", visible=False),
        }

    shown = [status, setup_button, disable]
    setup_button.click(setup, [session], [enrol, qr, secret, recovery], api_visibility="private")
    confirm_button.click(
        confirm,
        [session, confirm_code],
        [*shown, enrol, qr, secret, confirm_code, recovery],
        api_visibility="private",
    )
    disable_button.click(
        turn_off,
        [session, disable_password, disable_code],
        [*shown, disable_password, disable_code],
        api_visibility="private",
    )
    session.change(
        refreshed, session, [*shown, enrol, qr, secret, recovery], api_visibility="private"
    )
