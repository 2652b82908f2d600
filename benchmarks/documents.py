"""Long documents: what scoring by sentences costs per 1,000 words.

    python benchmarks/documents.py                    # ~30 s on 2 cores
    python benchmarks/documents.py --documents 10 --words 2000 --backend torch

Documents are Blitzer dev reviews (from `--data`, default `$SENTIMENT_DATA_DIR` or
../shared/data/sentiment) joined, in a fixed order, until each has `--words` words; without
the data, a fixed mix of sentences. Per 1,000 words it prints the time of each step of
sentiment.documents (sentence splitting, the language check, the model passes) and of the
whole, next to one plain pass over the same texts (which reads only their first 512 tokens:
what Sentiscope did before, cutting the rest).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402

DEFAULT_DATA = Path(
    os.environ.get("SENTIMENT_DATA_DIR") or ROOT.parent / "shared" / "data" / "sentiment"
)
FALLBACK = [
    "The room was spacious and spotless, and the staff were wonderful.",
    "Breakfast was cold and the coffee tasted burnt.",
    "Mr. Smith at the desk upgraded us to a suite, e.g. one with a sea view!",
    "Would I stay again? Probably, if the price drops by 20.5 percent.",
]


def documents(data: Path, count: int, words: int) -> list[str]:
    """`count` documents of about `words` words each, fixed by a seed."""
    reviews = []
    blitzer = data / "blitzer"
    if blitzer.is_dir():
        csv.field_size_limit(2**31 - 1)
        for domain in sorted(blitzer.iterdir()):
            with (domain / "dev.tsv").open(newline="", encoding="utf-8") as f:
                reviews += [row["sentence"] for row in csv.DictReader(f, delimiter="\t")]
    reviews = reviews or FALLBACK * 50
    rng = random.Random(14)
    out = []
    for _ in range(count):
        parts: list[str] = []
        while sum(len(p.split()) for p in parts) < words:
            parts.append(rng.choice(reviews))
        out.append(" ".join(parts))
    return out


def timed(step: Callable[[], object], repeat: int) -> float:
    """Median seconds of `repeat` runs after one warm-up."""
    step()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--documents", type=int, default=10)
    parser.add_argument("--words", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", default="onnx-int8", choices=["onnx-int8", "torch"])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    from sentiment.documents import DocumentScorer, Window
    from sentiment.inference import predict
    from sentiment.language import LanguageRule
    from sentiment.model import load_model
    from sentiment.sentences import split

    model = load_model("bundled", backend=args.backend, threads=args.threads)
    texts = documents(args.data, args.documents, args.words)
    words = sum(len(t.split()) for t in texts)
    rule = LanguageRule()
    scorer = DocumentScorer(lambda t: predict(model, t, max_chars=None), Window.of(model), rule)
    sentences = [s.text for t in texts for s in split(t)]
    steps = {
        "split into sentences (pysbd)": lambda: [split(t) for t in texts],
        "language check (py3langid)": lambda: [rule.check(t) for t in texts],
        "model passes over the sentences": lambda: predict(model, sentences, max_chars=None),
        "whole: DocumentScorer.score": lambda: scorer.score(texts),
        "one plain pass, cut at 512 tokens": lambda: predict(model, texts, max_chars=None),
    }
    print(describe(model.threads))
    print(
        f"{len(texts)} documents, {words:,} words, {len(sentences):,} sentences, "
        f"{sum(len(t) for t in texts):,} characters; backend {args.backend}"
    )
    per = 1_000 / words
    for name, step in steps.items():
        print(f"  {name:36s} {timed(step, args.repeat) * per * 1_000:8.1f} ms per 1,000 words")
    print(describe(model.threads).split("; ")[-1])


if __name__ == "__main__":
    main()
