"""A real headless Chromium scores a two-sheet workbook on the Batch tab: the sheet
dropdown, the preview naming the sheet, and the results downloaded as Excel."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from services import Services
from tests.test_browser_batch import logged_in_batch_tab, status_box
from tests.test_excel import SHEETS, TEXTS
from tests.test_tabular import workbook

pytestmark = pytest.mark.browser


def test_sheet_choice_and_excel_download_in_the_browser(
    browser: Any, live_server: str, services: Services, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = logged_in_batch_tab(browser, live_server, services)
    page.locator("#batch-file input[type=file]").set_input_files(
        str(workbook(tmp_path / "reviews.xlsx", SHEETS))
    )
    info = page.locator("#batch-info")
    expect(info).to_contain_text("Excel workbook, sheet Notes (of 2: Notes, Reviews)")
    sheet = page.locator("#batch-sheet input").first
    expect(sheet).to_have_value("Notes")
    sheet.click()
    page.get_by_role("option", name="Reviews").click()
    expect(info).to_contain_text("sheet Reviews")
    expect(info).to_contain_text(f"{len(TEXTS)} rows")
    expect(page.locator("#batch-column input").first).to_have_value("review")
    expect(page.locator("#batch-preview")).to_contain_text("Lovely staff")

    page.locator("#batch-format").get_by_label("Excel (.xlsx)").check()
    page.locator("#batch-run").click()
    expect(status_box(page)).to_have_value(re.compile(r"^Done: batch \d+ is in your history"))
    expect(page.locator("#batch-results")).to_contain_text("Lovely staff")
    with page.expect_download() as caught:
        page.locator("#batch-download a").first.click()
    assert caught.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "downloaded.xlsx"
    caught.value.save_as(saved)
    rows = list(openpyxl.load_workbook(saved).worksheets[0].iter_rows())
    assert [c.value for c in rows[0]][:3] == ["id", "review", "label"]
    assert [row[1].value for row in rows[1:]] == TEXTS
    assert all(row[1].data_type == "s" for row in rows[1:])  # "=1+1" is text, not a formula
    page.close()
