"""Schemathesis over the real app's /openapi.json: every operation, 100 examples each
(schema-valid and schema-breaking), once with a bearer token and once without.

The app is the real one (REST + Gradio mount, real model, real database) called in
process through its ASGI interface. No reply may be a 5xx; replies must match the
documented content types and response schemas, and their status codes must be
documented (except the known gaps in KNOWN_UNDOCUMENTED, printed in the summary).

Each request comes from its own client address, so the per-IP login and registration
throttles (tests/test_security_throttle.py covers them) never turn the rest of a run
into 429s. Logging out or changing the password ends the fuzzing user's tokens, so the
token is renewed after either succeeds; ten wrong current passwords lock the account
(429), so the run then carries on with a new one.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import create_app
from errors import AppError
from services import Services
from settings import Settings
from tests.helpers import PASSWORD, new_username

pytestmark = pytest.mark.slow

EXAMPLES = 100
# Statuses the app may send without the OpenAPI document listing them (reported, not
# hidden: the summary prints them). None now: the fuzzer found two (a non-UTF-8 JSON body
# answered 400, now 422 invalid_input; 429 on the password-checking routes, now listed).
KNOWN_UNDOCUMENTED: tuple[int, ...] = ()
CHECKS = {
    "not_a_server_error": not_a_server_error,
    "status_code_conformance": status_code_conformance,
    "content_type_conformance": content_type_conformance,
    "response_schema_conformance": response_schema_conformance,
}


class OneAddressPerRequest:
    """ASGI wrapper: each request gets its own client IP (10.x.y.z)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._counter = itertools.count(1)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            n = next(self._counter)
            ip = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
            scope = {**scope, "client": (ip, 50000)}
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def api_schema(settings: Settings, services: Services) -> Any:
    return schemathesis.openapi.from_asgi(
        "/openapi.json", OneAddressPerRequest(create_app(settings, services))
    )


class FuzzUser:
    """A real account whose token survives the fuzzer logging it out or locking it."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.fresh()

    def fresh(self) -> None:
        """Switch to a new account, registered and logged in."""
        self.username, self.password = new_username(), PASSWORD
        self.services.accounts.register(self.username, self.password)
        self.login()

    def login(self) -> None:
        self.token = self.services.accounts.login(self.username, self.password).token.access_token

    def after(self, case: Any, response: Any) -> None:
        """Log in again once a logout or a password change has ended the token; after a
        429 (ten wrong current passwords lock the account), carry on with a new account
        so that the lock does not hide the rest of the run."""
        if response.status_code == 429:
            self.fresh()
            return
        if not case.operation.path.startswith("/api/auth/") or response.status_code >= 300:
            return
        if case.operation.path == "/api/auth/password":
            self.password = case.body["new_password"]
        try:
            self.services.accounts.authenticate(self.token)
        except AppError:
            self.login()


@dataclass
class Report:
    """What one run sent and got back, per operation."""

    examples: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failures: dict[str, dict[str, str]] = field(default_factory=dict)  # check -> key -> text

    def record(self, check: str, case: Any, response: Any, group: FailureGroup) -> None:
        key = f"{case.operation.label} -> {response.status_code}: {group.exceptions[0].title}"
        self.failures.setdefault(check, {}).setdefault(key, str(group)[:1500])

    def distinct(self, check: str) -> list[str]:
        return sorted(self.failures.get(check, {}))

    def summary(self, title: str) -> str:
        total = self.examples.total()
        lines = [f"{title}: {len(self.examples)} operations, {total} examples"]
        for label, n in sorted(self.examples.items()):
            codes = ", ".join(f"{s}x{c}" for s, c in sorted(self.statuses[label].items()))
            lines.append(f"  {label}: {n} examples ({codes})")
        for name in CHECKS:
            found = self.distinct(name)
            lines.append(f"  {name}: {len(found)} distinct failures")
            lines.extend(f"    {key}" for key in found)
        return "\n".join(lines)


def strategy(operation: Any) -> st.SearchStrategy[Any]:
    """Schema-valid and schema-breaking cases, mixed (some operations have no negatives)."""
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    try:
        negative = operation.as_strategy(GenerationMode.NEGATIVE)
    except Exception:  # nothing in this operation can be made invalid
        return positive
    return st.one_of(positive, negative)


# What a client may put in a header (requests refuses control characters and a leading space).
HEADER_VALUE = st.text(
    st.characters(codec="latin-1", categories=["L", "M", "N", "P", "S", "Zs"]), max_size=80
).map(str.lstrip)
# Without a valid token: none, a malformed one or a forged one.
NOT_A_TOKEN = st.one_of(st.none(), HEADER_VALUE, HEADER_VALUE.map("Bearer {}".format))


def fuzz(api_schema: Any, user: FuzzUser | None) -> Report:
    report = Report()
    for result in api_schema.get_all_operations():
        fuzz_operation(result.ok(), user, report)
    return report


def fuzz_operation(operation: Any, user: FuzzUser | None, report: Report) -> None:
    label = operation.label
    report.statuses[label] = Counter()

    # The user agent goes into the auth log, so it is fuzzed too; it also gives
    # operations without parameters (GET /api/auth/me...) 100 distinct requests.
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=strategy(operation),
        user_agent=HEADER_VALUE,
        forged=NOT_A_TOKEN,
        real_secret=st.booleans(),
    )
    def run(case: Any, user_agent: str, forged: str | None, real_secret: bool) -> None:
        headers = {"User-Agent": user_agent}
        if user is not None:
            headers["Authorization"] = f"Bearer {user.token}"
            if real_secret:
                use_real_secrets(case, user)
        elif forged is not None:
            headers["Authorization"] = forged
        response = case.call(headers=headers)
        report.examples[label] += 1
        report.statuses[label][response.status_code] += 1
        for name, check in CHECKS.items():
            try:
                case.validate_response(response, checks=[check], headers=headers)
            except FailureGroup as group:
                report.record(name, case, response, group)
        if user is not None:
            user.after(case, response)

    run()


def use_real_secrets(case: Any, user: FuzzUser) -> None:
    """Half the login and password-change cases carry the real name/password, so that
    the code past the credential check is reached too."""
    if not isinstance(case.body, dict):
        return
    if case.operation.path == "/api/auth/token" and "username" in case.body:
        case.body["username"] = user.username
    if case.operation.path == "/api/auth/password" and "current_password" in case.body:
        case.body["current_password"] = user.password


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "bearer"])
def test_fuzz_api(
    api_schema: Any, services: Services, authenticated: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    report = fuzz(api_schema, FuzzUser(services) if authenticated else None)
    with capsys.disabled():
        print("\n" + report.summary("bearer" if authenticated else "anonymous"))
    operations = [result.ok().label for result in api_schema.get_all_operations()]
    assert sorted(report.examples) == sorted(operations)
    assert len(operations) >= 18
    assert min(report.examples.values()) >= EXAMPLES, report.examples
    assert report.distinct("not_a_server_error") == [], report.failures["not_a_server_error"]
    assert report.distinct("content_type_conformance") == []
    assert report.distinct("response_schema_conformance") == []
    undocumented = {
        key
        for key in report.distinct("status_code_conformance")
        if not any(f"-> {status}:" in key for status in KNOWN_UNDOCUMENTED)
    }
    assert undocumented == set()
