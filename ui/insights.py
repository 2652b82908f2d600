"""The Insights tab (placeholder until its issue lands)."""

from __future__ import annotations

import gradio as gr

from services import Services
from ui.placeholders import placeholder


def build(services: Services, session: gr.State) -> None:
    """Render the Insights tab; `session` holds this browser session's access token."""
    with gr.Tab("Insights", id="insights"):
        placeholder("Insights", "Trends and label counts across your history.")
