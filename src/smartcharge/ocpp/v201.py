# mypy: disable-error-code="untyped-decorator"
"""OCPP 2.0.1 on both ends: the CEM's side of a station connection, and the station's own side.

Wire dicts are converted here, once, into :mod:`smartcharge.ocpp.domain` objects. Follow-up calls
that a message triggers (ReportChargingProfiles after GetChargingProfiles, LogStatusNotification
after GetLog) run as tasks kept in a set, never awaited inside the handler (the receive loop would
block waiting for our own reply).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from ocpp.exceptions import FormatViolationError, OccurrenceConstraintViolationError
from ocpp.routing import after, on
from ocpp.v201 import call, call_result

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import w_from_a
from smartcharge.ocpp.csms_base import CsmsBase
from smartcharge.ocpp.domain import (
    FLAT_SCHEDULE_START,
    BootInfo,
    ChargingLimitNotice,
    ChargingNeeds,
    ChargingProfile,
    ChargingSchedule,
    CompositeSchedule,
    IdTokenInfo,
    MeterReading,
    OcppVersion,
    ProfilePurpose,
    ProfileReport,
    ReportedVariable,
    SchedulePeriod,
    SecurityNotice,
    StationMessage,
    StatusReport,
    TransactionMessage,
    VariableRef,
    VariableResult,
    format_time,
    parse_time,
)
from smartcharge.ocpp.rpc import as_ocpp_error
from smartcharge.ocpp.station_base import StationBase
from smartcharge.ocpp.v201_security import CsmsSecurityV201, StationSecurityV201

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 300
#: DeviceDataCtrlr limits of the emulated station (B05/B06): ItemsPerMessage, BytesPerMessage.
ITEMS_PER_MESSAGE = 8
BYTES_PER_MESSAGE = 4096
#: Variables per NotifyReport part, so a full report arrives in several parts (B07).
ITEMS_PER_REPORT = 4
#: TriggerMessage requests the emulated station answers (F06); the rest are NotImplemented.
TRIGGERS = frozenset(
    {
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "MeterValues",
        "TransactionEvent",
        "LogStatusNotification",
        "FirmwareStatusNotification",
    }
)
_PROFILE_STATUSES = frozenset({"Accepted", "Rejected"})
#: statusInfo.additionalInfo for the reasons the station gives for refusing a profile (K01).
_PROFILE_REASONS = {
    "UnknownEvse": "this station has EVSE 0 and 1 (K01.FR.28)",
    "InvalidValue": "a ChargingStationMaxProfile is for EVSE 0 and never Relative (K01.FR.03/38)",
    "TxNotFound": "a TxProfile needs the active transaction on its EVSE (K01.FR.09/33)",
    "DuplicateProfile": "another profile has this purpose, stack level and EVSE at overlapping"
    " validity (K01.FR.39)",
}


def _profile_refused(reason: str, detail: str) -> Any:
    """SetChargingProfile Rejected with its reason (statusInfo: reasonCode <= 20, info <= 512)."""
    return call_result.SetChargingProfile(
        status="Rejected", status_info={"reasonCode": reason, "additionalInfo": detail[:512]}
    )


_CLEAR_STATUSES = frozenset({"Accepted", "Unknown"})


def _now() -> str:
    return format_time(datetime.now(UTC))


# ---- wire <-> domain -------------------------------------------------------------------------


def schedule_to_wire(schedule: ChargingSchedule, schedule_id: int) -> dict[str, Any]:
    """A ChargingScheduleType as received (camelCase)."""
    periods = []
    for period in schedule.periods:
        item: dict[str, Any] = {"startPeriod": period.start_s, "limit": round(period.limit, 1)}
        if period.phases is not None:
            item["numberPhases"] = period.phases
        periods.append(item)
    wire: dict[str, Any] = {
        "id": schedule_id,
        "chargingRateUnit": schedule.rate_unit,
        "chargingSchedulePeriod": periods,
    }
    if schedule.start_at is not None:
        wire["startSchedule"] = format_time(schedule.start_at)
    if schedule.duration_s is not None:
        wire["duration"] = schedule.duration_s
    return wire


def profile_to_wire(profile: ChargingProfile) -> dict[str, Any]:
    """A 2.0.1 ChargingProfileType (K01): the schedule as held, or a flat limit from now in W."""
    if profile.schedule is not None:
        schedule = profile.schedule
        kind = schedule.kind
    else:
        schedule = ChargingSchedule(
            "W", (SchedulePeriod(0, profile.limit_w),), start_at=profile.valid_from or FLAT_SCHEDULE_START
        )
        kind = "Absolute"
    wire: dict[str, Any] = {
        "id": profile.profile_id,
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": profile.purpose.value,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule_to_wire(schedule, profile.profile_id)],
    }
    if schedule.recurrency is not None:
        wire["recurrencyKind"] = schedule.recurrency
    if profile.valid_from is not None:
        wire["validFrom"] = format_time(profile.valid_from)
    if profile.valid_to is not None:
        wire["validTo"] = format_time(profile.valid_to)
    if profile.transaction_id is not None:
        wire["transactionId"] = profile.transaction_id
    if profile.randomised_upstream:
        # OCPP has no field for "already randomised upstream" (SCP-RD-4); customData carries it.
        wire["customData"] = {"vendorId": "smartcharge", "randomisedUpstream": True}
    return wire


def schedule_from_wire(schedule: dict[str, Any], kind: str, recurrency: str | None) -> ChargingSchedule:
    """A received (snake_case) ChargingScheduleType with its profile's kind (K01)."""
    periods = tuple(
        SchedulePeriod(
            int(p["start_period"]),
            float(p["limit"]),
            None if p.get("number_phases") is None else int(p["number_phases"]),
        )
        for p in schedule.get("charging_schedule_period", [])
    )
    start = schedule.get("start_schedule")
    duration = schedule.get("duration")
    return ChargingSchedule(
        rate_unit=schedule["charging_rate_unit"],
        periods=periods,
        kind=kind,
        recurrency=recurrency,
        start_at=None if start is None else parse_time(start, "startSchedule"),
        duration_s=None if duration is None else int(duration),
    )


def profile_from_wire(wire: dict[str, Any], evse_id: int = 0) -> ChargingProfile:
    """A received (snake_case) ChargingProfileType with its whole schedule (K01): any number of
    periods, Absolute / Recurring / Relative, A or W. ``limit_w`` is the first period in W (one
    phase when the period names none). Of up to three schedules (ISO 15118 offers, K15) the
    first is used: this station has no ISO 15118 link."""
    schedules = wire.get("charging_schedule") or []
    if not schedules:
        raise ValidationError("chargingSchedule", 0, "a profile has at least one schedule")
    schedule = schedule_from_wire(schedules[0], wire["charging_profile_kind"], wire.get("recurrency_kind"))
    first = schedule.periods[0]
    limit = first.limit if schedule.rate_unit == "W" else w_from_a(first.limit, phases=first.phases or 1)
    valid_to = wire.get("valid_to")
    valid_from = wire.get("valid_from")
    custom = wire.get("custom_data") or {}
    return ChargingProfile(
        profile_id=int(wire["id"]),
        stack_level=int(wire["stack_level"]),
        purpose=ProfilePurpose(wire["charging_profile_purpose"]),
        limit_w=limit,
        valid_to=None if valid_to is None else parse_time(valid_to, "validTo"),
        transaction_id=wire.get("transaction_id"),
        randomised_upstream=bool(custom.get("randomised_upstream", False)),
        valid_from=None if valid_from is None else parse_time(valid_from, "validFrom"),
        schedule=schedule,
        evse_id=evse_id,
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


def id_token_info_to_wire(info: IdTokenInfo) -> dict[str, Any]:
    wire: dict[str, Any] = {"status": info.status}
    if info.cache_expiry_at is not None:
        wire["cacheExpiryDateTime"] = format_time(info.cache_expiry_at)
    if info.group_id_token is not None:
        wire["groupIdToken"] = {"idToken": info.group_id_token, "type": "Central"}
    return wire


def id_token_info_from_wire(wire: dict[str, Any]) -> IdTokenInfo:
    expiry = wire.get("cache_expiry_date_time")
    group = wire.get("group_id_token")
    return IdTokenInfo(
        wire["status"],
        None if expiry is None else parse_time(expiry, "cacheExpiryDateTime"),
        None if group is None else group["id_token"],
    )


def reported_variables(item: dict[str, Any]) -> list[ReportedVariable]:
    """The attributes of one ReportDataType (snake_case), one domain object each."""
    component, variable = item["component"], item["variable"]
    evse = component.get("evse") or {}
    return [
        ReportedVariable(
            component=component["name"],
            variable=variable["name"],
            attribute_type=attribute.get("type", "Actual"),
            value=None if attribute.get("value") is None else str(attribute["value"]),
            mutability=attribute.get("mutability"),
            component_instance=component.get("instance"),
            variable_instance=variable.get("instance"),
            evse_id=None if not evse else int(evse["id"]),
            connector_id=None if evse.get("connector_id") is None else int(evse["connector_id"]),
        )
        for attribute in item["variable_attribute"]
    ]


def reported_variable_to_wire(v: ReportedVariable) -> dict[str, Any]:
    component: dict[str, Any] = {"name": v.component}
    if v.component_instance:
        component["instance"] = v.component_instance
    if v.evse_id is not None:
        component["evse"] = {"id": v.evse_id}
        if v.connector_id is not None:
            component["evse"]["connectorId"] = v.connector_id
    variable: dict[str, Any] = {"name": v.variable}
    if v.variable_instance:
        variable["instance"] = v.variable_instance
    attribute: dict[str, Any] = {"type": v.attribute_type}
    if v.value is not None:
        attribute["value"] = v.value[:2500]
    if v.mutability is not None:
        attribute["mutability"] = v.mutability
    return {"component": component, "variable": variable, "variableAttribute": [attribute]}


def charging_needs_from_wire(wire: dict[str, Any], evse_id: int) -> ChargingNeeds:
    ac = wire.get("ac_charging_parameters") or {}
    dc = wire.get("dc_charging_parameters") or {}
    max_power_w = None
    if dc.get("ev_max_power") is not None:
        max_power_w = float(dc["ev_max_power"])
    elif ac:
        max_power_w = w_from_a(float(ac["ev_max_current"]), phases=1)
    departure = wire.get("departure_time")
    return ChargingNeeds(
        evse_id,
        wire["requested_energy_transfer"],
        max_power_w,
        None if departure is None else parse_time(departure, "departureTime"),
    )


# ---- the CEM's side ----------------------------------------------------------------------------


class CsmsV201(CsmsBase, CsmsSecurityV201):
    """One OCPP 2.0.1 station as the CEM sees it: its messages go to ``events``; commands go out."""

    version = OcppVersion.V201
    _call = call
    _call_result = call_result
    _ocpp_version = "2.0.1"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: DeviceDataCtrlr ItemsPerMessage / BytesPerMessage per message type, as reported (B07).
        self.items_per_message: dict[str, int] = {}
        self.bytes_per_message: dict[str, int] = {}

    def learn_limits(self, variables: tuple[ReportedVariable, ...]) -> None:
        for v in variables:
            if v.component == "DeviceDataCtrlr" and v.variable_instance and v.value and v.value.isdigit():
                if v.variable == "ItemsPerMessage":
                    self.items_per_message[v.variable_instance] = int(v.value)
                elif v.variable == "BytesPerMessage":
                    self.bytes_per_message[v.variable_instance] = int(v.value)

    @on("BootNotification")
    async def on_boot_notification(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        info = BootInfo(
            charging_station["vendor_name"],
            charging_station["model"],
            charging_station.get("firmware_version"),
            reason,
        )
        answer = await self._events.on_boot(self.station_id, self.version, info)
        self.boot_status = answer.status
        return call_result.BootNotification(
            current_time=_now(), interval=answer.interval_s, status=answer.status
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
        info = await self._events.authorize(self.station_id, id_token["id_token"])
        return call_result.Authorize(id_token_info=id_token_info_to_wire(info))

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
        info = await self._events.on_transaction(self.station_id, message)
        # E01.FR.11/12 (and E03, E05): a request with an idToken is answered with its idTokenInfo.
        return call_result.TransactionEvent(
            id_token_info=None if info is None else id_token_info_to_wire(info)
        )

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
        **kw: Any,
    ) -> Any:
        """K09: every reported profile is stored as sent; those that fit the CEM's flat-limit model
        (one period, a purpose that matches its transaction id) also go to the profile report.
        A valid profile the model cannot hold (many periods, Recurring) is kept, never refused."""
        profiles = []
        for wire in charging_profile:
            try:
                profiles.append(profile_from_wire(wire))
            except (ValidationError, ValueError, KeyError):
                pass
        await self._store_notice(
            "ReportChargingProfiles",
            f"request {request_id}: {len(charging_profile)} profile(s) on EVSE {evse_id}"
            f" from {charging_limit_source}",
            {
                "requestId": request_id,
                "chargingLimitSource": charging_limit_source,
                "evseId": evse_id,
                "chargingProfile": charging_profile,
                "tbc": kw.get("tbc", False),
            },
        )
        await self._events.on_profile_report(self.station_id, ProfileReport(request_id, tuple(profiles)))
        return call_result.ReportChargingProfiles()

    # ---- messages stored and acknowledged (issue 10 item 1) ----------------------------------

    @on("NotifyEvent")
    async def on_notify_event(
        self, generated_at: str, seq_no: int, event_data: list[dict[str, Any]], tbc: bool = False, **kw: Any
    ) -> Any:
        """N07 / G05: each event is stored with its component, variable, trigger and value."""
        for event in event_data:
            component = event["component"]["name"]
            variable = event["variable"]["name"]
            summary = (
                f"{event['trigger']} {component}.{variable}={event['actual_value']}"
                f" ({event['event_notification_type']})"
            )
            await self._store_notice("NotifyEvent", summary, event)
        # N07: monitoring alerts also reach the operator through the security mixin.
        return await super().on_notify_event(generated_at, seq_no, event_data, tbc=tbc, **kw)

    @on("NotifyReport")
    async def on_notify_report(
        self,
        request_id: int,
        generated_at: str,
        seq_no: int,
        tbc: bool = False,
        report_data: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        """B07/B08: one part of a report; its variables become the station's device model."""
        variables = tuple(v for item in report_data or [] for v in reported_variables(item))
        self.learn_limits(variables)
        await self._events.on_report(self.station_id, request_id, seq_no, tbc, variables)
        return call_result.NotifyReport()

    @on("ClearedChargingLimit")
    async def on_cleared_charging_limit(
        self, charging_limit_source: str, evse_id: int | None = None, **_: Any
    ) -> Any:
        """K13: an external limit is gone; the CEM forgets it."""
        await self._events.on_cleared_charging_limit(self.station_id, charging_limit_source, evse_id)
        return call_result.ClearedChargingLimit()

    @on("NotifyEVChargingNeeds")
    async def on_notify_ev_charging_needs(
        self, charging_needs: dict[str, Any], evse_id: int, **_: Any
    ) -> Any:
        """K15: Accepted means a TxProfile follows, built within the CEM's limit book."""
        needs = charging_needs_from_wire(charging_needs, evse_id)
        await self._store_notice(
            "NotifyEVChargingNeeds", f"EVSE {evse_id}: {needs.energy_transfer_mode}", charging_needs
        )
        status = await self._events.on_charging_needs(self.station_id, needs)
        return call_result.NotifyEVChargingNeeds(status=status)

    @on("NotifyEVChargingSchedule")
    async def on_notify_ev_charging_schedule(
        self, time_base: str, charging_schedule: dict[str, Any], evse_id: int, **_: Any
    ) -> Any:
        """K17: the EV's own schedule is stored; the CEM's limits stay as sent, so Accepted."""
        await self._store_notice(
            "NotifyEVChargingSchedule",
            f"EVSE {evse_id}: {len(charging_schedule['charging_schedule_period'])} period(s)",
            {"timeBase": time_base, "evseId": evse_id, "chargingSchedule": charging_schedule},
        )
        return call_result.NotifyEVChargingSchedule(status="Accepted")

    @on("ReservationStatusUpdate")
    async def on_reservation_status_update(
        self, reservation_id: int, reservation_update_status: str, **_: Any
    ) -> Any:
        """H04: a reservation expired or was removed at the station."""
        await self._events.on_reservation_status(self.station_id, reservation_id, reservation_update_status)
        return call_result.ReservationStatusUpdate()

    @on("DataTransfer")
    async def on_data_transfer(self, vendor_id: str, **kw: Any) -> Any:
        """P01: this CEM implements no vendor extension, so every vendor is unknown (UnknownVendorId)."""
        await self._store_notice("DataTransfer", f"vendor {vendor_id}", {"vendorId": vendor_id, **kw})
        return call_result.DataTransfer(status="UnknownVendorId")

    @on("FirmwareStatusNotification")
    async def on_firmware_status_notification(self, status: str, **kw: Any) -> Any:
        """L01: stored, then followed by the signed-firmware flow (CsmsSecurityV201)."""
        await self._store_notice("FirmwareStatusNotification", status, {"status": status, **kw})
        return await super().on_firmware_status_notification(status, **kw)

    @on("PublishFirmwareStatusNotification")
    async def on_publish_firmware_status_notification(self, status: str, **kw: Any) -> Any:
        await self._store_notice("PublishFirmwareStatusNotification", status, {"status": status, **kw})
        return call_result.PublishFirmwareStatusNotification()

    @on("NotifyMonitoringReport")
    async def on_notify_monitoring_report(
        self, request_id: int, seq_no: int, generated_at: str, **kw: Any
    ) -> Any:
        await self._store_notice(
            "NotifyMonitoringReport",
            f"request {request_id} part {seq_no}",
            {"requestId": request_id, "seqNo": seq_no, "generatedAt": generated_at, **kw},
        )
        return await super().on_notify_monitoring_report(request_id, seq_no, generated_at, **kw)

    @on("NotifyCustomerInformation")
    async def on_notify_customer_information(
        self, data: str, seq_no: int, generated_at: str, request_id: int, **kw: Any
    ) -> Any:
        await self._store_notice(
            "NotifyCustomerInformation",
            f"request {request_id} part {seq_no}",
            {"data": data, "seqNo": seq_no, "generatedAt": generated_at, "requestId": request_id, **kw},
        )
        return await super().on_notify_customer_information(data, seq_no, generated_at, request_id, **kw)

    @on("NotifyDisplayMessages")
    async def on_notify_display_messages(self, request_id: int, **kw: Any) -> Any:
        await self._store_notice(
            "NotifyDisplayMessages", f"request {request_id}", {"requestId": request_id, **kw}
        )
        return call_result.NotifyDisplayMessages()

    @on("SignCertificate")
    async def on_sign_certificate(self, csr: str, **kw: Any) -> Any:
        """A02/A03: stored, then checked and signed by the CEM's CA (CsmsSecurityV201), which
        answers Rejected when this CEM signs no certificates."""
        await self._store_notice(
            "SignCertificate", kw.get("certificate_type", "ChargingStationCertificate"), kw
        )
        return await super().on_sign_certificate(csr, **kw)

    @on("Get15118EVCertificate")
    async def on_get_15118_ev_certificate(self, iso15118_schema_version: str, action: str, **_: Any) -> Any:
        """M01/M02 (ISO 15118 contract certificates): no certificate pool behind this CEM: Failed."""
        await self._store_notice(
            "Get15118EVCertificate",
            action,
            {"iso15118SchemaVersion": iso15118_schema_version, "action": action},
        )
        return call_result.Get15118EVCertificate(
            status="Failed", exi_response="", status_info={"reasonCode": "NotSupported"}
        )

    @on("GetCertificateStatus")
    async def on_get_certificate_status(self, ocsp_request_data: dict[str, Any], **_: Any) -> Any:
        """M block OCSP check: no OCSP responder is reachable from this CEM: Failed."""
        await self._store_notice(
            "GetCertificateStatus", ocsp_request_data["serial_number"], ocsp_request_data
        )
        return call_result.GetCertificateStatus(status="Failed", status_info={"reasonCode": "NotSupported"})

    # commands (StationLink)

    async def set_charging_profile(self, profile: ChargingProfile, evse_id: int = 0) -> str:
        if profile.purpose is ProfilePurpose.TX and evse_id == 0:
            evse_id = profile.evse_id or 1  # a TxProfile names its EVSE (K01.FR.16); ours have one
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
        if not schedule:
            return CompositeSchedule(str(result.status), None, duration_s)
        periods = tuple(
            (int(p["start_period"]), float(p["limit"])) for p in schedule["charging_schedule_period"]
        )
        return CompositeSchedule(str(result.status), periods[0][1], duration_s, periods)

    async def get_charging_profiles(self, request_id: int) -> str:
        result = await self._request(call.GetChargingProfiles(request_id=request_id, charging_profile={}))
        return str(result.status)

    def _chunks(self, action: str, items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """B05/B06: no request larger than the station's ItemsPerMessage / BytesPerMessage for
        ``action`` (learnt from its device model report; unknown: one request)."""
        max_items = self.items_per_message.get(action) or len(items) or 1
        max_bytes = self.bytes_per_message.get(action)
        chunks: list[list[dict[str, Any]]] = [[]]
        for item in items:
            candidate = [*chunks[-1], item]
            too_big = max_bytes is not None and len(json.dumps(candidate)) > max_bytes - 200
            if chunks[-1] and (len(candidate) > max_items or too_big):
                chunks.append([item])
            else:
                chunks[-1] = candidate
        return chunks

    async def get_variables(self, refs: list[VariableRef]) -> list[VariableResult]:
        out = []
        for chunk in self._chunks("GetVariables", [_ref_wire(r) for r in refs]):
            result = await self._request(call.GetVariables(get_variable_data=chunk))
            out += [
                VariableResult(_ref_from(item), item["attribute_status"], item.get("attribute_value"))
                for item in result.get_variable_result
            ]
        return out

    async def set_variables(self, values: list[tuple[VariableRef, str]]) -> list[VariableResult]:
        data = [{**_ref_wire(ref), "attributeValue": value} for ref, value in values]
        out = []
        for chunk in self._chunks("SetVariables", data):
            result = await self._request(call.SetVariables(set_variable_data=chunk))
            out += [
                VariableResult(_ref_from(item), item["attribute_status"])
                for item in result.set_variable_result
            ]
        return out

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


class StationV201(StationBase, StationSecurityV201):
    """The station end of an OCPP 2.0.1 connection: CSMS commands go to ``device``."""

    version = OcppVersion.V201
    _call = call
    _call_result = call_result
    _ocpp_version = "2.0.1"

    @on("SetChargingProfile")
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any], **_: Any) -> Any:
        """K01: any purpose, unit A or W, kind Absolute / Recurring / Relative, any number of
        periods, validFrom/validTo, duration; EVSE 0 (the station) or 1 (its one EVSE). A refusal
        carries its reason (statusInfo.reasonCode, additionalInfo the rule)."""
        if evse_id not in (0, 1):
            return _profile_refused("UnknownEvse", f"evseId {evse_id}: this station has EVSE 0 and 1")
        if charging_profile["charging_profile_purpose"] == "TxProfile" and evse_id == 0:
            return _profile_refused("InvalidValue", "a TxProfile needs evseId > 0 (K01.FR.16)")
        try:
            profile = profile_from_wire(charging_profile, evse_id)
        except (ValidationError, KeyError, ValueError) as error:
            logger.warning("%s: charging profile refused: %s", self.id, error)
            return _profile_refused("InvalidValue", str(error))
        reason = self.device.install_profile(profile, same_level_conflicts=True)
        if reason is not None:
            return _profile_refused(reason, _PROFILE_REASONS.get(reason, reason))
        return call_result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        """K10: by id, or by purpose and/or stack level."""
        criteria = charging_profile_criteria or {}
        purpose = criteria.get("charging_profile_purpose")
        cleared = self.device.clear_charging_profile(
            charging_profile_id,
            None if purpose is None else ProfilePurpose(purpose),
            criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status="Accepted" if cleared else "Unknown")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        """K08: the composite of every profile in force over ``duration`` from now, a period at
        each change, in the unit asked for (W when none: the station's own unit)."""
        if evse_id not in (0, 1):
            return call_result.GetCompositeSchedule(
                status="Rejected", status_info={"reasonCode": "UnknownEvse"}
            )
        unit = charging_rate_unit or "W"
        start_at, periods, phases = self.device.composite_schedule(duration, evse_id, unit)
        wire_periods = []
        for offset_s, limit in periods:
            item: dict[str, Any] = {"startPeriod": offset_s, "limit": round(limit, 1)}
            if unit == "A":
                item["numberPhases"] = phases
            wire_periods.append(item)
        schedule = {
            "evseId": evse_id,
            "duration": duration,
            "scheduleStart": format_time(start_at),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": wire_periods,
        }
        return call_result.GetCompositeSchedule(status="Accepted", schedule=schedule)

    def _matching_profiles(self, criteria: dict[str, Any]) -> tuple[ChargingProfile, ...]:
        """K09 criteria: purpose, stack level, profile ids (a source other than CSO matches none:
        every profile here came from the CSMS)."""
        ids = criteria.get("charging_profile_id")
        sources = criteria.get("charging_limit_source")
        if sources and "CSO" not in sources:
            return ()
        return tuple(
            p
            for p in self.device.charging_profiles()
            if criteria.get("charging_profile_purpose") in (None, p.purpose.value)
            and criteria.get("stack_level") in (None, p.stack_level)
            and (not ids or p.profile_id in ids)
        )

    @on("GetChargingProfiles")
    def on_get_charging_profiles(self, request_id: int, charging_profile: dict[str, Any], **_: Any) -> Any:
        has_any = bool(self._matching_profiles(charging_profile))
        return call_result.GetChargingProfiles(status="Accepted" if has_any else "NoProfiles")

    @after("GetChargingProfiles")
    def after_get_charging_profiles(
        self, request_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> None:
        profiles = self._matching_profiles(charging_profile)
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

    def _check_size(self, items: list[dict[str, Any]]) -> None:
        """B06.FR / B05.FR: more items than ItemsPerMessage is an OccurrenceConstraintViolation,
        more bytes than BytesPerMessage a FormatViolation (DeviceDataCtrlr)."""
        if len(items) > ITEMS_PER_MESSAGE:
            raise OccurrenceConstraintViolationError(
                description=f"{len(items)} items: ItemsPerMessage is {ITEMS_PER_MESSAGE}"
            )
        size = len(json.dumps(items))
        if size > BYTES_PER_MESSAGE:
            raise FormatViolationError(description=f"{size} bytes: BytesPerMessage is {BYTES_PER_MESSAGE}")

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        self._check_size(get_variable_data)
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
        self._check_size(set_variable_data)
        results = []
        for item in set_variable_data:
            got = self.device.set_variable(_ref_from(item), str(item["attribute_value"]))
            results.append({**_ref_wire(got.ref), "attributeStatus": got.status})
        return call_result.SetVariables(set_variable_result=results)

    @on("RequestStartTransaction")
    def on_request_start_transaction(self, id_token: dict[str, Any], remote_start_id: int, **_: Any) -> Any:
        """F01/F02: Accepted when a session can start; the token is then authorized with the
        CSMS (AuthorizeRemoteStart) and charging starts only if it is Accepted."""
        free = self.device.unlock_connector(1, 1) == "Unlocked"
        return call_result.RequestStartTransaction(status="Accepted" if free else "Rejected")

    @after("RequestStartTransaction")
    def after_request_start_transaction(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        if self.device.unlock_connector(1, 1) == "Unlocked":
            self._spawn(self._remote_start(id_token["id_token"], charging_profile))

    async def _remote_start(self, token: str, charging_profile: dict[str, Any] | None) -> None:
        info = await self.authorize_info(token)
        if not info.accepted:
            logger.info("%s: remote start refused, token %s is %s", self.id, token, info.status)
            return
        profile = None
        if charging_profile is not None:
            try:
                profile = profile_from_wire({**charging_profile, "transaction_id": "pending"})
            except (ValidationError, KeyError, ValueError) as error:
                logger.warning("%s: remote-start profile ignored: %s", self.id, error)
        self.device.start_remote(token, profile)

    @on("GetTransactionStatus")
    def on_get_transaction_status(self, transaction_id: str | None = None, **_: Any) -> Any:
        """E14."""
        ongoing, queued = self.device.transaction_status(transaction_id)
        return call_result.GetTransactionStatus(messages_in_queue=queued, ongoing_indicator=ongoing)

    @on("Reset")
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> Any:
        """B11/B12: OnIdle waits for the session; Immediate ends it; evseId resets that EVSE only."""
        self._reset_status = self.device.reset_request(type, evse_id)
        return call_result.Reset(status=self._reset_status)

    @after("Reset")
    def after_reset(self, type: str, evse_id: int | None = None, **_: Any) -> None:
        if evse_id is None and self._reset_status == "Accepted":
            self.device.reset()

    @on("SetNetworkProfile")
    def on_set_network_profile(
        self, configuration_slot: int, connection_data: dict[str, Any], **kw: Any
    ) -> Any:
        """B09; with a security store (A05) the slot may raise the security profile."""
        if self._port() is not None:
            return super().on_set_network_profile(configuration_slot, connection_data, **kw)
        return call_result.SetNetworkProfile(
            status=self.device.set_network_profile(configuration_slot, connection_data)
        )

    @on("ChangeAvailability")
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        """G03 (EVSE), G04 (station)."""
        evse_id = None if evse is None else int(evse["id"])
        return call_result.ChangeAvailability(
            status=self.device.change_availability(operational_status, evse_id)
        )

    @on("UnlockConnector")
    def on_unlock_connector(self, evse_id: int, connector_id: int, **_: Any) -> Any:
        """F05."""
        return call_result.UnlockConnector(status=self.device.unlock_connector(evse_id, connector_id))

    @on("ReserveNow")
    def on_reserve_now(
        self,
        id: int,
        expiry_date_time: str,
        id_token: dict[str, Any],
        evse_id: int | None = None,
        group_id_token: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        """H01 (station/reservations.py); a groupIdToken admits the group's tokens too (H03)."""
        group = None if group_id_token is None else group_id_token["id_token"]
        status = self.device.reserve(id, parse_time(expiry_date_time), id_token["id_token"], evse_id, group)
        return call_result.ReserveNow(status=status)

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        """H02."""
        ok = self.device.cancel_reservation(reservation_id)
        return call_result.CancelReservation(status="Accepted" if ok else "Rejected")

    @on("SendLocalList")
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        """D01 (Full and Differential)."""
        entries = [
            (
                e["id_token"]["id_token"],
                None if e.get("id_token_info") is None else id_token_info_from_wire(e["id_token_info"]),
            )
            for e in local_authorization_list or []
        ]
        status = self.device.send_local_list(version_number, update_type, entries)
        # 2.0.1 SendLocalListStatusEnumType has no NotSupported: a disabled list is Failed.
        return call_result.SendLocalList(status="Failed" if status == "NotSupported" else status)

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> Any:
        """D02."""
        return call_result.GetLocalListVersion(version_number=self.device.local_list_version())

    @on("ClearCache")
    def on_clear_cache(self, **_: Any) -> Any:
        """C11."""
        return call_result.ClearCache(status="Accepted" if self.device.clear_cache() else "Rejected")

    @on("GetBaseReport")
    def on_get_base_report(self, request_id: int, report_base: str, **_: Any) -> Any:
        """B07: ConfigurationInventory (what can be set) and FullInventory; no summary here."""
        status = "NotSupported" if report_base == "SummaryInventory" else "Accepted"
        return call_result.GetBaseReport(status=status)

    @after("GetBaseReport")
    def after_get_base_report(self, request_id: int, report_base: str, **_: Any) -> None:
        variables = self.device.report_variables()
        if report_base == "ConfigurationInventory":
            variables = [v for v in variables if v.mutability != "ReadOnly"]
        if report_base != "SummaryInventory":
            self._spawn(self._send_report(request_id, variables))

    @on("GetReport")
    def on_get_report(
        self,
        request_id: int,
        component_variable: list[dict[str, Any]] | None = None,
        component_criteria: list[str] | None = None,
        **_: Any,
    ) -> Any:
        """B08: the variables asked for (by component, and variable if given)."""
        found = self._report_selection(component_variable, component_criteria)
        return call_result.GetReport(status="Accepted" if found else "EmptyResultSet")

    @after("GetReport")
    def after_get_report(
        self,
        request_id: int,
        component_variable: list[dict[str, Any]] | None = None,
        component_criteria: list[str] | None = None,
        **_: Any,
    ) -> None:
        found = self._report_selection(component_variable, component_criteria)
        if found:
            self._spawn(self._send_report(request_id, found))

    def _report_selection(
        self, component_variable: list[dict[str, Any]] | None, criteria: list[str] | None
    ) -> list[ReportedVariable]:
        variables = self.device.report_variables()
        if criteria and not set(criteria) & {"Active", "Available", "Enabled"}:
            return []  # only "Problem" asked for: this station reports no component in trouble
        if not component_variable:
            return variables
        chosen = []
        for v in variables:
            for want in component_variable:
                if want["component"]["name"] != v.component:
                    continue
                wanted_var = want.get("variable")
                if wanted_var is None or wanted_var["name"] == v.variable:
                    chosen.append(v)
                    break
        return chosen

    async def _send_report(self, request_id: int, variables: list[ReportedVariable]) -> None:
        """NotifyReport in parts of ItemsPerMessage (GetReport), tbc on all but the last."""
        parts = [variables[i : i + ITEMS_PER_REPORT] for i in range(0, len(variables), ITEMS_PER_REPORT)]
        for seq_no, part in enumerate(parts):
            await self.send_message(
                StationMessage(
                    "NotifyReport",
                    {
                        "requestId": request_id,
                        "generatedAt": _now(),
                        "seqNo": seq_no,
                        "tbc": seq_no < len(parts) - 1,
                        "reportData": [reported_variable_to_wire(v) for v in part],
                    },
                )
            )

    def on_core_trigger(self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any) -> Any:
        """F06: the triggers this station supports; BootNotification only while not Accepted
        (F06.FR.17: Rejected once accepted). TriggerMessage is routed by StationSecurityV201,
        which takes the certificate triggers and hands every other one here."""
        if requested_message == "BootNotification":
            status = "Rejected" if self.boot_status == "Accepted" else "Accepted"
        elif requested_message == "TransactionEvent":
            status = "Accepted" if self._running_transaction() else "Rejected"
        elif requested_message in TRIGGERS:
            status = "Accepted"
        else:
            status = "NotImplemented"
        self._trigger_status = status
        return call_result.TriggerMessage(status=status)

    def after_core_trigger(self, requested_message: str, **_: Any) -> None:
        if self._trigger_status == "Accepted":
            self._spawn(self._triggered(requested_message))

    def _running_transaction(self) -> bool:
        return self.device.unlock_connector(1, 1) == "OngoingAuthorizedTransaction"

    async def _triggered(self, message: str) -> None:
        if message == "BootNotification":
            self.boot_requested.set()
        elif message == "Heartbeat":
            await self.heartbeat()
        elif message == "StatusNotification":
            await self.status("Occupied" if self._running_transaction() else "Available")
        elif message == "MeterValues":
            await self.meter_values(self.device.meter_readings("Trigger"))
        elif message == "TransactionEvent":
            self.device.trigger_transaction_event()  # queued in order with the session's events
        elif message == "LogStatusNotification":
            await self.call(call.LogStatusNotification(status="Idle"), suppress=False)
        elif message == "FirmwareStatusNotification":
            await self.call(call.FirmwareStatusNotification(status="Idle"), suppress=False)

    @on("RequestStopTransaction")
    def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> Any:
        ok = self.device.request_stop(transaction_id)
        return call_result.RequestStopTransaction(status="Accepted" if ok else "Rejected")

    # uplink (station -> CSMS)

    async def boot(self, vendor: str, model: str, firmware: str, reason: str = "PowerUp") -> str:
        if self.boot_requested.is_set():
            reason = "Triggered"
        self.boot_requested.clear()
        result = await self.call(
            call.BootNotification(
                charging_station={"vendorName": vendor, "model": model, "firmwareVersion": firmware},
                reason=reason,
            ),
            suppress=False,
        )
        self.boot_status, self.boot_interval_s = str(result.status), int(result.interval)
        return self.boot_status

    async def heartbeat(self) -> None:
        await self.call(call.Heartbeat(), suppress=False)

    async def status(self, status: str) -> None:
        await self.call(
            call.StatusNotification(timestamp=_now(), connector_status=status, evse_id=1, connector_id=1),
            suppress=False,
        )

    async def authorize(self, id_token: str) -> bool:
        return (await self.authorize_info(id_token)).accepted

    async def authorize_info(self, id_token: str) -> IdTokenInfo:
        """C01: the CSMS's verdict, kept in the authorization cache (C10)."""
        result = await self.call(
            call.Authorize(id_token={"idToken": id_token, "type": "ISO14443"}), suppress=False
        )
        info = id_token_info_from_wire(result.id_token_info)
        self.device.remember(id_token, info)
        return info

    async def send_message(self, message: StationMessage) -> None:
        await self.call_prepared(message.action, dict(message.payload))

    async def transaction_event(self, message: TransactionMessage) -> None:
        info: dict[str, Any] = {"transactionId": message.transaction_id}
        if message.charging_state is not None:
            info["chargingState"] = message.charging_state
        if message.stop_reason is not None:
            info["stoppedReason"] = message.stop_reason
        result = await self.call(
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
        if message.id_token is not None and result.id_token_info is not None:
            verdict = id_token_info_from_wire(result.id_token_info)
            self.device.remember(message.id_token, verdict)
            if not verdict.accepted and message.event_type != "Ended":
                self.device.deauthorize(message.transaction_id)  # E01.FR: never charge on it

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


__all__ = [
    "HEARTBEAT_INTERVAL_S",
    "CsmsV201",
    "StationV201",
    "profile_from_wire",
    "profile_to_wire",
    "schedule_from_wire",
    "schedule_to_wire",
]
