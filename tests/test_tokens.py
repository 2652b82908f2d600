"""Access tokens: claims, expiry against an injected clock, key rotation, alg pinning."""

from __future__ import annotations

import base64
import json
import time

import pytest
from jose import jwt

from auth.tokens import CLOCK_SKEW, TokenService
from errors import InvalidToken
from tests.helpers import FakeClock

KEY = "current-key-0123456789abcdef0123456789"
OLD_KEY = "previous-key-0123456789abcdef012345678"


def test_token_carries_sub_iat_exp_jti_and_ver() -> None:
    clock = FakeClock()
    issued = TokenService(KEY, clock=clock).issue(user_id=7, version=3)
    claims = jwt.get_unverified_claims(issued.access_token)
    assert set(claims) == {"sub", "iat", "exp", "jti", "ver"}
    assert claims["sub"] == "7" and claims["ver"] == 3
    assert claims["exp"] - claims["iat"] == 24 * 3600 == issued.expires_in
    assert jwt.get_unverified_header(issued.access_token)["alg"] == "HS256"


def test_each_token_has_its_own_jti() -> None:
    service = TokenService(KEY)
    first, second = service.issue(1, 0), service.issue(1, 0)
    assert (
        service.verify(first.access_token).token_id != service.verify(second.access_token).token_id
    )


def test_token_expires_at_its_ttl_by_the_injected_clock() -> None:
    clock = FakeClock()
    service = TokenService(KEY, clock=clock)
    token = service.issue(1, 0).access_token
    clock.advance(hours=23, minutes=59, seconds=59)
    assert service.verify(token).user_id == 1
    clock.advance(seconds=1)
    with pytest.raises(InvalidToken, match="expired"):
        service.verify(token)


def test_previous_key_still_verifies_after_rotation() -> None:
    clock = FakeClock()
    old_token = TokenService(OLD_KEY, clock=clock).issue(5, 0).access_token
    rotated = TokenService(KEY, previous_key=OLD_KEY, clock=clock)
    assert rotated.verify(old_token).user_id == 5
    # New tokens are signed with the current key only.
    new_token = rotated.issue(5, 0).access_token
    with pytest.raises(InvalidToken):
        TokenService(OLD_KEY, clock=clock).verify(new_token)
    # Once the previous key is dropped, its tokens stop working.
    with pytest.raises(InvalidToken):
        TokenService(KEY, clock=clock).verify(old_token)


def test_previous_key_tokens_still_expire() -> None:
    clock = FakeClock()
    old_token = TokenService(OLD_KEY, clock=clock).issue(5, 0).access_token
    clock.advance(days=1)
    with pytest.raises(InvalidToken, match="expired"):
        TokenService(KEY, previous_key=OLD_KEY, clock=clock).verify(old_token)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_algorithms_are_refused_even_with_the_right_key(algorithm: str) -> None:
    service = TokenService(KEY)
    claims = jwt.get_unverified_claims(service.issue(1, 0).access_token)
    forged = jwt.encode(claims, KEY, algorithm=algorithm)
    with pytest.raises(InvalidToken):
        service.verify(forged)


def test_unsigned_alg_none_token_is_refused() -> None:
    service = TokenService(KEY)
    claims = jwt.get_unverified_claims(service.issue(1, 0).access_token)
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(InvalidToken):
        service.verify(forged)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        TokenService(KEY).verify(token)


def test_tampered_claims_are_refused() -> None:
    service = TokenService(KEY)
    header, _, signature = service.issue(1, 0).access_token.split(".")
    claims = jwt.get_unverified_claims(service.issue(1, 0).access_token)
    claims["sub"] = "2"
    with pytest.raises(InvalidToken):
        service.verify(f"{header}.{_b64(claims)}.{signature}")


def test_missing_claims_are_refused() -> None:
    token = jwt.encode({"sub": "1", "exp": 4102444800}, KEY, algorithm="HS256")
    with pytest.raises(InvalidToken):
        TokenService(KEY).verify(token)


def test_a_token_from_beyond_the_clock_skew_is_refused_and_one_within_it_accepted() -> None:
    ahead = FakeClock()
    issuer, verifier = TokenService(KEY, clock=ahead), TokenService(KEY, clock=FakeClock())
    ahead.advance(seconds=CLOCK_SKEW.total_seconds() - 5)
    assert verifier.verify(issuer.issue(3, 0).access_token).user_id == 3
    ahead.advance(seconds=10)
    with pytest.raises(InvalidToken, match="invalid"):
        verifier.verify(issuer.issue(3, 0).access_token)


def test_a_token_whose_not_before_time_is_still_to_come_is_refused() -> None:
    # jose checks `nbf` against the real clock, so this one uses it too.
    now = int(time.time())
    claims = {"sub": "3", "iat": now, "exp": now + 3600, "jti": "x", "ver": 0, "nbf": now + 120}
    with pytest.raises(InvalidToken):
        TokenService(KEY).verify(jwt.encode(claims, KEY, algorithm="HS256"))
