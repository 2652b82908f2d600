"""The Analyze tab (placeholder until its issue lands)."""

from __future__ import annotations

import gradio as gr

from services import Services
from ui.placeholders import placeholder


def build(services: Services, session: gr.State) -> None:
    """Render the Analyze tab; `session` holds this browser session's access token."""
    with gr.Tab("Analyze", id="analyze"):
        placeholder("Analyze", "Score a text as negative, neutral or positive.")
