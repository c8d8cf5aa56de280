"""Fuzz the operator API from its own OpenAPI document (schemathesis): whatever arrives, no 5xx,
and every answer matches its documented schema. A real CEM with its API runs in a thread of its
own (its own event loop), with one charge point on plain websockets connected, so generated OCPP
calls really travel; examples per operation are bounded to keep the run well under a minute."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from interface_b_harness import register, wait_for

from .support import RawStation, start_web_cem

pytestmark = pytest.mark.slow


class _Background:
    """A CEM, its API and one station in a background event loop."""

    def __init__(self, database_url: str) -> None:
        self.ready = threading.Event()
        self.values: dict[str, Any] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(database_url), self._loop).result(60)

    async def _start(self, database_url: str) -> None:
        web = await start_web_cem(database_url)
        password = await asyncio.to_thread(register, web.services.store, "FUZZ-1")
        station = RawStation(web.ocpp_url, "FUZZ-1", password)
        await station.start()
        await wait_for(lambda: "FUZZ-1" in web.services.ocpp.sessions, what="link")
        self.values.update(web=web, station=station, token=await web.token("operator"))

    async def _stop(self) -> None:
        await self.values["station"].close()
        await self.values["web"].close()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture(scope="module")
def background(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Background]:
    running = _Background(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'cem.db'}")
    yield running
    running.close()


@pytest.fixture(scope="module")
def api_schema(background: _Background) -> Any:
    web = background.values["web"]
    schema = schemathesis.openapi.from_url(f"{web.base_url}/api/v1/openapi.json")
    # The live stream never ends by itself: it is tested in test_web_operator, not fuzzed.
    return schema.exclude(path="/api/v1/events")


# The station's websocket link lives in the background thread, and each keepalive ping draws its
# payload from the global ``random`` (websockets' Connection.ping). A ping that lands while
# hypothesis draws a case changes the global state under it, which hypothesis reports as the
# strategy using ``random``; schemathesis's strategies draw from ``st.randoms()``, so the report is
# about the other thread, not the generated cases.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
def test_operator_api_never_answers_5xx(api_schema: Any, background: _Background) -> None:
    """Each operation in turn (schemathesis's pytest plugin does not run under this pytest: the
    operations' hypothesis strategies are driven directly)."""
    base_url = background.values["web"].base_url
    headers = {"Authorization": f"Bearer {background.values['token']}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: Any) -> None:
            case.call_and_validate(
                base_url=base_url,
                headers=headers,
                checks=[not_a_server_error, response_schema_conformance],
                timeout=10,
            )

        fuzz()
