"""The Analyze tab's word highlight, as Chromium renders it: green raises, red lowers."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

# The background a word is painted with: its own, or that of the nearest ancestor that
# has one (the highlight may sit on a wrapper around the word's text).
_BACKGROUND = """
(root, word) => {
  const spans = [...root.querySelectorAll('*')].filter(e => e.textContent.trim() === word);
  let el = spans[spans.length - 1];
  while (el && el !== root) {
    const color = getComputedStyle(el).backgroundColor;
    if (color && color !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(color)) return color;
    el = el.parentElement;
  }
  return null;
}
"""


def _rgb(color: str | None) -> tuple[int, int, int]:
    assert color, "the word has no background colour"
    red, green, blue = (int(float(n)) for n in re.findall(r"[\d.]+", color)[:3])
    return red, green, blue


def test_raising_word_is_green_and_lowering_word_red(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server)
    page.get_by_role("tab", name="Analyze").click()
    page.locator("#analyze-text textarea").fill("Great phone, but the battery is terrible.")
    page.locator("#analyze-button").click()
    words = page.locator("#analyze-words")
    expect(page.locator("#analyze-label")).to_contain_text("negative")
    expect(words).to_contain_text("terrible")
    expect(words).to_contain_text("raises")  # the legend names the colours
    red, green, _ = _rgb(words.evaluate(_BACKGROUND, "terrible"))  # raises "negative"
    assert green > red + 40, (red, green)
    red, green, _ = _rgb(words.evaluate(_BACKGROUND, "Great"))  # lowers it
    assert red > green + 40, (red, green)
    page.close()
