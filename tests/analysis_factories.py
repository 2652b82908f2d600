"""Factories for the product tests: users and predictions written straight to the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services import Services
from storage import predictions
from tests.helpers import PASSWORD, new_username

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


def make_user(services: Services) -> tuple[int, str]:
    """A registered user: (id, access token)."""
    username = new_username()
    services.accounts.register(username, PASSWORD)
    login = services.accounts.login(username, PASSWORD)
    return login.account.id, login.token.access_token


def add_rows(
    services: Services,
    user_id: int,
    texts: Sequence[str],
    *,
    label: str = "positive",
    source: str = "single",
    start: datetime = T0,
    step: timedelta = timedelta(minutes=1),
    score: float = 0.9,
) -> list[int]:
    """Rows with the given label, `step` apart from `start`; returns their ids."""
    rest = (1 - score) / 2
    probabilities = {"negative": rest, "neutral": rest, "positive": rest, label: score}
    rows = [
        predictions.new_row(
            user_id=user_id,
            text=text,
            label=label,
            score=score,
            probabilities=probabilities,
            model_id="test-model",
            source=source,
            created_at=start + i * step,
        )
        for i, text in enumerate(texts)
    ]
    with services.db.session_scope() as session:
        return predictions.insert_many(session, rows, chunk_size=7, return_ids=True)


@dataclass(frozen=True)
class AliceAndBob:
    """Two users: A (alice), whose things B (bob) must never reach, and B with his own."""

    alice: int
    alice_token: str
    alice_rows: list[int]
    bob: int
    bob_token: str
    bob_rows: list[int]


def alice_and_bob(
    services: Services, alice_texts: Sequence[str], bob_texts: Sequence[str]
) -> AliceAndBob:
    """A with `alice_texts` in her history, then B with `bob_texts` in his."""
    alice, alice_token = make_user(services)
    alice_rows = add_rows(services, alice, alice_texts)
    bob, bob_token = make_user(services)
    bob_rows = add_rows(services, bob, bob_texts)
    return AliceAndBob(alice, alice_token, alice_rows, bob, bob_token, bob_rows)
