"""The Batch tab's evaluation part: the label column and map (suggested after upload),
the figures, a confusion-matrix plot and the misclassified rows once a job is done; and
the Markdown summary History and Insights show for a batch that was evaluated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from matplotlib.figure import Figure

from batch.evaluation import summary
from batch.ingest import CsvInfo
from batch.labels import guess_column
from errors import InvalidInput
from services import Services
from storage.models import LABELS

NO_LABELS = "(none)"
HELP = (
    "To see how well the model does on **your own labels**, choose the column that holds "
    "them and check the map from its values to negative / neutral / positive (JSON). A map "
    "is suggested for 0/1, -1/0/1, 0/1/2, 1-5 stars and pos/neg words."
)


@dataclass(frozen=True)
class LabelControls:
    column: gr.Dropdown
    label_map: gr.Textbox
    info: gr.Markdown


@dataclass(frozen=True)
class Figures:
    text: gr.Markdown
    plot: gr.Plot
    download: gr.File

    def cleared(self) -> dict[Any, Any]:
        return {self.text: "", self.plot: None, self.download: None}


def label_controls() -> LabelControls:
    """Render the label column dropdown and the map box (under the text column)."""
    with gr.Accordion("Evaluate on your labels", open=True):
        gr.Markdown(HELP)
        with gr.Row():
            column = gr.Dropdown(
                label="Label column",
                choices=[NO_LABELS],
                value=NO_LABELS,
                interactive=True,
                elem_id="batch-label-column",
                scale=1,
            )
            label_map = gr.Textbox(
                label="Label map (JSON: value -> class)",
                placeholder='{"0": "negative", "1": "positive"}',
                elem_id="batch-label-map",
                scale=3,
            )
        info = gr.Markdown(elem_id="batch-label-info")
    return LabelControls(column, label_map, info)


def figures() -> Figures:
    """Render where a done job's evaluation goes."""
    text = gr.Markdown(elem_id="batch-evaluation")
    plot = gr.Plot(label="Confusion matrix (rows: your label, columns: predicted)",
                   elem_id="batch-confusion")  # fmt: skip
    download = gr.File(label="Misclassified rows", interactive=False, elem_id="batch-misclassified")
    return Figures(text, plot, download)


def chosen(column: str | None) -> str | None:
    """The label column the dropdown names (None for no evaluation)."""
    return None if not column or column == NO_LABELS else column


def suggestion(services: Services, path: str, info: CsvInfo, column: str | None) -> tuple[str, str]:
    """(map JSON, what to tell the user) for `column`; the map is "" when none fits."""
    if chosen(column) is None:
        return "", ""
    try:
        found = services.batches.labels(path, info, str(column))
    except InvalidInput as exc:
        return "", exc.message
    values = ", ".join(f"`{v}` x{n:,}" for v, n in found.values.items())
    return found.map_json, (
        f"Labels in **{found.column}**: {values}. Suggested map for *{found.suggested}* "
        "labels; edit it if it is not what your labels mean."
    )


def on_upload(
    services: Services, path: str, info: CsvInfo | None, controls: LabelControls
) -> dict[Any, Any]:
    """The label controls after an upload: a column whose name says "label" is proposed
    (only when its values have a suggested map); reset when the file is removed."""
    if info is None:
        return {
            controls.column: gr.Dropdown(choices=[NO_LABELS], value=NO_LABELS),
            controls.label_map: "",
            controls.info: "",
        }
    guess = guess_column(info.columns, info.text_column)
    label_map, told = suggestion(services, path, info, guess)
    column = guess if label_map else NO_LABELS
    return {
        controls.column: gr.Dropdown(choices=[NO_LABELS, *info.columns], value=column),
        controls.label_map: label_map,
        # a column named like labels whose values need a map: say so, choose nothing
        controls.info: told if label_map else (f"Column **{guess}**: {told}" if guess else ""),
    }


def markdown(found: dict[str, Any], column: str | None = None) -> str:
    """The figures as Markdown: the summary line, per-class figures, the confusion table."""
    where = f" ({column})" if column else ""
    lines = [f"**Against your labels{where}:** {summary(found)}", ""]
    if not found.get("n"):
        return lines[0]
    lines += ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, s in found["per_class"].items():
        lines.append(
            f"| {name} | {s['precision']:.1%} | {s['recall']:.1%} | {s['f1']:.1%} "
            f"| {s['support']:,} |"
        )
    lines += ["", "| your label \\ predicted | " + " | ".join(LABELS) + " |",
              "|---" * (len(LABELS) + 1) + "|"]  # fmt: skip
    for gold, row in found["confusion"].items():
        lines.append(f"| {gold} | " + " | ".join(f"{row[p]:,}" for p in LABELS) + " |")
    return "\n".join(lines)


def confusion_figure(found: dict[str, Any]) -> Figure:
    """A heatmap of the confusion counts (built without pyplot: safe in any thread)."""
    gold = list(found["confusion"])
    counts = [[found["confusion"][g][p] for p in LABELS] for g in gold]
    figure = Figure(figsize=(4.6, 0.9 + 0.8 * len(gold)), layout="constrained")
    axes = figure.add_subplot()
    axes.imshow(counts, cmap="Blues", aspect="auto", vmin=0)
    axes.set_xticks(range(len(LABELS)), labels=list(LABELS))
    axes.set_yticks(range(len(gold)), labels=gold)
    axes.set_xlabel("predicted")
    axes.set_ylabel("your label")
    top = max((max(row) for row in counts), default=0)
    for i, row in enumerate(counts):
        for j, n in enumerate(row):
            axes.text(j, i, f"{n:,}", ha="center", va="center",
                      color="white" if top and n > top / 2 else "black")  # fmt: skip
    return figure


def on_done(figs: Figures, job: Any, misclassified: Path | None) -> dict[Any, Any]:
    """The figures of a done job (cleared when it had no label column)."""
    if job.evaluation is None:
        return figs.cleared()
    found = job.evaluation
    return {
        figs.text: markdown(found, job.details.get("label_column")),
        figs.plot: confusion_figure(found) if found.get("n") else None,
        figs.download: str(misclassified) if misclassified else None,
    }


def for_batch(services: Services, user_id: int, batch_id: int | None) -> str:
    """History's and Insights' note for a batch that was evaluated ("" otherwise)."""
    if batch_id is None:
        return ""
    found = services.batches.evaluation(user_id, batch_id)
    if found is None:
        return ""
    return f"\n\nBatch {batch_id}: " + markdown(found)
