"""Gold labels in the forms datasets use, and the metrics the evaluate command prints."""

from __future__ import annotations

import pytest

from errors import InvalidInput
from sentiment.evaluation import evaluate, format_report, parse_gold, score
from sentiment.labels import NEGATIVE, NEUTRAL, POSITIVE
from sentiment.model import SentimentModel


@pytest.mark.parametrize(
    ("values", "gold", "binary"),
    [
        (["0", "1", "1"], [NEGATIVE, POSITIVE, POSITIVE], True),
        (["0", "1", "2"], [NEGATIVE, NEUTRAL, POSITIVE], False),
        (["-1", "0", "1"], [NEGATIVE, NEUTRAL, POSITIVE], False),
        (["Positive", " neg ", "NEUTRAL"], [POSITIVE, NEGATIVE, NEUTRAL], False),
        (["negative", "positive"], [NEGATIVE, POSITIVE], True),
        (["1.0", "0.0"], [POSITIVE, NEGATIVE], True),
    ],
)
def test_parse_gold(values: list[str], gold: list[int], binary: bool) -> None:
    assert parse_gold(values) == (gold, binary)


@pytest.mark.parametrize("values", [["0", "5"], ["good", "bad"]])
def test_unknown_gold_labels(values: list[str]) -> None:
    with pytest.raises(InvalidInput):
        parse_gold(values)


def test_metrics_by_hand() -> None:
    gold = [NEGATIVE, NEGATIVE, NEUTRAL, POSITIVE, POSITIVE, POSITIVE]
    predicted = [NEGATIVE, NEUTRAL, NEUTRAL, POSITIVE, POSITIVE, NEGATIVE]
    report = score(gold, predicted, [NEGATIVE, NEUTRAL, POSITIVE])
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.per_class["negative"].precision == pytest.approx(1 / 2)
    assert report.per_class["negative"].recall == pytest.approx(1 / 2)
    assert report.per_class["neutral"].f1 == pytest.approx(2 / 3)
    assert report.per_class["positive"].f1 == pytest.approx(0.8)
    assert report.macro_f1 == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    assert report.confusion == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    text = format_report(report)
    assert "accuracy  66.67%" in text
    assert "3-class" in text


def test_binary_sets_compare_negative_and_positive(tiny_model: SentimentModel) -> None:
    texts = ["the food was great", "awful", "boring", "fun"]
    report = evaluate(tiny_model, texts, ["1", "0", "0", "1"])
    assert report.binary
    assert set(report.per_class) == {"negative", "positive"}
    assert sum(s.support for s in report.per_class.values()) == 4
