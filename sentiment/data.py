"""Readers for the public sentiment corpora the bundled model is trained and scored on.

Layout (see ``../shared/data/sentiment/README.md``)::

    sst2/{train,dev,test}.tsv            sentence<TAB>label (0/1), tokenised, lower-cased
    sst_trees/{train,dev,test}.txt       PTB trees, a 0-4 label on every node
    blitzer/<domain>/{train,dev}.tsv     sentence<TAB>label (0/1), cased reviews
    semeval_tweets/{train,dev}.tsv       text<TAB>label (negative/neutral/positive), tweets
    subj_objective/train.tsv             text<TAB>neutral, objective sentences, tokenised

Labels are returned as class indices of the bundled model: 0 negative, 1 neutral,
2 positive. Binary corpora therefore only use 0 and 2.
"""

from __future__ import annotations

import csv
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

NEGATIVE, NEUTRAL, POSITIVE = 0, 1, 2
LABELS = ("negative", "neutral", "positive")
BLITZER_DOMAINS = ("books", "dvd", "electronics", "kitchen", "airline")

# Blitzer reviews can exceed csv's default 128 KiB field limit.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Example:
    text: str
    label: int  # 0 negative, 1 neutral, 2 positive
    source: str


_PTB = {
    "-LRB-": "(",
    "-RRB-": ")",
    "-LSB-": "[",
    "-RSB-": "]",
    "-LCB-": "{",
    "-RCB-": "}",
    "``": '"',
    "''": '"',
}
_DETOK_RULES = [
    (re.compile(r" (n't|'s|'re|'ve|'m|'ll|'d)\b", re.IGNORECASE), r"\1"),
    (re.compile(r" ([.,!?;:%)\]}])"), r"\1"),
    (re.compile(r"([(\[{$]) "), r"\1"),
    (re.compile(r" ?(--|-) ?"), r" \1 "),
    (re.compile(r"\s+"), " "),
]


def detokenize(text: str) -> str:
    """Turn PTB/SST tokenisation back into prose: ``does n't`` -> ``doesn't``."""
    words = [_PTB.get(w, _PTB.get(w.upper(), w)) for w in text.split()]
    out = " ".join(words)
    for pattern, repl in _DETOK_RULES:
        out = pattern.sub(repl, out)
    return out.strip()


def fold_sst5(label: int) -> int:
    """Fold SST's 0-4 scale into negative (0-1) / neutral (2) / positive (3-4)."""
    return NEGATIVE if label <= 1 else NEUTRAL if label == 2 else POSITIVE


def _binary(label: str) -> int:
    return POSITIVE if int(label) == 1 else NEGATIVE


def read_tsv(path: Path, source: str, *, text_column: str = "sentence") -> list[Example]:
    """Read a ``sentence<TAB>label`` file with binary 0/1 labels (quoted fields may span lines)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quotechar='"')
        return [
            Example(row[text_column].strip(), _binary(row["label"]), source)
            for row in reader
            if row.get(text_column, "").strip()
        ]


def sst2(root: Path, split: str) -> list[Example]:
    return read_tsv(root / "sst2" / f"{split}.tsv", f"sst2/{split}")


def blitzer(root: Path, split: str, domain: str) -> list[Example]:
    return read_tsv(root / "blitzer" / domain / f"{split}.tsv", f"blitzer/{domain}/{split}")


def semeval(root: Path, split: str) -> list[Example]:
    """SemEval 2013-2016 three-class tweets, SMS and blog messages, as people write them."""
    path = root / "semeval_tweets" / f"{split}.tsv"
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quotechar='"')
        return [
            Example(row["text"].strip(), LABELS.index(row["label"].strip()), f"semeval/{split}")
            for row in reader
            if row.get("text", "").strip()
        ]


def _parse_tree(line: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (label, leaf words) for every node of one PTB tree, root first."""
    tokens = re.findall(r"\(|\)|[^\s()]+", line)
    pos = 0

    def node() -> tuple[list[tuple[int, list[str]]], list[str]]:
        nonlocal pos
        assert tokens[pos] == "("
        label = int(tokens[pos + 1])
        pos += 2
        found: list[tuple[int, list[str]]] = []
        words: list[str] = []
        while tokens[pos] != ")":
            if tokens[pos] == "(":
                sub, sub_words = node()
                found.extend(sub)
                words.extend(sub_words)
            else:
                words.append(tokens[pos])
                pos += 1
        pos += 1
        return [(label, words), *found], words

    nodes, _ = node()
    yield from nodes


def read_trees(path: Path, *, phrases: bool, source: str = "sst3") -> list[Example]:
    """SST sentences (``phrases=False``) or every labelled node, 3-class, detokenised."""
    out: list[Example] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        for i, (label, words) in enumerate(_parse_tree(line)):
            if i > 0 and not phrases:
                break
            out.append(Example(detokenize(" ".join(words)), fold_sst5(label), source))
    return out


def sst_trees(root: Path, split: str, *, phrases: bool) -> list[Example]:
    return read_trees(root / "sst_trees" / f"{split}.txt", phrases=phrases, source=f"sst3/{split}")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _dedupe(rows: list[Example]) -> list[Example]:
    """Drop repeated texts; a text seen with two different labels is dropped entirely."""
    labels: dict[str, set[int]] = {}
    for ex in rows:
        labels.setdefault(_key(ex.text), set()).add(ex.label)
    out, seen = [], set()
    for ex in rows:
        key = _key(ex.text)
        if key and key not in seen and len(labels[key]) == 1:
            seen.add(key)
            out.append(ex)
    return out


def objective(root: Path) -> list[Example]:
    """Factual, opinion-free sentences (Pang & Lee 2004), all neutral, detokenised."""
    path = root / "subj_objective" / "train.tsv"
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quotechar='"')
        return [
            Example(detokenize(row["text"]), NEUTRAL, "objective/train")
            for row in reader
            if row.get("text", "").strip()
        ]


@dataclass(frozen=True)
class Mix:
    """How many times each training source is used; a fraction below 1 samples it."""

    sst: float = 1.0  # SST tree phrases (3-class) and SST-2 train
    blitzer: float = 2.0
    semeval: float = 0.0
    objective: float = 0.0


def _take(rows: list[Example], times: float, rng: random.Random) -> list[Example]:
    whole, part = divmod(times, 1.0)
    return rows * int(whole) + rng.sample(rows, round(len(rows) * part))


def training_set(root: Path, mix: Mix = Mix(), *, seed: int = 13) -> list[Example]:
    """The bundled model's training rows, drawn from the ``train`` splits only.

    The SST tree phrases come detokenised (how users write) and SST-2 train in its
    tokenised, lower-cased form (how the benchmark is written); both are built from the
    same sentences, so the polar phrases are seen twice, which also offsets the neutral
    majority of the tree nodes. Blitzer's cased multi-domain reviews are few but look
    most like users' text, so they are repeated. SemEval's tweets, SMS and blog messages
    and the objective sentences teach informal text and plain statements.
    """
    rng = random.Random(seed)  # noqa: S311 (a reproducible sample, not a secret)
    sst = _dedupe(sst_trees(root, "train", phrases=True)) + _dedupe(sst2(root, "train"))
    rows = _take(sst, mix.sst, rng)
    for domain in BLITZER_DOMAINS:
        rows.extend(_take(blitzer(root, "train", domain), mix.blitzer, rng))
    if mix.semeval:
        tweets = [replace(e, text=detokenize(e.text)) for e in semeval(root, "train")]
        rows.extend(_take(tweets, mix.semeval, rng))
    if mix.objective:
        rows.extend(_take(objective(root), mix.objective, rng))
    return rows


def dev_sets(root: Path) -> dict[str, list[Example]]:
    """Held-out sets used for model selection: never the test splits."""
    sets = {"sst2/dev": sst2(root, "dev"), "sst3/dev": sst_trees(root, "dev", phrases=False)}
    for domain in BLITZER_DOMAINS:
        sets[f"blitzer/{domain}/dev"] = blitzer(root, "dev", domain)
    sets["semeval/dev"] = semeval(root, "dev")
    return sets
