# mypy: disable-error-code="untyped-decorator"
"""OCPP 1.6J (with the security whitepaper messages) on both ends, mapped onto the same domain
objects as 2.0.1.

Differences the mapping absorbs:

* 1.6 has no ChargingStationExternalConstraints purpose: a site or response-DSR limit is sent as
  a ChargePointMaxProfile (both bound the whole charge point; K01's order is kept by the CEM).
* The CSMS assigns transaction ids (StartTransaction.conf). The id is derived from the station id,
  connector and start time, so a StartTransaction replayed after a CEM crash gets the same id and
  the store de-duplicates it. Start is seq 0, Stop :data:`STOP_SEQ_NO`; a MeterValues with
  context ``Trigger`` reports a rate change and is stored as an Updated event whose seq_no is
  derived from its content (:func:`rate_change_seq_no`): 1.6 carries no sequence number.
* Device-model variables become configuration keys ``Component.Variable``.
* Limits are sent with one decimal place: the library re-reads them as Decimal against the 1.6
  schema's multipleOf 0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import call, call_result

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import w_from_a
from smartcharge.ocpp.csms_base import CsmsBase
from smartcharge.ocpp.domain import (
    FLAT_SCHEDULE_START,
    BootInfo,
    ChargingProfile,
    ChargingSchedule,
    CompositeSchedule,
    IdTokenInfo,
    MeterReading,
    OcppVersion,
    ProfilePurpose,
    SchedulePeriod,
    SecurityNotice,
    StationDevice,
    StatusReport,
    TransactionMessage,
    VariableRef,
    VariableResult,
    format_time,
    parse_time,
)
from smartcharge.ocpp.rpc import FaultCallback, as_ocpp_error
from smartcharge.ocpp.station_base import StationBase
from smartcharge.ocpp.v16_profiles import TRIGGERABLE, CsmsProfilesV16, StationProfilesV16
from smartcharge.ocpp.v16_security import CsmsSecurityV16, StationSecurityV16

logger = logging.getLogger(__name__)

STOP_SEQ_NO = 2_147_483_647
#: How long a RemoteStop or TxProfile naming a CSMS transaction id waits for a StartTransaction
#: in flight to be settled. The handler holds the receive loop, so a conf not yet read cannot
#: arrive meanwhile: a read one settles at once, and the bound only caps the wait for none.
START_SETTLE_S = 1.0
_PROFILE_STATUSES = frozenset({"Accepted", "Rejected", "NotSupported"})
_CLEAR_STATUSES = frozenset({"Accepted", "Unknown"})
_PURPOSE_TO_WIRE = {
    ProfilePurpose.STATION_MAX: "ChargePointMaxProfile",
    ProfilePurpose.EXTERNAL_CONSTRAINTS: "ChargePointMaxProfile",
    ProfilePurpose.TX_DEFAULT: "TxDefaultProfile",
    ProfilePurpose.TX: "TxProfile",
}
_PURPOSE_FROM_WIRE = {
    "ChargePointMaxProfile": ProfilePurpose.STATION_MAX,
    "TxDefaultProfile": ProfilePurpose.TX_DEFAULT,
    "TxProfile": ProfilePurpose.TX,
}
_STATUS_TO_WIRE = {"Occupied": "Charging"}


def _now() -> str:
    return format_time(datetime.now(UTC))


def transaction_id_for(station_id: str, connector_id: int, started: str) -> int:
    """A stable positive 31-bit transaction id for one start (replays map to the same id)."""
    digest = hashlib.sha256(f"{station_id}|{connector_id}|{started}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF or 1


def rate_change_seq_no(transaction_id: str, readings: tuple[MeterReading, ...]) -> int:
    """The event key of a 1.6 rate change (MeterValues, context ``Trigger``; reg 9, SCP-MS-2).

    1.6 MeterValues has no sequence number, and its time may have whole seconds only, so the key is
    a digest of everything the message says: a replay after a reconnect (the same message again)
    gets the same key and is absorbed, while two changes within one second differ in their values
    and get two keys. In 1..STOP_SEQ_NO-1, clear of Start (0) and Stop.
    """
    parts = [transaction_id]
    for r in sorted(readings, key=lambda r: (r.measured_at, r.measurand, r.context or "")):
        parts.append(f"{format_time(r.measured_at)}|{r.measurand}|{r.value!r}|{r.unit}|{r.context}")
    digest = hashlib.sha256("\n".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") % (STOP_SEQ_NO - 1) + 1


def profile_to_wire(profile: ChargingProfile) -> dict[str, Any]:
    """A 1.6 csChargingProfiles: the schedule as held, or a flat limit from now in W."""
    if profile.schedule is not None:
        schedule = profile.schedule
    else:
        schedule = ChargingSchedule(
            "W", (SchedulePeriod(0, profile.limit_w),), start_at=profile.valid_from or FLAT_SCHEDULE_START
        )
    periods = []
    for period in schedule.periods:
        item: dict[str, Any] = {"startPeriod": period.start_s, "limit": round(period.limit, 1)}
        if period.phases is not None:
            item["numberPhases"] = period.phases
        periods.append(item)
    wire_schedule: dict[str, Any] = {
        "chargingRateUnit": schedule.rate_unit,
        "chargingSchedulePeriod": periods,
    }
    if schedule.start_at is not None:
        wire_schedule["startSchedule"] = format_time(schedule.start_at)
    if schedule.duration_s is not None:
        wire_schedule["duration"] = schedule.duration_s
    wire: dict[str, Any] = {
        "chargingProfileId": profile.profile_id,
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": _PURPOSE_TO_WIRE[profile.purpose],
        "chargingProfileKind": schedule.kind,
        "chargingSchedule": wire_schedule,
    }
    if schedule.recurrency is not None:
        wire["recurrencyKind"] = schedule.recurrency
    if profile.valid_from is not None:
        wire["validFrom"] = format_time(profile.valid_from)
    if profile.valid_to is not None:
        wire["validTo"] = format_time(profile.valid_to)
    if profile.transaction_id is not None:
        wire["transactionId"] = int(profile.transaction_id)
    return wire


def profile_from_wire(wire: dict[str, Any], connector_id: int = 0) -> ChargingProfile:
    """A received (snake_case) csChargingProfiles with its whole schedule (1.6 section 3.13):
    any number of periods, Absolute / Recurring / Relative, A or W. 1.6 lets a Relative
    schedule carry a startSchedule; it is not used (the transaction's start is)."""
    schedule = wire["charging_schedule"]
    kind = wire["charging_profile_kind"]
    start = schedule.get("start_schedule")
    duration = schedule.get("duration")
    held = ChargingSchedule(
        rate_unit=schedule["charging_rate_unit"],
        periods=tuple(
            SchedulePeriod(
                int(p["start_period"]),
                float(p["limit"]),
                None if p.get("number_phases") is None else int(p["number_phases"]),
            )
            for p in schedule.get("charging_schedule_period", [])
        ),
        kind=kind,
        recurrency=wire.get("recurrency_kind"),
        start_at=None if start is None or kind == "Relative" else parse_time(start, "startSchedule"),
        duration_s=None if duration is None else int(duration),
    )
    first = held.periods[0]
    limit = first.limit if held.rate_unit == "W" else w_from_a(first.limit, phases=first.phases or 1)
    valid_from = wire.get("valid_from")
    valid_to = wire.get("valid_to")
    tx = wire.get("transaction_id")
    return ChargingProfile(
        profile_id=int(wire["charging_profile_id"]),
        stack_level=int(wire["stack_level"]),
        purpose=_PURPOSE_FROM_WIRE[wire["charging_profile_purpose"]],
        limit_w=limit,
        valid_to=None if valid_to is None else parse_time(valid_to, "validTo"),
        transaction_id=None if tx is None else str(tx),
        valid_from=None if valid_from is None else parse_time(valid_from, "validFrom"),
        schedule=held,
        evse_id=connector_id,
    )


def readings_from_wire(meter_value: list[dict[str, Any]] | None) -> tuple[MeterReading, ...]:
    """1.6 SampledValue: the value is a string and the unit a flat field."""
    readings = []
    for mv in meter_value or []:
        at = parse_time(mv["timestamp"], "meterValue.timestamp")
        for sv in mv["sampled_value"]:
            try:
                value = float(sv["value"])
            except ValueError:
                raise ValidationError("sampledValue.value", sv["value"], "must be a decimal number") from None
            readings.append(
                MeterReading(
                    at,
                    sv.get("measurand", "Energy.Active.Import.Register"),
                    value,
                    sv.get("unit", "Wh"),
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
            {"value": f"{r.value:.1f}", "measurand": r.measurand, "context": r.context, "unit": r.unit}
        )
    return [{"timestamp": format_time(at), "sampledValue": values} for at, values in by_time.items()]


#: 1.6 AuthorizationStatus has no Unknown: an unknown idTag is Invalid (1.6 section 7.2).
_STATUS_16 = {"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"}


def id_tag_info_to_wire(info: IdTokenInfo) -> dict[str, Any]:
    wire: dict[str, Any] = {"status": info.status if info.status in _STATUS_16 else "Invalid"}
    if info.cache_expiry_at is not None:
        wire["expiryDate"] = format_time(info.cache_expiry_at)
    if info.group_id_token is not None:
        wire["parentIdTag"] = info.group_id_token[:20]
    return wire


def id_tag_info_from_wire(wire: dict[str, Any]) -> IdTokenInfo:
    expiry = wire.get("expiry_date")
    return IdTokenInfo(
        wire["status"],
        None if expiry is None else parse_time(expiry, "expiryDate"),
        wire.get("parent_id_tag"),
    )


#: 1.6 configuration keys with a 2.0.1 device-model name of their own: the security extension's
#: AuthorizationKey is the basic-auth password (1.6 security whitepaper; 2.0.1 A01).
_KEY_ALIASES = {"AuthorizationKey": VariableRef("SecurityCtrlr", "BasicAuthPassword")}


def _key(ref: VariableRef) -> str:
    for key, aliased in _KEY_ALIASES.items():
        if ref == aliased:
            return key
    return f"{ref.component}.{ref.variable}"


def _ref(key: str) -> VariableRef:
    if key in _KEY_ALIASES:
        return _KEY_ALIASES[key]
    component, _, variable = key.partition(".")
    return VariableRef(component, variable)


class CsmsV16(CsmsBase, CsmsSecurityV16, CsmsProfilesV16):
    """One OCPP 1.6J station as the CEM sees it."""

    version = OcppVersion.V16
    _call = call
    _call_result = call_result
    _ocpp_version = "1.6"

    @on("BootNotification")
    async def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kw: Any) -> Any:
        info = BootInfo(charge_point_vendor, charge_point_model, kw.get("firmware_version"), "PowerUp")
        answer = await self._events.on_boot(self.station_id, self.version, info)
        self.boot_status = answer.status
        return call_result.BootNotification(
            current_time=_now(), interval=answer.interval_s, status=answer.status
        )

    @on("Heartbeat")
    async def on_heartbeat(self) -> Any:
        return call_result.Heartbeat(current_time=_now())

    @on("StatusNotification")
    async def on_status_notification(self, connector_id: int, error_code: str, status: str, **kw: Any) -> Any:
        at = parse_time(kw["timestamp"]) if "timestamp" in kw else datetime.now(UTC)
        await self._events.on_status(self.station_id, StatusReport(1, connector_id, status, at))
        return call_result.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_tag: str) -> Any:
        info = await self._events.authorize(self.station_id, id_tag)
        return call_result.Authorize(id_tag_info=id_tag_info_to_wire(info))

    @on("StartTransaction")
    async def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> Any:
        try:
            at = parse_time(timestamp)
        except ValidationError as error:
            raise as_ocpp_error(error) from None
        tx = transaction_id_for(self.station_id, connector_id, timestamp)
        reading = MeterReading(
            at, "Energy.Active.Import.Register", float(meter_start), "Wh", "Transaction.Begin"
        )
        message = TransactionMessage(str(tx), 0, "Started", "Authorized", at, (reading,), id_token=id_tag)
        info = await self._events.on_transaction(self.station_id, message)
        verdict = id_tag_info_to_wire(info or IdTokenInfo("Invalid"))
        return call_result.StartTransaction(transaction_id=tx, id_tag_info=verdict)

    @on("StopTransaction")
    async def on_stop_transaction(
        self, meter_stop: int, timestamp: str, transaction_id: int, reason: str | None = None, **kw: Any
    ) -> Any:
        try:
            at = parse_time(timestamp)
        except ValidationError as error:
            raise as_ocpp_error(error) from None
        reading = MeterReading(
            at, "Energy.Active.Import.Register", float(meter_stop), "Wh", "Transaction.End"
        )
        message = TransactionMessage(
            str(transaction_id),
            STOP_SEQ_NO,
            "Ended",
            "StopAuthorized",
            at,
            (reading,),
            stop_reason=reason or "Local",
        )
        await self._events.on_transaction(self.station_id, message)
        id_tag = kw.get("id_tag")
        if id_tag is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(
            id_tag_info=id_tag_info_to_wire(await self._events.authorize(self.station_id, id_tag))
        )

    @on("MeterValues")
    async def on_meter_values(
        self,
        connector_id: int,
        meter_value: list[dict[str, Any]],
        transaction_id: int | None = None,
        **_: Any,
    ) -> Any:
        try:
            readings = readings_from_wire(meter_value)
        except ValidationError as error:
            raise as_ocpp_error(error) from None
        triggered = [r for r in readings if r.context == "Trigger"]
        if transaction_id is not None and triggered:
            at = triggered[0].measured_at
            seq_no = rate_change_seq_no(str(transaction_id), readings)
            message = TransactionMessage(
                str(transaction_id), seq_no, "Updated", "ChargingRateChanged", at, readings
            )
            await self._events.on_transaction(self.station_id, message)
        else:
            tx = None if transaction_id is None else str(transaction_id)
            await self._events.on_meter_values(self.station_id, tx, readings)
        return call_result.MeterValues()

    @on("SecurityEventNotification")
    async def on_security_event_notification(self, type: str, timestamp: str, **kw: Any) -> Any:
        notice = SecurityNotice(type, parse_time(timestamp), kw.get("tech_info"))
        await self._events.on_security_event(self.station_id, notice)
        return call_result.SecurityEventNotification()

    # ---- messages stored and acknowledged (issue 10 item 1) ----------------------------------

    @on("DataTransfer")
    async def on_data_transfer(self, vendor_id: str, **kw: Any) -> Any:
        """1.6 section 4.3: no vendor extension here, so every vendor is UnknownVendorId."""
        await self._store_notice("DataTransfer", f"vendor {vendor_id}", {"vendorId": vendor_id, **kw})
        return call_result.DataTransfer(status="UnknownVendorId")

    @on("DiagnosticsStatusNotification")
    async def on_diagnostics_status_notification(self, status: str) -> Any:
        await self._store_notice("DiagnosticsStatusNotification", status, {"status": status})
        return await super().on_diagnostics_status_notification(status)

    @on("FirmwareStatusNotification")
    async def on_firmware_status_notification(self, status: str) -> Any:
        await self._store_notice("FirmwareStatusNotification", status, {"status": status})
        return await super().on_firmware_status_notification(status)

    @on("SignedFirmwareStatusNotification")
    async def on_signed_firmware_status_notification(self, status: str, **kw: Any) -> Any:
        await self._store_notice("SignedFirmwareStatusNotification", status, {"status": status, **kw})
        return await super().on_signed_firmware_status_notification(status, **kw)

    @on("SignCertificate")
    async def on_sign_certificate(self, csr: str) -> Any:
        """Security whitepaper A02/A03: stored, then checked and signed by the CEM's CA
        (CsmsSecurityV16), Rejected when this CEM signs no certificates."""
        await self._store_notice("SignCertificate", "ChargePointCertificate", {})
        return await super().on_sign_certificate(csr)

    # commands (StationLink)

    async def set_charging_profile(self, profile: ChargingProfile, evse_id: int = 0) -> str:
        payload = {"connectorId": evse_id, "csChargingProfiles": profile_to_wire(profile)}
        return await self._request_own("SetChargingProfile", payload, _PROFILE_STATUSES)

    async def clear_charging_profile(self, profile_id: int | None, purpose: ProfilePurpose | None) -> str:
        wire_purpose = None if purpose is None else _PURPOSE_TO_WIRE[purpose]
        payload: dict[str, Any] = {}
        if profile_id is not None:
            payload["id"] = profile_id
        if wire_purpose is not None:
            payload["chargingProfilePurpose"] = wire_purpose
        return await self._request_own("ClearChargingProfile", payload, _CLEAR_STATUSES)

    async def get_composite_schedule(self, duration_s: int, evse_id: int = 0) -> CompositeSchedule:
        result = await self._request(
            call.GetCompositeSchedule(connector_id=evse_id, duration=duration_s, charging_rate_unit="W")
        )
        if not result.charging_schedule:
            return CompositeSchedule(str(result.status), None, duration_s)
        periods = tuple(
            (int(p["start_period"]), float(p["limit"]))
            for p in result.charging_schedule["charging_schedule_period"]
        )
        return CompositeSchedule(str(result.status), periods[0][1], duration_s, periods)

    async def get_charging_profiles(self, request_id: int) -> str:
        return "NotSupported"  # no GetChargingProfiles in OCPP 1.6

    async def get_variables(self, refs: list[VariableRef]) -> list[VariableResult]:
        result = await self._request(call.GetConfiguration(key=[_key(r) for r in refs]))
        found = {item["key"]: item.get("value") for item in result.configuration_key or []}
        unknown = set(result.unknown_key or [])
        return [
            VariableResult(r, "UnknownVariable" if _key(r) in unknown else "Accepted", found.get(_key(r)))
            for r in refs
        ]

    async def set_variables(self, values: list[tuple[VariableRef, str]]) -> list[VariableResult]:
        results = []
        for ref, value in values:
            result = await self._request(call.ChangeConfiguration(key=_key(ref), value=value))
            results.append(VariableResult(ref, str(result.status)))
        return results

    async def request_start(self, id_token: str, remote_start_id: int) -> str:
        result = await self._request(call.RemoteStartTransaction(id_tag=id_token, connector_id=1))
        return str(result.status)

    async def request_stop(self, transaction_id: str) -> str:
        result = await self._request(call.RemoteStopTransaction(transaction_id=int(transaction_id)))
        return str(result.status)

    async def reset(self) -> str:
        result = await self._request(call.Reset(type="Hard"))
        return str(result.status)

    async def get_log(self, remote_location: str, request_id: int) -> str:
        result = await self._request(
            call.GetLog(
                log={"remoteLocation": remote_location}, log_type="SecurityLog", request_id=request_id
            )
        )
        return str(result.status)


class StationV16(StationBase, StationSecurityV16, StationProfilesV16):
    """The station end of an OCPP 1.6J connection."""

    version = OcppVersion.V16
    _call = call
    _call_result = call_result
    _ocpp_version = "1.6"

    def __init__(
        self,
        station_id: str,
        connection: Any,
        device: StationDevice,
        on_fault: FaultCallback,
        remote_transactions: dict[str, int] | None = None,
    ):
        super().__init__(station_id, connection, device, on_fault)
        # our transaction id -> the CSMS's; kept by the caller across reconnects (queued events).
        self._remote_tx: dict[str, int] = {} if remote_transactions is None else remote_transactions
        # Set except while a StartTransaction waits for its conf (see _settled_local_tx).
        self._start_settled = asyncio.Event()
        self._start_settled.set()

    def _local_tx(self, remote: int | str) -> str:
        for local, rid in self._remote_tx.items():
            if str(rid) == str(remote):
                return local
        return str(remote)

    async def _settled_local_tx(self, remote: int | str) -> str:
        """Our id for the CSMS's ``remote`` one, once any StartTransaction in flight is settled.

        A CSMS may send RemoteStopTransaction or a TxProfile straight after the
        StartTransaction.conf that gave the id (1.6 sections 5.11, 5.16). The conf is read by the
        receive loop but mapped by the task that sent StartTransaction, which may not have run
        yet: wait for it (briefly: the conf has arrived, so this is one turn of the loop)."""
        if not self._start_settled.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._start_settled.wait(), START_SETTLE_S)
        return self._local_tx(remote)

    @on("SetChargingProfile")
    async def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> Any:
        """1.6 section 5.16 / 3.13: every kind, unit and number of periods; connector 0 (the
        whole charge point) or 1. A TxProfile without transactionId is for the transaction on
        the connector; with none running it is Rejected. A profile with the id of one held
        replaces it."""
        if connector_id not in (0, 1):
            return call_result.SetChargingProfile(status="Rejected")
        wire = dict(cs_charging_profiles)
        try:
            if wire["charging_profile_purpose"] == "TxProfile":
                active = getattr(self.device, "transaction_id", None)
                if wire.get("transaction_id") is not None:
                    wire["transaction_id"] = await self._settled_local_tx(wire["transaction_id"])
                elif active is not None:
                    wire["transaction_id"] = active
                else:
                    logger.info("%s: TxProfile with no transaction refused", self.id)
                    return call_result.SetChargingProfile(status="Rejected")
                connector_id = 1  # the transaction's connector: this charge point has one
            profile = profile_from_wire(wire, connector_id)
        except (ValidationError, KeyError, ValueError) as error:
            logger.warning("%s: charging profile refused: %s", self.id, error)
            return call_result.SetChargingProfile(status="Rejected")
        reason = self.device.install_profile(profile, same_level_conflicts=False)
        if reason is not None:
            logger.info("%s: charging profile %d refused: %s", self.id, profile.profile_id, reason)
        return call_result.SetChargingProfile(status="Accepted" if reason is None else "Rejected")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, **kw: Any) -> Any:
        """1.6 section 5.5: by id, or by purpose and/or stack level."""
        purpose = kw.get("charging_profile_purpose")
        cleared = self.device.clear_charging_profile(
            kw.get("id"), None if purpose is None else _PURPOSE_FROM_WIRE[purpose], kw.get("stack_level")
        )
        return call_result.ClearChargingProfile(status="Accepted" if cleared else "Unknown")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        """1.6 section 5.7 / 3.13.4: the composite over ``duration`` from now, a period at each
        change, in the unit asked for (W when none)."""
        if connector_id not in (0, 1):
            return call_result.GetCompositeSchedule(status="Rejected")
        unit = charging_rate_unit or "W"
        start_at, periods, phases = self.device.composite_schedule(duration, connector_id, unit)
        wire_periods = []
        for offset_s, limit in periods:
            item: dict[str, Any] = {"startPeriod": offset_s, "limit": round(limit, 1)}
            if unit == "A":
                item["numberPhases"] = phases
            wire_periods.append(item)
        schedule = {
            "duration": duration,
            "startSchedule": format_time(start_at),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": wire_periods,
        }
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=format_time(start_at),
            charging_schedule=schedule,
        )

    @on("GetConfiguration")
    def on_get_configuration(self, key: list[str] | None = None) -> Any:
        known, unknown = [], []
        for k in key or []:
            got = self.device.get_variable(_ref(k))
            if got.status == "Accepted":
                known.append({"key": k, "readonly": False, "value": got.value})
            else:
                unknown.append(k)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on("ChangeConfiguration")
    def on_change_configuration(self, key: str, value: str) -> Any:
        got = self.device.set_variable(_ref(key), value)
        status = {"Accepted": "Accepted", "UnknownVariable": "NotSupported"}.get(got.status, "Rejected")
        return call_result.ChangeConfiguration(status=status)

    @on("RemoteStartTransaction")
    def on_remote_start_transaction(self, id_tag: str, **_: Any) -> Any:
        """1.6 section 5.11 with AuthorizeRemoteTxRequests: Accepted when a session can start;
        the idTag is then authorized and the session starts only if it is Accepted."""
        free = self.device.unlock_connector(1, 1) == "Unlocked"
        return call_result.RemoteStartTransaction(status="Accepted" if free else "Rejected")

    @after("RemoteStartTransaction")
    def after_remote_start_transaction(self, id_tag: str, **_: Any) -> None:
        if self.device.unlock_connector(1, 1) == "Unlocked":
            self._spawn(self._remote_start(id_tag))

    async def _remote_start(self, id_tag: str) -> None:
        info = await self.authorize_info(id_tag)
        if info.accepted:
            self.device.start_remote(id_tag, None)
        else:
            logger.info("%s: remote start refused, idTag %s is %s", self.id, id_tag, info.status)

    @on("RemoteStopTransaction")
    async def on_remote_stop_transaction(self, transaction_id: int) -> Any:
        ok = self.device.request_stop(await self._settled_local_tx(transaction_id))
        return call_result.RemoteStopTransaction(status="Accepted" if ok else "Rejected")

    @on("TriggerMessage")
    def on_trigger_message(self, requested_message: str, connector_id: int | None = None) -> Any:
        """1.6 section 5.17 (BootNotification, Heartbeat, MeterValues, StatusNotification) and the
        Firmware Management profile's DiagnosticsStatusNotification and FirmwareStatusNotification."""
        known = TRIGGERABLE
        if requested_message == "BootNotification" and self.boot_status == "Accepted":
            status = "Rejected"
        else:
            status = "Accepted" if requested_message in known else "NotImplemented"
        self._trigger_status = status
        return call_result.TriggerMessage(status=status)

    @after("TriggerMessage")
    def after_trigger_message(self, requested_message: str, connector_id: int | None = None) -> None:
        if self._trigger_status == "Accepted":
            self._spawn(self._triggered(requested_message))

    async def _triggered(self, message: str) -> None:
        if message == "BootNotification":
            self.boot_requested.set()
        elif message == "Heartbeat":
            await self.heartbeat()
        elif message == "StatusNotification":
            busy = self.device.unlock_connector(1, 1) == "OngoingAuthorizedTransaction"
            await self.status("Occupied" if busy else "Available")
        elif message == "MeterValues":
            await self.meter_values(self.device.meter_readings("Trigger"))
        elif message == "DiagnosticsStatusNotification":
            await self.call(call.DiagnosticsStatusNotification(status="Idle"), suppress=False)
        elif message == "FirmwareStatusNotification":
            await self.call(call.FirmwareStatusNotification(status="Idle"), suppress=False)

    @on("ChangeAvailability")
    def on_change_availability(self, connector_id: int, type: str) -> Any:
        status = self.device.change_availability(type, connector_id or None)
        return call_result.ChangeAvailability(status=status)

    @on("UnlockConnector")
    def on_unlock_connector(self, connector_id: int) -> Any:
        status = self.device.unlock_connector(1, connector_id)
        return call_result.UnlockConnector(
            status={"Unlocked": "Unlocked", "UnknownConnector": "NotSupported"}.get(status, "UnlockFailed")
        )

    @on("ClearCache")
    def on_clear_cache(self) -> Any:
        return call_result.ClearCache(status="Accepted" if self.device.clear_cache() else "Rejected")

    # uplink

    async def boot(self, vendor: str, model: str, firmware: str, reason: str = "PowerUp") -> str:
        self.boot_requested.clear()
        result = await self.call(
            call.BootNotification(
                charge_point_vendor=vendor, charge_point_model=model, firmware_version=firmware
            ),
            suppress=False,
        )
        self.boot_status, self.boot_interval_s = str(result.status), int(result.interval)
        return self.boot_status

    async def heartbeat(self) -> None:
        await self.call(call.Heartbeat(), suppress=False)

    async def status(self, status: str) -> None:
        await self.call(
            call.StatusNotification(
                connector_id=1,
                error_code="NoError",
                status=_STATUS_TO_WIRE.get(status, status),
                timestamp=_now(),
            ),
            suppress=False,
        )

    async def authorize(self, id_token: str) -> bool:
        return (await self.authorize_info(id_token)).accepted

    async def authorize_info(self, id_token: str) -> IdTokenInfo:
        result = await self.call(call.Authorize(id_tag=id_token), suppress=False)
        info = id_tag_info_from_wire(result.id_tag_info)
        self.device.remember(id_token, info)
        return info

    async def send_message(self, message: object) -> None:
        """2.0.1-only notifications (NotifyEvent, ...) have no 1.6 message: not sent."""

    async def transaction_event(self, message: TransactionMessage) -> None:
        energy = [r for r in message.readings if r.measurand == "Energy.Active.Import.Register"]
        meter_wh = int(energy[-1].value) if energy else 0
        stamp = format_time(message.occurred_at)
        if message.event_type == "Started":
            self._start_settled.clear()
            try:
                result = await self.call(
                    call.StartTransaction(
                        connector_id=1,
                        id_tag=message.id_token or "local",
                        meter_start=meter_wh,
                        timestamp=stamp,
                    ),
                    suppress=False,
                )
                self._remote_tx[message.transaction_id] = int(result.transaction_id)
            finally:
                self._start_settled.set()
            verdict = id_tag_info_from_wire(result.id_tag_info)
            if message.id_token is not None:
                self.device.remember(message.id_token, verdict)
                if not verdict.accepted:  # StopTransactionOnInvalidId (1.6 section 5.16)
                    self.device.deauthorize(message.transaction_id)
            return
        remote = self._remote_tx.get(message.transaction_id)
        if remote is None:
            raise ValidationError(
                "transaction_id", message.transaction_id, "no StartTransaction.conf seen for it"
            )
        if message.event_type == "Ended":
            await self.call(
                call.StopTransaction(
                    meter_stop=meter_wh, timestamp=stamp, transaction_id=remote, reason="Local"
                ),
                suppress=False,
            )
            return
        context = "Trigger" if message.trigger_reason == "ChargingRateChanged" else "Sample.Periodic"
        readings = tuple(
            MeterReading(r.measured_at, r.measurand, r.value, r.unit, context) for r in message.readings
        )
        await self.call(
            call.MeterValues(connector_id=1, meter_value=readings_to_wire(readings), transaction_id=remote),
            suppress=False,
        )

    async def meter_values(self, readings: tuple[MeterReading, ...]) -> None:
        await self.call(
            call.MeterValues(connector_id=1, meter_value=readings_to_wire(readings)), suppress=False
        )

    async def security_event(self, notice: SecurityNotice) -> None:
        self.security_log.append(notice)
        await self.call(
            call.SecurityEventNotification(
                type=notice.event_type, timestamp=format_time(notice.occurred_at), tech_info=notice.tech_info
            ),
            suppress=False,
        )


__all__ = [
    "STOP_SEQ_NO",
    "CsmsV16",
    "StationV16",
    "profile_from_wire",
    "profile_to_wire",
    "rate_change_seq_no",
    "transaction_id_for",
]
