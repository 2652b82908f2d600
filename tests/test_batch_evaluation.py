"""Evaluate a batch on the user's own labels: the suggested maps, the metrics (against
figures worked out by hand), bad input that stores nothing, and the evaluation over the
service, REST, gradio_client and the UI handlers.

Runs on SQLite, or on PostgreSQL when TEST_DATABASE_URL is set (the `services` fixture).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gradio_client import Client, handle_file
from sqlalchemy import func, select

from batch.evaluation import TWO_CLASS_NOTE, evaluation, normal_value, parse_map, suggest_map
from batch.export import unsanitize
from batch.service import BatchService
from errors import InvalidInput, NotFound
from services import Services
from storage.models import Batch, BatchJob, Prediction
from tests.helpers import PASSWORD, api_login, bearer, new_username
from tests.ui_calls import crafted_request, ui_handlers

LABELS = ("negative", "neutral", "positive")
POS = "positive"

# Clear sentences the model gets right, and a few it may not; gold labels in `stars`.
REVIEWS = [
    ("The food was wonderful and the staff were lovely.", "5"),
    ("Absolutely terrible service, I will never come back.", "1"),
    ("It was okay, nothing special.", "3"),
    ("Best purchase I have made all year, I love it.", "4"),
    ("The product broke after one day. Awful.", "2"),
    ("The package arrived on Tuesday.", "5"),  # neutral text, gold says positive
    ("I hate how slow and rude they were.", "4"),  # gold disagrees with the text
    ("Great value and fast delivery!", ""),  # empty label: left out
    ("Horrible experience from start to finish.", "n/a"),  # unmapped with a map
]


# -- the pure part: vocabularies, maps, metrics -----------------------------------------


@pytest.mark.parametrize(
    ("values", "name", "expected"),
    [
        (["0", "1", "1"], "0/1", {"0": "negative", "1": "positive"}),
        (["-1", "0", "1"], "-1/0/1", {"-1": "negative", "0": "neutral", "1": "positive"}),
        (["-1", "1"], "-1/0/1", {"-1": "negative", "1": "positive"}),
        (["0", "2", "1"], "0/1/2", {"0": "negative", "1": "neutral", "2": "positive"}),
        (
            ["1", "2", "3", "4", "5", "5.0"],
            "1-5 stars",
            {"1": "negative", "2": "negative", "3": "neutral", "4": "positive", "5": "positive"},
        ),
        (["POS", "neg", " Pos "], "words", {"neg": "negative", "pos": "positive"}),
        (
            ["Positive", "NEGATIVE", "neutral", "neu"],
            "words",
            {"negative": "negative", "neu": "neutral", "neutral": "neutral", "positive": POS},
        ),
        (["positive", "negative", ""], "words", {"negative": "negative", "positive": "positive"}),
    ],
)
def test_common_vocabularies_get_a_suggested_map(
    values: list[str], name: str, expected: dict[str, str]
) -> None:
    assert suggest_map(values) == (name, expected)


@pytest.mark.parametrize("values", [["good", "bad"], ["1", "7"], ["pos", "1"], ["", " "]])
def test_other_vocabularies_get_no_suggestion(values: list[str]) -> None:
    assert suggest_map(values) is None


def test_values_are_compared_trimmed_case_folded_and_as_whole_numbers() -> None:
    assert [normal_value(v) for v in [" POS ", "4.0", "+1", "-1", "1.5", "Great"]] == [
        "pos", "4", "1", "-1", "1.5", "great",
    ]  # fmt: skip
    assert parse_map('{" Good ": "Positive", "3.0": "neutral"}') == {
        "good": "positive",
        "3": "neutral",
    }


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("{not json", "label_map is not valid JSON"),
        ('["negative"]', "must be a JSON object"),
        ("{}", "must be a JSON object"),
        ('{"1": "great"}', "maps '1' to 'great', which is not a class; use one of negative, "),
        ('{"1": 5}', "maps '1' to 5, which is not a class"),
        ('{"pos": "positive", "POS": "negative"}', "maps 'POS' to both positive and negative"),
    ],
)
def test_a_bad_label_map_is_explained(given: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_map(given)


def test_three_class_metrics_match_the_hand_computed_figures() -> None:
    # gold x predicted:  neg: 3 right, 1 neutral;  neu: 1 neg, 1 right;  pos: 1 neu, 3 right
    confusion = {
        "negative": {"negative": 3, "neutral": 1, "positive": 0},
        "neutral": {"negative": 1, "neutral": 1, "positive": 0},
        "positive": {"negative": 0, "neutral": 1, "positive": 3},
    }
    found = evaluation(confusion, empty=2, unmapped={"n/a": 1})
    assert found["n"] == 10
    assert found["accuracy"] == pytest.approx(7 / 10)
    # negative: P 3/4 R 3/4 F 3/4; neutral: P 1/3 R 1/2 F 0.4; positive: P 1 R 3/4 F 6/7
    assert found["per_class"]["negative"] == pytest.approx(
        {"precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 4}
    )
    assert found["per_class"]["neutral"] == pytest.approx(
        {"precision": 1 / 3, "recall": 0.5, "f1": 0.4, "support": 2}
    )
    assert found["per_class"]["positive"] == pytest.approx(
        {"precision": 1.0, "recall": 0.75, "f1": 6 / 7, "support": 4}
    )
    assert found["macro_f1"] == pytest.approx((0.75 + 0.4 + 6 / 7) / 3)
    assert found["confusion"] == confusion
    assert found["empty_labels"] == 2 and found["unmapped_labels"] == 1
    assert found["unmapped_values"] == {"n/a": 1}
    assert found["two_class"] is False and "note" not in found


def test_two_class_gold_counts_neutral_predictions_as_wrong() -> None:
    confusion = {
        "negative": {"negative": 2, "neutral": 1, "positive": 1},
        "positive": {"negative": 0, "neutral": 2, "positive": 4},
    }
    found = evaluation(confusion)
    assert found["n"] == 10 and found["accuracy"] == pytest.approx(0.6)
    # negative: P 2/2 R 2/4 F 2/3; positive: P 4/5 R 4/6 F 8/11
    assert found["per_class"]["negative"]["precision"] == pytest.approx(1.0)
    assert found["per_class"]["negative"]["f1"] == pytest.approx(2 / 3)
    assert found["per_class"]["positive"]["precision"] == pytest.approx(0.8)
    assert found["per_class"]["positive"]["f1"] == pytest.approx(8 / 11)
    assert found["macro_f1"] == pytest.approx((2 / 3 + 8 / 11) / 2)
    assert set(found["per_class"]) == {"negative", "positive"}
    assert found["neutral_predictions"] == 3
    assert found["two_class"] is True and found["note"] == TWO_CLASS_NOTE


def test_no_evaluated_row_has_no_fractions() -> None:
    found = evaluation({"negative": dict.fromkeys(LABELS, 0)}, empty=3)
    assert found["n"] == 0 and found["accuracy"] is None and found["macro_f1"] is None


# -- end to end below the edges --------------------------------------------------------


def write_csv(path: Path, rows: list[tuple[str, str]], header: tuple[str, str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def user_id(services: Services) -> int:
    return services.accounts.register(new_username(), PASSWORD).id


def predicted_of(services: Services, batch_id: int) -> dict[str, str]:
    """text -> label the batch recorded in history."""
    with services.db.session_scope() as session:
        rows = session.execute(
            select(Prediction.text, Prediction.label).where(Prediction.batch_id == batch_id)
        ).all()
    return {text: label for text, label in rows}


def by_hand(
    pairs: list[tuple[str, str]], classes: list[str]
) -> tuple[float, float, dict[str, dict[str, int]]]:
    """(accuracy, macro-F1, confusion) of (gold, predicted) pairs, counted out plainly."""
    confusion = {g: dict.fromkeys(LABELS, 0) for g in classes}
    for gold, predicted in pairs:
        confusion[gold][predicted] += 1
    f1s = []
    for c in classes:
        tp = confusion[c][c]
        predicted_c = sum(1 for _g, p in pairs if p == c)
        gold_c = sum(1 for g, _p in pairs if g == c)
        precision = tp / predicted_c if predicted_c else 0.0
        recall = tp / gold_c if gold_c else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    accuracy = sum(1 for g, p in pairs if g == p) / len(pairs)
    return accuracy, sum(f1s) / len(f1s), confusion


STARS = {"1": "negative", "2": "negative", "3": "neutral", "4": "positive", "5": "positive"}


def small_service(services: Services, tmp_path: Path) -> BatchService:
    """The module's batch service with two rows per chunk (the evaluation spans chunks)."""
    base = services.batches
    return BatchService(
        services.db, base.work, base.blobs, base.engine, base.limits,
        upload_dir=tmp_path / "uploads", chunk_rows=2,
    )  # fmt: skip


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [[unsanitize(c) for c in row] for row in csv.reader(f)]


def test_stars_are_evaluated_across_chunks_leaving_out_empty_and_unmapped_labels(
    services: Services, user_id: int, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "reviews.csv", REVIEWS, ("review", "stars"))
    service = small_service(services, tmp_path)
    queued = service.submit(
        user_id, path, "reviews.csv", label_column="Stars", label_map=json.dumps(STARS)
    )
    assert queued.details["label_column"] == "stars" and queued.details["label_index"] == 1
    assert queued.to_dict()["label_map"] == STARS
    job = service.wait(user_id, queued.id, timeout_s=120)
    assert job.status == "done"
    found = job.evaluation
    assert found is not None
    predicted = predicted_of(services, job.batch_id or 0)
    pairs = [(STARS[g], predicted[t]) for t, g in REVIEWS if g in STARS]
    accuracy, macro_f1, confusion = by_hand(pairs, list(LABELS))
    assert found["n"] == 7
    assert found["accuracy"] == pytest.approx(accuracy)
    assert found["macro_f1"] == pytest.approx(macro_f1)
    assert found["confusion"] == confusion
    assert found["empty_labels"] == 1
    assert found["unmapped_labels"] == 1 and found["unmapped_values"] == {"n/a": 1}
    assert {c: s["support"] for c, s in found["per_class"].items()} == {
        "negative": 2, "neutral": 1, "positive": 4,
    }  # fmt: skip
    assert job.to_dict()["evaluation"] == found
    assert job.misclassified_url == f"/api/batch/{job.batch_id}/misclassified.csv"
    # shown again for the batch (History and Insights read it by batch number)
    assert service.evaluation(user_id, job.batch_id or 0) == found

    # the misclassified rows: gold and predicted added, only the wrong ones, in file order
    rows = read_csv(
        service.save_results(user_id, job.id, tmp_path / "wrong.csv", misclassified=True)
    )
    assert rows[0] == ["review", "stars", "gold_label", "predicted_label", "score"]
    expected = [[t, g, STARS[g], predicted[t]] for t, g in REVIEWS if g in STARS]
    assert [r[:4] for r in rows[1:]] == [r for r in expected if r[2] != r[3]]
    assert len(rows) - 1 == 7 - round(accuracy * 7)


def test_two_class_words_get_a_suggested_map_and_neutral_predictions_count_as_wrong(
    services: Services, user_id: int, tmp_path: Path
) -> None:
    rows = [
        ("I love this, it is fantastic.", "Positive"),
        ("This is the worst thing I ever bought.", "NEGATIVE"),
        ("The meeting is at 3 pm in room 4.", "positive"),  # likely a neutral prediction
        ("Wonderful, friendly and quick.", "positive"),
        ("Dreadful. Broken on arrival.", " negative "),
    ]
    path = write_csv(tmp_path / "two.csv", rows, ("text", "sentiment"))
    job = services.batches.run(user_id, path, "two.csv", label_column="sentiment")
    assert job.details["label_map"] == {"negative": "negative", "positive": "positive"}
    assert job.details["label_map_suggested"] == "words"
    found = job.evaluation
    assert found is not None
    predicted = predicted_of(services, job.batch_id or 0)
    pairs = [(g.strip().lower(), predicted[t]) for t, g in rows]
    accuracy, macro_f1, confusion = by_hand(pairs, ["negative", "positive"])
    assert found["accuracy"] == pytest.approx(accuracy)
    assert found["macro_f1"] == pytest.approx(macro_f1)
    assert found["confusion"] == confusion
    assert set(found["per_class"]) == {"negative", "positive"}
    assert found["two_class"] is True and found["note"] == TWO_CLASS_NOTE
    assert found["neutral_predictions"] == sum(1 for _g, p in pairs if p == "neutral")


def test_a_batch_without_a_label_column_has_no_evaluation(
    services: Services, user_id: int, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "plain.csv", REVIEWS, ("review", "stars"))
    job = services.batches.run(user_id, path, "plain.csv")
    assert job.evaluation is None and job.to_dict()["evaluation"] is None
    assert job.misclassified_url is None
    with pytest.raises(NotFound, match="without a label column"):
        services.batches.misclassified(user_id, job.id)


def stored(services: Services) -> tuple[int, int, int]:
    with services.db.session_scope() as session:
        return (
            session.scalar(select(func.count()).select_from(BatchJob)) or 0,
            session.scalar(select(func.count()).select_from(Batch)) or 0,
            session.scalar(select(func.count()).select_from(Prediction)) or 0,
        )


BAD_LABELS = [
    ({"label_column": "grade"}, "no label column 'grade'. The columns are: review, stars."),
    ({"label_column": "review"}, "The label column 'review' is also the text column"),
    ({"label_column": "stars", "label_map": '{"5": "great"}'}, "maps '5' to 'great', which is"),
    ({"label_column": "stars", "label_map": "{oops"}, "label_map is not valid JSON"),
    ({"label_column": "stars", "label_map": '{"9": "positive"}'}, "No label in 'stars' is in"),
    ({"label_column": "stars"}, "are not a vocabulary we know; give a label_map"),
    ({"label_map": '{"5": "positive"}'}, "label_map needs a label_column"),
]


@pytest.mark.parametrize(("options", "message"), BAD_LABELS)
def test_bad_label_input_is_refused_and_stores_nothing(
    services: Services, user_id: int, tmp_path: Path, options: dict[str, str], message: str
) -> None:
    path = write_csv(tmp_path / "reviews.csv", REVIEWS, ("review", "stars"))
    before = stored(services)
    with pytest.raises(InvalidInput) as caught:
        services.batches.submit(user_id, path, "reviews.csv", **options)
    assert message in caught.value.message
    assert stored(services) == before


# -- the edges: REST, gradio_client, the UI handlers --------------------------------------


@pytest.fixture
def token(client: TestClient, services: Services) -> str:
    name = new_username()
    services.accounts.register(name, PASSWORD)
    return api_login(client, name)


def post(client: TestClient, token: str, path: Path, **data: str) -> Any:
    with path.open("rb") as f:
        return client.post(
            "/api/batch", headers=bearer(token), files={"file": (path.name, f)}, data=data
        )


def followed(client: TestClient, token: str, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while (body := client.get(url, headers=bearer(token)).json())["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return body  # type: ignore[no-any-return]


def test_rest_evaluates_with_the_suggested_map_and_downloads_the_misclassified_rows(
    client: TestClient, token: str, services: Services, tmp_path: Path
) -> None:
    rows = [(t, g) for t, g in REVIEWS if g in STARS]  # only stars: a map is suggested
    path = write_csv(tmp_path / "stars.csv", rows, ("review", "stars"))
    response = post(client, token, path, label_column="stars")
    assert response.status_code == 202, response.text
    queued = response.json()
    assert queued["label_column"] == "stars" and queued["label_map_suggested"] == "1-5 stars"
    assert queued["label_map"] == STARS and queued["evaluation"] is None
    body = followed(client, token, queued["status_url"])
    found = body["evaluation"]
    predicted = predicted_of(services, body["batch_id"])
    accuracy, macro_f1, confusion = by_hand([(STARS[g], predicted[t]) for t, g in rows], [*LABELS])
    assert found["n"] == 7 and found["accuracy"] == pytest.approx(accuracy)
    assert found["macro_f1"] == pytest.approx(macro_f1) and found["confusion"] == confusion
    assert found["empty_labels"] == found["unmapped_labels"] == 0
    again = client.get(f"/api/batch/{body['batch_id']}", headers=bearer(token)).json()
    assert again["evaluation"] == found
    charted = client.get(f"/api/insights?batch_id={body['batch_id']}", headers=bearer(token))
    assert charted.json()["evaluation"] == found
    assert client.get("/api/insights", headers=bearer(token)).json()["evaluation"] is None

    download = client.get(body["misclassified_url"], headers=bearer(token))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "stars-misclassified.csv" in download.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert table[0] == ["review", "stars", "gold_label", "predicted_label", "score"]
    wrong = [[t, g, STARS[g], predicted[t]] for t, g in rows if STARS[g] != predicted[t]]
    assert [r[:4] for r in table[1:]] == wrong


def test_rest_refuses_bad_label_input_with_a_422_and_stores_nothing(
    client: TestClient, token: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "reviews.csv", REVIEWS, ("review", "stars"))
    for options, message in BAD_LABELS:
        response = post(client, token, path, **options)
        assert response.status_code == 422, options
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and message in error["message"]
    assert client.get("/api/batches", headers=bearer(token)).json()["items"] == []


def test_rest_misclassified_of_a_batch_without_labels_is_a_404(
    client: TestClient, token: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "plain.csv", REVIEWS, ("review", "stars"))
    body = followed(client, token, post(client, token, path).json()["status_url"])
    assert body["evaluation"] is None and body["misclassified_url"] is None
    response = client.get(f"/api/batch/{body['batch_id']}/misclassified.csv", headers=bearer(token))
    assert response.status_code == 404
    assert "without a label column" in response.json()["error"]["message"]


@pytest.fixture(scope="module")
def gradio(live_server: str) -> Iterator[Client]:
    client = Client(live_server, verbose=False)
    yield client
    client.close()


def test_gradio_client_batch_and_submit_take_the_label_options(
    gradio: Client, token: str, services: Services, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "reviews.csv", REVIEWS, ("review", "stars"))
    summary, _results = gradio.predict(
        handle_file(str(path)), "", token, "stars", json.dumps(STARS), api_name="/batch"
    )
    found = summary["evaluation"]
    predicted = predicted_of(services, summary["batch_id"])
    pairs = [(STARS[g], predicted[t]) for t, g in REVIEWS if g in STARS]
    assert found["accuracy"] == pytest.approx(by_hand(pairs, [*LABELS])[0])
    assert found["empty_labels"] == 1 and found["unmapped_labels"] == 1

    queued = gradio.predict(
        handle_file(str(path)), "", token, "stars", json.dumps(STARS), api_name="/batch_submit"
    )
    assert queued["label_map"] == STARS
    deadline = time.monotonic() + 120
    while (status := gradio.predict(queued["job_id"], token, api_name="/batch_status"))[
        "status"
    ] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status["evaluation"] == found  # same file, same model, same figures
    charted = gradio.predict(
        token, "all", "all", str(summary["batch_id"]), "", "", "", api_name="/insights"
    )
    assert charted["evaluation"] == found and charted["total"] == len(REVIEWS)

    with pytest.raises(Exception, match="There is no label column 'grade'"):
        gradio.predict(handle_file(str(path)), "", token, "grade", "", api_name="/batch_submit")
    # the old call (no label options) still works and evaluates nothing
    plain = gradio.predict(handle_file(str(path)), "", token, api_name="/batch_submit")
    assert plain["label_column"] is None


def test_ui_suggests_the_map_after_upload_then_shows_the_figures(
    services: Services, tmp_path: Path
) -> None:
    from tests.analysis_factories import make_user
    from tests.test_cross_user import NO_FILTERS
    from ui.app import build_ui

    user_id, token = make_user(services)
    rows = [(t, g) for t, g in REVIEWS if g in STARS]
    path = str(write_csv(tmp_path / "stars.csv", rows, ("review", "rating")))
    handlers = ui_handlers(build_ui(services))
    request = crafted_request(token)

    shown = {
        key.elem_id: value for key, value in handlers["inspect_new"](path, token, request).items()
    }
    assert shown["batch-label-column"].value == "rating"  # guessed by its name
    assert json.loads(shown["batch-label-map"]) == STARS
    assert "Suggested map for *1-5 stars* labels" in shown["batch-label-info"]

    picked = handlers["suggest"](path, "review", "(none)", "", token, request)
    assert {k.elem_id: v for k, v in picked.items()}["batch-label-map"] == ""
    edited = json.dumps(STARS | {"3": "positive"})  # the user edits the suggestion
    updates = list(handlers["score"](path, "review", "rating", edited, "", "CSV", token, request))
    last = {key.elem_id: value for key, value in updates[-1].items()}
    job = services.batches.jobs(user_id, limit=1)[0]
    found = job.evaluation
    assert found is not None and job.details["label_map"]["3"] == "positive"
    predicted = predicted_of(services, job.batch_id or 0)
    gold = STARS | {"3": "positive"}
    pairs = [(gold[g], predicted[t]) for t, g in rows]
    accuracy, macro_f1, _confusion = by_hand(pairs, ["negative", "positive"])
    assert found["accuracy"] == pytest.approx(accuracy)
    assert f"accuracy {accuracy:.1%}, macro-F1 {macro_f1:.1%}" in last["batch-evaluation"]
    assert "neutral predictions count as wrong" in last["batch-evaluation"]
    assert last["batch-confusion"] is not None  # the heatmap figure
    misclassified = Path(last["batch-misclassified"])
    wrong = [r for r in csv.reader(misclassified.open(encoding="utf-8-sig"))][1:]
    assert len(wrong) == sum(1 for g, p in pairs if g != p)

    # History and Insights show the figures again when filtered to that batch
    filters = list(NO_FILTERS)
    filters[2] = str(job.batch_id)
    history = handlers["newest"](token, request, *filters)
    note = {k.elem_id: v for k, v in history.items()}["history-status"]
    assert f"Batch {job.batch_id}: **Against your labels:**" in note
    assert f"accuracy {accuracy:.1%}" in note
    insights = ui_handlers_named(services, "show")(token, request, *filters)
    assert (
        f"accuracy {accuracy:.1%}" in {k.elem_id: v for k, v in insights.items()}["insights-status"]
    )
    # unfiltered, nothing about evaluations
    plain = handlers["newest"](token, request, *NO_FILTERS)
    assert "Against your labels" not in {k.elem_id: v for k, v in plain.items()}["history-status"]


def ui_handlers_named(services: Services, name: str) -> Any:
    from tests.ui_calls import ui_handler
    from ui.app import build_ui

    return ui_handler(build_ui(services), name)


def test_ui_refuses_a_bad_map_and_stores_nothing(services: Services, tmp_path: Path) -> None:
    import gradio as gr

    from tests.analysis_factories import make_user
    from ui.app import build_ui

    user_id, token = make_user(services)
    path = str(write_csv(tmp_path / "reviews.csv", REVIEWS, ("review", "stars")))
    score = ui_handlers(build_ui(services))["score"]
    with pytest.raises(gr.Error, match="which is not a class"):
        list(
            score(
                path, "review", "stars", '{"5": "great"}', "", "CSV", token, crafted_request(token)
            )
        )
    assert services.batches.jobs(user_id) == []


def test_ui_proposes_no_label_column_whose_values_need_a_map(
    services: Services, tmp_path: Path
) -> None:
    from tests.analysis_factories import make_user
    from ui.app import build_ui

    _user_id, token = make_user(services)
    rows = [("Lovely food.", "good"), ("Cold and late.", "bad")]
    path = str(write_csv(tmp_path / "words.csv", rows, ("text", "label")))
    inspect = ui_handlers(build_ui(services))["inspect_new"]
    shown = {k.elem_id: v for k, v in inspect(path, token, crafted_request(token)).items()}
    assert shown["batch-label-column"].value == "(none)"
    assert shown["batch-label-column"].choices == [("(none)", "(none)"), ("text", "text"),
                                                   ("label", "label")]  # fmt: skip
    assert shown["batch-label-map"] == ""
    told = shown["batch-label-info"]
    assert "Column **label**: The labels in 'label' ('good', 'bad') are not a vocabulary" in told
