"""HistoryService and ScoringService: record, page (keyset), filter, delete, export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from analysis.filters import decode_cursor, encode_cursor, make_filters
from errors import InvalidInput
from services import Services
from storage.predictions import HistoryFilters
from tests.analysis_factories import T0, add_rows, make_user

ALL = HistoryFilters()


def test_score_records_each_text_with_its_prediction(services: Services) -> None:
    user_id, _ = make_user(services)
    scored = services.scoring.score(user_id, ["I love it!", "Awful, broken on arrival."])
    assert [s.prediction.label for s in scored] == ["positive", "negative"]
    page = services.history.page(user_id, ALL)
    assert {row.id for row in page.rows} == {s.id for s in scored}
    assert {row.text: row.label for row in page.rows} == {
        "I love it!": "positive",
        "Awful, broken on arrival.": "negative",
    }
    assert all(row.source == "single" for row in page.rows)


def test_score_refuses_no_texts_too_many_and_empty_ones(services: Services) -> None:
    user_id, _ = make_user(services)
    with pytest.raises(InvalidInput, match="nothing to score"):
        services.scoring.score(user_id, [])
    with pytest.raises(InvalidInput, match="the limit is"):
        services.scoring.score(user_id, ["ok"] * (services.scoring.max_texts + 1))
    with pytest.raises(InvalidInput, match="empty"):
        services.scoring.score(user_id, ["fine", "  "])
    assert services.history.page(user_id, ALL).rows == []  # nothing half-recorded


def test_analyze_explains_and_records(services: Services) -> None:
    user_id, _ = make_user(services)
    scored, explanation = services.scoring.analyze(user_id, "The service was terrible.")
    assert scored.prediction.label == "negative"
    assert "".join(segment for segment, _ in explanation.spans) == "The service was terrible."
    assert services.history.page(user_id, ALL).rows[0].id == scored.id


def test_pages_walk_newest_first_without_gaps_or_repeats(services: Services) -> None:
    user_id, _ = make_user(services)
    # Several rows share a timestamp, so the id must break ties.
    ids = add_rows(services, user_id, [f"text {i}" for i in range(23)], step=timedelta(0))
    ids += add_rows(services, user_id, ["later"] * 4, start=T0 + timedelta(hours=1))
    seen, cursor = [], None
    while True:
        page = services.history.page(user_id, ALL, cursor=cursor, limit=5)
        seen += [row.id for row in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(ids, key=lambda i: (i in ids[23:], i), reverse=True)
    assert len(seen) == len(set(seen)) == 27


def test_filters_by_label_source_batchless_dates_and_search(services: Services) -> None:
    user_id, _ = make_user(services)
    add_rows(services, user_id, ["Great coffee", "great TEA"], label="positive")
    add_rows(services, user_id, ["cold coffee"], label="negative", source="api")
    add_rows(services, user_id, ["next day"], label="neutral", start=T0 + timedelta(days=1))

    def texts(**kwargs: object) -> set[str]:
        filters = make_filters(**kwargs)  # type: ignore[arg-type]
        return {row.text for row in services.history.page(user_id, filters).rows}

    assert texts(label="negative") == {"cold coffee"}
    assert texts(source="api") == {"cold coffee"}
    assert texts(search="COFFEE") == {"Great coffee", "cold coffee"}
    assert texts(search="%") == set()  # wildcards are matched literally
    assert texts(since="2030-03-02") == {"next day"}
    assert texts(until="2030-03-01") == {"Great coffee", "great TEA", "cold coffee"}
    assert texts(label="all", source="", search="  ") == texts()
    assert len(texts()) == 4


def test_bad_filters_and_cursors_say_what_to_fix(services: Services) -> None:
    with pytest.raises(InvalidInput, match="Unknown label"):
        make_filters(label="happy")
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        make_filters(since="yesterday")
    with pytest.raises(InvalidInput, match="swap"):
        make_filters(since="2030-01-02", until="2030-01-01")
    with pytest.raises(InvalidInput, match="cursor"):
        services.history.page(1, ALL, cursor="not-a-cursor")
    cursor = (T0, 42)
    assert decode_cursor(encode_cursor(cursor)) == cursor


def test_delete_selected_only_touches_the_owners_rows(services: Services) -> None:
    alice, _ = make_user(services)
    bob, _ = make_user(services)
    alice_ids = add_rows(services, alice, ["a1", "a2", "a3"])
    bob_ids = add_rows(services, bob, ["b1"])
    assert services.history.delete(alice, [alice_ids[0], bob_ids[0]]) == 1
    assert services.history.count(alice, ALL) == 2
    assert services.history.count(bob, ALL) == 1
    assert services.history.delete_all(alice) == 2
    assert services.history.count(alice, ALL) == 0
    assert services.history.count(bob, ALL) == 1


def test_export_is_csv_of_the_filtered_rows_with_formulas_defused(services: Services) -> None:
    user_id, _ = make_user(services)
    add_rows(services, user_id, ['=HYPERLINK("http://evil")', 'says "hi",\nbye'])
    add_rows(services, user_id, ["sad"], label="negative")
    exported = "".join(services.history.export_csv(user_id, make_filters(label="positive")))
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [row["text"] for row in rows] == ['says "hi",\nbye', '\'=HYPERLINK("http://evil")']
    assert {row["label"] for row in rows} == {"positive"}
    assert set(rows[0]) >= {"id", "created_at", "score", "negative", "neutral", "positive"}


def test_export_of_a_large_history_streams_every_row(services: Services) -> None:
    user_id, _ = make_user(services)
    add_rows(services, user_id, [f"row {i}" for i in range(1_234)], step=timedelta(seconds=1))
    chunks = list(services.history.export_csv(user_id, ALL))
    assert len(chunks) > 1
    assert len(list(csv.reader(io.StringIO("".join(chunks))))) == 1_235
