"""Long documents and the language check at every edge: REST, gradio_client, the Analyze
handler and batches (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gradio_client import Client

from batch.export import read_results
from batch.results import unsupported_rows
from sentiment.language import LanguageRule
from services import Services
from storage import jobs
from storage.predictions import HistoryFilters
from tests.analysis_factories import make_user
from tests.helpers import bearer
from tests.ui_calls import crafted_request, ui_handler
from ui.analyze import UNSUPPORTED_NOTE
from ui.app import build_ui
from ui.batch import summary_text

GOOD = "The room was spacious and spotless, and the staff were wonderful and helpful. "
BAD = "The breakfast was cold and disgusting, and the manager was rude to us. "
LONG = GOOD * 25 + BAD * 15  # 3,240 characters, ~650 tokens: past the 512-token window
GERMAN = "Das Essen war kalt und der Kellner hat uns zwanzig Minuten lang ignoriert."
TWO = "Lovely staff and a wonderful view. The food was awful and cold."


def check_sentences(text: str, sentences: list[dict[str, Any]]) -> None:
    assert all(text[s["start"] : s["end"]] == s["text"] for s in sentences)
    assert all(s["label"] in ("negative", "neutral", "positive") for s in sentences)


def test_rest_scores_a_long_text_whole_and_gives_its_sentences(
    client: TestClient, services: Services
) -> None:
    _, token = make_user(services)
    body = {"texts": [LONG, TWO], "detail": "sentences"}
    response = client.post("/api/predict", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    long, two = response.json()["predictions"]
    assert (long["truncated"], long["mixed"], long["language"]) == (False, True, "en")
    assert len(long["sentences"]) == 40
    check_sentences(LONG, long["sentences"])
    assert [s["label"] for s in two["sentences"]] == ["positive", "negative"]
    check_sentences(TWO, two["sentences"])
    plain = client.post("/api/predict", json={"text": LONG}, headers=bearer(token)).json()
    (only,) = plain["predictions"]
    assert only["sentences"] is None and only["truncated"] is False and only["mixed"] is True


def test_rest_flags_a_language_the_model_does_not_read(
    client: TestClient, services: Services
) -> None:
    _, token = make_user(services)
    body = {"texts": [GERMAN, "ok", "The staff were lovely."]}
    german, short, english = client.post("/api/predict", json=body, headers=bearer(token)).json()[
        "predictions"
    ]
    assert (german["language"], german["language_supported"]) == ("de", False)
    assert (short["language"], short["language_supported"]) == (None, True)
    assert (english["language"], english["language_supported"]) == ("en", True)


def test_rest_refuses_an_unknown_detail(client: TestClient, services: Services) -> None:
    _, token = make_user(services)
    body = {"text": "Fine.", "detail": "words"}
    response = client.post("/api/predict", json=body, headers=bearer(token))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert client.get("/api/history", headers=bearer(token)).json()["items"] == []


@pytest.fixture(scope="module")
def gradio(live_server: str) -> Iterator[Client]:
    client = Client(live_server, verbose=False)
    yield client
    client.close()


def test_gradio_client_predict_gives_sentences_and_language(
    gradio: Client, services: Services
) -> None:
    _, token = make_user(services)
    long, german = gradio.predict([LONG, GERMAN], token, api_name="/predict_sentences")
    assert (long["truncated"], long["mixed"], len(long["sentences"])) == (False, True, 40)
    check_sentences(LONG, long["sentences"])
    assert (german["language"], german["language_supported"]) == ("de", False)
    (plain,) = gradio.predict([TWO], token, api_name="/predict")
    assert "sentences" not in plain and plain["language"] == "en"


def analyze(services: Services, text: str) -> dict[str, Any]:
    _, token = make_user(services)
    handler = ui_handler(build_ui(services), "analyze")
    return {
        key.elem_id: value for key, value in handler(text, token, crafted_request(token)).items()
    }


def test_analyze_shows_the_sentence_breakdown(services: Services) -> None:
    shown = analyze(services, TWO)
    breakdown = shown["analyze-sentences"]
    assert breakdown["visible"] is True
    assert [(part, label) for part, label in breakdown["value"] if label] == [
        ("Lovely staff and a wonderful view.", "positive"),
        ("The food was awful and cold.", "negative"),
    ]
    assert "".join(part for part, _ in breakdown["value"]) == TWO
    assert "Mixed" in shown["analyze-note"]
    assert shown["analyze-label"]  # a label is shown for English


def test_analyze_says_the_language_is_not_read_instead_of_a_label(services: Services) -> None:
    shown = analyze(services, GERMAN)
    assert shown["analyze-label"] is None and shown["analyze-words"] is None
    assert shown["analyze-sentences"]["visible"] is False
    assert UNSUPPORTED_NOTE.format(language="German", languages="English") in shown["analyze-note"]


def write_csv(path: Path, texts: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        writer.writerows([i, text] for i, text in enumerate(texts))
    return path


BATCH = [LONG, GERMAN, "", "Great!", "The staff were lovely and the room was spotless."]


def test_batch_rows_get_whole_document_labels_and_a_language(
    services: Services, tmp_path: Path
) -> None:
    user_id, _ = make_user(services)
    job = services.batches.run(user_id, write_csv(tmp_path / "in.csv", BATCH), "in.csv")
    header, rows = read_results(services.batches.save_results(user_id, job.id, tmp_path / "o.csv"))
    assert header[-2:] == ["truncated", "language"]
    by_text = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    assert by_text[LONG]["truncated"] == "false"  # longer than the window, never cut
    assert by_text[LONG]["language"] == "en"
    assert by_text[GERMAN]["language"] == "de" and by_text[GERMAN]["label"]  # flagged, scored
    assert by_text["Great!"]["language"] == ""  # too short to tell
    assert by_text[""]["label"] == by_text[""]["language"] == ""  # empty rows stay blank
    assert job.to_dict()["scored"] == 4
    summary = job.to_dict()
    assert (summary["unsupported_language"], summary["language_policy"]) == (1, "flag")
    assert "1 rows look like another language than the model reads (scored" in summary_text(job)
    with services.db.session_scope() as session:
        stored = jobs.get(session, job.id)
        assert stored is not None
        assert unsupported_rows(services.db, services.batches.blobs, stored) == 1


def test_skip_leaves_other_languages_unscored_and_out_of_history(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services.batches.work, "languages", LanguageRule(policy="skip"))
    user_id, _ = make_user(services)
    job = services.batches.run(user_id, write_csv(tmp_path / "in.csv", BATCH), "in.csv")
    header, rows = read_results(services.batches.save_results(user_id, job.id, tmp_path / "o.csv"))
    by_text = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    assert by_text[GERMAN]["label"] == by_text[GERMAN]["score"] == ""
    assert by_text[GERMAN]["language"] == "de"
    assert by_text[LONG]["label"] in ("negative", "neutral", "positive")
    assert job.to_dict()["scored"] == 3
    assert (job.to_dict()["unsupported_language"], job.to_dict()["language_policy"]) == (1, "skip")
    assert "(left unscored; see the language column)" in summary_text(job)
    texts = {row.text for row in services.history.page(user_id, HistoryFilters()).rows}
    assert GERMAN not in texts and LONG in texts
