"""Personal API tokens, account deletion, the guest demo and the admin overview."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from analysis.ratelimit import RateLimiter
from errors import InvalidCredentials, InvalidInput, InvalidToken, NotFound, PermissionDenied
from services import Services
from storage.models import ApiToken, AuthEvent, Prediction, User
from storage.predictions import HistoryFilters
from tests.analysis_factories import add_rows, make_user
from tests.helpers import PASSWORD


def test_personal_token_is_shown_once_stored_hashed_and_works_as_a_login(
    services: Services,
) -> None:
    user_id, _ = make_user(services)
    created = services.personal_tokens.create(user_id, "  my   script ")
    assert created.token.startswith("sst_") and len(created.token) > 40
    assert created.info.name == "my script"
    assert services.accounts.authenticate(created.token).id == user_id
    with services.db.session_scope() as session:
        stored = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).one()
        assert created.token not in (stored.token_hash, stored.prefix)
        assert stored.last_used_at is not None
    listed = services.personal_tokens.list(user_id)
    assert [t.name for t in listed] == ["my script"]
    assert not hasattr(listed[0], "token")


def test_a_revoked_token_stops_working_and_others_cannot_revoke_it(services: Services) -> None:
    alice, _ = make_user(services)
    bob, _ = make_user(services)
    created = services.personal_tokens.create(alice, "ci")
    with pytest.raises(NotFound):
        services.personal_tokens.revoke(bob, created.info.id)
    assert services.accounts.authenticate(created.token).id == alice
    services.personal_tokens.revoke(alice, created.info.id)
    with pytest.raises(InvalidToken, match="revoked or mistyped"):
        services.accounts.authenticate(created.token)
    with pytest.raises(InvalidToken):
        services.accounts.authenticate("sst_made-up")


def test_token_names_are_required(services: Services) -> None:
    user_id, _ = make_user(services)
    with pytest.raises(InvalidInput, match="name"):
        services.personal_tokens.create(user_id, "   ")


def test_deleting_an_account_removes_all_its_data_and_keeps_others(services: Services) -> None:
    alice, alice_token = make_user(services)
    bob, _ = make_user(services)
    add_rows(services, alice, ["mine"] * 3)
    add_rows(services, bob, ["theirs"])
    personal = services.personal_tokens.create(alice, "script").token
    with pytest.raises(InvalidCredentials):
        services.accounts.delete_account(alice_token, "wrong password")
    services.accounts.delete_account(alice_token, PASSWORD)
    with services.db.session_scope() as session:
        assert session.get(User, alice) is None
        assert not session.scalars(select(Prediction).where(Prediction.user_id == alice)).all()
        assert not session.scalars(select(ApiToken).where(ApiToken.user_id == alice)).all()
        events = session.scalars(select(AuthEvent).where(AuthEvent.event == "user_deleted"))
        assert events.all()
    for token in (alice_token, personal):
        with pytest.raises(InvalidToken):
            services.accounts.authenticate(token)
    assert services.history.count(bob, HistoryFilters()) == 1


def test_guest_analysis_saves_nothing_and_is_rate_limited(services: Services) -> None:
    with services.db.session_scope() as session:
        before = len(session.scalars(select(Prediction.id)).all())
    limit = services.settings.GUEST_RATE_LIMIT
    for _ in range(limit):
        assert services.scoring.analyze_as_guest("What a lovely day", "10.9.9.9").spans
    with pytest.raises(Exception, match="create a free account"):
        services.scoring.analyze_as_guest("What a lovely day", "10.9.9.9")
    services.scoring.analyze_as_guest("Another visitor", "10.9.9.10")
    with services.db.session_scope() as session:
        assert len(session.scalars(select(Prediction.id)).all()) == before


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(2, window=60, clock=lambda: now[0])
    assert limiter.allow("ip") and limiter.allow("ip")
    assert not limiter.allow("ip")
    assert limiter.allow("other")
    now[0] = 61
    assert limiter.allow("ip")


def test_only_admins_see_the_overview(services: Services) -> None:
    user_id, token = make_user(services)
    account = services.accounts.authenticate(token)
    with pytest.raises(PermissionDenied):
        services.admin.overview(account)
    add_rows(services, user_id, ["a", "b"])
    admin = type(account)(account.id, account.username, True, account.created_at)
    overview = services.admin.overview(admin)
    assert {u.username: u.predictions for u in overview.users}[account.username] == 2
    assert any(e.event == "authn_login_success" for e in overview.events)
