"""The Analyze tab colours the words that drove a prediction, even a confident one."""

from __future__ import annotations

from ui.analyze import highlight


def test_strongest_word_is_fully_coloured_and_signs_kept() -> None:
    spans = [("great", 0.004), (" ", 0.0), ("but", -0.001), (" ", 0.0), ("late", -0.002)]
    assert highlight(spans) == [
        ("great", 1.0),
        (" ", None),
        ("but", -0.25),
        (" ", None),
        ("late", -0.5),
    ]


def test_all_zero_weights_stay_zero() -> None:
    assert highlight([("ok", 0.0)]) == [("ok", 0.0)]
