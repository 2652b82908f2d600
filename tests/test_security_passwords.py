"""Password policy: the common-password list, the username rule, what stays allowed."""

from __future__ import annotations

import pytest

from auth.password_policy import common_passwords, validate_password
from errors import InvalidInput
from services import Services
from tests.helpers import PASSWORD, new_username


def test_the_common_list_holds_more_than_10000_usable_passwords() -> None:
    usable = [word for word in common_passwords() if len(word) >= 8]
    assert len(common_passwords()) == 30_000
    assert len(usable) > 10_000  # the shorter ones fail the length rule anyway
    assert PASSWORD not in common_passwords()


@pytest.mark.parametrize(
    "password", ["password", "Password1", "QWERTYUIOP", "iloveyou", "trustno1"]
)
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    if len(password) < 8:
        pytest.skip("short")
    with pytest.raises(InvalidInput, match="most common passwords"):
        validate_password(password, "someone")


@pytest.mark.parametrize("password", ["Alice_99", "alice_99 is me", "my name: ALICE_99!"])
def test_passwords_equal_to_or_containing_the_username_are_refused(password: str) -> None:
    with pytest.raises(InvalidInput, match="must not contain the username"):
        validate_password(password if len(password) >= 8 else password * 2, "alice_99")


@pytest.mark.parametrize(
    "password",
    ["  spaces around and inside  ", "emoji 🔑🐍 pass phrase", "x" * 127 + "y", "пароль-密码-ok"],
)
def test_spaces_emoji_and_128_characters_are_allowed(password: str) -> None:
    assert validate_password(password, "alice_99") == password


def test_registration_and_password_change_apply_the_policy(services: Services) -> None:
    username = new_username()
    with pytest.raises(InvalidInput, match="most common"):
        services.accounts.register(username, "baseball")
    with pytest.raises(InvalidInput, match="username"):
        services.accounts.register(username, f"my {username} pass")
    services.accounts.register(username, PASSWORD)
    token = services.accounts.login(username, PASSWORD).token.access_token
    with pytest.raises(InvalidInput, match="most common"):
        services.accounts.change_password(token, PASSWORD, "superman")
    with pytest.raises(InvalidInput, match="username"):
        services.accounts.change_password(token, PASSWORD, username.upper() + "!!")
