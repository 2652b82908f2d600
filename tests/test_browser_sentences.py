"""Analyze in Chromium: the sentence breakdown, and the language warning instead of a label."""

from __future__ import annotations

import pytest

from tests.test_browser_highlight import _BACKGROUND, _rgb

pytestmark = pytest.mark.browser

TWO = "Lovely staff and a wonderful view. The food was awful and cold."
GERMAN = "Das Essen war kalt und der Kellner hat uns zwanzig Minuten lang ignoriert."


def _analyze(browser, live_server: str, text: str):  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server)
    page.get_by_role("tab", name="Analyze").click()
    page.locator("#analyze-text textarea").fill(text)
    page.locator("#analyze-button").click()
    return page


def test_each_sentence_is_shown_in_its_labels_colour(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = _analyze(browser, live_server, TWO)
    sentences = page.locator("#analyze-sentences")
    expect(sentences).to_be_visible()
    expect(sentences).to_contain_text("The food was awful and cold.")
    expect(page.locator("#analyze-note")).to_contain_text("Mixed")
    red, green, _ = _rgb(sentences.evaluate(_BACKGROUND, "Lovely staff and a wonderful view."))
    assert green > red + 40, (red, green)
    red, green, _ = _rgb(sentences.evaluate(_BACKGROUND, "The food was awful and cold."))
    assert red > green + 40, (red, green)
    page.close()


def test_another_language_gets_a_warning_not_a_label(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = _analyze(browser, live_server, GERMAN)
    note = page.locator("#analyze-note")
    expect(note).to_contain_text("This looks like German")
    expect(note).to_contain_text("not reliable")
    expect(page.locator("#analyze-label")).not_to_contain_text("neutral")
    expect(page.locator("#analyze-label")).not_to_contain_text("positive")
    expect(page.locator("#analyze-label")).not_to_contain_text("negative")
    page.close()
