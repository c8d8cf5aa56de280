"""The CEM's VEN against a real DSRSP VTN over HTTPS with signatures: events become limits with the
right source, overrides reach the DSRSP, telemetry, offers and power reports flow (loopback)."""

from __future__ import annotations

import time

import pytest

from smartcharge.cem.dsr_offers import ChargingNeed
from smartcharge.core.limit import LimitSource
from smartcharge.dsrsp.programmes import EventRequest
from smartcharge.openadr.model import Programme, Signal
from smartcharge.policy.consent import ReadScope

pytestmark = pytest.mark.integration


async def test_registration_stores_credentials(loop) -> None:
    """INT-5: the VEN registered at the consented DSRSP and keeps its credentials."""
    creds = loop.ledger.store.credentials()
    assert list(creds) == ["DSRSP-A"]
    assert creds["DSRSP-A"].ven_id == loop.dsrsp.registry.registered()[0]


async def test_response_event_becomes_layer3_limit_exempt_from_delay(loop) -> None:
    """SCP-SF-5, SCP-RD-4, ARB-5: response DSR is a RESPONSE_DSR limit, applied without delay."""
    now = int(time.time())
    event = loop.dsrsp.create_event(
        EventRequest(Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (2300.0,), 60, now)
    )
    await loop.wait_for(lambda: loop.gateway.applies(LimitSource.RESPONSE_DSR))
    _, station, limit, until_s, exempt, _ = loop.gateway.applies(LimitSource.RESPONSE_DSR)[0]
    assert station is None  # the whole site
    assert limit.value_w == 2300.0 and limit.source is LimitSource.RESPONSE_DSR
    assert exempt is True
    assert until_s == now + 60
    await loop.wait_for(lambda: loop.dsrsp.store.opts(event.event_id))
    assert loop.dsrsp.store.opts(event.event_id)[0][2] == "optIn"


async def test_routine_event_without_window_is_delayed_by_device(loop) -> None:
    """OP-R1, SCP-RD-2: routine DSR with no startafter window is left to the device's reg 11 delay."""
    now = int(time.time())
    loop.dsrsp.create_event(EventRequest(Programme.ROUTINE, Signal.SIMPLE_LEVEL, (2.0,), 60, now))
    await loop.wait_for(lambda: loop.gateway.applies(LimitSource.ROUTINE_DSR))
    _, _, limit, _, exempt, _ = loop.gateway.applies(LimitSource.ROUTINE_DSR)[0]
    assert limit.source is LimitSource.ROUTINE_DSR and limit.value_w == 1380.0
    assert exempt is False


async def test_routine_event_with_startafter_randomised_upstream(loop) -> None:
    """RD-R3: with a startafter window the VEN draws the start within it and the device does not delay."""
    now = int(time.time())
    loop.dsrsp.create_event(
        EventRequest(
            Programme.ROUTINE, Signal.LOAD_DISPATCH_SETPOINT, (3000.0,), 60, now - 1, start_after_s=3
        )
    )
    await loop.wait_for(lambda: loop.gateway.applies(LimitSource.ROUTINE_DSR), timeout_s=10)
    _, _, limit, until_s, exempt, applied_at = loop.gateway.applies(LimitSource.ROUTINE_DSR)[0]
    assert exempt is True
    offset_s = until_s - (now - 1 + 60)
    assert 0 <= offset_s <= 3
    assert applied_at >= now - 1 + offset_s - 0.5


async def test_override_opts_out_of_routine_event_with_reason(loop) -> None:
    """ARB-6: when the owner overrides, the CEM opts out and the reason reaches the DSRSP."""
    now = int(time.time())
    event = loop.dsrsp.create_event(EventRequest(Programme.ROUTINE, Signal.SIMPLE_LEVEL, (3.0,), 120, now))
    await loop.wait_for(lambda: loop.gateway.applies(LimitSource.ROUTINE_DSR))
    loop.gateway.binding = LimitSource.CONSUMER_OVERRIDE
    await loop.wait_for(lambda: any(o[2] == "optOut" for o in loop.dsrsp.store.opts(event.event_id)))
    opt_out = [o for o in loop.dsrsp.store.opts(event.event_id) if o[2] == "optOut"][0]
    assert opt_out[3] == "overrideStatus"


async def test_new_routine_event_during_override_refused_with_reason(loop) -> None:
    """ARB-6: a routine event arriving while the override is on is answered optOut, with the reason."""
    loop.gateway.binding = LimitSource.CONSUMER_OVERRIDE
    await loop.wait_for(lambda: loop.supervisor.session._override)
    event = loop.dsrsp.create_event(
        EventRequest(Programme.ROUTINE, Signal.ELECTRICITY_PRICE, (40.0,), 120, int(time.time()))
    )
    await loop.wait_for(
        lambda: {o[3] for o in loop.dsrsp.store.opts(event.event_id)} >= {"", "overrideStatus"}
    )
    assert {o[2] for o in loop.dsrsp.store.opts(event.event_id)} == {"optOut"}
    assert loop.gateway.applies(LimitSource.ROUTINE_DSR) == []


async def test_telemetry_and_offers_reach_dsrsp(loop) -> None:
    """SCP-MS-4, DSR-1: telemetry and PAS 1878 offers (IO, LD, MD) arrive at the DSRSP."""
    now = int(time.time())
    loop.gateway.needs = [ChargingNeed("CP-1", now, now + 4 * 3600, 14.0, 7000.0, now + 3600)]
    ven_id = loop.dsrsp.registry.registered()[0]
    await loop.wait_for(lambda: loop.dsrsp.store.readings(ven_id, "x-FLEX_OFFER"), timeout_s=10)
    usage = loop.dsrsp.store.readings(ven_id, "TELEMETRY_USAGE")
    assert {"power_w", "energy_kwh"} <= {r[1] for r in usage}
    offers = loop.dsrsp.store.readings(ven_id, "x-FLEX_OFFER")
    by_kind = {k: [v for _, r, _, v in offers if r == k] for k in ("IO", "LD", "MD")}
    assert all(len(v) >= 4 for v in by_kind.values())
    # Least delayed: full power at once. The first 15-min interval's mean loses a second of it per
    # second the VEN's report runs after ``now`` (a loaded CI machine gave 7000 x 899/900).
    assert 7000.0 * (1 - 5 / 900) <= by_kind["LD"][0] <= 7000.0 + 1e-6
    assert by_kind["MD"][0] == pytest.approx(0.0)  # most delayed: nothing yet


async def test_power_report_after_event_verifies_delivery(loop) -> None:
    """DSR-4: after a response event the CEM reports its power and the DSRSP verifies delivery."""
    now = int(time.time())
    event = loop.dsrsp.create_event(
        EventRequest(Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (1500.0,), 4, now)
    )
    ven_id = loop.dsrsp.registry.registered()[0]
    await loop.wait_for(lambda: loop.dsrsp.store.readings(ven_id, "x-POWER_REPORT"), timeout_s=15)
    samples = loop.dsrsp.store.readings(ven_id, "x-POWER_REPORT")
    assert {r_id for _, r_id, _, _ in samples} == {event.event_id}
    verdict = loop.dsrsp.verify(event.event_id, ven_id, settle_s=2)
    assert verdict.samples >= 1
    assert verdict.delivered, verdict
    assert loop.gateway.limits.get(LimitSource.RESPONSE_DSR) is None  # cleared at the end


async def test_invalid_event_payload_refused_and_logged(loop) -> None:
    """SEC-D-6: an event with a signal we cannot obey is refused with 460 and a security record."""
    from openleadr import objects

    ven_id = loop.dsrsp.registry.registered()[0]
    server = loop.dsrsp.vtn._require()
    import datetime as dt

    start = dt.datetime.now(dt.UTC)
    server.add_event(
        ven_id=ven_id,
        signal_name="BID_PRICE",
        signal_type="price",
        intervals=[objects.Interval(dtstart=start, duration=dt.timedelta(seconds=60), signal_payload=1.0)],
        market_context=Programme.ROUTINE.market_context,
        event_id="BAD-1",
        callback=loop.dsrsp.vtn._on_event_response,
    )
    store = loop.ledger.store
    await loop.wait_for(lambda: any(r.kind == "invalid_event" for r in store.security_events()))
    record = [r for r in store.security_events() if r.kind == "invalid_event"][0]
    assert record.code == 460 and "BAD-1" in record.detail
    await loop.wait_for(lambda: loop.dsrsp.store.opts("BAD-1"))
    assert loop.dsrsp.store.opts("BAD-1")[0][2] == "optOut"
    assert loop.gateway.calls == [] or all(
        c[0] == "clear" or c[2].source is not None for c in loop.gateway.calls
    )


async def test_consent_revocation_deregisters_and_erases(loop) -> None:
    """PRIV-3: revoking de-registers at the VTN, erases what was kept, and clears DSR limits."""
    now = int(time.time())
    loop.dsrsp.create_event(
        EventRequest(Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (2000.0,), 300, now)
    )
    await loop.wait_for(lambda: loop.gateway.limits.get(LimitSource.RESPONSE_DSR))
    assert loop.ledger.store.export("DSRSP-A")  # the event was kept
    loop.ledger.revoke("DSRSP-A", reason="owner left the scheme")
    await loop.wait_for(lambda: not loop.dsrsp.registry.registered())
    await loop.wait_for(lambda: not loop.ledger.store.credentials())
    assert loop.ledger.store.export("DSRSP-A") == []
    assert LimitSource.RESPONSE_DSR not in loop.gateway.limits  # local defaults apply
    assert not loop.ledger.may_read("DSRSP-A", ReadScope.TELEMETRY)
