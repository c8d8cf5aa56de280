"""The operator API over real websockets and real HTTP (issue 10 item 2): any CSMS-initiated
message to a 2.0.1 or 1.6J station, validated against the official schema before anything is
sent; every 4xx with its reason; timeouts; read endpoints; the live message stream; fan-out."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from interface_b_harness import StationHandle, register, start_station, wait_for
from smartcharge.ocpp.domain import OcppVersion

from .support import RawStation, WebCem


async def _emulated(web: WebCem, station_id: str, version: OcppVersion) -> StationHandle:
    password = await asyncio.to_thread(register, web.services.store, station_id)
    station = start_station(station_id, web.ocpp_url, version, password)
    await wait_for(lambda: station.runner.connected.is_set(), what="boot")
    await wait_for(lambda: station_id in web.services.ocpp.sessions, what="link")
    return station


async def _raw(web: WebCem, station_id: str, subprotocol: str = "ocpp2.0.1") -> RawStation:
    password = await asyncio.to_thread(register, web.services.store, station_id)
    station = RawStation(web.ocpp_url, station_id, password, subprotocol)
    await station.start()
    await wait_for(lambda: station_id in web.services.ocpp.sessions, what="link")
    return station


def _sent_to(web: WebCem, station_id: str) -> list[Any]:
    return [
        e
        for e in web.services.events.recent
        if e.station_id == station_id and e.direction == "cem_to_station" and e.message_type == "CALL"
    ]


async def test_any_message_reaches_both_versions_and_the_answer_comes_back(web_db: WebCem) -> None:
    """GetVariables to an emulated 2.0.1 station and GetConfiguration to an emulated 1.6J one come
    back as the station's CALLRESULT; a message the station does not implement comes back as its
    CALLERROR; each call is in the audit log with the answer."""
    web = web_db
    v201 = await _emulated(web, "OP-201", OcppVersion.V201)
    v16 = await _emulated(web, "OP-16", OcppVersion.V16)
    try:
        async with web.client(await web.token("operator")) as client:
            answer = await client.post(
                "/api/v1/stations/OP-201/ocpp/GetVariables",
                json={
                    "getVariableData": [
                        {"component": {"name": "ConsumerOverride"}, "variable": {"name": "Active"}}
                    ]
                },
            )
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["outcome"] == "CallResult" and body["ocpp_version"] == "2.0.1"
            [result] = body["payload"]["getVariableResult"]
            assert (
                result["attributeStatus"] == "Accepted" and result["component"]["name"] == "ConsumerOverride"
            )

            answer = await client.post("/api/v1/stations/OP-16/ocpp/GetConfiguration", json={})
            assert answer.status_code == 200, answer.text
            assert answer.json()["ocpp_version"] == "1.6" and "configurationKey" in answer.json()["payload"]

            answer = await client.post("/api/v1/stations/OP-201/ocpp/ClearDisplayMessage", json={"id": 1})
            assert answer.status_code == 200
            assert answer.json()["outcome"] == "CallError"
            # A known action this station does not support: NotSupported (OCPP-J 4.2.3).
            assert answer.json()["error"]["code"] == "NotSupported"
        entries = await asyncio.to_thread(web.services.audit_log.recent, 3)
        assert [e.status_code for e in entries] == [200, 200, 200]
        assert entries[0].detail.startswith("ClearDisplayMessage to OP-201: CallError NotSupported")
        assert entries[2].detail.startswith("GetVariables to OP-201: CallResult")
    finally:
        await v201.close()
        await v16.close()


#: (station, action, payload, status, words the refusal must contain)
BAD_CALLS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("RAW-1", "Reset", {"type": "Sometimes"}, 422, "type: enum"),
    ("RAW-1", "Reset", {}, 422, "type: required"),
    ("RAW-1", "Reset", {"type": "Immediate", "evseId": "one"}, 422, "evseId: type"),
    ("RAW-1", "Reset", {"type": "Immediate", "colour": "red"}, 422, "additionalProperties"),
    (
        "RAW-1",
        "SetChargingProfile",
        {
            "evseId": 0,
            "chargingProfile": {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "kW",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1}],
                    }
                ],
            },
        },
        422,
        "chargingProfile.chargingSchedule[0].chargingRateUnit: enum",
    ),
    (
        "RAW-1",
        "RemoteStartTransaction",
        {"idTag": "x"},
        422,
        "not a CSMS-initiated message of OCPP 2.0.1",
    ),
    ("RAW-1", "BootNotification", {}, 422, "not a CSMS-initiated message"),
    (
        "RAW-16",
        "RequestStartTransaction",
        {"idToken": {}},
        422,
        "not a CSMS-initiated message of OCPP 1.6",
    ),
    ("RAW-16", "ChangeConfiguration", {"key": "k" * 51, "value": "v"}, 422, "key: maxLength"),
    ("NOBODY", "Reset", {"type": "Immediate"}, 404, "not registered"),
    ("OFFLINE", "Reset", {"type": "Immediate"}, 409, "not connected"),
]


async def test_bad_calls_are_refused_with_the_reason_and_nothing_is_sent(web: WebCem) -> None:
    """An invalid payload, an action not in the station's version, an unknown or an offline
    station: a 4xx naming the field or the reason, and the station receives nothing (seen on the
    station's own socket and on the CEM's message tap). One CEM for all cases, checked after each."""
    raw201 = await _raw(web, "RAW-1")
    raw16 = await _raw(web, "RAW-16", "ocpp1.6")
    await asyncio.to_thread(register, web.services.store, "OFFLINE")
    try:
        async with web.client(await web.token("operator")) as client:
            for station, action, payload, status, reason in BAD_CALLS:
                answer = await client.post(f"/api/v1/stations/{station}/ocpp/{action}", json=payload)
                assert answer.status_code == status, (station, action, answer.text)
                assert reason in answer.json()["detail"], (station, action, answer.text)
                assert raw201.calls() == [] and raw16.calls() == [], (station, action)
                assert _sent_to(web, station) == [], (station, action)
            # Proof that the links work and the refusals were not dead sockets: valid calls go through.
            assert (
                await client.post("/api/v1/stations/RAW-1/ocpp/Reset", json={"type": "OnIdle"})
            ).status_code == 200
            assert (await client.post("/api/v1/stations/RAW-16/ocpp/ClearCache", json={})).status_code == 200
        assert [c[2:] for c in raw201.calls()] == [["Reset", {"type": "OnIdle"}]]
        assert [c[2] for c in raw16.calls()] == ["ClearCache"]
        assert [e.action for e in _sent_to(web, "RAW-1")] == ["Reset"]
    finally:
        await raw201.close()
        await raw16.close()


async def test_refusals_of_the_request_itself(web: WebCem) -> None:
    """A body that is not a JSON object, a bad timeout, a malformed action or station id: 422
    naming the field, nothing sent."""
    raw = await _raw(web, "RAW-2")
    try:
        async with web.client(await web.token("operator")) as client:
            cases = [
                ("/api/v1/stations/RAW-2/ocpp/Reset", [1, 2], {}, "body"),
                ("/api/v1/stations/RAW-2/ocpp/Reset", {"type": "Immediate"}, {"timeout_s": "0"}, "timeout_s"),
                ("/api/v1/stations/RAW-2/ocpp/Re$et", {"type": "Immediate"}, {}, "action"),
                ("/api/v1/stations/bad%20id/ocpp/Reset", {"type": "Immediate"}, {}, "station_id"),
            ]
            for path, body, params, field in cases:
                answer = await client.post(path, json=body, params=params)
                assert answer.status_code == 422, (path, answer.text)
                assert field in answer.json()["detail"], answer.text
        assert raw.calls() == []
    finally:
        await raw.close()


async def test_no_answer_within_the_timeout_is_504_and_the_link_recovers(web: WebCem) -> None:
    raw = await _raw(web, "RAW-3")
    try:
        raw.answering = False
        async with web.client(await web.token("operator")) as client:
            answer = await client.post(
                "/api/v1/stations/RAW-3/ocpp/Reset", json={"type": "Immediate"}, params={"timeout_s": 0.3}
            )
            assert (
                answer.status_code == 504 and "did not answer Reset within 0.3 s" in answer.json()["detail"]
            )
            raw.answering = True
            answer = await client.post("/api/v1/stations/RAW-3/ocpp/ClearCache", json={})
            assert answer.status_code == 200 and answer.json()["payload"] == {"status": "Accepted"}
        assert [c[2] for c in raw.calls()] == ["Reset", "ClearCache"]
    finally:
        await raw.close()


async def test_viewer_reads_but_may_not_send(web: WebCem) -> None:
    """Reads need viewer (or more); sending needs operator; owners have no operator views."""
    raw = await _raw(web, "RAW-4")
    try:
        async with web.client(await web.token("viewer")) as client:
            refused = await client.post("/api/v1/stations/RAW-4/ocpp/Reset", json={"type": "Immediate"})
            assert refused.status_code == 403
            stations = (await client.get("/api/v1/stations")).json()
            [view] = stations
            assert view["station_id"] == "RAW-4" and view["connected"] is True
            assert view["ocpp_version"] == "2.0.1" and view["security_profile"] == 1
            await wait_for(lambda: raw.station_id, what="-")
        await wait_for(
            lambda: web.services.store.stations.get("RAW-4").last_boot_at is not None,  # type: ignore[union-attr]
            what="boot recorded",
        )
        async with web.client(await web.token("viewer")) as client:
            view = (await client.get("/api/v1/stations/RAW-4")).json()
            assert view["boot"]["vendor"] == "RawCo" and view["boot"]["model"] == "R1"
            assert (await client.get("/api/v1/stations/NOPE")).status_code == 404
            assert (await client.get("/api/v1/stations/RAW-4/sessions")).json() == []
            log = (await client.get("/api/v1/security-log")).json()
            assert isinstance(log, list)
        async with web.client(await web.token("owner")) as client:
            assert (await client.get("/api/v1/stations")).status_code == 403
        assert raw.calls() == []
    finally:
        await raw.close()


async def test_event_stream_shows_both_directions_filtered(web: WebCem) -> None:
    """GET /api/v1/events streams the CALL sent to the station and its CALLRESULT, both labelled
    with the action, for the station and action asked for, and nothing of another station."""
    raw = await _raw(web, "RAW-5")
    other = await _raw(web, "RAW-6")
    events: list[dict[str, Any]] = []
    try:
        async with (
            web.client(await web.token("viewer")) as viewer,
            web.client(await web.token("operator")) as op,
        ):
            async with viewer.stream(
                "GET", "/api/v1/events", params={"station": "RAW-5", "action": ["ClearCache", "Reset"]}
            ) as stream:
                lines = stream.aiter_lines()
                assert await anext(lines) == ": connected"
                await op.post("/api/v1/stations/RAW-6/ocpp/ClearCache", json={})
                await op.post("/api/v1/stations/RAW-5/ocpp/GetLocalListVersion", json={})
                await op.post("/api/v1/stations/RAW-5/ocpp/ClearCache", json={})
                while len(events) < 2:
                    line = await asyncio.wait_for(anext(lines), 10)
                    if line.startswith("data: "):
                        events.append(json.loads(line[6:]))
        assert [(e["direction"], e["message_type"], e["action"]) for e in events] == [
            ("cem_to_station", "CALL", "ClearCache"),
            ("station_to_cem", "CALLRESULT", "ClearCache"),
        ]
        assert {e["station_id"] for e in events} == {"RAW-5"} and events[1]["payload"] == {
            "status": "Accepted"
        }
        await wait_for(lambda: web.services.events.subscriber_count == 0, what="the stream to unsubscribe")
    finally:
        await raw.close()
        await other.close()


async def test_fan_out_reaches_every_connected_target_and_names_the_offline(web: WebCem) -> None:
    stations = [await _raw(web, f"FAN-{i}") for i in range(3)]
    legacy = await _raw(web, "FAN-16", "ocpp1.6")
    try:
        async with web.client(await web.token("operator")) as client:
            answer = await client.post(
                "/api/v1/ocpp/ClearCache/fan-out",
                json={"station_ids": ["FAN-0", "FAN-1", "FAN-2", "FAN-16", "GONE"], "payload": {}},
            )
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["sent"] == 4
            assert [(r["station_id"], r["outcome"]) for r in body["results"]] == [
                ("FAN-0", "CallResult"),
                ("FAN-1", "CallResult"),
                ("FAN-2", "CallResult"),
                ("FAN-16", "CallResult"),
                ("GONE", "NotConnected"),
            ]
            # Valid in 2.0.1, not in 1.6: refused for all, sent to none.
            refused = await client.post(
                "/api/v1/ocpp/GetBaseReport/fan-out",
                json={"payload": {"requestId": 1, "reportBase": "FullInventory"}},
            )
            assert refused.status_code == 422 and "OCPP 1.6" in refused.json()["detail"]
        assert all([c[2] for c in s.calls()] == ["ClearCache"] for s in [*stations, legacy])
    finally:
        for s in [*stations, legacy]:
            await s.close()
