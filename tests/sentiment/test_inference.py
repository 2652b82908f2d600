"""predict and explain as a caller sees them: order, truncation, errors, explanations."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from errors import InvalidInput
from sentiment.explanation import explain
from sentiment.inference import DEFAULT_BATCH_CELLS, length_groups, predict
from sentiment.model import SentimentModel
from tests.sentiment.conftest import MAX_POSITIONS

TEXTS = [
    "the food was great",
    "awful",
    "i loved the movie but the service was terrible and the film was boring",
    "meeting on tuesday at 3 pm.",
    "it was not very good!",
    "fun",
]


def test_order_and_values_do_not_depend_on_batching(tiny_model: SentimentModel) -> None:
    together = predict(tiny_model, TEXTS, batch_size=4)
    alone = [predict(tiny_model, [t])[0] for t in TEXTS]
    for a, b in zip(together, alone, strict=True):
        assert a.label == b.label
        for label in a.probabilities:
            assert a.probabilities[label] == pytest.approx(b.probabilities[label], abs=1e-5)
    reverse = predict(tiny_model, TEXTS[::-1])[::-1]
    assert [p.label for p in reverse] == [p.label for p in together]


def test_long_texts_go_a_few_at_a_time_short_ones_fill_the_batch() -> None:
    # Attention memory grows with rows x length², so the budget caps long groups.
    lengths = [12] * 100 + [300] * 20 + [512] * 3
    groups = list(length_groups(lengths, batch_size=32, batch_tokens=1_024))
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for group in groups:
        width = max(lengths[i] for i in group)
        assert len(group) == 1 or len(group) * width * width <= DEFAULT_BATCH_CELLS
    assert max(len(g) for g in groups if lengths[g[0]] == 12) == 32
    assert all(len(g) == 1 for g in groups if lengths[g[0]] == 512)


def test_prediction_shape(tiny_model: SentimentModel) -> None:
    (p,) = predict(tiny_model, ["the movie was great"])
    assert set(p.probabilities) == {"negative", "neutral", "positive"}
    assert sum(p.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert p.score == max(p.probabilities.values()) == p.probabilities[p.label]
    assert p.model == tiny_model.model_id
    assert p.to_dict().keys() == {
        "label",
        "score",
        "negative",
        "neutral",
        "positive",
        "model",
        "truncated",
        "language",
        "language_supported",
        "mixed",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.label = "positive"  # type: ignore[misc]


def test_long_text_is_truncated_and_flagged(tiny_model: SentimentModel) -> None:
    long_text = "the movie was great " * 40
    exact = "a " * (MAX_POSITIONS - 2)  # fills the model exactly with [CLS] and [SEP]
    long, short, full = predict(tiny_model, [long_text, "great", exact.strip()])
    assert long.truncated
    assert not short.truncated
    assert not full.truncated


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ([""], "empty"),
        (["   \n\t"], "empty"),
        ([None], "not text"),
        ([42], "not text"),
        (["fine", ""], "Text 2 is empty"),
        ("a single string", "list"),
        (["x" * 101], "limit is 100"),
    ],
)
def test_bad_input_is_invalid_input(
    tiny_model: SentimentModel, texts: list[object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        predict(tiny_model, texts, max_chars=100)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)


def test_no_texts_no_predictions(tiny_model: SentimentModel) -> None:
    assert predict(tiny_model, []) == []


def test_explain_covers_the_text(tiny_model: SentimentModel) -> None:
    text = "The food was great, but the service was awful!"
    result = explain(tiny_model, text)
    assert "".join(segment for segment, _ in result.spans) == text
    # Scored in one batch with its variants: CPU kernels may differ by batch size in the
    # last float bits (seen in CI: 0.38870409 vs 0.38870412), so compare to 1e-5.
    alone = predict(tiny_model, [text])[0]
    got = result.prediction
    assert (got.label, got.model, got.truncated) == (alone.label, alone.model, alone.truncated)
    assert got.score == pytest.approx(alone.score, abs=1e-5)
    assert got.probabilities == pytest.approx(alone.probabilities, abs=1e-5)
    words = [(s, w) for s, w in result.spans if s.strip()]
    assert [s for s, _ in words] == [
        "The",
        "food",
        "was",
        "great",
        ",",
        "but",
        "the",
        "service",
        "was",
        "awful",
        "!",
    ]
    assert any(w != 0.0 for _, w in words)
    assert all(w == 0.0 for s, w in result.spans if not s.strip())


def test_explain_groups_words_of_long_texts(tiny_model: SentimentModel) -> None:
    text = " ".join(["great", "awful", "boring", "fun"] * 10)
    result = explain(tiny_model, text, max_variants=5)
    assert "".join(segment for segment, _ in result.spans) == text
    # Words past the model's reach (MAX_POSITIONS tokens) contribute nothing.
    weights = [w for s, w in result.spans if s.strip()]
    assert all(w == 0.0 for w in weights[MAX_POSITIONS:])


def test_explain_rejects_empty_text(tiny_model: SentimentModel) -> None:
    with pytest.raises(InvalidInput):
        explain(tiny_model, "  ")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(min_size=1, max_size=80).filter(lambda t: t.strip()))
def test_explain_spans_rebuild_any_text(tiny_model: SentimentModel, text: str) -> None:
    spans = explain(tiny_model, text).spans
    assert "".join(segment for segment, _ in spans) == text
