"""The real bundled model: skipped without its weights, failed if REQUIRE_BUNDLED_MODEL=1."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from sentiment.evaluation import evaluate
from sentiment.explanation import explain
from sentiment.inference import predict
from sentiment.model import SentimentModel, build

# The public corpora live beside the repository (../shared); CI may point elsewhere.
DATA = Path(
    os.environ.get("SENTIMENT_DATA_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sentiment"
)

pytestmark = pytest.mark.slow


def test_plain_sentences(bundled_model: SentimentModel) -> None:
    neutral, good, bad = predict(
        bundled_model,
        [
            "The meeting is on Tuesday at 3 pm.",
            "Absolutely loved it, the staff were wonderful and the food was superb.",
            "The product broke after two days and support never answered. Avoid.",
        ],
    )
    assert neutral.label == "neutral"
    assert good.label == "positive"
    assert bad.label == "negative"


def test_explain_points_at_the_sentiment_word(bundled_model: SentimentModel) -> None:
    result = explain(bundled_model, "The hotel room was filthy.")
    assert result.prediction.label == "negative"
    top_word = max(result.spans, key=lambda span: span[1])[0]
    assert top_word == "filthy"


@pytest.mark.parametrize(
    ("text", "label", "strongest"),
    [
        ("The staff were lovely and the food was wonderful.", "positive", {"lovely", "wonderful"}),
        ("The food was awful and the waiter was rude.", "negative", {"awful", "rude"}),
        ("I love this place, the coffee is excellent.", "positive", {"love", "excellent"}),
        ("The movie was boring and the acting was awful.", "negative", {"boring", "awful"}),
        ("What a fantastic, delightful experience!", "positive", {"fantastic", "delightful"}),
    ],
)
def test_sentiment_words_weigh_most_even_when_confident(
    bundled_model: SentimentModel, text: str, label: str, strongest: set[str]
) -> None:
    result = explain(bundled_model, text)
    assert result.prediction.label == label
    assert result.prediction.score > 0.9  # saturated: probability drops alone were noise
    ranked = sorted((w for w in result.spans if w[0].strip()), key=lambda s: -s[1])
    assert {word for word, _ in ranked[: len(strongest)]} == strongest
    assert all(weight > 0 for _, weight in ranked[: len(strongest)])  # raise the label


def test_a_word_against_the_label_lowers_it(bundled_model: SentimentModel) -> None:
    result = explain(bundled_model, "Great phone, but the battery is terrible.")
    weights = dict(result.spans)
    assert result.prediction.label == "negative"
    assert weights["terrible"] == max(weights.values())
    assert weights["Great"] == min(weights.values()) < 0


def sst2_dev() -> tuple[list[str], list[str]]:
    path = DATA / "sst2" / "dev.tsv"
    if not path.is_file():
        if os.environ.get("REQUIRE_BUNDLED_MODEL") == "1":
            pytest.fail(f"REQUIRE_BUNDLED_MODEL=1 but {path} is missing (set SENTIMENT_DATA_DIR)")
        pytest.skip(f"{path} is not present")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [r["sentence"] for r in rows], [r["label"] for r in rows]


def test_sst2_dev_accuracy(bundled_model: SentimentModel) -> None:
    assert evaluate(bundled_model, *sst2_dev()).accuracy >= 0.90


def test_int8_keeps_sst2_dev_accuracy(bundled_model: SentimentModel, tmp_path: Path) -> None:
    texts, labels = sst2_dev()
    fast = build("bundled", backend="onnx-int8", cache_dir=tmp_path)
    fp32 = evaluate(bundled_model, texts, labels).accuracy
    assert evaluate(fast, texts, labels).accuracy >= fp32 - 0.005


REVIEW = (
    "We stayed four nights at the hotel near the station in early spring. "
    "The room was spotless and the bed was wonderful. "
    "Breakfast was served from seven until ten in the garden room. "
    "The staff at the front desk were rude and unhelpful. "
    "Our friends took the train from the airport, which took forty minutes. "
    "Overall it was a lovely stay and we would gladly come back."
)


def test_a_long_review_is_explained_sentence_by_sentence_with_the_right_signs(
    bundled_model: SentimentModel,
) -> None:
    from sentiment import explanation

    assert len(explanation._WORD.findall(REVIEW)) > explanation.LOCAL_WORDS
    result = explain(bundled_model, REVIEW)
    assert "".join(segment for segment, _ in result.spans) == REVIEW
    assert result.prediction.label == "positive"
    weights = {word: weight for word, weight in result.spans if word.strip()}
    ranked = sorted(weights, key=lambda w: -weights[w])
    assert {"wonderful", "lovely", "spotless"} & set(ranked[:4])
    assert weights["rude"] < 0 and weights["unhelpful"] < 0  # they lower "positive"
    assert ranked[-1] in {"rude", "unhelpful"}
    # Factual sentences carry little either way.
    assert max(abs(weights[w]) for w in ("station", "train", "airport", "seven")) < max(
        weights["wonderful"], weights["lovely"]
    )
