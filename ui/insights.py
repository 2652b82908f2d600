"""The Insights tab: distribution, daily trend, confidence histogram, word clouds and top
words, for the same filters as History. An empty history gets a friendly message."""

from __future__ import annotations

from typing import Any

import gradio as gr

from services import Services
from storage.models import LABELS
from ui import charts
from ui import evaluation as evaluation_ui
from ui import filters as filter_ui
from ui.common import LOG_IN_FIRST, current_account, shown_to_user

EMPTY = (
    "Nothing to chart yet. Analyze a few texts on the **Analyze** tab (or upload a batch) "
    "and come back: your charts and word clouds will appear here."
)


def build(services: Services, session: gr.State) -> None:
    """Render the Insights tab; `session` holds this browser session's access token."""
    with gr.Tab("Insights", id="insights"):
        status = gr.Markdown(LOG_IN_FIRST, elem_id="insights-status")
        controls = filter_ui.filter_controls("insights")
        refresh = gr.Button("Show insights", variant="primary", elem_id="insights-refresh")
        with gr.Column(visible=False) as charts_column:
            with gr.Row():
                distribution = gr.BarPlot(
                    x="label",
                    y="count",
                    color="label",
                    color_map=charts.COLORS,
                    title="Sentiment distribution",
                    elem_id="insights-distribution",
                )
                confidence = gr.BarPlot(
                    x="confidence",
                    y="count",
                    color="label",
                    color_map=charts.COLORS,
                    title="Confidence",
                    x_title="confidence of the predicted label",
                    elem_id="insights-confidence",
                )
            trend = gr.LinePlot(
                x="day",
                y="count",
                color="label",
                color_map=charts.COLORS,
                title="Per day (UTC)",
                elem_id="insights-trend",
            )
            trend_bars = gr.BarPlot(
                x="day",
                y="count",
                color="label",
                color_map=charts.COLORS,
                title="Per day (UTC)",
                visible=False,
                elem_id="insights-trend-bars",
            )
            with gr.Row():
                clouds = {
                    label: gr.Image(
                        label=f"{label.title()} words",
                        type="pil",
                        interactive=False,
                        elem_id=f"insights-cloud-{label}",
                    )
                    for label in LABELS
                }
            top_words = gr.Dataframe(
                headers=["label", "word", "count"],
                datatype=["str", "str", "number"],
                interactive=False,
                label="Top words per label (stop words removed)",
                elem_id="insights-words",
            )
        outputs = [status, charts_column, distribution, confidence, trend, trend_bars, top_words]
        outputs += list(clouds.values())

        def show(token: str | None, request: gr.Request, *values: Any) -> dict[Any, Any]:
            """Aggregate the caller's history for the chosen filters."""
            account = current_account(services, token, request)
            with shown_to_user():
                chosen = filter_ui.parse(*values)
                found = services.insights.for_user(account.id, chosen)
                evaluated = evaluation_ui.for_batch(services, account.id, chosen.batch_id)
            if found.empty:
                return {status: EMPTY, charts_column: gr.Column(visible=False)}
            one_day = charts.single_day(found)
            sampled = ""
            if found.words_sampled < found.total:
                sampled = f" Words come from an even sample of {found.words_sampled:,} texts."
            return {
                status: f"{found.total:,} predictions.{sampled}{evaluated}",
                charts_column: gr.Column(visible=True),
                distribution: charts.distribution_frame(found),
                confidence: charts.histogram_frame(found),
                trend: gr.LinePlot(charts.trend_frame(found), visible=not one_day),
                trend_bars: gr.BarPlot(charts.trend_bars_frame(found), visible=one_day),
                top_words: charts.top_words_frame(found),
                **{
                    image: charts.word_cloud(found.words.get(label, []), label)
                    for label, image in clouds.items()
                },
            }

        def cleared(token: str | None) -> dict[Any, Any]:
            """Hide the previous user's charts when the login changes."""
            message = LOG_IN_FIRST if token is None else "Press **Show insights**."
            blank = dict.fromkeys(outputs[2:])
            return {**blank, status: message, charts_column: gr.Column(visible=False)}

        refresh.click(show, [session, *controls.inputs()], outputs, api_visibility="private")
        session.change(cleared, session, outputs, api_visibility="private")
