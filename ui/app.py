"""Build the Gradio Blocks app: one module per tab, sharing one per-session token state."""

from __future__ import annotations

import hashlib
import hmac

import gradio as gr

from errors import AppError, AuthError
from services import Services
from ui import account, admin, analyze, api, batch, history, insights

EXPORT_CACHE = (3600, 3600)  # every hour, delete files Gradio served over an hour ago
# Up to this many calls of one event run at once: enough to overlap database waits, few
# enough that CPU-bound scoring does not slow every call down (ui/batch.py sets its own).
QUEUE_CONCURRENCY = 4
# Past this many waiting events the queue refuses new ones at once (HTTP 503: the browser
# shows "This application is currently busy. Please try again.", gradio_client raises
# QueueError "Queue is full! Please try again.") instead of making everyone wait longer.
QUEUE_MAX_SIZE = 64

INTRO = (
    "# Sentiscope\n"
    "Score texts as negative, neutral or positive and keep a private history. "
    "Log in on the **Account** tab first."
)


def build_ui(services: Services) -> gr.Blocks:
    """The whole UI. Created once; each browser session gets its own `gr.State` copy."""
    with gr.Blocks(
        title="Sentiscope", analytics_enabled=False, delete_cache=EXPORT_CACHE
    ) as blocks:
        gr.Markdown(INTRO)
        session = gr.State(None)  # this browser session's access token
        # The token, kept encrypted in the browser's localStorage so a refresh stays logged in.
        remembered = gr.BrowserState(
            None, storage_key="sentiscope_login", secret=browser_secret(services)
        )
        with gr.Tabs(selected="account"):
            account.build(services, session)
            for tab in (analyze, batch, history, insights, admin):
                tab.build(services, session)
        api.build(services)

        def restore(saved: str | None) -> str | None:
            """Log back in after a refresh unless the token expired or was logged out.

            Only a token that no longer holds is forgotten: with the database briefly
            away the user stays logged in and the next action says to try again.
            """
            try:
                services.accounts.authenticate(saved)
            except AuthError:
                return None
            except AppError:
                return saved
            return saved

        blocks.load(restore, remembered, session, api_visibility="private")
        session.change(lambda token: token, session, remembered, api_visibility="private")
    blocks.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    return blocks


def browser_secret(services: Services) -> str:
    """The key BrowserState encrypts with, derived from SECRET_KEY (never the key itself)."""
    key = services.settings.SECRET_KEY
    assert key is not None  # build_services guarantees one
    digest = hmac.new(key.get_secret_value().encode(), b"sentiscope browser state", hashlib.sha256)
    return digest.hexdigest()
