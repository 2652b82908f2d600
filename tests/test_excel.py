"""Excel at the edges (REST, gradio_client, the UI's handlers; SQLite or PostgreSQL):
.xlsx uploads with a sheet choice, results.xlsx and the history export with no formulas,
and bad workbooks refused with a clear 4xx that stores nothing."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msoffcrypto.format.ooxml
import openpyxl
import pytest
from fastapi.testclient import TestClient
from gradio_client import Client, handle_file

from batch.export import unsanitize
from services import Services
from tests.helpers import api_login, bearer
from tests.test_tabular import FORMULA_LIKE, workbook
from tests.ui_calls import crafted_request, ui_handler
from ui.app import build_ui

NO_FILTERS = ("all", "all", "", "", "", "")
TEXTS = ["Lovely staff, wonderful food.", *FORMULA_LIKE]
SHEETS = {
    "Notes": [["note"], ["this sheet is not the reviews"]],
    "Reviews": [["id", "review"], *([i, text] for i, text in enumerate(TEXTS, start=1))],
}


@pytest.fixture
def token(client: TestClient, user: tuple[str, str]) -> str:
    return api_login(client, user[0])


@pytest.fixture(scope="module")
def two_sheets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workbook(tmp_path_factory.mktemp("xlsx") / "reviews.xlsx", SHEETS)


@pytest.fixture(scope="module")
def locked(two_sheets: Path) -> Path:
    path = two_sheets.with_name("locked.xlsx")
    with two_sheets.open("rb") as source, path.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(source).encrypt("secret", out)
    return path


@pytest.fixture(scope="module")
def corrupt(two_sheets: Path) -> Path:
    path = two_sheets.with_name("corrupt.xlsx")
    path.write_bytes(two_sheets.read_bytes()[:700])
    return path


def post(client: TestClient, token: str, path: Path, **data: str) -> Any:
    with path.open("rb") as f:
        return client.post(
            "/api/batch", headers=bearer(token), files={"file": (path.name, f)}, data=data
        )


def finished(client: TestClient, token: str, response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    url = response.json()["status_url"]
    deadline = time.monotonic() + 120
    while (status := client.get(url, headers=bearer(token)).json())["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status["status"] == "done", status
    return status  # type: ignore[no-any-return]


def read_xlsx(content: bytes) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a produced workbook, each text cell checked to be a string."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    rows = list(book.worksheets[0].iter_rows())
    for row in rows:
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula: {cell.value!r}"
    values = [[cell.value for cell in row] for row in rows]
    return [str(v) for v in values[0]], values[1:]


def nothing_stored(client: TestClient, token: str) -> bool:
    return client.get("/api/batches", headers=bearer(token)).json()["items"] == []


def test_rest_chosen_sheet_then_results_xlsx_match_the_csv(
    client: TestClient, token: str, two_sheets: Path
) -> None:
    status = finished(client, token, post(client, token, two_sheets, sheet="Reviews"))
    assert status["scored"] == len(TEXTS) and status["text_column"] == "review"
    assert status["sheet"] == "Reviews"
    url = f"/api/batch/{status['batch_id']}/results"
    got = client.get(url + ".xlsx", headers=bearer(token))
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "reviews-results.xlsx" in got.headers["content-disposition"]
    header, rows = read_xlsx(got.content)
    as_csv = client.get(url + ".csv", headers=bearer(token)).content.decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(as_csv)))
    assert header == csv_rows[0]
    assert header == ["id", "review", "label", "score", "negative", "neutral", "positive",
                      "truncated", "language"]  # fmt: skip
    assert [row[1] for row in rows] == TEXTS  # formula-looking texts stay text, unescaped
    assert [unsanitize(row[1]) for row in csv_rows[1:]] == TEXTS
    assert [row[2] for row in rows] == [row[2] for row in csv_rows[1:]]
    assert all(isinstance(row[3], float) and row[5] is not None for row in rows)
    assert [row[7] for row in rows] == [False] * len(TEXTS)


def test_rest_first_sheet_by_default(client: TestClient, token: str, two_sheets: Path) -> None:
    status = finished(client, token, post(client, token, two_sheets))
    assert status["text_column"] == "note" and status["scored"] == 1
    assert status["sheet"] == "Notes" and status["delimiter"] == ""


@pytest.mark.parametrize(
    ("fixture", "sheet", "message"),
    [
        ("two_sheets", "Sales", "The workbook has no sheet 'Sales'. Its sheets are: Notes, "
                                "Reviews."),
        ("locked", "", "The workbook is password-protected; save it without a password"),
        ("corrupt", "", "The file is not a readable Excel workbook"),
    ],
)  # fmt: skip
def test_rest_bad_workbooks_are_a_422_and_store_nothing(
    client: TestClient,
    token: str,
    request: pytest.FixtureRequest,
    fixture: str,
    sheet: str,
    message: str,
) -> None:
    path: Path = request.getfixturevalue(fixture)
    response = post(client, token, path, **({"sheet": sheet} if sheet else {}))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "csv_format_error" and error["message"].startswith(message)
    assert nothing_stored(client, token)


def test_rest_history_export_xlsx(client: TestClient, token: str, two_sheets: Path) -> None:
    finished(client, token, post(client, token, two_sheets, sheet="Reviews"))
    got = client.get("/api/history/export.xlsx", headers=bearer(token))
    assert got.status_code == 200, got.text
    assert "attachment" in got.headers["content-disposition"]
    header, rows = read_xlsx(got.content)
    as_csv = client.get("/api/history/export.csv", headers=bearer(token)).text
    assert header == next(csv.reader(io.StringIO(as_csv)))
    assert sorted(row[header.index("text")] for row in rows) == sorted(TEXTS)
    filtered = client.get(
        "/api/history/export.xlsx", params={"search": "lovely"}, headers=bearer(token)
    )
    assert [r[header.index("text")] for r in read_xlsx(filtered.content)[1]] == TEXTS[:1]
    assert client.get("/api/history/export.xlsx").status_code == 401
    assert client.get("/api/batch/1/results.xlsx").status_code == 401


@pytest.fixture(scope="module")
def gradio(live_server: str) -> Iterator[Client]:
    client = Client(live_server, verbose=False)
    yield client
    client.close()


def test_gradio_client_sheet_is_the_last_parameter(
    gradio: Client, client: TestClient, token: str, two_sheets: Path
) -> None:
    summary, results = gradio.predict(
        handle_file(str(two_sheets)), "", token, sheet="Reviews", api_name="/batch"
    )
    assert summary["scored"] == len(TEXTS) and summary["text_column"] == "review"
    with open(results, encoding="utf-8-sig", newline="") as f:
        assert [unsanitize(row[1]) for row in list(csv.reader(f))[1:]] == TEXTS
    default = gradio.predict(handle_file(str(two_sheets)), "", token, api_name="/batch_submit")
    assert default["text_column"] == "note"  # no sheet given: the first
    with pytest.raises(Exception, match="no sheet 'Sales'"):
        gradio.predict(
            handle_file(str(two_sheets)), "", token, sheet="Sales", api_name="/batch_submit"
        )


def test_gradio_client_refuses_a_locked_workbook(
    gradio: Client, client: TestClient, token: str, locked: Path
) -> None:
    with pytest.raises(Exception, match="password-protected"):
        gradio.predict(handle_file(str(locked)), "", token, api_name="/batch")
    assert nothing_stored(client, token)


def test_ui_handlers_sheet_dropdown_excel_download_and_export(
    services: Services, client: TestClient, token: str, two_sheets: Path
) -> None:
    blocks = build_ui(services)
    request = crafted_request(token)
    shown = ui_handler(blocks, "inspect_new")(str(two_sheets), token, request)
    dropdowns = [v for v in shown.values() if getattr(v, "choices", None) is not None]
    sheet = next(d for d in dropdowns if [c[0] for c in d.choices] == ["Notes", "Reviews"])
    assert sheet.visible and sheet.value == "Notes"
    assert any("sheet **Notes** (of 2: Notes, Reviews)" in str(v) for v in shown.values())
    chosen = ui_handler(blocks, "inspect")(str(two_sheets), "Reviews", token, request)
    assert any("sheet **Reviews**" in str(v) for v in chosen.values())

    updates = list(
        ui_handler(blocks, "score")(
            str(two_sheets), "review", "(none)", "", "Reviews", "Excel (.xlsx)", token, request
        )
    )
    download = [v for v in updates[-1].values() if isinstance(v, str) and v.endswith(".xlsx")]
    assert len(download) == 1, updates[-1]
    header, rows = read_xlsx(Path(download[0]).read_bytes())
    assert header[:3] == ["id", "review", "label"] and [r[1] for r in rows] == TEXTS

    with pytest.raises(Exception, match="no sheet 'Sales'"):
        list(
            ui_handler(blocks, "score")(
                str(two_sheets), "", "(none)", "", "Sales", "CSV", token, request
            )
        )

    exported = ui_handler(blocks, "export_excel")(token, request, *NO_FILTERS)
    assert exported.endswith(".xlsx")
    header, rows = read_xlsx(Path(exported).read_bytes())
    assert header[-1] == "text" and sorted(r[-1] for r in rows) == sorted(TEXTS)
