"""Any model's label names fold onto negative / neutral / positive, or fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import ModelError
from sentiment.labels import LABELS, map_labels


def canonical(id2label: dict[int, str]) -> list[str]:
    return [LABELS[t] for t in map_labels(id2label).targets]


@pytest.mark.parametrize(
    ("id2label", "expected"),
    [
        ({0: "NEGATIVE", 1: "POSITIVE"}, ["negative", "positive"]),  # distilbert SST-2
        ({0: "LABEL_0", 1: "LABEL_1"}, ["negative", "positive"]),
        ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, ["negative", "neutral", "positive"]),
        ({0: "negative", 1: "neutral", 2: "positive"}, ["negative", "neutral", "positive"]),
        ({0: "Positive", 1: "Negative", 2: "Neutral"}, ["positive", "negative", "neutral"]),
        ({"0": "neg", "1": "neu", "2": "pos"}, ["negative", "neutral", "positive"]),
        (
            {0: "Very Negative", 1: "negative", 2: "neutral", 3: "Positive", 4: "very_positive"},
            ["negative", "negative", "neutral", "positive", "positive"],
        ),
        (
            {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"},
            ["negative", "negative", "neutral", "positive", "positive"],
        ),
    ],
)
def test_known_schemes_map(id2label: dict[int, str], expected: list[str]) -> None:
    assert canonical(id2label) == expected


@given(st.sampled_from(["positive", "negative", "neutral"]), st.data())
def test_case_and_separators_do_not_matter(name: str, data: st.DataObject) -> None:
    spelled = "".join(c.upper() if data.draw(st.booleans()) else c for c in name)
    mapping = {0: "negative", 1: "positive", 2: spelled}
    assert canonical(mapping)[2] == name


def test_two_labels_fold_with_zero_neutral() -> None:
    label_map = map_labels({0: "NEGATIVE", 1: "POSITIVE"})
    folded = label_map.fold(np.array([[0.2, 0.8]], dtype=np.float32))
    assert folded[0].tolist() == pytest.approx([0.2, 0.0, 0.8])
    assert not label_map.has_neutral


def test_five_labels_fold_sums() -> None:
    label_map = map_labels({i: f"LABEL_{i}" for i in range(5)})
    folded = label_map.fold(np.array([[0.1, 0.2, 0.3, 0.25, 0.15]], dtype=np.float32))
    assert folded[0].tolist() == pytest.approx([0.3, 0.3, 0.4])


@pytest.mark.parametrize(
    "id2label",
    [
        {0: "anger", 1: "joy", 2: "sadness"},
        {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2", 3: "LABEL_3"},
        {0: "positive", 1: "neutral"},
        {1: "negative", 2: "positive"},
    ],
)
def test_unmappable_schemes_name_the_labels(id2label: dict[int, str]) -> None:
    with pytest.raises(ModelError) as caught:
        map_labels(id2label)
    assert any(name in str(caught.value) for name in id2label.values())
