"""Long documents: split into sentences with exact offsets, scored whole, never cut."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment import predict
from sentiment.documents import CLEAR, DocumentScorer, Window, combine, is_mixed, units
from sentiment.inference import Prediction
from sentiment.model import SentimentModel
from sentiment.sentences import BLOCK_CHARS, Sentence, split

GOOD = "The room was spacious and spotless, and the staff were wonderful and helpful. "
BAD = "The breakfast was cold and disgusting, and the manager was rude to us. "


def scorer(model: SentimentModel) -> DocumentScorer:
    return DocumentScorer(lambda texts: predict(model, texts, max_chars=None), Window.of(model))


def test_sentences_have_known_counts_and_exact_offsets() -> None:
    text = (
        "Mr. Smith booked it for 3.5 nights, e.g. over a weekend.  Was it worth it? "
        "Not really!\n\nThe pool, however, was great…"
    )
    found = split(text)
    assert [s.text for s in found] == [
        "Mr. Smith booked it for 3.5 nights, e.g. over a weekend.",
        "Was it worth it?",
        "Not really!",
        "The pool, however, was great…",
    ]
    assert all(text[s.start : s.end] == s.text for s in found)


def test_a_long_line_is_cut_into_blocks_and_keeps_its_offsets() -> None:
    text = "word " * 2_000 + "The end. " + "Nice stay. " * 400
    found = split(text)
    assert len(text) > 5 * BLOCK_CHARS
    assert all(text[s.start : s.end] == s.text for s in found)
    assert [s.start for s in found] == sorted(s.start for s in found)
    assert sum(s.text == "Nice stay." for s in found) == 400


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .!?\n'\"é😀"), max_size=300))
def test_offsets_always_point_at_the_sentence(text: str) -> None:
    found = split(text)
    assert all(text[s.start : s.end] == s.text and s.text.strip() == s.text for s in found)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    assert bool(found) == bool(text.strip())


def test_an_overlong_sentence_is_cut_into_pieces_that_fit(tiny_model: SentimentModel) -> None:
    window = Window.of(tiny_model)  # 32 positions: 30 tokens besides the special ones
    text = "the movie was great and " * 20 + "fun."
    pieces = units(text, window)
    assert len(pieces) > 1
    assert all(text[p.start : p.end] == p.text for p in pieces)
    assert all(window.fits([p.text]) == [True] for p in pieces)
    assert " ".join(p.text for p in pieces).split() == text.split()


def test_a_text_longer_than_the_window_is_scored_by_sentences(
    tiny_model: SentimentModel,
) -> None:
    text = "The movie was great. " * 10 + "The food was awful!"
    (cut,) = predict(tiny_model, [text])
    assert cut.truncated  # what the plain pass does
    (whole,) = scorer(tiny_model).score([text])
    assert not whole.truncated
    assert len(whole.sentences) == 11
    assert sum(whole.probabilities.values()) == _approx(1.0)
    assert whole.score == max(whole.probabilities.values())


def test_short_texts_are_scored_whole_unless_sentences_are_asked_for(
    tiny_model: SentimentModel,
) -> None:
    documents = scorer(tiny_model)
    (plain,) = predict(tiny_model, ["the movie was great. it was fun."])
    (short,) = documents.score(["the movie was great. it was fun."])
    assert short.sentences == () and short.probabilities == _approx_all(plain.probabilities)
    (detailed,) = documents.score(["the movie was great. it was fun."], sentences=True)
    assert [s.text for s in detailed.sentences] == ["the movie was great.", "it was fun."]
    # the label is still the whole text's (padding with the sentences moves the last digits)
    assert detailed.probabilities == _approx_all(plain.probabilities)


def test_sentences_are_weighed_by_length() -> None:
    def said(label: str, p: float) -> Prediction:
        rest = (1 - p) / 2
        probabilities = {
            name: (p if name == label else rest) for name in ("negative", "neutral", "positive")
        }
        return Prediction(label, p, probabilities, "m", False)

    long, short = Sentence("x" * 90, 0, 90), Sentence("y" * 10, 91, 101)
    probabilities, mixed = combine([(long, said("positive", 0.9)), (short, said("negative", 0.9))])
    assert probabilities["positive"] == _approx(0.9 * 0.9 + 0.1 * 0.05)
    assert probabilities["negative"] == _approx(0.9 * 0.05 + 0.1 * 0.9)
    assert mixed
    assert not is_mixed([said("positive", 0.99), said("negative", CLEAR - 0.01)])


def test_a_long_mixed_review_is_mixed_and_not_cut(bundled_model: SentimentModel) -> None:
    text = GOOD * 25 + BAD * 15
    assert len(text) > 3_000
    (p,) = scorer(bundled_model).score([text])
    assert not p.truncated and p.mixed
    assert len(p.sentences) == 40
    assert all(text[s.start : s.end] == s.text for s in p.sentences)
    assert {s.label for s in p.sentences[:25]} == {"positive"}
    assert {s.label for s in p.sentences[25:]} == {"negative"}
    assert p.label == "positive"  # 25 longer sentences against 15


def test_a_long_glowing_review_is_not_mixed(bundled_model: SentimentModel) -> None:
    (p,) = scorer(bundled_model).score([GOOD * 40])
    assert (p.label, p.mixed, p.truncated) == ("positive", False, False)


def _approx(value: float) -> object:
    return pytest.approx(value, abs=1e-6)


def _approx_all(values: dict[str, float]) -> object:
    return pytest.approx(values, abs=1e-5)
