"""The int8 ONNX path agrees with PyTorch and is exported once per weights version."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment import accelerated
from sentiment.inference import explain, predict
from sentiment.model import build
from tests.sentiment.conftest import save_transformers_dir

TEXTS = ["the food was great", "awful", "it was not very good but fun", "meeting on tuesday"]


def test_int8_agrees_with_torch_and_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An unamplified head: int8 noise on 16-wide layers is otherwise magnified.
    folder = save_transformers_dir(
        tmp_path / "model", {0: "negative", 1: "neutral", 2: "positive"}, head_scale=1.0
    )
    cache = tmp_path / "cache"
    reference = build(str(folder), backend="torch", threads=1)
    fast = build(str(folder), backend="onnx-int8", threads=1, cache_dir=cache)
    exported = list((cache / "onnx").glob("*.onnx"))
    assert len(exported) == 1
    for a, b in zip(predict(reference, TEXTS), predict(fast, TEXTS), strict=True):
        for label in a.probabilities:
            assert b.probabilities[label] == pytest.approx(a.probabilities[label], abs=0.02)
    assert explain(fast, "the food was great").spans[0][0] == "the"

    def no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(accelerated, "export_int8", no_export)
    again = build(str(folder), backend="onnx-int8", threads=1, cache_dir=cache)
    assert predict(again, TEXTS[:1])[0] == predict(fast, TEXTS[:1])[0]


def test_fp32_export_matches_torch_on_padded_batches(tmp_path: Path, three_label_dir: Path) -> None:
    import numpy as np
    import onnxruntime as ort
    import torch

    from sentiment.model import load_torch_model

    model, tokenizer, _ = load_torch_model(str(three_label_dir))
    path = tmp_path / "fp32.onnx"
    accelerated.export_fp32(model, tokenizer.model_input_names, path)
    batch = tokenizer(TEXTS, padding=True, return_tensors="np")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {i.name: batch[i.name].astype(np.int64) for i in session.get_inputs()})
    with torch.inference_mode():
        expected = model(**{k: torch.from_numpy(v) for k, v in batch.items()}).logits.numpy()
    assert np.allclose(got[0], expected, atol=1e-4)
