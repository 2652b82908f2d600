"""The int8 ONNX path agrees with PyTorch, is exported once per weights version, and a
warm start serves without torch."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from errors import ModelError
from sentiment import accelerated, export, sources, weights
from sentiment.accelerated import signed_weights_exact
from sentiment.explanation import explain
from sentiment.inference import predict
from sentiment.model import build
from tests.sentiment.conftest import save_transformers_dir

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["the food was great", "awful", "it was not very good but fun", "meeting on tuesday"]
THREE = {0: "negative", 1: "neutral", 2: "positive"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    # An unamplified head: int8 noise on 16-wide layers is otherwise magnified.
    return save_transformers_dir(tmp_path / "model", THREE, head_scale=1.0)


def test_int8_agrees_with_torch_and_is_cached(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    reference = build(str(folder), backend="torch", threads=1)
    fast = build(str(folder), backend="onnx-int8", threads=1, cache_dir=cache)
    exported = list((cache / "onnx").glob("*.onnx"))
    assert len(exported) == 1
    for a, b in zip(predict(reference, TEXTS), predict(fast, TEXTS), strict=True):
        for label in a.probabilities:
            assert b.probabilities[label] == pytest.approx(a.probabilities[label], abs=0.02)
    assert explain(fast, "the food was great").spans[0][0] == "the"

    def no_torch(*args: object, **kwargs: object) -> None:
        raise AssertionError("loaded in PyTorch again")

    monkeypatch.setattr(weights, "load_torch_model", no_torch)
    monkeypatch.setattr(export, "export_int8", no_torch)
    again = build(str(folder), backend="onnx-int8", threads=1, cache_dir=cache)
    assert predict(again, TEXTS[:1])[0] == predict(fast, TEXTS[:1])[0]
    assert again.model_id == fast.model_id == str(folder)


def test_new_weights_are_exported_again(tmp_path: Path, folder: Path) -> None:
    cache = tmp_path / "cache"
    build(str(folder), backend="onnx-int8", threads=1, cache_dir=cache)
    save_transformers_dir(folder, THREE, seed=7, head_scale=1.0)
    build(str(folder), backend="onnx-int8", threads=1, cache_dir=cache)
    assert len(list((cache / "onnx").glob("*.onnx"))) == 2


def test_the_graph_is_fused(tmp_path: Path, three_label_dir: Path) -> None:
    model, tokenizer, _ = weights.load_torch_model(str(three_label_dir))
    fp32, fused = tmp_path / "fp32.onnx", tmp_path / "fused.onnx"
    export.export_fp32(model, tokenizer.model_input_names, fp32)
    counts = export.fuse(model, fp32, fused)
    layers = model.config.num_hidden_layers
    assert counts["BiasGelu"] == layers
    assert counts["LayerNormalization"] == 2 * layers + 1
    assert "SkipLayerNormalization" not in counts  # slower in ONNX Runtime (export's docstring)
    export.check_against_torch(model, tokenizer.model_input_names, fused)


def test_onnx_runtime_does_not_fuse_the_layer_norms_back(tmp_path: Path, folder: Path) -> None:
    cache = tmp_path / "cache"
    build(str(folder), backend="onnx-int8", threads=1, cache_dir=cache)
    (graph,) = (cache / "onnx").glob("*.onnx")
    optimized = tmp_path / "optimized.onnx"
    accelerated.session(graph, 1, optimized_to=optimized)
    ops = {node.op_type for node in onnx.load(str(optimized)).graph.node}
    assert "LayerNormalization" in ops and "BiasGelu" in ops
    assert "SkipLayerNormalization" not in ops


def test_a_warm_start_never_imports_torch(tmp_path: Path, folder: Path) -> None:
    cache = tmp_path / "cache"
    build(str(folder), backend="onnx-int8", threads=1, cache_dir=cache)  # the first start
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from sentiment import load_model, predict\n"
        "model = load_model(sys.argv[1], backend='onnx-int8', threads=1,\n"
        "                   cache_dir=Path(sys.argv[2]))\n"
        "print(predict(model, ['the food was great'])[0].label, 'torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder), str(cache)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    label, torch_imported = done.stdout.split()
    assert label in THREE.values()
    assert torch_imported == "False", "a warm onnx-int8 start imported torch"


def test_the_export_says_two_lines_and_the_libraries_go_to_debug(
    tmp_path: Path,
    folder: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    capfd.readouterr()
    caplog.set_level(logging.INFO)
    build(str(folder), backend="onnx-int8", threads=1, cache_dir=tmp_path / "cache")
    said = [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    assert [name for name, _ in said] == ["sentiment.model", "sentiment.model"], said
    assert said[0][1].startswith("Exporting") and said[1][1].startswith("Exported in")
    assert "BiasGelu" in said[1][1]
    out, err = capfd.readouterr()
    assert out == err == ""


def test_weights_are_keyed_by_their_bytes(folder: Path) -> None:
    source = sources.resolve(str(folder))
    assert source is not None and source.weights
    key = sources.fingerprint(source, "recipe")
    assert key == sources.fingerprint(source, "recipe") != sources.fingerprint(source, "other")


def test_an_unreachable_hub_model_says_how_to_run_offline(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="SENTIMENT_MODEL=bundled"):
        build("sentiscope-tests/no-such-model", backend="onnx-int8", cache_dir=tmp_path)


@pytest.mark.parametrize(
    ("flags", "exact"),
    [
        ("flags\t\t: fpu sse2 avx avx2 fma", False),  # AVX2 only: u8 x s8 saturates
        ("flags\t\t: fpu avx2 avx512f avx512bw avx512_vnni", True),
        ("flags\t\t: fpu avx2 avx_vnni", True),
        ("flags\t\t: fpu sse2 sse4_2", True),  # no AVX2: as before (not measured)
        ("Features\t: fp asimd asimddp", True),  # ARM
    ],
)
def test_int8_weights_are_signed_only_where_they_multiply_exactly(flags: str, exact: bool) -> None:
    assert signed_weights_exact(f"processor\t: 0\n{flags}\n") is exact


def test_small_passes_on_one_thread_give_the_large_sessions_logits(
    tmp_path: Path, folder: Path
) -> None:
    """A pass of up to SMALL_PASS_TOKENS runs on the single-thread session, a larger one on
    the pool: the same graph, so one row scores the same alone and among others."""
    import numpy as np

    from sentiment.accelerated import SMALL_PASS_TOKENS
    from sentiment.inference import pass_inputs, preprocess

    model = build(str(folder), backend="onnx-int8", threads=2, cache_dir=tmp_path / "cache")
    many = ["the food was great and the staff were kind to us all evening"] * 12
    enc = preprocess(model, many)
    together = pass_inputs(enc, np.arange(len(many)))
    alone = pass_inputs(enc, np.array([0]))
    assert together["input_ids"].size > SMALL_PASS_TOKENS >= alone["input_ids"].size
    assert model.runner(alone)[0] == pytest.approx(model.runner(together)[0], abs=1e-4)
