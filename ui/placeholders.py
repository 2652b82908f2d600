"""A tab that a later issue fills in."""

from __future__ import annotations

import gradio as gr


def placeholder(title: str, purpose: str) -> None:
    gr.Markdown(f"### {title}\n\n{purpose}\n\n_Coming soon._")
