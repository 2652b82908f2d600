"""Two-factor authentication through the account service, with a fixed clock: enrolment,
login with a TOTP or recovery code, replay, drift, bad input, disabling, keys at rest."""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
import pytest
from sqlalchemy import select

from auth.service import ClientInfo
from auth.totp import PERIOD, SecretBox, parse_code
from errors import Conflict, InvalidCredentials, InvalidInput, MfaRequired, RateLimited
from services import Services, build_services
from settings import Settings
from storage import auth_events
from storage.models import RecoveryCode, TotpCredential
from tests.helpers import PASSWORD, SECRET, FakeClock, make_settings, new_username

CLIENT = ClientInfo(ip="198.51.100.7", user_agent="pytest-totp")


@dataclass
class Enrolled:
    username: str
    token: str
    secret: str
    recovery_codes: list[str]


def code_at(secret: str, clock: FakeClock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock().timestamp() + steps * PERIOD)


def enrol(services: Services, clock: FakeClock) -> Enrolled:
    username = new_username()
    services.accounts.register(username, PASSWORD)
    token = services.accounts.login(username, PASSWORD).token.access_token
    setup = services.accounts.start_two_factor(token)
    codes = services.accounts.confirm_two_factor(token, code_at(setup.secret, clock), CLIENT)
    clock.advance(seconds=PERIOD)  # the confirming code is used up
    return Enrolled(username, token, setup.secret, codes)


def events(services: Services, username: str) -> list[str]:
    with services.db.session_scope() as session:
        return [row.event for row in reversed(auth_events.for_username(session, username))]


def stored(services: Services, user_id: int) -> tuple[tuple[object, ...] | None, list[str]]:
    """The user's credential row (secret, confirmed, last step) and recovery code hashes."""
    with services.db.session_scope() as session:
        row = session.get(TotpCredential, user_id)
        codes = session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id))
        hashes = sorted(code.code_hash for code in codes)
        if row is None:
            return None, hashes
        return (row.secret_encrypted, row.confirmed_at, row.last_used_step), hashes


def test_setup_gives_a_secret_uri_and_qr_code_and_confirm_gives_ten_recovery_codes(
    timed: Services, clock: FakeClock
) -> None:
    username = new_username()
    account = timed.accounts.register(username, PASSWORD)
    token = timed.accounts.login(username, PASSWORD).token.access_token
    setup = timed.accounts.start_two_factor(token)
    assert setup.uri == pyotp.TOTP(setup.secret).provisioning_uri(
        name=username, issuer_name="Sentiscope"
    )
    assert setup.qr_svg.startswith("data:image/svg+xml")
    assert not timed.accounts.authenticate(token).mfa_enabled  # not before it is confirmed
    codes = timed.accounts.confirm_two_factor(token, code_at(setup.secret, clock), CLIENT)
    assert len(codes) == len(set(codes)) == 10
    assert all(parse_code(code) is not None for code in codes)
    assert timed.accounts.authenticate(token).mfa_enabled
    row, hashes = stored(timed, account.id)
    assert row is not None and setup.secret not in str(row[0])  # encrypted at rest
    assert len(hashes) == 10
    assert not {code.replace("-", "") for code in codes} & set(hashes)  # hashes only
    assert events(timed, username)[-1] == "authn_mfa_enabled"


def test_login_needs_the_code_once_two_factor_is_on(timed: Services, clock: FakeClock) -> None:
    user = enrol(timed, clock)
    with pytest.raises(MfaRequired, match="6-digit code"):
        timed.accounts.login(user.username, PASSWORD, CLIENT)
    login = timed.accounts.login(user.username, PASSWORD, CLIENT, otp=code_at(user.secret, clock))
    assert login.account.mfa_enabled
    assert timed.accounts.authenticate(login.token.access_token).username == user.username
    # A wrong password with a right code is still just a wrong password.
    clock.advance(seconds=PERIOD)
    with pytest.raises(InvalidCredentials, match="username or password"):
        timed.accounts.login(user.username, "wrong password", otp=code_at(user.secret, clock))


def test_a_code_is_accepted_once_and_only_within_one_step_of_drift(
    timed: Services, clock: FakeClock
) -> None:
    user = enrol(timed, clock)
    code = code_at(user.secret, clock)
    timed.accounts.login(user.username, PASSWORD, otp=code)
    with pytest.raises(InvalidCredentials, match="already used"):
        timed.accounts.login(user.username, PASSWORD, otp=code)  # replay, same step
    clock.advance(seconds=PERIOD)
    for steps in (-2, 2, -1):  # too old, too new, and older than the last one used
        with pytest.raises(InvalidCredentials):
            timed.accounts.login(user.username, PASSWORD, otp=code_at(user.secret, clock, steps))
    timed.accounts.login(user.username, PASSWORD, otp=code_at(user.secret, clock, 1))
    clock.advance(seconds=3 * PERIOD)
    timed.accounts.login(user.username, PASSWORD, otp=code_at(user.secret, clock))


def test_a_wrong_code_is_recorded_and_counts_as_a_failed_login(
    timed: Services, clock: FakeClock
) -> None:
    user = enrol(timed, clock)
    limit = timed.settings.LOGIN_FAILURES_PER_ACCOUNT
    wrong = f"{(int(code_at(user.secret, clock)) + 1) % 1_000_000:06d}"
    for _ in range(limit):
        with pytest.raises(InvalidCredentials, match="two-factor code is wrong"):
            timed.accounts.login(user.username, PASSWORD, CLIENT, otp=wrong)
    assert events(timed, user.username).count("authn_mfa_fail") == limit
    with pytest.raises(RateLimited):
        timed.accounts.login(user.username, PASSWORD, CLIENT, otp=code_at(user.secret, clock))


def test_a_malformed_code_is_refused_with_the_formats(timed: Services, clock: FakeClock) -> None:
    user = enrol(timed, clock)
    before = events(timed, user.username)
    for bad in ("12345", "1234567", "abcdef", "x" * 64, "１２３４５６"):
        with pytest.raises(InvalidInput, match="6-digit code") as caught:
            timed.accounts.login(user.username, PASSWORD, otp=bad)
        assert "recovery codes" in caught.value.message
    assert events(timed, user.username) == before


def test_a_recovery_code_works_once_in_place_of_the_code(timed: Services, clock: FakeClock) -> None:
    user = enrol(timed, clock)
    first = user.recovery_codes[0]
    spaced = first.upper().replace("-", " ")  # typed differently, still the same code
    timed.accounts.login(user.username, PASSWORD, otp=spaced)
    with pytest.raises(InvalidCredentials):
        timed.accounts.login(user.username, PASSWORD, otp=first)
    timed.accounts.login(user.username, PASSWORD, otp=user.recovery_codes[1])
    assert events(timed, user.username)[-2:] == ["authn_mfa_recovery_used", "authn_login_success"]
    other = enrol(timed, clock)  # one user's codes do not open another account
    with pytest.raises(InvalidCredentials):
        timed.accounts.login(other.username, PASSWORD, otp=user.recovery_codes[2])


def test_confirming_with_bad_input_says_why_and_writes_nothing(
    timed: Services, clock: FakeClock
) -> None:
    username = new_username()
    account = timed.accounts.register(username, PASSWORD)
    token = timed.accounts.login(username, PASSWORD).token.access_token
    with pytest.raises(Conflict, match="Start two-factor setup first"):
        timed.accounts.confirm_two_factor(token, "123456")
    setup = timed.accounts.start_two_factor(token)
    pending = stored(timed, account.id)
    good = code_at(setup.secret, clock)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for bad, error, message in (
        ("12 34", InvalidInput, "6-digit code"),
        ("abcd-efgh-ijkl-mnop", InvalidInput, "6-digit code"),  # recovery-code shaped
        (wrong, InvalidCredentials, "does not match"),
    ):
        with pytest.raises(error, match=message):
            timed.accounts.confirm_two_factor(token, bad)
    assert stored(timed, account.id) == pending
    assert not timed.accounts.authenticate(token).mfa_enabled
    assert events(timed, username) == ["user_created", "authn_login_success"]
    timed.accounts.confirm_two_factor(token, good)
    with pytest.raises(Conflict, match="already on"):
        timed.accounts.start_two_factor(token)


def test_turning_off_needs_the_password_and_a_code(timed: Services, clock: FakeClock) -> None:
    user = enrol(timed, clock)
    with pytest.raises(InvalidInput, match="6-digit code"):
        timed.accounts.disable_two_factor(user.token, PASSWORD, "nope")
    with pytest.raises(InvalidCredentials, match="password is incorrect"):
        timed.accounts.disable_two_factor(user.token, "wrong", code_at(user.secret, clock))
    wrong = f"{(int(code_at(user.secret, clock)) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidCredentials, match="two-factor code is wrong"):
        timed.accounts.disable_two_factor(user.token, PASSWORD, wrong)
    assert timed.accounts.authenticate(user.token).mfa_enabled
    timed.accounts.disable_two_factor(user.token, PASSWORD, user.recovery_codes[0], CLIENT)
    assert not timed.accounts.authenticate(user.token).mfa_enabled
    account = timed.accounts.authenticate(user.token)
    assert stored(timed, account.id) == (None, [])
    assert events(timed, user.username)[-3:] == [
        "authn_mfa_fail",
        "authn_mfa_fail",
        "authn_mfa_disabled",
    ]
    timed.accounts.login(user.username, PASSWORD)  # no code needed any more
    with pytest.raises(Conflict, match="not on"):
        timed.accounts.disable_two_factor(user.token, PASSWORD, "123456")


def test_secret_key_rotation_keeps_two_factor_working_with_the_previous_key(
    settings: Settings, clock: FakeClock
) -> None:
    assert settings.DATABASE_URL is not None
    new_key = "rotated-key-" + "r" * 32

    def services_with(**keys: str) -> Services:
        return build_services(
            make_settings(settings.DATABASE_URL, settings.DATA_DIR, **keys), clock=clock
        )

    before = services_with(SECRET_KEY=SECRET)
    user = enrol(before, clock)
    rotated = services_with(SECRET_KEY=new_key, SECRET_KEY_PREVIOUS=SECRET)
    rotated.accounts.login(user.username, PASSWORD, otp=code_at(user.secret, clock))
    clock.advance(seconds=PERIOD)
    # That login re-encrypted the secret with the new key: the old one is not needed now.
    dropped = services_with(SECRET_KEY=new_key)
    dropped.accounts.login(user.username, PASSWORD, otp=code_at(user.secret, clock))
    clock.advance(seconds=PERIOD)
    # A key that never encrypted it cannot read it: only recovery codes still work.
    lost = services_with(SECRET_KEY="another-key-" + "z" * 32)
    with pytest.raises(InvalidCredentials):
        lost.accounts.login(user.username, PASSWORD, otp=code_at(user.secret, clock))
    lost.accounts.login(user.username, PASSWORD, otp=user.recovery_codes[0])
    for built in (before, rotated, dropped, lost):
        built.close()


def test_secret_box_round_trip_and_rotation() -> None:
    old, new = SecretBox("old-key"), SecretBox("new-key", previous_key="old-key")
    sealed = old.seal("JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert new.open(sealed) == "JBSWY3DPEHPK3PXP"
    assert SecretBox("new-key").open(sealed) is None
    assert SecretBox("new-key").open(new.reseal(sealed)) == "JBSWY3DPEHPK3PXP"
