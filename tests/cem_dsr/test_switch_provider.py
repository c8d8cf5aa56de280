"""Switching DSR service provider with no lost function (report 5.2-5.6, INT-6, ARB-7).

DSRSP-A runs in the test process, DSRSP-B in a subprocess (``smartcharge dsrsp serve``): one
openleadr VTN per process. Both speak HTTPS with client certificates and signed messages.
"""

from __future__ import annotations

import time

import pytest

from smartcharge.cem.dsr_switch import adapter_for, switch_provider
from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import LimitSource
from smartcharge.dsrsp.programmes import EventRequest
from smartcharge.openadr.model import Programme, Signal
from smartcharge.openadr.ven import VenError

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_switch_provider_keeps_dsr_working_and_refuses_old(loop, remote_dsrsp_b, cem_identity) -> None:
    """INT-6: cancel at the old VTN, erase its credentials and data, register at the new one; local
    defaults in between; DSR works with the new provider and the old one is refused afterwards."""
    now = int(time.time())
    loop.dsrsp.create_event(
        EventRequest(Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (2000.0,), 600, now)
    )
    await loop.wait_for(lambda: LimitSource.RESPONSE_DSR in loop.gateway.limits)
    old_cred = loop.ledger.store.credentials()["DSRSP-A"]
    old_ven_id = old_cred.ven_id
    assert loop.ledger.store.export("DSRSP-A")

    switched_at = time.time()
    switch_provider(loop.ledger, "DSRSP-B", remote_dsrsp_b.url, remote_dsrsp_b.fingerprint)

    await loop.wait_for(lambda: list(loop.ledger.store.credentials()) == ["DSRSP-B"], timeout_s=20)
    assert loop.dsrsp.registry.registered() == []  # oadrCancelPartyRegistration reached A
    assert loop.ledger.store.export("DSRSP-A") == []  # data kept for A erased
    cems = (await remote_dsrsp_b.admin("cems", {}))["cems"]
    assert [c["registered"] for c in cems] == [True]

    # Local defaults in between: A's limit was cleared before anything from B applied.
    cleared = [c for c in loop.gateway.calls if c[0] == "clear" and c[2] is LimitSource.RESPONSE_DSR]
    assert any(c[3] >= switched_at for c in cleared)
    assert LimitSource.RESPONSE_DSR not in loop.gateway.limits

    answer = await remote_dsrsp_b.admin(
        "events", {"programme": "response", "signal": "LOAD_DISPATCH", "values": [1100.0], "interval_s": 300}
    )
    applied_before = len(loop.gateway.applies(LimitSource.RESPONSE_DSR))
    await loop.wait_for(
        lambda: len(loop.gateway.applies(LimitSource.RESPONSE_DSR)) > applied_before, timeout_s=15
    )
    last = loop.gateway.applies(LimitSource.RESPONSE_DSR)[-1]
    assert last[2].value_w == 1100.0 and answer["event_id"] in last[2].detail

    # The old provider can no longer reach the CEM, and the CEM's old identity there is refused.
    with pytest.raises(ValidationError, match="not a registered CEM"):
        loop.dsrsp.create_event(
            EventRequest(Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (0.0,), 60, now), [old_ven_id]
        )
    stale = adapter_for(cem_identity, old_cred.vtn_url, old_cred.vtn_fingerprint, loop.ledger.store, old_cred)
    try:
        with pytest.raises(VenError, match="463"):
            await stale.poll()
    finally:
        await stale.close()
    await loop.dsrsp.flush()
    kinds = [r.kind for r in loop.dsrsp.store.security_events()]
    assert "unknown_ven" in kinds


async def test_second_controlling_provider_refused_without_switch(loop, pki) -> None:
    """ARB-7: granting control to a second DSRSP while one controls is refused; switch instead."""
    with pytest.raises(ValidationError, match="already controls"):
        loop.ledger.grant("DSRSP-C", "https://127.0.0.1:1/x", pki.leaves["vtn_b"].fingerprint)
    with pytest.raises(ValidationError, match="already the controlling provider"):
        switch_provider(loop.ledger, "DSRSP-A", loop.dsrsp.vtn.url, pki.leaves["vtn_a"].fingerprint)
