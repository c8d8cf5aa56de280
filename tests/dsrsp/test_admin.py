"""The DSRSP admin endpoint: mutual TLS with an operator certificate, JSON checked field by field."""

from __future__ import annotations

import pytest

from smartcharge.openadr.admin import AdminError, post_admin
from smartcharge.openadr.ven import VenAdapter, VenConfig

pytestmark = pytest.mark.integration


def _base(dsrsp) -> str:
    return f"https://127.0.0.1:{dsrsp.vtn.bound_port}"


async def _post(dsrsp, leaf: str, action: str, body: dict) -> dict:
    ca, leaves = dsrsp.test_pki
    return await post_admin(_base(dsrsp), action, body, leaves[leaf].cert, leaves[leaf].key, ca)


async def test_operator_creates_event_for_registered_cem(dsrsp) -> None:
    """SCP-SF-5: an operator queues a response event; it targets the registered CEM."""
    ca, leaves = dsrsp.test_pki
    ven = VenAdapter(
        VenConfig(
            "home-cem", dsrsp.vtn.url, leaves["vtn"].fingerprint, leaves["cem"].cert, leaves["cem"].key, ca
        )
    )
    try:
        registration = await ven.register()
        answer = await _post(
            dsrsp,
            "operator",
            "events",
            {"programme": "response", "signal": "LOAD_DISPATCH", "values": [1500]},
        )
        assert answer["ven_ids"] == [registration.ven_id]
        result = await ven.poll()
        assert [e.event_id for e in result.events] == [answer["event_id"]]
        assert result.events[0].intervals[0].value == 1500.0
    finally:
        await ven.close()


async def test_non_operator_certificate_refused(dsrsp) -> None:
    """SEC-S-8: a valid CEM certificate is not an operator certificate: 403 and a security record."""
    with pytest.raises(AdminError, match="403"):
        await _post(dsrsp, "cem", "cems", {})
    await dsrsp.flush()
    assert dsrsp.store.security_events()[-1].kind == "operator_not_authorised"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"programme": "sometimes", "signal": "SIMPLE", "values": [1]}, "programme"),
        ({"programme": "routine", "signal": "LOUD", "values": [1]}, "signal"),
        ({"programme": "routine", "signal": "SIMPLE", "values": 1}, "values"),
        ({"programme": "routine", "signal": "SIMPLE", "values": [1], "interval_s": "15m"}, "interval_s"),
        ({"programme": "response", "signal": "SIMPLE", "values": [1], "start_after_s": 60}, "start_after_s"),
        ({"programme": "routine", "signal": "SIMPLE", "values": [1], "ven_ids": ["VEN-NOBODY"]}, "ven_ids"),
    ],
)
async def test_bad_event_body_refused_naming_field(dsrsp, body: dict, field: str) -> None:
    """SEC-D-6: the admin API answers 422 and names the field and the rule."""
    with pytest.raises(AdminError, match=f"422.*{field}"):
        await _post(dsrsp, "operator", "events", body)


async def test_cli_event_command_creates_routine_event(dsrsp) -> None:
    """OP-R1: ``smartcharge dsrsp event`` reaches the admin endpoint; bad values are refused (exit 2)."""
    import asyncio
    import json

    from typer.testing import CliRunner

    from smartcharge.cli.main import app

    ca, leaves = dsrsp.test_pki
    base = ["dsrsp", "event", "--url", _base(dsrsp), "--cert", str(leaves["operator"].cert)]
    base += ["--key", str(leaves["operator"].key), "--ca-file", str(ca), "--programme", "routine"]
    good = [*base, "--signal", "ELECTRICITY_PRICE", "--values", "30,12", "--interval-s", "1800"]
    result = await asyncio.to_thread(CliRunner().invoke, app, [*good, "--start-after-s", "600"])
    # No CEM is registered with this DSRSP: the event is queued, and the operator is told it
    # reaches nobody (exit 1) rather than shown an empty list as if all were well.
    assert result.exit_code == 1, result.output
    assert "warning: the event reaches no CEM" in result.output
    event_id = json.loads(result.output.splitlines()[0])["event_id"]
    event = dsrsp.events[event_id][0]
    assert event.start_after_s == 600 and [i.value for i in event.intervals] == [30.0, 12.0]
    bad = await asyncio.to_thread(CliRunner().invoke, app, [*base, "--signal", "SIMPLE", "--values", "high"])
    assert bad.exit_code == 2 and "values" in bad.output
