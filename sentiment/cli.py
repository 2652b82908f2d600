"""``python -m sentiment score | evaluate | benchmark | train | average | calibrate``."""

from __future__ import annotations

import argparse
import csv
import logging
import os
import runpy
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from errors import AppError, InvalidInput
from sentiment.csvio import detect_text_column, find_column, read_sst_trees, read_table
from sentiment.documents import DocumentScorer, Window
from sentiment.inference import Prediction, predict
from sentiment.labels import LABELS
from sentiment.model import BACKENDS, DEFAULT_BACKEND, DEFAULT_CACHE_DIR, SentimentModel, load_model
from sentiment.tabular import inspect, iter_rows
from sentiment.xlsxwrite import Cell, XlsxTable

log = logging.getLogger("sentiment")
CLI_CHUNK = 1_000  # texts scored between two moves of the progress bar
BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "inference.py"


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default=os.environ.get("SENTIMENT_MODEL", "bundled"),
        help="'bundled' (offline), a local model folder or a hub id "
        "(default: $SENTIMENT_MODEL or bundled)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=DEFAULT_BACKEND,
        help=f"default {DEFAULT_BACKEND}: int8 ONNX Runtime, exported once into --cache-dir; "
        "torch: fp32 PyTorch",
    )
    parser.add_argument("--threads", type=int, default=None, help="default: physical cores")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument(
        "--max-chars",
        type=int,
        default=None,
        help="skip longer texts (default: no limit; the model reads up to its maximum "
        "length, 512 tokens for the bundled model)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sentiment",
        description="Sentiscope's sentiment engine: score a CSV/TSV/.xlsx file, evaluate against "
        "gold labels, benchmark inference, train and calibrate the bundled model.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="score every row of a CSV, TSV or Excel (.xlsx) file")
    score.add_argument("input", type=Path, help="CSV, TSV or .xlsx (read as uploads are)")
    score.add_argument(
        "-o", "--output", type=Path, required=True, help=".csv, .tsv or .xlsx (by its suffix)"
    )
    score.add_argument("--text-column", help="default: detected from the header and contents")
    score.add_argument("--sheet", help="the workbook's sheet (default: the first)")
    _model_options(score)

    evaluate = sub.add_parser("evaluate", help="accuracy and macro-F1 against gold labels")
    evaluate.add_argument("data", type=Path, help="CSV/TSV/.xlsx, or SST trees (.txt)")
    evaluate.add_argument("--text-column", help="default: detected")
    evaluate.add_argument("--sheet", help="the workbook's sheet (default: the first)")
    evaluate.add_argument("--label-column", default="label")
    evaluate.add_argument("--limit", type=int, help="only the first N rows")
    _model_options(evaluate)

    sub.add_parser("benchmark", help="run benchmarks/inference.py (pass its options after)")
    sub.add_parser("train", help="train the bundled model (sentiment.train; options after)")
    sub.add_parser(
        "average", help="weight-average two saved runs, keep the best on dev (options after)"
    )
    sub.add_parser(
        "calibrate", help="fit the neutral margin and temperature on dev sets (options after)"
    )
    return parser


def _progress(total: int, desc: str) -> Any:
    """A tqdm bar on a terminal, silent otherwise."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="row", disable=not sys.stderr.isatty())


def _load(args: argparse.Namespace) -> SentimentModel:
    started = time.perf_counter()
    model = load_model(
        args.model, backend=args.backend, threads=args.threads, cache_dir=args.cache_dir
    )
    log.info(
        "Loaded %s (%s, %d threads) in %.1f s",
        model.model_id,
        model.backend,
        model.threads,
        time.perf_counter() - started,
    )
    return model


def score_command(args: argparse.Namespace) -> int:
    if not args.input.is_file():
        raise InvalidInput(f"No such file: {args.input}.")
    # The uploads' reader, without their limits: same columns, same text-column guess.
    info = inspect(args.input, text_column=args.text_column, sheet=args.sheet)
    rows = list(iter_rows(args.input, info))
    column = info.text_column
    where = f" (sheet {info.sheet!r})" if info.sheet else ""
    log.info("Scoring column '%s' of %s%s (%s rows)", column, args.input, where, f"{len(rows):,}")
    added = ["label", "score", *LABELS]
    if any(c in info.columns for c in added):
        added = [f"predicted_{c}" for c in added]
        log.warning("The input already uses some of these names; writing %s", ", ".join(added))
    texts = [row.cells[info.text_index] for row in rows]
    limit = args.max_chars or float("inf")
    usable = [i for i, t in enumerate(texts) if t.strip() and len(t) <= limit]
    skipped = len(texts) - len(usable)
    model = _load(args)
    started = time.perf_counter()
    # Whole documents, as uploads are scored: a text longer than the model's window by
    # its sentences (sentiment/documents.py), never cut. No language check here.
    scorer = DocumentScorer(lambda t: predict(model, t, max_chars=None), Window.of(model))
    predictions: list[Prediction] = []
    with _progress(len(usable), "scoring") as bar:
        for start in range(0, len(usable), CLI_CHUNK):
            part = [texts[i] for i in usable[start : start + CLI_CHUNK]]
            predictions += scorer.score(part, languages=[(None, True)] * len(part))
            bar.update(len(part))
    elapsed = time.perf_counter() - started
    by_row = dict(zip(usable, predictions, strict=True))
    header = [*info.columns, *added]
    scored = ((row.cells, by_row.get(i)) for i, row in enumerate(rows))
    if args.output.suffix.lower() == ".xlsx":
        with XlsxTable(args.output, header) as table:
            for cells, p in scored:
                ours: list[Cell] = (
                    [] if p is None else [p.label, p.score, *(p.probabilities[k] for k in LABELS)]
                )
                table.write([*cells, *ours])
    else:
        delimiter = "\t" if args.output.suffix.lower() == ".tsv" else ","
        with args.output.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter=delimiter)
            writer.writerow(header)
            for cells, p in scored:
                values = [""] * len(added) if p is None else [
                    p.label, f"{p.score:.4f}", *(f"{p.probabilities[k]:.4f}" for k in LABELS)
                ]  # fmt: skip
                writer.writerow([*cells, *values])
    if skipped:
        log.warning("%d rows left unscored (empty, or over --max-chars)", skipped)
    rate = len(usable) / elapsed if elapsed > 0 else float("inf")
    print(f"Scored {len(usable):,} rows in {elapsed:.1f} s ({rate:,.0f} rows/s) -> {args.output}")
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    from sentiment.evaluation import evaluate, format_report

    is_trees = args.data.suffix.lower() == ".txt"
    table = (
        read_sst_trees(args.data)
        if is_trees
        else read_table(args.data, text_column=args.text_column, sheet=args.sheet)
    )
    text_column = (
        find_column(table, args.text_column) if args.text_column else detect_text_column(table)
    )
    label_column = find_column(table, args.label_column)
    rows = table.rows[: args.limit] if args.limit else table.rows
    model = _load(args)
    with _progress(len(rows), "evaluating") as bar:
        report = evaluate(
            model,
            [r[text_column] or "" for r in rows],
            [r[label_column] or "" for r in rows],
            max_chars=args.max_chars,
            progress=bar.update,
        )
    print(f"{args.data}  model {model.model_id}  backend {model.backend}")
    print(format_report(report))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Our progress notes only; libraries keep their default (warnings and up).
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False  # some libraries configure the root logger as well
    # These hand their options on untouched.
    if argv[:1] == ["train"]:
        from sentiment import train

        return int(train.main(argv[1:]) or 0)
    if argv[:1] == ["average"]:
        from sentiment import average

        return average.main(argv[1:])
    if argv[:1] == ["calibrate"]:
        from sentiment import calibrate

        return calibrate.main(argv[1:])
    if argv[:1] == ["benchmark"]:
        sys.argv = [str(BENCHMARK), *argv[1:]]
        runpy.run_path(str(BENCHMARK), run_name="__main__")
        return 0
    args = build_parser().parse_args(argv)
    try:
        return score_command(args) if args.command == "score" else evaluate_command(args)
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
