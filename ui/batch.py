"""The Batch tab (placeholder until its issue lands)."""

from __future__ import annotations

import gradio as gr

from services import Services
from ui.placeholders import placeholder


def build(services: Services, session: gr.State) -> None:
    """Render the Batch tab; `session` holds this browser session's access token."""
    with gr.Tab("Batch", id="batch"):
        placeholder("Batch", "Upload a CSV file and score every row.")
