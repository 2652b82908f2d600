"""Tiny, randomly initialised classifiers built on the spot: never the hub, never big."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from safetensors.torch import save_file
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

from sentiment.model import BUNDLED_DIR, DELTA_FILE, SentimentModel, build, load_model

MAX_POSITIONS = 32
WORDS = [
    "the",
    "a",
    "movie",
    "film",
    "food",
    "service",
    "was",
    "is",
    "were",
    "great",
    "good",
    "awful",
    "bad",
    "terrible",
    "boring",
    "fun",
    "and",
    "but",
    "not",
    "very",
    "it",
    "i",
    "loved",
    "hated",
    "meeting",
    "on",
    "tuesday",
    "at",
    "pm",
]
PUNCTUATION = list(".,!?'-:;()\"")
LETTERS = list("abcdefghijklmnopqrstuvwxyz0123456789")


@pytest.fixture(autouse=True)
def offline_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub reads HF_HUB_OFFLINE at import; patch the constant as well."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def write_tokenizer(directory: Path) -> BertTokenizerFast:
    """A WordPiece vocabulary that spells any lower-case ASCII text without [UNK]."""
    directory.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *PUNCTUATION, *LETTERS]
    vocab += [f"##{c}" for c in LETTERS]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(
        vocab_file=str(directory / "vocab.txt"), model_max_length=MAX_POSITIONS
    )
    tokenizer.save_pretrained(directory)
    return tokenizer


def tiny_classifier(
    id2label: dict[int, str], seed: int = 0, head_scale: float = 50.0
) -> BertForSequenceClassification:
    import torch

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=5 + len(WORDS) + len(PUNCTUATION) + 2 * len(LETTERS),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=MAX_POSITIONS,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    model = BertForSequenceClassification(config).eval()
    # Random heads sit near uniform; a larger head makes label differences visible.
    with torch.no_grad():
        model.classifier.weight.mul_(head_scale)
    return model


def save_transformers_dir(
    directory: Path, id2label: dict[int, str], seed: int = 0, head_scale: float = 50.0
) -> Path:
    """A local folder in the ordinary transformers format (config, weights, tokenizer)."""
    tiny_classifier(id2label, seed, head_scale).save_pretrained(directory)
    write_tokenizer(directory)
    return directory


def save_bundled_format(
    bundle: Path, base: Path, model: BertForSequenceClassification, drop: str | None = None
) -> None:
    """Split ``model`` like the shipped bundle: base encoder (no ``bert.`` prefix) + delta."""
    state = model.state_dict()
    base.mkdir(parents=True, exist_ok=True)
    bundle.mkdir(parents=True, exist_ok=True)
    base_weights = {k.removeprefix("bert."): v for k, v in state.items() if k.startswith("bert.")}
    save_file({k: v.contiguous() for k, v in base_weights.items()}, base / "model.safetensors")
    write_tokenizer(base)
    delta = {
        k: v.half().contiguous()
        for k, v in state.items()
        if not k.startswith("bert.embeddings") and k != drop
    }
    save_file(delta, bundle / DELTA_FILE)
    model.config.save_pretrained(bundle)


@pytest.fixture(scope="session")
def three_label_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_transformers_dir(
        tmp_path_factory.mktemp("three"), {0: "negative", 1: "neutral", 2: "positive"}
    )


@pytest.fixture(scope="session")
def two_label_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_transformers_dir(tmp_path_factory.mktemp("two"), {0: "LABEL_0", 1: "LABEL_1"})


@pytest.fixture(scope="session")
def tiny_model(three_label_dir: Path) -> SentimentModel:
    return build(str(three_label_dir), backend="torch", threads=1)


def bundled_available() -> bool:
    return (BUNDLED_DIR / DELTA_FILE).is_file()


@pytest.fixture(scope="session")
def bundled_model() -> Iterator[SentimentModel]:
    """The real bundled model; skipped when its weights are absent, unless required."""
    if not bundled_available():
        if os.environ.get("REQUIRE_BUNDLED_MODEL") == "1":
            pytest.fail(f"REQUIRE_BUNDLED_MODEL=1 but {BUNDLED_DIR / DELTA_FILE} is missing")
        pytest.skip("the bundled model weights are not present (sentiment/bundled/)")
    yield load_model("bundled", backend="torch")
