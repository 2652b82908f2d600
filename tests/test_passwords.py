"""Password hashing: argon2id parameters, rehash on login, length rules, no truncation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from auth.passwords import PasswordHasher
from errors import InvalidCredentials, InvalidInput
from services import Services
from storage.models import User
from tests.helpers import new_username

ARGON2 = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")


def stored_hash(services: Services, username: str) -> str:
    with services.db.session_scope() as session:
        return session.scalars(select(User.password_hash).where(User.username == username)).one()


def test_stored_hash_is_argon2id_with_owasp_parameters(services: Services) -> None:
    username = new_username()
    services.accounts.register(username, "a perfectly fine password")
    match = ARGON2.match(stored_hash(services, username))
    assert match, "stored hash is not argon2id"
    memory_kib, time_cost, _ = map(int, match.groups())
    assert memory_kib >= 19 * 1024
    assert time_cost >= 2


def test_login_rehashes_an_outdated_hash(services: Services) -> None:
    username = new_username()
    services.accounts.register(username, "upgrade me please")
    weak = PasswordHasher(memory_kib=8 * 1024, time_cost=1).hash("upgrade me please")
    with services.db.session_scope() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        user.password_hash = weak
    services.accounts.login(username, "upgrade me please")
    upgraded = stored_hash(services, username)
    assert upgraded != weak
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,")
    services.accounts.login(username, "upgrade me please")  # the new hash verifies


@pytest.mark.parametrize("length", [8, 128])
def test_password_length_limits_are_inclusive(services: Services, length: int) -> None:
    services.accounts.register(new_username(), "p" * length)


@pytest.mark.parametrize("length", [0, 7, 129])
def test_passwords_outside_8_to_128_are_refused(services: Services, length: int) -> None:
    with pytest.raises(InvalidInput, match="8 to 128 characters"):
        services.accounts.register(new_username(), "p" * length)


def test_any_unicode_is_allowed_and_compared_exactly(services: Services) -> None:
    username = new_username()
    password = "  пароль 密码 🔑 café  "
    services.accounts.register(username, password)
    services.accounts.login(username, password)
    for near_miss in (password.strip(), password.upper(), "  пароль 密码 🔑 cafe\u0301  "):
        with pytest.raises(InvalidCredentials):
            services.accounts.login(username, near_miss)


def test_long_passwords_are_not_truncated(services: Services) -> None:
    username = new_username()
    prefix = "x" * 120
    services.accounts.register(username, prefix + "AAAAAAAA")
    with pytest.raises(InvalidCredentials):
        services.accounts.login(username, prefix + "AAAAAAAB")


@pytest.mark.parametrize("name", ["ab", "a" * 33, "has space", "semi;colon", "émile", ""])
def test_bad_usernames_are_refused(services: Services, name: str) -> None:
    with pytest.raises(InvalidInput, match="3 to 32"):
        services.accounts.register(name, "long enough password")


@pytest.mark.parametrize("name", ["abc", "A.b_c-9", "z" * 32])
def test_good_usernames_are_accepted(services: Services, name: str) -> None:
    assert services.accounts.register(name, "password ok").username == name
