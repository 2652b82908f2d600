"""Insights as chart data (pandas frames for Gradio's native plots) and word-cloud images.

Gradio's plots follow the light or dark theme by themselves; the word clouds use a
transparent background and mid-tone colours that read on both.
"""

from __future__ import annotations

import pandas as pd
from PIL import Image

from analysis.insights import Insights, bin_range
from storage.models import LABELS

COLORS = {"negative": "#d9534f", "neutral": "#8c8c8c", "positive": "#2e9e5b"}
_CLOUD_COLORS = {
    "negative": ["#d9534f", "#c0392b", "#e67e73"],
    "neutral": ["#7f8c8d", "#95a5a6", "#6c7a7b"],
    "positive": ["#2e9e5b", "#27ae60", "#52be80"],
}


def distribution_frame(insights: Insights) -> pd.DataFrame:
    return pd.DataFrame(
        {"label": list(LABELS), "count": [insights.distribution[label] for label in LABELS]}
    )


def trend_frame(insights: Insights) -> pd.DataFrame:
    frame = pd.DataFrame(insights.trend, columns=["day", "label", "count"])
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def single_day(insights: Insights) -> bool:
    """All predictions on one day: a line through one point draws nothing, so bars."""
    return len({day for day, _, _ in insights.trend}) == 1


def trend_bars_frame(insights: Insights) -> pd.DataFrame:
    """The trend with days as text, one group of bars per day."""
    return pd.DataFrame(insights.trend, columns=["day", "label", "count"])


def histogram_frame(insights: Insights) -> pd.DataFrame:
    return pd.DataFrame(
        [(bin_range(b), label, n) for b, label, n in insights.histogram],
        columns=["confidence", "label", "count"],
    )


def top_words_frame(insights: Insights) -> pd.DataFrame:
    rows = [(label, word, n) for label in LABELS for word, n in insights.words.get(label, [])]
    return pd.DataFrame(rows, columns=["label", "word", "count"])


def word_cloud(frequencies: list[tuple[str, int]], label: str) -> Image.Image | None:
    """A word-cloud image of `frequencies`, or None when there are no words."""
    if not frequencies:
        return None
    from wordcloud import WordCloud  # imports matplotlib; only paid when a cloud is drawn

    palette = _CLOUD_COLORS[label]

    def color(word: str, font_size: int, *_: object, **__: object) -> str:
        return palette[font_size % len(palette)]

    cloud = WordCloud(
        width=480,
        height=280,
        mode="RGBA",
        background_color=None,
        color_func=color,
        prefer_horizontal=0.9,
        max_words=60,
        random_state=7,  # the same history always gives the same picture
    )
    return cloud.generate_from_frequencies(dict(frequencies)).to_image()
