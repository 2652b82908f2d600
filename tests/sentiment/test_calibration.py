"""Calibration: the neutral margin and temperature, how they are chosen on dev sets, the
top-class ECE against hand-computed figures, and a model config that carries them."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sentiment.calibrate import DevSet, fit, write
from sentiment.calibration import (
    CONFIG_KEY,
    Calibration,
    expected_calibration_error,
    from_config,
    reliability,
    softmax,
)
from sentiment.evaluation import score
from sentiment.inference import probabilities
from sentiment.model import SentimentModel, build

NEUTRAL = 1


def test_ece_matches_the_hand_computed_figure() -> None:
    # Two bins used: (0.533, 0.6] holds 0.6, 0.6 (1 of 2 right); (0.933, 1] holds 0.95 x 2
    # (both right). ECE = 2/4 * |0.5 - 0.6| + 2/4 * |1.0 - 0.95| = 0.075.
    confidence = np.array([0.6, 0.6, 0.95, 0.95])
    correct = np.array([True, False, True, True])
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.075)
    assert expected_calibration_error(np.array([]), np.array([], dtype=bool)) == 0.0
    bins = reliability(confidence, correct)
    assert [(n, round(c, 2), a) for _, n, c, a in bins] == [(2, 0.6, 0.5), (2, 0.95, 1.0)]


def test_the_margin_never_changes_negative_against_positive_and_the_temperature_no_label() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(500, 3)).astype(np.float32) * 3
    for calibration in (Calibration(2.5, 0.0), Calibration(1.0, 1.7), Calibration(0.5, -0.8)):
        calibrated = calibration.apply(logits, NEUTRAL)
        assert np.array_equal(calibrated[:, 2] > calibrated[:, 0], logits[:, 2] > logits[:, 0])
        if calibration.neutral_bias == 0.0:
            assert np.array_equal(calibrated.argmax(1), logits.argmax(1))
    assert Calibration().apply(logits, NEUTRAL) is logits  # identity: untouched
    # A model without a neutral output gets only the temperature.
    two = logits[:, [0, 2]]
    assert np.allclose(Calibration(2.0, 5.0).apply(two, None), two / 2)


def synthetic(rows: int, temperature: float, neutral_shift: float, seed: int) -> DevSet:
    """Labels drawn from softmax(true_logits); the model reports true_logits * temperature
    with its neutral logit lowered by neutral_shift (over-confident, too little neutral)."""
    rng = np.random.default_rng(seed)
    true = rng.normal(size=(rows, 3)) * 1.5
    gold = np.array([rng.choice(3, p=p) for p in softmax(true)])
    reported = true * temperature
    reported[:, NEUTRAL] -= neutral_shift
    return DevSet(f"synthetic-{seed}", reported.astype(np.float32), gold)


def test_fit_recovers_the_margin_and_temperature_of_a_miscalibrated_model() -> None:
    sets = [synthetic(4000, 2.0, 1.6, seed=1), synthetic(4000, 2.0, 1.6, seed=2)]
    found = fit(sets, NEUTRAL)
    assert found.temperature == pytest.approx(2.0, rel=0.15)
    assert found.neutral_bias == pytest.approx(1.6, abs=0.5)
    for dev in sets:
        before, after = softmax(dev.logits), softmax(found.apply(dev.logits, NEUTRAL))
        ece = [
            expected_calibration_error(p.max(1), p.argmax(1) == dev.gold) for p in (before, after)
        ]
        assert ece[1] < 0.03 < ece[0]
        recall = [
            score(dev.gold.tolist(), p.argmax(1).tolist(), [0, 1, 2]).macro_recall
            for p in (before, after)
        ]
        assert recall[1] > recall[0]


@pytest.mark.parametrize(
    "config",
    [
        {},
        {CONFIG_KEY: None},
        {CONFIG_KEY: {"temperature": 0}},
        {CONFIG_KEY: {"temperature": -1}},
        {CONFIG_KEY: {"temperature": float("nan")}},
        {CONFIG_KEY: "warm"},
    ],
)
def test_a_config_without_a_usable_calibration_means_none(config: dict[str, object]) -> None:
    assert from_config(config.get(CONFIG_KEY)) == Calibration()


def test_a_model_whose_config_carries_a_calibration_applies_it(
    three_label_dir: Path, tiny_model: SentimentModel, tmp_path: Path
) -> None:
    assert tiny_model.calibration == Calibration()  # a config without the key
    folder = tmp_path / "calibrated"
    shutil.copytree(three_label_dir, folder)
    written = write(folder, Calibration(temperature=2.0, neutral_bias=0.5))
    assert json.loads(written.read_text())[CONFIG_KEY] == {"temperature": 2.0, "neutral_bias": 0.5}
    model = build(str(folder), backend="torch", threads=1)
    assert model.calibration == Calibration(2.0, 0.5)
    texts = ["a fine day", "nothing at all", "the worst film"]
    raw, _ = probabilities(replace(model, calibration=Calibration()), texts)
    calibrated, _ = probabilities(model, texts)
    expected = softmax(Calibration(2.0, 0.5).apply(np.log(raw), NEUTRAL))
    assert np.allclose(calibrated, expected, atol=1e-5)


def test_calibrate_writes_into_the_folder_it_is_given(
    three_label_dir: Path, tmp_path: Path
) -> None:
    import os

    from sentiment import calibrate

    data = Path(os.environ.get("SENTIMENT_DATA_DIR") or "../shared/data/sentiment")
    if not (data / "semeval_tweets" / "dev.tsv").is_file():
        if os.environ.get("REQUIRE_BUNDLED_MODEL") == "1":
            pytest.fail(f"REQUIRE_BUNDLED_MODEL=1 but {data} lacks the corpora")
        pytest.skip(f"{data} is not present")
    folder = tmp_path / "run"
    shutil.copytree(three_label_dir, folder)
    bundled = (calibrate.BUNDLED_DIR / "config.json").read_text()
    argv = ["--model", str(folder), "--data-dir", str(data), "--backend", "torch"]
    assert calibrate.main(argv) == 0
    assert CONFIG_KEY in json.loads((folder / "config.json").read_text())
    assert (calibrate.BUNDLED_DIR / "config.json").read_text() == bundled  # untouched


def test_calibrate_refuses_a_folder_without_a_config(tmp_path: Path, capsys) -> None:
    from sentiment import calibrate

    with pytest.raises(SystemExit) as exited:
        calibrate.main(["--model", str(tmp_path / "nowhere")])
    assert exited.value.code == 2
    assert "saved run's folder" in capsys.readouterr().err
