"""A real headless Chromium turns on two-factor authentication on the Account tab (QR code,
confirm, recovery codes shown once), logs out everywhere and logs in again with a code."""

from __future__ import annotations

import pyotp
import pytest

from auth.totp import PERIOD
from services import Services
from tests.helpers import PASSWORD, FakeClock, new_username

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def services(timed: Services) -> Services:
    """The live server of this module runs on the fixed clock."""
    return timed


def test_two_factor_setup_and_login_in_the_browser(  # type: ignore[no-untyped-def]
    browser, live_server: str, services: Services, clock: FakeClock
) -> None:
    from playwright.sync_api import expect

    username = new_username()
    services.accounts.register(username, PASSWORD)
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server)
    whoami = page.locator("#whoami textarea, #whoami input").first
    page.locator("#login-username textarea, #login-username input").first.fill(username)
    page.locator("#login-password input").fill(PASSWORD)
    page.locator("#login-button").click()
    expect(whoami).to_have_value(username)
    expect(page.locator("#mfa-status")).to_contain_text("off")

    page.locator("#mfa-setup").click()
    expect(page.locator("#mfa-qr img")).to_be_visible()
    secret_box = page.locator("#mfa-secret textarea, #mfa-secret input").first
    expect(secret_box).not_to_have_value("")
    secret = secret_box.input_value()
    code = pyotp.TOTP(secret).at(clock().timestamp())
    page.locator("#mfa-confirm-code textarea, #mfa-confirm-code input").first.fill(code)
    page.locator("#mfa-confirm").click()
    expect(page.locator("#mfa-status")).to_contain_text("on")
    codes = page.locator("#mfa-recovery-codes textarea").first
    expect(codes).not_to_have_value("")
    recovery = codes.input_value().split("\n")
    assert len(recovery) == 10
    expect(page.locator("#mfa-disable")).to_be_visible()

    clock.advance(seconds=PERIOD)
    page.locator("#logout-all-button").click()
    expect(whoami).to_have_value("Not logged in")
    expect(page.locator("#mfa-recovery-codes textarea")).to_be_hidden()

    page.locator("#login-password input").fill(PASSWORD)
    page.locator("#login-button").click()
    expect(page.get_by_text("uses two-factor authentication").first).to_be_visible()
    expect(whoami).to_have_value("Not logged in")

    page.locator("#login-password input").fill(PASSWORD)
    code = pyotp.TOTP(secret).at(clock().timestamp())
    code_field = page.locator("#login-code textarea, #login-code input").first
    code_field.fill(code)
    # Enter submits: after the refused login, Gradio's error overlay covers the button.
    code_field.press("Enter")
    expect(whoami).to_have_value(username)
    expect(page.locator("#mfa-status")).to_contain_text("on")
    page.close()
