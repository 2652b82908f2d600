"""The training data mix and ``python -m sentiment train`` continuing from a saved run."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from sentiment import data
from sentiment.model import BUNDLED_DIR

DATA = Path(
    os.environ.get("SENTIMENT_DATA_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sentiment"
)
INFORMAL = data.Mix(sst=0.15, blitzer=1, semeval=1, objective=1)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def root() -> Path:
    if not (DATA / "semeval_tweets" / "train.tsv").is_file():
        if os.environ.get("REQUIRE_BUNDLED_MODEL") == "1":
            pytest.fail(f"REQUIRE_BUNDLED_MODEL=1 but {DATA} lacks the corpora")
        pytest.skip(f"{DATA} is not present")
    return DATA


def test_the_default_mix_is_the_one_the_bundled_weights_were_trained_on(root: Path) -> None:
    kept = json.loads((BUNDLED_DIR / "train_log.json").read_text())
    rows = data.training_set(root)
    assert len(rows) == kept["data_sizes"]["train"]
    labels = Counter(data.LABELS[e.label] for e in rows)
    assert dict(labels) == kept["train_labels"]


def test_the_informal_mix_adds_tweets_and_objective_sentences_from_train_only(
    root: Path,
) -> None:
    rows = data.training_set(root, INFORMAL)
    sources = Counter(e.source.split("/")[0] for e in rows)
    assert sources["semeval"] == len(data.semeval(root, "train")) == 48_770
    assert sources["objective"] == 5_000
    assert sources["blitzer"] == 5 * 1_700
    assert all(e.source.endswith("/train") or e.source == "sst3" for e in rows)
    assert all(e.label == data.NEUTRAL for e in rows if e.source.startswith("objective"))
    # The sampled share of SST is the same for the same seed, different for another.
    assert [e.text for e in data.training_set(root, INFORMAL)] == [e.text for e in rows]
    other = data.training_set(root, INFORMAL, seed=14)
    assert [e.text for e in other] != [e.text for e in rows]
    # SemEval's PTB-style quotes are written as people write them.
    assert not any("``" in e.text for e in rows if e.source.startswith("semeval"))


def test_training_continues_from_a_saved_run(root: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from sentiment import train

    out = tmp_path / "run"
    argv = ["--data-dir", str(root), "--init", str(BUNDLED_DIR), "--out", str(out)]
    argv += ["--semeval", "1", "--objective", "1", "--select", "all", "--epochs", "1"]
    argv += ["--limit", "40", "--batch-size", "20", "--max-length", "48", "--lr", "1e-9"]
    assert train.main(argv) == 0

    log = json.loads((out / "train_log.json").read_text())
    scores = log["best"]["scores"]
    assert {"sst2/dev", "sst3/dev", "semeval/dev", "blitzer/mean"} <= scores.keys()
    parts = [scores[k][m] for k, m in train.SELECTIONS["all"]]
    assert scores["selection"]["score"] == pytest.approx(sum(parts) / 4)
    # With a vanishing learning rate the continued weights are the saved run's.
    before = load_file(str(BUNDLED_DIR / "delta.safetensors"))
    after = load_file(str(out / "delta.safetensors"))
    assert before.keys() == after.keys()
    name = "bert.encoder.layer.5.output.dense.weight"
    assert (after[name].float() - before[name].float()).abs().max() < 1e-3


def test_a_cheap_trial_trains_only_the_layers_above_the_frozen_ones(
    root: Path, tmp_path: Path
) -> None:
    from safetensors.torch import load_file

    from sentiment import train

    out = tmp_path / "trial"
    argv = ["--data-dir", str(root), "--init", str(BUNDLED_DIR), "--out", str(out)]
    argv += ["--freeze-layers", "4", "--class-weights", "1,2,1", "--epochs", "1"]
    argv += ["--limit", "40", "--batch-size", "20", "--max-length", "48", "--lr", "1e-3"]
    assert train.main(argv) == 0

    log = json.loads((out / "train_log.json").read_text())
    assert log["settings"]["freeze_layers"] == "4"
    before = load_file(str(BUNDLED_DIR / "delta.safetensors"))
    after = load_file(str(out / "delta.safetensors"))
    assert before.keys() == after.keys()

    def moved(name: str) -> float:
        return float((after[name].float() - before[name].float()).abs().max())

    assert moved("bert.encoder.layer.3.output.dense.weight") == 0.0  # frozen, computed once
    assert moved("bert.encoder.layer.4.output.dense.weight") > 1e-4  # trained
    assert moved("classifier.weight") > 1e-4


@pytest.mark.parametrize("weights", ["1,2", "1,a,1", "1,0,1"])
def test_bad_class_weights_are_refused_with_what_to_give(weights: str) -> None:
    from sentiment import train

    with pytest.raises(SystemExit):
        train.parse_args(["--class-weights", weights])


def test_the_upper_layers_over_stored_outputs_give_the_whole_models_logits() -> None:
    import torch

    from sentiment.frozen import LowerOutputs
    from sentiment.train import build_model, default_base_dir

    model = build_model(default_base_dir()).eval()
    ids = [[101, 2023, 2003, 2307, 102], [101, 6659, 102]]
    lower = LowerOutputs(model, ids, 3, torch.device("cpu"))
    with torch.inference_mode():
        split = lower.logits(model, [0, 1], torch.device("cpu"))
        whole = [model(input_ids=torch.tensor([row])).logits[0] for row in ids]
    for got, want in zip(split, whole, strict=True):
        assert torch.allclose(got, want, atol=0.05)  # fp16 storage, bf16 on some CPUs


def test_averaging_two_runs_keeps_the_best_share_on_dev(root: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    from sentiment import average

    other = tmp_path / "other"
    other.mkdir()
    delta = load_file(str(BUNDLED_DIR / "delta.safetensors"))
    save_file({k: v * 0.5 for k, v in delta.items()}, str(other / "delta.safetensors"))
    (other / "config.json").write_text((BUNDLED_DIR / "config.json").read_text())
    out = tmp_path / "mixed"
    argv = [str(BUNDLED_DIR), str(other), "--shares", "0,1", "--data-dir", str(root)]
    argv += ["--out", str(out), "--limit", "30", "--max-length", "48"]
    assert average.main(argv) == 0
    log = json.loads((out / "train_log.json").read_text())
    assert [t["share"] for t in log["tried"]] == [0.0, 1.0]
    best = max(log["tried"], key=lambda t: t["scores"]["selection"]["score"])
    assert log["best"]["share"] == best["share"]
    kept = load_file(str(out / "delta.safetensors"))
    name = "classifier.weight"
    want = delta[name].float() * (0.5 if best["share"] == 1.0 else 1.0)
    assert (kept[name].float() - want).abs().max() < 1e-2


def test_averaging_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    from sentiment import average

    with pytest.raises(SystemExit) as exited:
        average.main([str(BUNDLED_DIR), str(tmp_path), "--out", str(tmp_path / "o")])
    assert exited.value.code == 2
