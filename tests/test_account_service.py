"""The account service: logout ends one session, "log out everywhere" and password change
end them all, events are recorded (OWASP names), and unknown users cannot be told apart
from wrong passwords."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from auth.passwords import PasswordHasher, Verification
from auth.service import ClientInfo
from errors import Conflict, InvalidCredentials, InvalidToken, PermissionDenied
from services import Services, build_services
from settings import Settings
from storage import auth_events
from storage.models import AuthEvent, User
from tests.helpers import PASSWORD, FakeClock, make_settings, new_username

CLIENT = ClientInfo(ip="203.0.113.9", user_agent="pytest-agent/1.0")


class CountingHasher(PasswordHasher):
    """The real hasher, counting how many argon2 verifications each call costs."""

    def __init__(self) -> None:
        super().__init__()
        self.verifications = 0

    def verify(self, password: str, stored_hash: str) -> Verification:
        self.verifications += 1
        return super().verify(password, stored_hash)

    def verify_dummy(self, password: str) -> None:
        self.verifications += 1
        super().verify_dummy(password)


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture(scope="module")
def timed(settings: Settings, clock: FakeClock, hasher: CountingHasher) -> Iterator[Services]:
    """Services on the module's database whose clock only moves when a test moves it."""
    built = build_services(settings, clock=clock, hasher=hasher)
    yield built
    built.close()


def events_for(services: Services, username: str) -> list[str]:
    with services.db.session_scope() as session:
        rows = auth_events.for_username(session, username)
        return [row.event for row in reversed(rows)]


def test_register_login_authenticate(timed: Services) -> None:
    username = new_username()
    account = timed.accounts.register(username, PASSWORD, CLIENT)
    login = timed.accounts.login(username.upper(), PASSWORD, CLIENT)
    assert login.account == account
    assert timed.accounts.authenticate(login.token.access_token) == account


def test_usernames_are_case_insensitively_unique(timed: Services) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    with pytest.raises(Conflict, match="taken"):
        timed.accounts.register(username.upper(), PASSWORD)


def test_logout_ends_only_this_session(timed: Services) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    first = timed.accounts.login(username, PASSWORD).token.access_token
    second = timed.accounts.login(username, PASSWORD).token.access_token
    timed.accounts.logout(first, CLIENT)
    with pytest.raises(InvalidToken, match="ended"):
        timed.accounts.authenticate(first)
    with pytest.raises(InvalidToken, match="ended"):
        timed.accounts.logout(first, CLIENT)
    assert timed.accounts.authenticate(second).username == username
    fresh = timed.accounts.login(username, PASSWORD).token.access_token
    assert timed.accounts.authenticate(fresh).username == username


def test_logout_everywhere_ends_every_session_but_not_personal_tokens(timed: Services) -> None:
    username = new_username()
    account = timed.accounts.register(username, PASSWORD)
    logins = [timed.accounts.login(username, PASSWORD).token.access_token for _ in range(3)]
    personal = timed.personal_tokens.create(account.id, "script").token
    timed.accounts.logout_everywhere(logins[0], CLIENT)
    for token in logins:
        with pytest.raises(InvalidToken, match="ended"):
            timed.accounts.authenticate(token)
    assert timed.accounts.authenticate(personal).username == username
    assert timed.accounts.authenticate(
        timed.accounts.login(username, PASSWORD).token.access_token
    ) == timed.accounts.authenticate(personal)


def test_password_change_invalidates_old_tokens_and_old_password(timed: Services) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    old = timed.accounts.login(username, PASSWORD).token.access_token
    new = timed.accounts.change_password(old, PASSWORD, "a brand new password", CLIENT)
    with pytest.raises(InvalidToken):
        timed.accounts.authenticate(old)
    assert timed.accounts.authenticate(new.access_token).username == username
    with pytest.raises(InvalidCredentials):
        timed.accounts.login(username, PASSWORD)
    timed.accounts.login(username, "a brand new password")


def test_password_change_needs_the_current_password(timed: Services) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    token = timed.accounts.login(username, PASSWORD).token.access_token
    with pytest.raises(InvalidCredentials, match="current password"):
        timed.accounts.change_password(token, "not my password", "whatever new one")
    assert timed.accounts.authenticate(token).username == username


def test_token_expires_after_the_ttl(timed: Services, clock: FakeClock) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    token = timed.accounts.login(username, PASSWORD).token.access_token
    clock.advance(hours=23)
    timed.accounts.authenticate(token)
    clock.advance(hours=1)
    with pytest.raises(InvalidToken, match="expired"):
        timed.accounts.authenticate(token)


def test_disabled_accounts_cannot_log_in_or_use_tokens(timed: Services) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    token = timed.accounts.login(username, PASSWORD).token.access_token
    with timed.db.session_scope() as session:
        session.execute(update(User).where(User.username == username).values(disabled=True))
    with pytest.raises(InvalidToken):
        timed.accounts.authenticate(token)
    with pytest.raises(PermissionDenied, match="disabled"):
        timed.accounts.login(username, PASSWORD)


def test_every_account_action_writes_an_auth_event(timed: Services) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD, CLIENT)
    with pytest.raises(InvalidCredentials):
        timed.accounts.login(username, "wrong password", CLIENT)
    token = timed.accounts.login(username, PASSWORD, CLIENT).token.access_token
    token = timed.accounts.change_password(token, PASSWORD, "another password", CLIENT).access_token
    with pytest.raises(InvalidCredentials):
        timed.accounts.change_password(token, "not the password", "a third password", CLIENT)
    timed.accounts.logout(token, CLIENT)
    token = timed.accounts.login(username, "another password", CLIENT).token.access_token
    timed.accounts.logout_everywhere(token, CLIENT)
    assert events_for(timed, username) == [
        "user_created",
        "authn_login_fail",
        "authn_login_success",
        "authn_password_change",
        "authn_password_change_fail",
        "authn_token_revoked",
        "authn_login_success",
        "authn_token_revoked_all",
    ]
    with timed.db.session_scope() as session:
        rows = session.scalars(select(AuthEvent).where(AuthEvent.username == username)).all()
        assert {(row.client_ip, row.user_agent) for row in rows} == {(CLIENT.ip, CLIENT.user_agent)}
        assert all(row.user_id is not None for row in rows)


def test_failed_login_for_an_unknown_user_is_recorded(timed: Services) -> None:
    username = new_username()
    with pytest.raises(InvalidCredentials):
        timed.accounts.login(username, "whatever password", CLIENT)
    with timed.db.session_scope() as session:
        (row,) = auth_events.for_username(session, username)
        assert (row.event, row.user_id) == ("authn_login_fail", None)


def test_unknown_user_and_wrong_password_are_indistinguishable(
    timed: Services, hasher: CountingHasher
) -> None:
    username = new_username()
    timed.accounts.register(username, PASSWORD)
    replies = {}
    for case, name in (("unknown user", new_username()), ("wrong password", username)):
        before = hasher.verifications
        with pytest.raises(InvalidCredentials) as caught:
            timed.accounts.login(name, "not the password")
        replies[case] = (type(caught.value), caught.value.code, caught.value.message)
        # Same argon2 work either way: one verification, against a dummy hash if needed.
        assert hasher.verifications - before == 1, case
    assert replies["unknown user"] == replies["wrong password"]


def test_admin_bootstrap_creates_an_admin_once(settings: Settings, timed: Services) -> None:
    assert settings.DATABASE_URL is not None
    admin_settings = make_settings(
        settings.DATABASE_URL,
        settings.DATA_DIR,
        ADMIN_USERNAME="root_admin",
        ADMIN_PASSWORD=PASSWORD,
    )
    for _ in range(2):  # a restart must not fail on the existing admin
        build_services(admin_settings).close()
    assert timed.accounts.login("root_admin", PASSWORD).account.is_admin


def test_tokens_signed_with_the_previous_key_survive_a_rotation(settings: Settings) -> None:
    assert settings.DATABASE_URL is not None
    old_key, new_key = "old-key-" + "o" * 32, "new-key-" + "n" * 32

    def services_with(**keys: str) -> Services:
        return build_services(make_settings(settings.DATABASE_URL, settings.DATA_DIR, **keys))

    before = services_with(SECRET_KEY=old_key)
    username = new_username()
    before.accounts.register(username, PASSWORD)
    token = before.accounts.login(username, PASSWORD).token.access_token
    rotated = services_with(SECRET_KEY=new_key, SECRET_KEY_PREVIOUS=old_key)
    assert rotated.accounts.authenticate(token).username == username
    dropped = services_with(SECRET_KEY=new_key)
    with pytest.raises(InvalidToken):
        dropped.accounts.authenticate(token)
    for built in (before, rotated, dropped):
        built.close()
