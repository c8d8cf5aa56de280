# mypy: disable-error-code="untyped-decorator"
"""OCPP 2.0.1 on both ends: the CEM's side of a station connection, and the station's own side.

Wire dicts are converted here, once, into :mod:`smartcharge.ocpp.domain` objects. Follow-up calls
that a message triggers (ReportChargingProfiles after GetChargingProfiles, LogStatusNotification
after GetLog) run as tasks kept in a set, never awaited inside the handler (the receive loop would
block waiting for our own reply).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import call, call_result

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import w_from_a
from smartcharge.ocpp.csms_base import CsmsBase
from smartcharge.ocpp.domain import (
    BootInfo,
    ChargingLimitNotice,
    ChargingProfile,
    CompositeSchedule,
    MeterReading,
    OcppVersion,
    ProfilePurpose,
    ProfileReport,
    SecurityNotice,
    StatusReport,
    TransactionMessage,
    VariableRef,
    VariableResult,
    format_time,
    parse_time,
)
from smartcharge.ocpp.rpc import as_ocpp_error
from smartcharge.ocpp.station_base import StationBase

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 300
_PROFILE_STATUSES = frozenset({"Accepted", "Rejected"})
_CLEAR_STATUSES = frozenset({"Accepted", "Unknown"})


def _now() -> str:
    return format_time(datetime.now(UTC))


# ---- wire <-> domain -------------------------------------------------------------------------


def profile_to_wire(profile: ChargingProfile) -> dict[str, Any]:
    """A flat limit as an absolute 2.0.1 ChargingProfileType in W (K01)."""
    wire: dict[str, Any] = {
        "id": profile.profile_id,
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": profile.purpose.value,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": profile.profile_id,
                "chargingRateUnit": "W",
                "startSchedule": _now(),
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": round(profile.limit_w, 1)}],
            }
        ],
    }
    if profile.valid_to is not None:
        wire["validTo"] = format_time(profile.valid_to)
    if profile.transaction_id is not None:
        wire["transactionId"] = profile.transaction_id
    if profile.randomised_upstream:
        # OCPP has no field for "already randomised upstream" (SCP-RD-4); customData carries it.
        wire["customData"] = {"vendorId": "smartcharge", "randomisedUpstream": True}
    return wire


def profile_from_wire(wire: dict[str, Any]) -> ChargingProfile:
    """A received (snake_case) ChargingProfileType as a flat limit; multi-period profiles refused."""
    schedules = wire.get("charging_schedule") or []
    if len(schedules) != 1 or len(schedules[0].get("charging_schedule_period", [])) != 1:
        raise ValidationError(
            "chargingSchedule", len(schedules), "this station takes one schedule of one period"
        )
    schedule = schedules[0]
    period = schedule["charging_schedule_period"][0]
    limit = float(period["limit"])
    if schedule["charging_rate_unit"] == "A":
        limit = w_from_a(limit, phases=int(period.get("number_phases", 1)))
    valid_to = wire.get("valid_to")
    custom = wire.get("custom_data") or {}
    return ChargingProfile(
        profile_id=int(wire["id"]),
        stack_level=int(wire["stack_level"]),
        purpose=ProfilePurpose(wire["charging_profile_purpose"]),
        limit_w=limit,
        valid_to=None if valid_to is None else parse_time(valid_to, "validTo"),
        transaction_id=wire.get("transaction_id"),
        randomised_upstream=bool(custom.get("randomised_upstream", False)),
    )


def readings_from_wire(meter_value: list[dict[str, Any]] | None) -> tuple[MeterReading, ...]:
    readings = []
    for mv in meter_value or []:
        at = parse_time(mv["timestamp"], "meterValue.timestamp")
        for sv in mv["sampled_value"]:
            unit = (sv.get("unit_of_measure") or {}).get("unit", "Wh")
            measurand = sv.get("measurand", "Energy.Active.Import.Register")
            readings.append(
                MeterReading(
                    at,
                    measurand,
                    float(sv["value"]),
                    unit,
                    sv.get("context", "Sample.Periodic"),
                    sv.get("phase"),
                    sv.get("location", "Outlet"),
                )
            )
    return tuple(readings)


def readings_to_wire(readings: tuple[MeterReading, ...]) -> list[dict[str, Any]]:
    by_time: dict[datetime, list[dict[str, Any]]] = {}
    for r in readings:
        by_time.setdefault(r.measured_at, []).append(
            {
                "value": r.value,
                "measurand": r.measurand,
                "context": r.context,
                "unitOfMeasure": {"unit": r.unit},
                **({} if r.phase is None else {"phase": r.phase}),
                **({} if r.location == "Outlet" else {"location": r.location}),
            }
        )
    return [{"timestamp": format_time(at), "sampledValue": values} for at, values in by_time.items()]


def _ref_wire(ref: VariableRef) -> dict[str, Any]:
    return {"component": {"name": ref.component}, "variable": {"name": ref.variable}}


def _ref_from(item: dict[str, Any]) -> VariableRef:
    return VariableRef(item["component"]["name"], item["variable"]["name"])


# ---- the CEM's side ----------------------------------------------------------------------------


class CsmsV201(CsmsBase):
    """One OCPP 2.0.1 station as the CEM sees it: its messages go to ``events``; commands go out."""

    version = OcppVersion.V201
    _call = call
    _call_result = call_result
    _ocpp_version = "2.0.1"

    @on("BootNotification")
    async def on_boot_notification(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        info = BootInfo(
            charging_station["vendor_name"],
            charging_station["model"],
            charging_station.get("firmware_version"),
            reason,
        )
        accepted = await self._events.on_boot(self.station_id, self.version, info)
        return call_result.BootNotification(
            current_time=_now(), interval=HEARTBEAT_INTERVAL_S, status="Accepted" if accepted else "Rejected"
        )

    @on("Heartbeat")
    async def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=_now())

    @on("StatusNotification")
    async def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **_: Any
    ) -> Any:
        try:
            report = StatusReport(evse_id, connector_id, connector_status, parse_time(timestamp))
        except ValidationError as error:
            raise as_ocpp_error(error) from None
        await self._events.on_status(self.station_id, report)
        return call_result.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        ok = await self._events.authorize(self.station_id, id_token["id_token"])
        return call_result.Authorize(id_token_info={"status": "Accepted" if ok else "Invalid"})

    @on("TransactionEvent")
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        meter_value: list[dict[str, Any]] | None = None,
        offline: bool = False,
        id_token: dict[str, Any] | None = None,
        evse: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        try:
            message = TransactionMessage(
                transaction_id=transaction_info["transaction_id"],
                seq_no=seq_no,
                event_type=event_type,
                trigger_reason=trigger_reason,
                occurred_at=parse_time(timestamp),
                readings=readings_from_wire(meter_value),
                offline=offline,
                id_token=None if id_token is None else id_token["id_token"],
                stop_reason=transaction_info.get("stopped_reason"),
                evse_id=1 if evse is None else int(evse["id"]),
                charging_state=transaction_info.get("charging_state"),
            )
        except ValidationError as error:
            raise as_ocpp_error(error) from None
        await self._events.on_transaction(self.station_id, message)
        return call_result.TransactionEvent()

    @on("MeterValues")
    async def on_meter_values(self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any) -> Any:
        try:
            readings = readings_from_wire(meter_value)
        except ValidationError as error:
            raise as_ocpp_error(error) from None
        await self._events.on_meter_values(self.station_id, None, readings)
        return call_result.MeterValues()

    @on("SecurityEventNotification")
    async def on_security_event_notification(
        self, type: str, timestamp: str, tech_info: str | None = None, **_: Any
    ) -> Any:
        await self._events.on_security_event(
            self.station_id, SecurityNotice(type, parse_time(timestamp), tech_info)
        )
        return call_result.SecurityEventNotification()

    @on("NotifyChargingLimit")
    async def on_notify_charging_limit(
        self,
        charging_limit: dict[str, Any],
        charging_schedule: list[dict[str, Any]] | None = None,
        evse_id: int | None = None,
        **_: Any,
    ) -> Any:
        limit_w = None
        if charging_schedule:
            limit_w = float(charging_schedule[0]["charging_schedule_period"][0]["limit"])
        notice = ChargingLimitNotice(charging_limit["charging_limit_source"], limit_w, evse_id)
        await self._events.on_charging_limit(self.station_id, notice)
        return call_result.NotifyChargingLimit()

    @on("ReportChargingProfiles")
    async def on_report_charging_profiles(
        self,
        request_id: int,
        charging_limit_source: str,
        charging_profile: list[dict[str, Any]],
        evse_id: int,
        **_: Any,
    ) -> Any:
        try:
            profiles = tuple(profile_from_wire(p) for p in charging_profile)
        except ValidationError as error:
            raise as_ocpp_error(error) from None
        await self._events.on_profile_report(self.station_id, ProfileReport(request_id, profiles))
        return call_result.ReportChargingProfiles()

    # commands (StationLink)

    async def set_charging_profile(self, profile: ChargingProfile, evse_id: int = 0) -> str:
        payload = {"evseId": evse_id, "chargingProfile": profile_to_wire(profile)}
        return await self._request_own("SetChargingProfile", payload, _PROFILE_STATUSES)

    async def clear_charging_profile(self, profile_id: int | None, purpose: ProfilePurpose | None) -> str:
        criteria = None if purpose is None else {"chargingProfilePurpose": purpose.value}
        payload: dict[str, Any] = {}
        if profile_id is not None:
            payload["chargingProfileId"] = profile_id
        if criteria is not None:
            payload["chargingProfileCriteria"] = criteria
        return await self._request_own("ClearChargingProfile", payload, _CLEAR_STATUSES)

    async def get_composite_schedule(self, duration_s: int, evse_id: int = 0) -> CompositeSchedule:
        result = await self._request(
            call.GetCompositeSchedule(duration=duration_s, evse_id=evse_id, charging_rate_unit="W")
        )
        schedule = result.schedule
        limit = None
        if schedule:
            limit = float(schedule["charging_schedule_period"][0]["limit"])
        return CompositeSchedule(str(result.status), limit, duration_s)

    async def get_charging_profiles(self, request_id: int) -> str:
        result = await self._request(call.GetChargingProfiles(request_id=request_id, charging_profile={}))
        return str(result.status)

    async def get_variables(self, refs: list[VariableRef]) -> list[VariableResult]:
        result = await self._request(call.GetVariables(get_variable_data=[_ref_wire(r) for r in refs]))
        return [
            VariableResult(_ref_from(item), item["attribute_status"], item.get("attribute_value"))
            for item in result.get_variable_result
        ]

    async def set_variables(self, values: list[tuple[VariableRef, str]]) -> list[VariableResult]:
        data = [{**_ref_wire(ref), "attributeValue": value} for ref, value in values]
        result = await self._request(call.SetVariables(set_variable_data=data))
        return [
            VariableResult(_ref_from(item), item["attribute_status"]) for item in result.set_variable_result
        ]

    async def request_start(self, id_token: str, remote_start_id: int) -> str:
        result = await self._request(
            call.RequestStartTransaction(
                id_token={"idToken": id_token, "type": "Central"}, remote_start_id=remote_start_id, evse_id=1
            )
        )
        return str(result.status)

    async def request_stop(self, transaction_id: str) -> str:
        result = await self._request(call.RequestStopTransaction(transaction_id=transaction_id))
        return str(result.status)

    async def reset(self) -> str:
        result = await self._request(call.Reset(type="Immediate"))
        return str(result.status)

    async def get_log(self, remote_location: str, request_id: int) -> str:
        result = await self._request(
            call.GetLog(
                log={"remoteLocation": remote_location}, log_type="SecurityLog", request_id=request_id
            )
        )
        return str(result.status)


# ---- the station's side --------------------------------------------------------------------


class StationV201(StationBase):
    """The station end of an OCPP 2.0.1 connection: CSMS commands go to ``device``."""

    version = OcppVersion.V201
    _call = call
    _call_result = call_result
    _ocpp_version = "2.0.1"

    @on("SetChargingProfile")
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any], **_: Any) -> Any:
        try:
            accepted = self.device.set_charging_profile(profile_from_wire(charging_profile))
        except (ValidationError, KeyError, ValueError) as error:
            logger.warning("%s: charging profile refused: %s", self.id, error)
            return call_result.SetChargingProfile(
                status="Rejected", status_info={"reasonCode": "InvalidValue"}
            )
        return call_result.SetChargingProfile(status="Accepted" if accepted else "Rejected")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        purpose = None
        if charging_profile_criteria and "charging_profile_purpose" in charging_profile_criteria:
            purpose = ProfilePurpose(charging_profile_criteria["charging_profile_purpose"])
        cleared = self.device.clear_charging_profile(charging_profile_id, purpose)
        return call_result.ClearChargingProfile(status="Accepted" if cleared else "Unknown")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(self, duration: int, evse_id: int, **_: Any) -> Any:
        limit = self.device.composite_limit_w()
        schedule = {
            "evseId": evse_id,
            "duration": duration,
            "scheduleStart": _now(),
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": round(limit if limit is not None else 0.0, 1)}
            ],
        }
        return call_result.GetCompositeSchedule(status="Accepted", schedule=schedule)

    @on("GetChargingProfiles")
    def on_get_charging_profiles(self, request_id: int, **_: Any) -> Any:
        has_any = bool(self.device.charging_profiles())
        return call_result.GetChargingProfiles(status="Accepted" if has_any else "NoProfiles")

    @after("GetChargingProfiles")
    def after_get_charging_profiles(self, request_id: int, **_: Any) -> None:
        profiles = self.device.charging_profiles()
        if profiles:
            self._spawn(self._report_profiles(request_id, profiles))

    async def _report_profiles(self, request_id: int, profiles: tuple[ChargingProfile, ...]) -> None:
        await self.call(
            call.ReportChargingProfiles(
                request_id=request_id,
                charging_limit_source="CSO",
                charging_profile=[profile_to_wire(p) for p in profiles],
                evse_id=0,
            ),
            suppress=False,
        )

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        results = []
        for item in get_variable_data:
            got = self.device.get_variable(_ref_from(item))
            entry: dict[str, Any] = {**_ref_wire(got.ref), "attributeStatus": got.status}
            if got.value is not None:
                entry["attributeValue"] = got.value
            results.append(entry)
        return call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        results = []
        for item in set_variable_data:
            got = self.device.set_variable(_ref_from(item), str(item["attribute_value"]))
            results.append({**_ref_wire(got.ref), "attributeStatus": got.status})
        return call_result.SetVariables(set_variable_result=results)

    @on("RequestStartTransaction")
    def on_request_start_transaction(self, id_token: dict[str, Any], remote_start_id: int, **_: Any) -> Any:
        ok = self.device.request_start(id_token["id_token"])
        return call_result.RequestStartTransaction(status="Accepted" if ok else "Rejected")

    @on("RequestStopTransaction")
    def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> Any:
        ok = self.device.request_stop(transaction_id)
        return call_result.RequestStopTransaction(status="Accepted" if ok else "Rejected")

    # uplink (station -> CSMS)

    async def boot(self, vendor: str, model: str, firmware: str, reason: str = "PowerUp") -> str:
        result = await self.call(
            call.BootNotification(
                charging_station={"vendorName": vendor, "model": model, "firmwareVersion": firmware},
                reason=reason,
            ),
            suppress=False,
        )
        return str(result.status)

    async def heartbeat(self) -> None:
        await self.call(call.Heartbeat(), suppress=False)

    async def status(self, status: str) -> None:
        await self.call(
            call.StatusNotification(timestamp=_now(), connector_status=status, evse_id=1, connector_id=1),
            suppress=False,
        )

    async def authorize(self, id_token: str) -> bool:
        result = await self.call(
            call.Authorize(id_token={"idToken": id_token, "type": "ISO14443"}), suppress=False
        )
        return bool(result.id_token_info["status"] == "Accepted")

    async def transaction_event(self, message: TransactionMessage) -> None:
        info: dict[str, Any] = {"transactionId": message.transaction_id}
        if message.charging_state is not None:
            info["chargingState"] = message.charging_state
        if message.stop_reason is not None:
            info["stoppedReason"] = message.stop_reason
        await self.call(
            call.TransactionEvent(
                event_type=message.event_type,
                timestamp=format_time(message.occurred_at),
                trigger_reason=message.trigger_reason,
                seq_no=message.seq_no,
                transaction_info=info,
                meter_value=readings_to_wire(message.readings) or None,
                offline=message.offline or None,
                evse={"id": message.evse_id, "connectorId": 1},
                id_token=None
                if message.id_token is None
                else {"idToken": message.id_token, "type": "ISO14443"},
            ),
            suppress=False,
        )

    async def meter_values(self, readings: tuple[MeterReading, ...]) -> None:
        await self.call(call.MeterValues(evse_id=1, meter_value=readings_to_wire(readings)), suppress=False)

    async def security_event(self, notice: SecurityNotice) -> None:
        self.security_log.append(notice)
        await self.call(
            call.SecurityEventNotification(
                type=notice.event_type, timestamp=format_time(notice.occurred_at), tech_info=notice.tech_info
            ),
            suppress=False,
        )

    async def notify_charging_limit(self, notice: ChargingLimitNotice) -> None:
        schedule = None
        if notice.limit_w is not None:
            schedule = [
                {
                    "id": 1,
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": round(notice.limit_w, 1)}],
                }
            ]
        await self.call(
            call.NotifyChargingLimit(
                charging_limit={"chargingLimitSource": notice.source},
                charging_schedule=schedule,
                evse_id=notice.evse_id,
            ),
            suppress=False,
        )


__all__ = ["HEARTBEAT_INTERVAL_S", "CsmsV201", "StationV201", "profile_from_wire", "profile_to_wire"]
