"""A real headless Chromium registers, logs in and logs out through the Gradio UI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.helpers import PASSWORD, new_username, skip_or_fail

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        skip_or_fail("REQUIRE_BROWSER", f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


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
