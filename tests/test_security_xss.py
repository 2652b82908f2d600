"""The XSS corpus (tests/data/injection/xss.txt) renders inert in every view of the UI.

Payloads are stored as texts, typed into Analyze, uploaded as CSV cells, a column name
and a file name, tried as usernames and user agents at login (the Admin event list) and
used as personal token names. Each view is then shown in headless Chromium, which must
raise no dialog, leave `window.__xss` (set by every executing payload) undefined and hold
no injected handler, script, javascript: URL or frame. The payloads must also be on the
page as literal text, so the check looked at views that really contain them.
"""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path
from typing import Any

import pytest

from analysis.admin import inert
from auth.service import ClientInfo
from errors import AppError
from services import Services
from tests.helpers import PASSWORD, new_username

pytestmark = pytest.mark.browser

CORPUS = Path(__file__).parent / "data" / "injection" / "xss.txt"
PAYLOADS = [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
HEADER = "<img src=x onerror=window.__xss=1>"
FILENAME = "<svg onload=window.__xss=1>.csv"
SLOW_MS = 180_000  # explaining 16 payloads at once on a busy CPU

# Everything an executed or injected payload would leave behind, outside text nodes.
FIND_INJECTED = """
() => {
  const found = [];
  if (typeof window.__xss !== "undefined") found.push("window.__xss = " + window.__xss);
  const urlAttributes = ["href", "src", "action", "formaction", "data", "xlink:href", "poster"];
  const visit = (root) => {
    for (const el of root.querySelectorAll("*")) {
      const tag = el.tagName.toLowerCase();
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        const value = attr.value.trim().toLowerCase().replace(/\\s+/g, "");
        const where = tag + " " + name + "=" + attr.value.slice(0, 80);
        if (name.startsWith("on")) found.push(where);
        if (name === "srcdoc") found.push(where);
        if (urlAttributes.includes(name) &&
            (value.startsWith("javascript:") || value.startsWith("data:text/html") ||
             value.startsWith("data:text/javascript"))) found.push(where);
        if (tag === "img" && name === "src" && (attr.value === "x" || value.endsWith("/x")))
          found.push(where);
      }
      if (tag === "script" && el.textContent.includes("__xss"))
        found.push("script " + el.textContent.slice(0, 80));
      if (["base", "object", "embed", "marquee", "iframe", "frame"].includes(tag)) found.push(tag);
      if (tag === "meta" && el.getAttribute("http-equiv")) found.push("meta http-equiv");
      if (el.shadowRoot) visit(el.shadowRoot);
    }
  };
  visit(document);
  return found;
}
"""


# Long tables render only the rows in view: step through the scroll box to show them all.
SCROLLER = """
(sel) => [...document.querySelector(sel).querySelectorAll("*")].find(
  (e) => e.clientHeight > 40 && e.scrollHeight > e.clientHeight + 4 &&
    getComputedStyle(e).overflowY !== "visible")
"""
SCROLL_STEPS = (
    f"(sel) => {{ const s = ({SCROLLER})(sel); "
    "return s ? Math.ceil(s.scrollHeight / (s.clientHeight / 2)) + 1 : 1; }"
)
SCROLL_TO = (
    f"([sel, i]) => {{ const s = ({SCROLLER})(sel); if (s) s.scrollTop = i * s.clientHeight / 2; }}"
)


def write_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", HEADER])
        writer.writerows([payload, payload] for payload in PAYLOADS)
    return path


class Inspector:
    """Checks the page after each view is shown; counts the views and payloads seen."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.views: dict[str, int] = {}
        page.on("dialog", self._dialog)
        self.baseline = set(page.evaluate(FIND_INJECTED))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def check(self, view: str, selector: str, expected: list[str]) -> str:
        """No injection on the page at any scroll position of `selector`; returns its text.

        The `expected` payloads must be in that text literally.
        """
        texts = []
        for step in range(int(self.page.evaluate(SCROLL_STEPS, selector))):
            self.page.evaluate(SCROLL_TO, [selector, step])
            self.page.wait_for_timeout(300)  # let onload/onerror/onfocus handlers run, if any
            injected = set(self.page.evaluate(FIND_INJECTED)) - self.baseline
            assert not injected, f"{view}: {sorted(injected)}"
            assert not self.dialogs, f"{view}: {self.dialogs}"
            texts.append(self.page.locator(selector).first.inner_text())
        self.page.evaluate(SCROLL_TO, [selector, 0])
        text = "\n".join(texts)
        missing = _missing(text, expected)
        assert not missing, f"{view}: not shown literally: {missing[:5]}"
        self.views[view] = len(texts)
        return text


def _seed(services: Services, username: str) -> None:
    """Texts, failed logins (usernames and user agents) and token names carrying payloads."""
    account = services.accounts.register(username, PASSWORD, is_admin=True)
    services.scoring.score(account.id, PAYLOADS, source="api")
    for n, payload in enumerate(PAYLOADS):
        client = ClientInfo(ip=f"198.18.0.{n + 1}", user_agent=payload)
        with contextlib.suppress(AppError):  # the failure (and its auth event) is the point
            services.accounts.login(payload, "not the password", client)
    for payload in PAYLOADS[:20]:
        services.personal_tokens.create(account.id, payload[:64])


def _pages(page: Any, older: str, view: str, inspector: Inspector, selector: str) -> str:
    """Inspect every page of a paged table; returns the text of all pages."""
    texts = []
    for number in range(1, 50):
        texts.append(inspector.check(f"{view} page {number}", selector, []))
        button = page.locator(older)
        if button.is_disabled():
            break
        before = page.locator(selector).first.inner_text()
        button.click()
        _changed(page, selector, before)
    return "\n".join(texts)


def _changed(page: Any, selector: str, before: str) -> None:
    page.wait_for_function(
        "([sel, before]) => document.querySelector(sel).innerText !== before",
        arg=[selector, before],
    )


def _missing(text: str, expected: list[str]) -> list[str]:
    """The expected strings not in `text` (whitespace runs and case ignored)."""
    flat = " ".join(text.split()).lower()
    return [e for e in expected if " ".join(e.split()).lower() not in flat]


def test_payloads_render_inert_in_every_view(
    browser: Any, live_server: str, services: Services, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    assert len(PAYLOADS) >= 50
    username = new_username()
    _seed(services, username)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(live_server)
    inspector = Inspector(page)
    page.locator("#login-username textarea, #login-username input").first.fill(username)
    page.locator("#login-password input").fill(PASSWORD)
    page.locator("#login-button").click()
    expect(page.locator("#whoami textarea, #whoami input").first).to_have_value(username)

    # Account: the token list, names straight from the payloads.
    expect(page.locator("#token-list")).to_contain_text("<script>")
    names = [" ".join(p[:64].split()) for p in PAYLOADS[:20]]
    inspector.check("Account token list", "#token-list", names)

    # Analyze: the result and the highlighted words, a few payloads at a time.
    page.get_by_role("tab", name="Analyze").click()
    for start in range(0, len(PAYLOADS), 16):
        chunk = PAYLOADS[start : start + 16]
        page.locator("#analyze-text textarea").fill("\n".join(chunk))
        before = page.locator("#analyze-words").inner_text()
        page.locator("#analyze-button").click()
        _changed(page, "#analyze-words", before)
        note = page.locator("#analyze-note")
        expect(note).to_contain_text("Saved to your history", timeout=SLOW_MS)
        inspector.check(f"Analyze {start // 16 + 1}", "#analyze-words", [])
        inspector.check(f"Analyze label {start // 16 + 1}", "#analyze-label", [])

    # Batch: preview (cells, a column name), status, summary, results and download name.
    page.get_by_role("tab", name="Batch").click()
    upload = write_csv(tmp_path / FILENAME)
    page.locator("#batch-file input[type=file]").set_input_files(str(upload))
    expect(page.locator("#batch-info")).to_contain_text(f"{len(PAYLOADS)} rows")
    inspector.check("Batch info", "#batch-info", [])
    inspector.check("Batch preview", "#batch-preview", [HEADER])
    page.locator("#batch-run").click()
    expect(page.locator("#batch-summary")).to_contain_text("rows scored", timeout=SLOW_MS)
    inspector.check("Batch summary", "#batch-summary", [])
    inspector.check("Batch results", "#batch-results", [HEADER])
    inspector.check("Batch download", "#batch-download", [])

    # History: every page of the table (and the delete checkboxes' labels).
    page.get_by_role("tab", name="History").click()
    page.locator("#history-refresh").click()
    expect(page.locator("#history-status")).to_contain_text("matching predictions")
    history = _pages(page, "#history-older", "History", inspector, "#history-table")
    assert _missing(history, PAYLOADS) == []
    inspector.check("History checkboxes", "#history-selected", [])

    # Insights: charts, word clouds (images) and the top-words table.
    page.get_by_role("tab", name="Insights").click()
    page.locator("#insights-refresh").click()
    expect(page.locator("#insights-status")).to_contain_text("predictions")
    expect(
        page.locator("#insights-cloud-positive img, #insights-cloud-negative img").first
    ).to_be_visible()
    inspector.check("Insights", "#insights-words", [])

    # Admin: the event list, typed usernames and user agents.
    page.get_by_role("tab", name="Admin").click()
    page.locator("#admin-events-show").click()
    expect(page.locator("#admin-events-status")).to_contain_text("matching events")
    events = _pages(page, "#admin-events-older", "Admin events", inspector, "#admin-events")
    # Usernames are stored stripped, lower-cased, clipped to 64 and shown escaped.
    assert _missing(events, [inert(p.strip()[:64]) for p in PAYLOADS]) == []

    assert inspector.dialogs == []
    # 24 views (80 scroll positions) when this test runs alone on its module's database.
    assert len(inspector.views) >= 24
    assert {"History page 6", "Admin events page 2", "Insights", "Batch preview"} <= set(
        inspector.views
    )
    page.close()
