"""The Analyze tab colours the words that drove a prediction: green raises, red lowers."""

from __future__ import annotations

from ui.analyze import LOWERS, LOWERS_STRONGLY, RAISES_STRONGLY, WORD_COLORS, highlight


def test_categories_are_relative_to_the_strongest_word_and_keep_signs() -> None:
    spans = [("great", 4.0), (" ", 0.0), ("but", -1.0), (" ", 0.0), ("late", -2.5), ("x", 0.2)]
    assert highlight(spans) == [
        ("great", RAISES_STRONGLY),
        (" ", None),
        ("but", LOWERS),
        (" ", None),
        ("late", LOWERS_STRONGLY),
        ("x", None),  # far weaker than the strongest word: left plain
    ]


def test_all_zero_weights_stay_plain() -> None:
    assert highlight([("ok", 0.0)]) == [("ok", None)]


def test_raising_categories_are_green_and_lowering_ones_red() -> None:
    for category, color in WORD_COLORS.items():
        red, green = int(color[1:3], 16), int(color[3:5], 16)
        assert (green > red) == category.startswith("raises"), category
