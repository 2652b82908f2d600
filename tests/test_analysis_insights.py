"""InsightsService: distribution, daily trend, confidence histogram, top words."""

from __future__ import annotations

from datetime import timedelta

from analysis.filters import make_filters
from analysis.insights import words_of
from services import Services
from storage.predictions import HistoryFilters
from tests.analysis_factories import T0, add_rows, make_user


def test_an_empty_history_gives_an_empty_summary_not_an_error(services: Services) -> None:
    user_id, _ = make_user(services)
    insights = services.insights.for_user(user_id, HistoryFilters())
    assert insights.empty
    assert insights.distribution == {"negative": 0, "neutral": 0, "positive": 0}
    assert insights.summary()["total"] == 0


def test_counts_trend_histogram_and_words(services: Services) -> None:
    user_id, _ = make_user(services)
    other, _ = make_user(services)
    add_rows(services, user_id, ["Lovely lovely staff", "lovely garden"], score=0.95)
    add_rows(services, user_id, ["The soup was cold"], label="negative", score=0.55)
    add_rows(services, user_id, ["Cold soup again"], label="negative", start=T0 + timedelta(days=2))
    add_rows(services, other, ["secret words of another user"] * 3)

    insights = services.insights.for_user(user_id, HistoryFilters())
    assert insights.total == 4
    assert insights.distribution == {"negative": 2, "neutral": 0, "positive": 2}
    assert insights.trend == [
        ("2030-03-01", "negative", 1),
        ("2030-03-01", "positive", 2),
        ("2030-03-03", "negative", 1),
    ]
    assert (9, "positive", 2) in insights.histogram
    assert (5, "negative", 1) in insights.histogram
    assert insights.words["positive"][0] == ("lovely", 3)
    assert dict(insights.words["negative"]) == {"soup": 2, "cold": 2}  # "again" is a stop word
    assert not any("secret" in w for words in insights.words.values() for w, _ in words)

    only_negative = services.insights.for_user(user_id, make_filters(label="negative"))
    assert only_negative.distribution == {"negative": 2, "neutral": 0, "positive": 0}


def test_words_drop_stop_words_numbers_and_short_words() -> None:
    assert words_of("The 2 BEST pizzas I've ever had, it's a 10/10!") == ["best", "pizzas"]


def test_words_leave_out_links_mentions_entities_and_numbers() -> None:
    tweet = (
        "@united thanks for the 'great' crew!! http://t.co/x1Yz &amp; &#39; B737 2nd "
        "www.example.com/deal 10/10 &quot;loved&quot; https://united.com"
    )
    assert words_of(tweet) == ["thanks", "great", "crew", "loved"]


def test_top_words_count_every_matching_text_not_only_the_newest(services: Services) -> None:
    user_id, _ = make_user(services)
    # 6,000 texts: the oldest 1,000 say "ancient", the newest 5,000 "recent".
    add_rows(services, user_id, ["ancient ancient words"] * 1_000, step=timedelta(seconds=1))
    later = T0 + timedelta(days=1)
    add_rows(services, user_id, ["recent words"] * 5_000, start=later, step=timedelta(seconds=1))
    insights = services.insights.for_user(user_id, HistoryFilters())
    assert insights.words_sampled == insights.total == 6_000
    assert dict(insights.words["positive"]) == {"words": 6_000, "recent": 5_000, "ancient": 2_000}
    searched = services.insights.for_user(user_id, make_filters(search="ancient"))
    assert dict(searched.words["positive"]) == {"ancient": 2_000, "words": 1_000}
