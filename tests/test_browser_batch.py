"""A real headless Chromium scores a CSV on the Batch tab: preview, progress, download, cancel."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services import Services
from storage.models import BatchJob
from tests.helpers import PASSWORD, new_username

pytestmark = pytest.mark.browser

ROWS = 300
CANCEL_ROWS = 20_000  # far more than is scored in the moment it takes to press Cancel
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")  # docs/screenshots to refresh the docs
RESULT_COLUMNS = ["id", "comment", "label", "score", "negative", "neutral", "positive"]

# Progress is shown only while the batch runs, a second or two for ROWS: record every
# "n / total rows" text the page shows instead of hoping to catch one in a poll.
WATCH_PROGRESS = """
(total) => {
  window.progressSeen = [];
  const pattern = new RegExp("\\\\d[\\\\d,]* / " + total + " rows");
  new MutationObserver(() => {
    const match = document.body.innerText.match(pattern);
    if (match) window.progressSeen.push(match[0]);
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}
"""


def write_reviews(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "comment"])
        writer.writerows([i, f"=1+1 review {i}, really great"] for i in range(rows))
    return path


def logged_in_batch_tab(browser: Any, live_server: str, services: Services) -> Any:
    """A page logged in as a new user, on the Batch tab."""
    from playwright.sync_api import expect

    username = new_username()
    services.accounts.register(username, PASSWORD)
    page = browser.new_page(accept_downloads=True, viewport={"width": 1100, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(live_server)
    page.locator("#login-username textarea, #login-username input").first.fill(username)
    page.locator("#login-password input").fill(PASSWORD)
    page.locator("#login-button").click()
    expect(page.locator("#whoami textarea, #whoami input").first).to_have_value(username)
    page.get_by_role("tab", name="Batch").click()
    return page


def status_box(page: Any) -> Any:
    # A Textbox shows its text as the <textarea>'s value, not as its text content.
    return page.locator("#batch-status textarea, #batch-status input").first


def test_upload_progress_and_download_in_the_browser(
    browser, live_server: str, services: Services, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = logged_in_batch_tab(browser, live_server, services)
    page.locator("#batch-file input[type=file]").set_input_files(
        str(write_reviews(tmp_path / "reviews.csv", ROWS))
    )
    expect(page.locator("#batch-info")).to_contain_text(f"{ROWS:,} rows")
    expect(page.locator("#batch-column input").first).to_have_value("comment")
    preview = page.locator("#batch-preview")
    expect(preview.get_by_role("columnheader").first).to_contain_text("id")
    expect(preview.get_by_role("columnheader").nth(1)).to_contain_text("comment")
    expect(preview).to_contain_text("=1+1 review 0, really great")

    page.evaluate(WATCH_PROGRESS, f"{ROWS:,}")
    page.locator("#batch-run").click()
    expect(status_box(page)).to_have_value(re.compile(r"^Done: batch \d+ is in your history\.$"))
    summary = page.locator("#batch-summary")
    expect(summary).to_contain_text(f"{ROWS:,} rows scored")
    expect(summary).to_contain_text("mean confidence")
    assert page.evaluate("window.progressSeen"), "no 'n / total rows' progress was shown"
    expect(page.locator("#batch-results")).to_contain_text("positive")

    with page.expect_download() as caught:
        page.locator("#batch-download a").first.click()
    assert "results-" in caught.value.suggested_filename
    saved = tmp_path / "downloaded.csv"
    caught.value.save_as(saved)
    with saved.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == ROWS
    assert list(rows[0])[: len(RESULT_COLUMNS)] == RESULT_COLUMNS
    assert [row["id"] for row in rows] == [str(i) for i in range(ROWS)]
    assert rows[0]["comment"] == "'=1+1 review 0, really great"  # neutralised for Excel
    for row in rows:
        assert row["label"] in ("negative", "neutral", "positive")
        probabilities = [float(row[c]) for c in ("negative", "neutral", "positive")]
        assert sum(probabilities) == pytest.approx(1, abs=1e-3)
        assert float(row["score"]) == pytest.approx(max(probabilities), abs=1e-6)

    directory = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    directory.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1000, "height": 1350})  # from the tabs to the summary
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(directory / "batch.png"), full_page=False)
    page.close()


def test_cancel_saves_nothing_in_the_browser(
    browser, live_server: str, services: Services, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = logged_in_batch_tab(browser, live_server, services)
    page.locator("#batch-file input[type=file]").set_input_files(
        str(write_reviews(tmp_path / "many.csv", CANCEL_ROWS))
    )
    expect(page.locator("#batch-info")).to_contain_text(f"{CANCEL_ROWS:,} rows")
    page.locator("#batch-run").click()
    expect(page.get_by_text(f"/ {CANCEL_ROWS:,} rows").first).to_be_visible()
    page.locator("#batch-cancel").click()
    expect(status_box(page)).to_have_value("The batch was cancelled; nothing was saved.")
    expect(page.locator("#batch-summary")).not_to_contain_text("rows scored")
    expect(page.locator("#batch-download a")).to_have_count(0)
    page.close()


def test_evaluation_on_own_labels_in_the_browser(
    browser, live_server: str, services: Services, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    path = tmp_path / "labelled.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["comment", "sentiment"])
        writer.writerows(
            [("I love it, wonderful.", "pos"), ("Terrible, it broke at once.", "neg"),
             ("Great service and kind staff.", "pos"), ("The worst meal I ever had.", "pos")]
        )  # fmt: skip
    page = logged_in_batch_tab(browser, live_server, services)
    page.locator("#batch-file input[type=file]").set_input_files(str(path))
    expect(page.locator("#batch-label-column input").first).to_have_value("sentiment")
    label_map = page.locator("#batch-label-map textarea, #batch-label-map input").first
    expect(label_map).to_have_value('{"neg": "negative", "pos": "positive"}')
    expect(page.locator("#batch-label-info")).to_contain_text("Suggested map")

    page.locator("#batch-run").click()
    expect(status_box(page)).to_have_value(re.compile(r"^Done: batch \d+ is in your history\.$"))
    batch = re.findall(r"\d+", status_box(page).input_value())[0]
    with services.db.session_scope() as session:
        stored = session.scalars(select(BatchJob).where(BatchJob.batch_id == int(batch))).one()
        accuracy = json.loads(stored.evaluation or "{}")["accuracy"]
    figures = page.locator("#batch-evaluation")
    expect(figures).to_contain_text(f"4 labelled rows: accuracy {accuracy:.1%}")
    expect(figures).to_contain_text("neutral predictions count as wrong")
    expect(figures.locator("table").first).to_contain_text("precision")
    expect(page.locator("#batch-confusion img, #batch-confusion svg").first).to_be_visible()
    with page.expect_download() as caught:
        page.locator("#batch-misclassified a").first.click()
    assert "misclassified-" in caught.value.suggested_filename
    saved = tmp_path / "wrong.csv"
    caught.value.save_as(saved)
    with saved.open(encoding="utf-8-sig", newline="") as f:
        wrong = list(csv.DictReader(f))
    assert "The worst meal I ever had." in [row["comment"] for row in wrong]
    assert all(row["gold_label"] != row["predicted_label"] for row in wrong)
    assert len(wrong) == 4 - round(accuracy * 4)

    page.get_by_role("tab", name="History").click()
    page.locator("#history-batch textarea, #history-batch input").first.fill(batch)
    page.locator("#history-refresh").click()
    expect(page.locator("#history-status")).to_contain_text(f"Batch {batch}: Against your labels")
    page.close()
