"""Build the Gradio Blocks app: one module per tab, sharing one per-session token state."""

from __future__ import annotations

import gradio as gr

from services import Services
from ui import account, analyze, batch, history, insights

INTRO = (
    "# Sentiscope\n"
    "Score texts as negative, neutral or positive and keep a private history. "
    "Log in on the **Account** tab first."
)


def build_ui(services: Services) -> gr.Blocks:
    """The whole UI. Created once; each browser session gets its own `gr.State` copy."""
    with gr.Blocks(title="Sentiscope", analytics_enabled=False) as blocks:
        gr.Markdown(INTRO)
        session = gr.State(None)  # this browser session's access token
        with gr.Tabs(selected="account"):
            account.build(services, session)
            for tab in (analyze, batch, history, insights):
                tab.build(services, session)
    return blocks
