"""OCPP 2.0.1 blocks C and D (and the 1.6 equivalents) over real websockets: the CEM's id-token
store answers Authorize and TransactionEvent with idTokenInfo (C01, C05, C09, E01.FR.11/12);
an expired, blocked or unknown token never starts charging; the station's local list (D01
SendLocalList full and differential, D02 GetLocalListVersion) and cache (C10, C11 ClearCache)
authorize offline (C12, C13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from core_harness import connected, send

from interface_b_harness import CemHandle, wait_for
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.station.ev import EV

pytestmark = pytest.mark.integration
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
VERSIONS = [OcppVersion.V201, OcppVersion.V16]


def _tokens(cem: CemHandle) -> None:
    tokens = cem.gateway.id_tokens
    tokens.add("GOOD-1", group_id_token="FLEET-A")
    tokens.add("FLEET-A")
    tokens.add("BLOCKED-1", status="Blocked")
    tokens.add("OLD-1", expires_at=datetime.now(UTC) - timedelta(days=1))
    tokens.add("FLEET-B", status="Blocked")
    tokens.add("MEMBER-B", group_id_token="FLEET-B")


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.value)
async def test_authorize_answers_from_the_store(cem: CemHandle, version: OcppVersion) -> None:
    _tokens(cem)
    station, _ = await connected(cem, version=version)
    session = station.runner.session
    good = await session.authorize_info("GOOD-1")
    assert good.status == "Accepted" and good.group_id_token == "FLEET-A"
    assert (await session.authorize_info("BLOCKED-1")).status == "Blocked"
    assert (await session.authorize_info("OLD-1")).status == "Expired"
    assert (await session.authorize_info("MEMBER-B")).status == "Blocked"  # its group is blocked
    unknown = "Unknown" if version is OcppVersion.V201 else "Invalid"  # 1.6 has no Unknown
    assert (await session.authorize_info("NOBODY")).status == unknown
    await station.close()


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.value)
@pytest.mark.parametrize("token", ["BLOCKED-1", "OLD-1", "NOBODY"])
async def test_a_refused_token_never_starts_charging(
    cem: CemHandle, version: OcppVersion, token: str
) -> None:
    """Presented at the station: refused before any session. Forced (a station that starts
    anyway): the TransactionEvent / StartTransaction answer refuses it and the session is
    stopped DeAuthorized without energy."""
    _tokens(cem)
    station, _ = await connected(cem, version=version)
    info = await station.runner.present_token(token, EV(soc=0.5))
    assert not info.accepted and station.device.transaction_id is None
    station.device.plug_in(EV(soc=0.5), id_token=token)
    await wait_for(lambda: station.device.transaction_id is None, what="deauthorized")
    await wait_for(lambda: cem.store.sessions.sessions("CP1", EPOCH), what="session stored")
    await wait_for(lambda: cem.store.sessions.sessions("CP1", EPOCH)[0].stopped_at is not None)
    view = cem.store.sessions.sessions("CP1", EPOCH)[0]
    assert view.energy_kwh == 0.0
    await station.close()


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.value)
async def test_an_accepted_token_starts_and_the_answer_carries_id_token_info(
    cem: CemHandle, version: OcppVersion
) -> None:
    _tokens(cem)
    station, _ = await connected(cem, version=version)
    info = await station.runner.present_token("GOOD-1", EV(soc=0.5))
    assert info.accepted
    await wait_for(lambda: cem.gateway.stations["CP1"].transaction_id is not None, what="session")
    await wait_for(lambda: not station.device.outbox, what="sent")
    assert station.device.transaction_id is not None  # the answer's idTokenInfo kept it running
    assert station.device.auth.cache["good-1"].status == "Accepted"
    await station.close()


async def test_local_list_and_cache_authorize_offline(cem: CemHandle) -> None:
    """D01/D02, C10/C11, then offline: list first, then cache; unknown refused (C12, C13)."""
    cem.gateway.id_tokens.add("CACHED-1")
    station, link = await connected(cem)
    full = [{"idToken": {"idToken": "LIST-1", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}}]
    answer = await send(
        link, "SendLocalList", versionNumber=1, updateType="Full", localAuthorizationList=full
    )
    assert answer.status == "Accepted"
    diff = [
        {"idToken": {"idToken": "LIST-2", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}},
        {"idToken": {"idToken": "LIST-1", "type": "ISO14443"}},
    ]
    answer = await send(
        link, "SendLocalList", versionNumber=2, updateType="Differential", localAuthorizationList=diff
    )
    assert answer.status == "Accepted"
    stale = await send(link, "SendLocalList", versionNumber=2, updateType="Differential")
    assert stale.status == "VersionMismatch"
    assert (await send(link, "GetLocalListVersion")).version_number == 2
    await station.runner.authorize("CACHED-1")
    assert (await send(link, "ClearCache")).status == "Accepted"
    assert station.device.auth.cache == {}
    assert (await station.runner.authorize("CACHED-1")).accepted  # cached again
    await cem.close()
    await wait_for(lambda: not station.runner.connected.is_set(), what="link down")
    assert not (await station.runner.present_token("LIST-1")).accepted  # removed by the diff
    assert not (await station.runner.present_token("STRANGER")).accepted
    assert (await station.runner.present_token("LIST-2")).accepted
    station.device.unplug()
    assert (await station.runner.present_token("CACHED-1")).accepted
    assert station.device.transaction_id is not None
    await station.close()
