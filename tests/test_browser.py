"""A real headless Chromium registers, logs in and logs out through the Gradio UI."""

from __future__ import annotations

import os

import pytest

from tests.helpers import PASSWORD, new_username

pytestmark = pytest.mark.browser


def test_register_login_change_password_logout_in_the_browser(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    username = new_username()
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server)

    whoami = page.locator("#whoami textarea, #whoami input").first
    status = page.locator("#account-status textarea, #account-status input").first
    expect(whoami).to_have_value("Not logged in")

    page.locator("#register-username textarea, #register-username input").first.fill(username)
    page.locator("#register-password input").fill(PASSWORD)
    page.locator("#register-button").click()
    expect(status).to_have_value(f"Account {username} created. Log in below.")

    # Registration fills in the login username; only the password is typed.
    login_name = page.locator("#login-username textarea, #login-username input").first
    expect(login_name).to_have_value(username)
    page.locator("#login-password input").fill(PASSWORD)
    page.locator("#login-button").click()
    expect(whoami).to_have_value(username)
    expect(page.locator("#logout-button")).to_be_visible()
    expect(page.locator("#login-button")).to_be_hidden()

    page.locator("#current-password input").fill(PASSWORD)
    page.locator("#new-password input").fill("a changed passphrase")
    page.locator("#change-password-button").click()
    expect(status).to_have_value("Password changed. Other sessions have been logged out.")
    expect(whoami).to_have_value(username)

    page.locator("#logout-button").click()
    expect(whoami).to_have_value("Not logged in")
    expect(status).to_have_value("Logged out.")
    expect(page.locator("#login-button")).to_be_visible()

    # The new password is the one that works now.
    page.locator("#login-password input").fill("a changed passphrase")
    page.locator("#login-button").click()
    expect(whoami).to_have_value(username)
    page.close()


def test_wrong_password_shows_an_error_in_the_browser(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server)
    page.locator("#login-username textarea, #login-username input").first.fill(new_username())
    page.locator("#login-password input").fill("not the password")
    page.locator("#login-button").click()
    expect(page.get_by_text("Incorrect username or password").first).to_be_visible()
    expect(page.locator("#whoami textarea, #whoami input").first).to_have_value("Not logged in")
    page.close()


def test_docs_authorize_button_logs_in_offline(browser, live_server: str, services) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    username = new_username()
    services.accounts.register(username, PASSWORD)
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live_server}/docs")
    page.get_by_role("button", name="Authorize").first.click()
    page.locator("#oauth_username").fill(username)
    page.locator("#oauth_password").fill(PASSWORD)
    page.locator(".auth-btn-wrapper button.authorize").first.click()
    expect(page.locator(".auth-btn-wrapper button", has_text="Logout")).to_be_visible()
    page.locator(".btn-done").first.click()
    page.locator("#operations-auth-me_api_auth_me_get").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_contain_text("200")
    expect(page.locator(".live-responses-table .microlight").first).to_contain_text(username)
    page.close()


SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")


def _shot(page, name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Save a screenshot under SCREENSHOT_DIR (docs/screenshots) or the test's tmp dir."""
    from pathlib import Path

    directory = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=False)


def test_analyze_history_insights_then_logout_in_the_browser(  # type: ignore[no-untyped-def]
    browser, live_server: str, tmp_path
) -> None:
    from playwright.sync_api import expect

    username = new_username()
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(30_000)
    page.goto(live_server)
    page.locator("#register-username textarea, #register-username input").first.fill(username)
    page.locator("#register-password input").fill(PASSWORD)
    page.locator("#register-button").click()
    status = page.locator("#account-status textarea, #account-status input").first
    expect(status).to_have_value(f"Account {username} created. Log in below.")
    page.locator("#login-password input").fill(PASSWORD)
    page.locator("#login-button").click()
    whoami = page.locator("#whoami textarea, #whoami input").first
    expect(whoami).to_have_value(username)

    page.get_by_role("tab", name="Analyze").click()
    text = "The staff were wonderful and the food was delicious."
    page.locator("#analyze-text textarea").fill(text)
    page.locator("#analyze-button").click()
    expect(page.locator("#analyze-note")).to_contain_text("Saved to your history")
    expect(page.locator("#analyze-label")).to_contain_text("positive")
    expect(page.locator("#analyze-words")).to_contain_text("wonderful")
    _shot(page, "analyze", tmp_path)

    # A refresh keeps the login (BrowserState); the text is shown as text, not HTML.
    page.locator("#analyze-text textarea").fill("<b>bold?</b> Terrible, cold soup.")
    page.locator("#analyze-button").click()
    expect(page.locator("#analyze-note")).to_contain_text("Saved to your history")
    page.reload()
    expect(whoami).to_have_value(username)

    page.get_by_role("tab", name="History").click()
    page.locator("#history-refresh").click()
    table = page.locator("#history-table")
    expect(table).to_contain_text(text)
    expect(table).to_contain_text("<b>bold?</b>")  # literally, tags and all
    expect(page.locator("#history-status")).to_contain_text("2 matching predictions")
    _shot(page, "history", tmp_path)

    page.get_by_role("tab", name="Insights").click()
    page.locator("#insights-refresh").click()
    expect(page.locator("#insights-status")).to_contain_text("2 predictions")
    expect(
        page.locator("#insights-distribution canvas, #insights-distribution svg").first
    ).to_be_visible()
    # Both predictions are from today: one day is drawn as bars (a one-point line is blank).
    bars = page.locator("#insights-trend-bars canvas, #insights-trend-bars svg").first
    expect(bars).to_be_visible()
    expect(page.locator("#insights-trend")).to_be_hidden()
    expect(page.locator("#insights-cloud-positive img")).to_be_visible()
    expect(page.locator("#insights-words")).to_contain_text("wonderful")
    _shot(page, "insights", tmp_path)

    page.get_by_role("tab", name="Account").click()
    page.locator("#logout-button").click()
    expect(whoami).to_have_value("Not logged in")

    # Protected tabs refuse: the handlers check the token, not just what is shown.
    page.get_by_role("tab", name="History").click()
    expect(page.locator("#history-status")).to_contain_text("Log in")
    page.locator("#history-refresh").click()
    expect(page.get_by_text("You are not logged in").first).to_be_visible()
    expect(page.locator("#history-table")).not_to_contain_text(text)
    page.get_by_role("tab", name="Insights").click()
    page.locator("#insights-refresh").click()
    expect(page.get_by_text("You are not logged in").first).to_be_visible()
    # And a refresh after logout does not bring the old login back.
    page.reload()
    expect(whoami).to_have_value("Not logged in")
    page.close()


def test_guest_can_try_analyze_without_an_account(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server)
    page.get_by_role("tab", name="Analyze").click()
    page.locator("#analyze-text textarea").fill("What a lovely surprise!")
    page.locator("#analyze-button").click()
    expect(page.locator("#analyze-note")).to_contain_text("guest")
    expect(page.locator("#analyze-note")).to_contain_text("Create a free account")
    expect(page.locator("#analyze-label")).to_contain_text("positive")
    page.close()
