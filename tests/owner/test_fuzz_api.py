"""Fuzz the whole web API from its own OpenAPI document with schemathesis: no request, however
malformed, gets a 5xx (issue 12, bad input). Real HTTP against a real CEM (uvicorn on loopback)
with a real emulated station connected, as an owner (session cookie and CSRF token) for the owner
routes and with a token of the role each other route needs. Bounded: a few examples per operation,
and the whole run stops at its time budget."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser_pages.live_cem import LiveCem
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from smartcharge.web.auth import Role

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES_PER_OPERATION = 30
BUDGET_S = 60.0
#: Operations that would end the fuzzer's own session or hold a stream open.
SKIPPED = ("/api/v1/auth/logout",)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCem]:
    server = LiveCem(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'cem.db'}").start()
    server.add_station("FZ-1")
    yield server
    server.close()


def _credentials(live: LiveCem) -> dict[str, dict[str, Any]]:
    assert live.services is not None
    auth = live.services.auth
    with httpx.Client(base_url=live.base_url) as client:
        r = client.post("/api/v1/auth/login", json={"username": "owner", "password": live.owner_password})
        assert r.status_code == 200, r.text
        owner = {"cookies": dict(r.cookies), "headers": {"X-CSRF-Token": r.json()["csrf_token"]}}
    creds = {"owner": owner}
    for role in (Role.OPERATOR, Role.SITE_MANAGER):
        _, token = auth.create_token(role, "fuzz")
        creds[role.value] = {"cookies": {}, "headers": {"Authorization": f"Bearer {token}"}}
    return creds


def _who(path: str) -> str:
    if path.startswith("/api/v1/owner") or "/plan" in path:
        return "owner"
    if path.startswith("/api/v1/site"):
        return "site-manager"
    return "operator"


def _fuzz(
    operation: Any, who: dict[str, Any], base_url: str, deadline: float, errors: list[str], calls: list[int]
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        if time.monotonic() > deadline:
            return
        response = case.call(
            base_url=base_url, headers=dict(who["headers"]), cookies=dict(who["cookies"]), timeout=10
        )
        calls.append(response.status_code)
        if response.status_code >= 500:
            errors.append(f"{case.method} {case.formatted_path} -> {response.status_code}")

    try:
        check()
    except Unsatisfiable:
        pass


def test_no_operation_answers_5xx(live: LiveCem) -> None:
    import schemathesis

    with httpx.Client(base_url=live.base_url) as client:
        document = client.get("/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    creds = _credentials(live)
    deadline = time.monotonic() + BUDGET_S
    server_errors: list[str] = []
    calls: list[int] = []
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIPPED or time.monotonic() > deadline:
            continue
        _fuzz(operation, creds[_who(operation.path)], live.base_url, deadline, server_errors, calls)
        tried += 1
    assert tried >= 10, f"only {tried} operations were fuzzed"
    print(f"fuzzed {tried} operations with {len(calls)} requests; statuses {sorted(set(calls))}")
    assert len(calls) >= 10 * tried, f"only {len(calls)} requests for {tried} operations"
    assert any(200 <= c < 300 for c in calls), "no request was accepted: the fuzzer never got past auth"
    assert server_errors == [], server_errors[:5]
