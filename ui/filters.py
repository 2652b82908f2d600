"""The history filters shared by the History and Insights tabs, and the gradio_client API."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from analysis.filters import make_filters
from storage.predictions import HistoryFilters

ANY = "all"


@dataclass(frozen=True)
class FilterControls:
    label: gr.Dropdown
    source: gr.Dropdown
    batch: gr.Textbox
    since: gr.Textbox
    until: gr.Textbox
    search: gr.Textbox

    def inputs(self) -> list[gr.components.Component]:
        return [self.label, self.source, self.batch, self.since, self.until, self.search]


def filter_controls(prefix: str) -> FilterControls:
    """Render the filter row; element ids start with `prefix` (e.g. "history")."""
    with gr.Row():
        label = gr.Dropdown(
            [ANY, "negative", "neutral", "positive"],
            value=ANY,
            label="Label",
            elem_id=f"{prefix}-label",
        )
        source = gr.Dropdown(
            [ANY, "single", "batch", "api"], value=ANY, label="Source", elem_id=f"{prefix}-source"
        )
        batch = gr.Textbox(label="Batch #", placeholder="any", elem_id=f"{prefix}-batch")
        since = gr.Textbox(label="From (UTC)", placeholder="YYYY-MM-DD", elem_id=f"{prefix}-since")
        until = gr.Textbox(label="To (UTC)", placeholder="YYYY-MM-DD", elem_id=f"{prefix}-until")
        search = gr.Textbox(label="Text contains", elem_id=f"{prefix}-search")
    return FilterControls(label, source, batch, since, until, search)


def parse(
    label: str | None,
    source: str | None,
    batch: str | None,
    since: str | None,
    until: str | None,
    search: str | None,
) -> HistoryFilters:
    """Filters from the controls' values (InvalidInput explains a bad one)."""
    return make_filters(
        label=label, source=source, batch_id=batch, since=since, until=until, search=search
    )
