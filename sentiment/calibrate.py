"""``python -m sentiment calibrate``: choose the neutral margin and the temperature on the
three-class dev sets (SST-3 dev sentences, SemEval dev tweets; never a test set), print
each set's figures before and after, and write them into the model's config.json.

The selection rule (`fit`): the margin with the best mean of
macro-recall and macro-F1 over the dev sets, then the temperature with the least
negative log-likelihood. Run it after ``python -m sentiment train``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sentiment import data
from sentiment.calibration import (
    CONFIG_KEY,
    Calibration,
    expected_calibration_error,
    reliability,
    softmax,
)
from sentiment.evaluation import Report, score
from sentiment.inference import probabilities
from sentiment.model import BUNDLED, DEFAULT_BACKEND, SentimentModel, build
from sentiment.sources import BUNDLED_DIR, CONFIG_FILE

NEUTRAL = data.NEUTRAL
# Margins tried (added to the neutral logit), and temperatures.
MARGINS = np.round(np.arange(-1.0, 3.01, 0.05), 2)
TEMPERATURES = np.round(np.exp(np.linspace(np.log(0.4), np.log(4.0), 181)), 4)


@dataclass(frozen=True)
class DevSet:
    """Raw three-class logits of one dev set (canonical order) and its gold labels."""

    name: str
    logits: np.ndarray
    gold: np.ndarray

    def scored(self, calibration: Calibration, neutral: int = NEUTRAL) -> Report:
        """The metrics of the labels this calibration gives, over the classes present."""
        predicted = calibration.apply(self.logits, neutral).argmax(axis=1)
        classes = sorted(set(self.gold.tolist()))
        return score(self.gold.tolist(), predicted.tolist(), classes)


def margin_score(sets: Sequence[DevSet], margin: float, neutral: int = NEUTRAL) -> float:
    """The selection rule: the mean over the dev sets of macro-recall and macro-F1."""
    reports = [dev.scored(Calibration(1.0, margin), neutral) for dev in sets]
    return float(np.mean([f for r in reports for f in (r.macro_recall, r.macro_f1)]))


def fit(sets: Sequence[DevSet], neutral: int = NEUTRAL) -> Calibration:
    """The margin that maximises `margin_score` (the smallest of ties), then the
    temperature with the least negative log-likelihood over every dev row pooled."""
    scores = [margin_score(sets, float(m), neutral) for m in MARGINS]
    margin = float(MARGINS[int(np.argmax(scores))])
    logits = np.concatenate([d.logits for d in sets])
    gold = np.concatenate([d.gold for d in sets])
    shifted = Calibration(1.0, margin).apply(logits, neutral)

    def nll(temperature: float) -> float:
        probs = softmax(shifted / temperature)
        return float(-np.log(np.clip(probs[np.arange(len(gold)), gold], 1e-12, None)).mean())

    temperature = float(min(TEMPERATURES, key=nll))
    return Calibration(round(temperature, 4), margin)


def dev_sets(model: SentimentModel, root: Path) -> list[DevSet]:
    """Each dev set's uncalibrated log-probabilities (logits up to a per-row constant,
    which the softmax ignores) and gold labels."""
    raw = replace(model, calibration=Calibration())
    found = []
    chosen = {
        "sst3/dev": data.sst_trees(root, "dev", phrases=False),
        "semeval/dev": data.semeval(root, "dev"),
    }
    for name, rows in chosen.items():
        probs, _ = probabilities(raw, [r.text for r in rows])
        logits = np.log(np.clip(probs, 1e-12, None))
        found.append(DevSet(name, logits, np.array([r.label for r in rows])))
    return found


def figures(dev: DevSet, calibration: Calibration) -> dict[str, float]:
    probs = softmax(calibration.apply(dev.logits, NEUTRAL))
    scored = dev.scored(calibration)
    correct = probs.argmax(axis=1) == dev.gold
    return {
        "accuracy": scored.accuracy,
        "macro_recall": scored.macro_recall,
        "ece": expected_calibration_error(probs.max(axis=1), correct),
        **{f"recall_{name}": s.recall for name, s in scored.per_class.items()},
    }


def report(sets: list[DevSet], before: Calibration, after: Calibration) -> str:
    lines = [f"{'set':<14}{'':8}{'acc':>8}{'mrecall':>9}{'ECE':>8}{'neg':>8}{'neu':>8}{'pos':>8}"]
    for dev in sets:
        for tag, calibration in (("before", before), ("after", after)):
            f = figures(dev, calibration)
            lines.append(
                f"{dev.name:<14}{tag:8}{f['accuracy']:8.2%}{f['macro_recall']:9.2%}"
                f"{f['ece']:8.2%}{f['recall_negative']:8.2%}{f['recall_neutral']:8.2%}"
                f"{f['recall_positive']:8.2%}"
            )
    lines.append("reliability after (range, rows, mean confidence, accuracy):")
    for dev in sets:
        probs = softmax(after.apply(dev.logits, NEUTRAL))
        correct = probs.argmax(axis=1) == dev.gold
        bins = reliability(probs.max(axis=1), correct)
        lines.append(
            f"  {dev.name}: " + "; ".join(f"{s} {n} {c:.2f}/{a:.2f}" for s, n, c, a in bins)
        )
    return "\n".join(lines)


def write(directory: Path, calibration: Calibration) -> Path:
    path = directory / CONFIG_FILE
    config = json.loads(path.read_text("utf-8"))
    config[CONFIG_KEY] = calibration.to_config()
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", "utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentiment calibrate", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/sentiment"))
    parser.add_argument("--backend", default=DEFAULT_BACKEND)
    parser.add_argument(
        "--model", default=BUNDLED, help="'bundled' or a saved run's folder (train --out)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print, write nothing")
    args = parser.parse_args(argv)
    directory = BUNDLED_DIR if args.model == BUNDLED else Path(args.model)
    if not (directory / CONFIG_FILE).is_file():
        parser.error(f"{directory} holds no {CONFIG_FILE}: give 'bundled' or a saved run's folder")
    model = build(args.model, backend=args.backend)
    sets = dev_sets(model, args.data_dir)
    found = fit(sets, NEUTRAL)
    print(f"model {model.model_id}  backend {model.backend}")
    print(f"was {model.calibration}; chosen {found}")
    print(report(sets, model.calibration, found))
    if not args.dry_run:
        print(f"wrote {write(directory, found)}")
    return 0
