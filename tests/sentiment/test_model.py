"""Loading: the bundled format, local folders, hub ids, and the errors a user sees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from errors import ModelError
from sentiment.inference import predict
from sentiment.model import (
    available_cores,
    build,
    load_bundled,
    load_model,
    max_length_of,
)
from tests.sentiment.conftest import MAX_POSITIONS, save_bundled_format, tiny_classifier

THREE = {0: "negative", 1: "neutral", 2: "positive"}


def test_bundled_format_rebuilds_the_trained_model(tmp_path: Path) -> None:
    original = tiny_classifier(THREE, seed=3)
    save_bundled_format(tmp_path / "bundle", tmp_path / "base", original)
    loaded, tokenizer, model_id = load_bundled(tmp_path / "bundle", base_dir=tmp_path / "base")
    assert model_id.startswith("bundled-")
    ids = tokenizer(["the food was great"], return_tensors="pt")
    with torch.inference_mode():
        expected = original(**ids).logits
        got = loaded.eval()(**ids).logits
    # The delta is stored in fp16.
    assert np.allclose(expected.numpy(), got.numpy(), atol=0.05)


def test_bundled_format_missing_tensor_is_an_error(tmp_path: Path) -> None:
    model = tiny_classifier(THREE)
    save_bundled_format(tmp_path / "bundle", tmp_path / "base", model, drop="classifier.bias")
    with pytest.raises(ModelError, match=r"classifier\.bias"):
        load_bundled(tmp_path / "bundle", base_dir=tmp_path / "base")


def test_bundled_weights_absent_says_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="python -m sentiment train"):
        load_bundled(tmp_path)


def test_local_transformers_folder_loads(three_label_dir: Path) -> None:
    model = build(str(three_label_dir), backend="torch", threads=1)
    assert model.model_id == str(three_label_dir)
    assert model.max_length == MAX_POSITIONS
    assert model.threads == 1


def test_two_label_model_never_says_neutral(two_label_dir: Path) -> None:
    model = build(str(two_label_dir), backend="torch", threads=1)
    texts = ["the movie was great", "awful", "it was fun but boring", "i hated it"]
    for p in predict(model, texts):
        assert p.probabilities["neutral"] == 0.0
        assert p.label in {"negative", "positive"}
        assert p.probabilities["negative"] + p.probabilities["positive"] == pytest.approx(1.0)


def test_unmappable_labels_fail_at_load(tmp_path: Path) -> None:
    from tests.sentiment.conftest import save_transformers_dir

    folder = save_transformers_dir(tmp_path, {0: "anger", 1: "joy"})
    with pytest.raises(ModelError, match="anger, joy"):
        build(str(folder), backend="torch", threads=1)


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        build(str(tmp_path / "nowhere"), backend="torch")


def test_unreachable_hub_names_the_offline_choice() -> None:
    with pytest.raises(ModelError) as caught:
        build("sentiscope-tests/no-such-model", backend="torch")
    message = str(caught.value)
    assert "cannot reach the hugging face hub" in message.lower()
    assert "SENTIMENT_MODEL=bundled" in message
    assert "\n" not in message


def test_unknown_backend(three_label_dir: Path) -> None:
    with pytest.raises(ModelError, match="onnx-int8"):
        build(str(three_label_dir), backend="tensorflow")


def test_load_model_is_cached_per_process(three_label_dir: Path) -> None:
    first = load_model(str(three_label_dir), backend="torch", threads=1)
    assert load_model(str(three_label_dir), backend="torch", threads=1) is first


def test_max_length_respects_position_embeddings(three_label_dir: Path) -> None:
    model = tiny_classifier(THREE)

    class Tokenizer:
        model_max_length = int(1e30)  # what tokenizers without a limit report

    assert max_length_of(model, Tokenizer()) == MAX_POSITIONS  # type: ignore[arg-type]


def test_available_cores_is_positive() -> None:
    assert available_cores() >= 1
