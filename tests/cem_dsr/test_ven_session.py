"""The VEN session's decisions, with an in-memory adapter and gateway (one layer, no network)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from smartcharge.cem.consent import ConsentLedger
from smartcharge.cem.ven import SessionSettings, VenSession
from smartcharge.core.limit import LimitSource
from smartcharge.openadr.model import DsrEvent, EventInterval, Opt, Programme, Signal, StatusCode
from smartcharge.openadr.ven import PollResult
from smartcharge.store.base import make_engine
from smartcharge.store.consent import ConsentStore
from smartcharge.store.migrate import upgrade

FP = "AA:BB:CC:DD:EE:FF:00:11:22:33"


@dataclass
class FakeAdapter:
    notices: list[tuple[str, int, str]] = field(default_factory=list)
    answers: list[list[tuple[str, int, Opt, int]]] = field(default_factory=list)

    def notify(self, kind: str, code: int, detail: str) -> None:
        self.notices.append((kind, code, detail))

    async def respond(self, request_id: str | None, answers: list[tuple[str, int, Opt, int]]) -> None:
        self.answers.append(answers)

    async def close(self) -> None:
        return None


@pytest.fixture
def ledger(sqlite_url: str):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield ConsentLedger(ConsentStore(engine), clock=lambda: 1_795_600_000)
    engine.dispose()


def _event() -> DsrEvent:
    return DsrEvent(
        "E-1", Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (EventInterval(1_795_600_000, 60, 0.0),)
    )


async def test_event_from_deregistered_provider_refused(ledger, gateway) -> None:
    """INT-6, SEC-S-8: a message from a provider whose consent ended is refused (463) and logged."""
    ledger.grant("DSRSP-A", "https://a.invalid/x", FP)
    ledger.revoke("DSRSP-A", reason="switched")
    adapter = FakeAdapter()
    session = VenSession("DSRSP-A", adapter, gateway, ledger, SessionSettings())  # type: ignore[arg-type]
    await session._handle(PollResult(request_id="r", vtn_id="DSRSP-A", events=(_event(),)))
    assert adapter.notices[0][:2] == ("deregistered_provider", StatusCode.NOT_REGISTERED_OR_AUTHORIZED)
    assert adapter.answers == [[("E-1", 0, Opt.OUT, StatusCode.NOT_REGISTERED_OR_AUTHORIZED)]]
    assert gateway.applies(LimitSource.RESPONSE_DSR) == []
    assert session.ended == "consent_withdrawn"


async def test_event_from_wrong_vtn_id_refused(ledger, gateway) -> None:
    """SEC-S-8: an answer naming another VTN than the consented one is refused with 452."""
    ledger.grant("DSRSP-A", "https://a.invalid/x", FP)
    adapter = FakeAdapter()
    session = VenSession("DSRSP-A", adapter, gateway, ledger, SessionSettings())  # type: ignore[arg-type]
    await session._handle(PollResult(request_id="r", vtn_id="DSRSP-Z", events=(_event(),)))
    assert adapter.notices[0][:2] == ("wrong_vtn_id", StatusCode.INVALID_ID)
    assert adapter.answers[0][0][2] is Opt.OUT
    assert gateway.calls == []
