"""Interface B as frozen domain objects, shared by the OCPP 1.6J and 2.0.1 modules.

Wire dicts never travel past :mod:`smartcharge.ocpp`: each version module turns them into these
types at once, and the roles (``cem``, ``station``) only ever see these. Times are aware UTC
datetimes (``*_at``), powers are watts.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from smartcharge.core.errors import ValidationError


class OcppVersion(enum.Enum):
    """The websocket subprotocol names (OCPP-J): one port, chosen by the handshake."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"


class ProfilePurpose(enum.Enum):
    """Charging profile purposes (OCPP 2.0.1 K01; 1.6 has no external-constraints purpose)."""

    STATION_MAX = "ChargingStationMaxProfile"
    EXTERNAL_CONSTRAINTS = "ChargingStationExternalConstraints"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


#: chargingProfileKind values (OCPP 2.0.1 K01, 1.6 section 7.13).
PROFILE_KINDS = ("Absolute", "Recurring", "Relative")
#: recurrencyKind values and the length of one cycle.
RECURRENCY_S = {"Daily": 86_400, "Weekly": 7 * 86_400}
#: startSchedule of a flat limit (one period, no duration) with no validFrom: such a limit is in
#: force from whenever it arrives, so its schedule starts in the past (startSchedule is required,
#: K01.FR.40); "now" by the CEM's clock would hold it off on a station whose clock lags.
FLAT_SCHEDULE_START = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    """One chargingSchedulePeriod: from ``start_s`` after the schedule's start, ``limit`` in the
    schedule's rate unit (A per phase, or W); ``phases`` None when the message gave none."""

    start_s: int
    limit: float
    phases: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingSchedule:
    """A chargingSchedule as received, with the profile's kind (OCPP 2.0.1 K01, 1.6 section 3.13).

    ``start_at`` is startSchedule (Absolute and Recurring; a Relative schedule starts with the
    transaction); ``duration_s`` None: the last period runs on until the profile's validTo.
    """

    rate_unit: str
    periods: tuple[SchedulePeriod, ...]
    kind: str = "Absolute"
    recurrency: str | None = None
    start_at: datetime | None = None
    duration_s: int | None = None

    def __post_init__(self) -> None:
        if self.rate_unit not in ("A", "W"):
            raise ValidationError("chargingRateUnit", self.rate_unit, "is A or W")
        if self.kind not in PROFILE_KINDS:
            raise ValidationError("chargingProfileKind", self.kind, f"is one of {', '.join(PROFILE_KINDS)}")
        if not self.periods:
            raise ValidationError("chargingSchedulePeriod", 0, "a schedule has at least one period")
        if self.periods[0].start_s != 0:
            raise ValidationError(
                "chargingSchedulePeriod.startPeriod",
                self.periods[0].start_s,
                "the first period starts at 0 (OCPP K01.FR.31)",
            )
        starts = [p.start_s for p in self.periods]
        if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
            raise ValidationError(
                "chargingSchedulePeriod.startPeriod", starts, "start periods increase (OCPP K01.FR.35)"
            )
        for period in self.periods:
            if not 0 <= period.limit < math.inf:
                raise ValidationError("chargingSchedulePeriod.limit", period.limit, "is a finite value >= 0")
            if period.phases is not None and period.phases not in (1, 2, 3):
                raise ValidationError("chargingSchedulePeriod.numberPhases", period.phases, "is 1, 2 or 3")
        if self.kind == "Recurring" and self.recurrency not in RECURRENCY_S:
            raise ValidationError("recurrencyKind", self.recurrency, "a Recurring profile is Daily or Weekly")
        if self.kind == "Relative" and self.start_at is not None:
            raise ValidationError(
                "startSchedule", format_time(self.start_at), "a Relative schedule has none (OCPP K01.FR.41)"
            )
        if self.duration_s is not None and self.duration_s < 0:
            raise ValidationError("duration", self.duration_s, "is >= 0 s")


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """A charging profile: ``limit_w`` is its first period in W (the flat limit the CEM's limit
    book sends); ``schedule`` the full schedule when one was received (None: one flat period).

    ``valid_to`` (None: no end) lets a limit lapse by itself on the station (SCP-FS-4: an expired
    DSR event is never resumed). ``transaction_id`` only for TxProfile. ``evse_id`` 0 is the whole
    station (2.0.1 evseId, 1.6 connectorId).
    """

    profile_id: int
    stack_level: int
    purpose: ProfilePurpose
    limit_w: float
    valid_to: datetime | None = None
    transaction_id: str | None = None
    randomised_upstream: bool = False
    valid_from: datetime | None = None  # K01 validFrom: not in force before it
    schedule: ChargingSchedule | None = None
    evse_id: int = 0

    def __post_init__(self) -> None:
        if self.profile_id <= 0:
            raise ValidationError("profile_id", self.profile_id, "a charging profile id is > 0 (OCPP K01)")
        if not 0 <= self.stack_level <= 1000:
            raise ValidationError("stack_level", self.stack_level, "stackLevel is 0..1000 (OCPP K01)")
        if not self.limit_w >= 0 or self.limit_w == float("inf"):
            raise ValidationError("limit_w", self.limit_w, "a profile limit is a finite power >= 0 W")
        if (self.purpose is ProfilePurpose.TX) != (self.transaction_id is not None):
            raise ValidationError(
                "transaction_id",
                self.transaction_id,
                "a TxProfile needs a transaction id, no other purpose has one",
            )


#: Largest seqNo kept (the store's integer column; OCPP 2.0.1 E01 only says "integer").
MAX_SEQ_NO = 2**31 - 1


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One sampled value; ``phase`` None when the value is not per phase (OCPP SampledValueType)."""

    measured_at: datetime
    measurand: str
    value: float
    unit: str
    context: str = "Sample.Periodic"
    phase: str | None = None
    location: str = "Outlet"

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValidationError("sampledValue.value", self.value, "must be a finite number")


@dataclass(frozen=True, slots=True)
class TransactionMessage:
    """A TransactionEvent (2.0.1), or a 1.6 Start/StopTransaction mapped onto the same shape."""

    transaction_id: str
    seq_no: int
    event_type: str  # Started | Updated | Ended
    trigger_reason: str
    occurred_at: datetime
    readings: tuple[MeterReading, ...] = ()
    offline: bool = False
    id_token: str | None = None
    stop_reason: str | None = None
    evse_id: int = 1
    charging_state: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.seq_no <= MAX_SEQ_NO:
            raise ValidationError("seqNo", self.seq_no, f"must be 0..{MAX_SEQ_NO}")


@dataclass(frozen=True, slots=True)
class BootInfo:
    vendor: str
    model: str
    firmware_version: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class StatusReport:
    evse_id: int
    connector_id: int
    status: str
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class SecurityNotice:
    event_type: str
    occurred_at: datetime
    tech_info: str | None


@dataclass(frozen=True, slots=True)
class VariableRef:
    """A device-model variable (OCPP 2.0.1 B05/B06); 1.6 maps ``component.variable`` to a key."""

    component: str
    variable: str


@dataclass(frozen=True, slots=True)
class VariableResult:
    ref: VariableRef
    status: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class CompositeSchedule:
    """GetCompositeSchedule's answer (K08): ``limit_w`` the first period, ``periods_w`` all of them
    as (offset from the start in s, limit in W)."""

    status: str
    limit_w: float | None = None
    duration_s: int = 0
    periods_w: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True, slots=True)
class ChargingLimitNotice:
    """NotifyChargingLimit (2.0.1 K12): an external limit set at the station, with its source."""

    source: str
    limit_w: float | None
    evse_id: int | None = None


@dataclass(frozen=True, slots=True)
class ProfileReport:
    """ReportChargingProfiles (2.0.1 K09) after GetChargingProfiles."""

    request_id: int
    profiles: tuple[ChargingProfile, ...] = field(default_factory=tuple)


#: IdTokenInfo statuses of OCPP 2.0.1 (AuthorizationStatusEnumType); 1.6 has a subset (see v16).
AUTHORIZATION_STATUSES = (
    "Accepted",
    "Blocked",
    "ConcurrentTx",
    "Expired",
    "Invalid",
    "NoCredit",
    "NotAllowedTypeEVSE",
    "NotAtThisLocation",
    "NotAtThisTime",
    "Unknown",
)
#: How a CSMS may answer a BootNotification (RegistrationStatusEnumType, B01-B03).
BOOT_STATUSES = ("Accepted", "Pending", "Rejected")


@dataclass(frozen=True, slots=True)
class IdTokenInfo:
    """The CSMS's verdict on one id token (C01, E01.FR.11/12): only ``Accepted`` lets charging start.
    ``cache_expiry_at`` tells the station how long it may keep the verdict in its cache (C10)."""

    status: str
    cache_expiry_at: datetime | None = None
    group_id_token: str | None = None

    def __post_init__(self) -> None:
        if self.status not in AUTHORIZATION_STATUSES:
            raise ValidationError(
                "status",
                self.status,
                f"an authorization status is one of {', '.join(AUTHORIZATION_STATUSES)}",
            )

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted"


@dataclass(frozen=True, slots=True)
class BootAnswer:
    """The CSMS's answer to a BootNotification: status and the heartbeat or retry interval."""

    status: str
    interval_s: int

    def __post_init__(self) -> None:
        if self.status not in BOOT_STATUSES:
            raise ValidationError(
                "status", self.status, f"a boot status is one of {', '.join(BOOT_STATUSES)}"
            )
        if self.interval_s < 0:
            raise ValidationError("interval_s", self.interval_s, "an interval is >= 0 s")


@dataclass(frozen=True, slots=True)
class StationNotice:
    """A station message the CSMS acknowledges and stores without acting on it further (NotifyEvent,
    DataTransfer, firmware or diagnostics status, NotifyMonitoringReport, ...): the action, a one-line
    summary for people, and the message as the station sent it (camelCase JSON text)."""

    action: str
    received_at: datetime
    summary: str
    payload_json: str


@dataclass(frozen=True, slots=True)
class ReportedVariable:
    """One attribute of the device model as a NotifyReport part gave it (B07/B08).
    ``evse_id``/``connector_id`` are None when the component names no EVSE."""

    component: str
    variable: str
    attribute_type: str = "Actual"
    value: str | None = None
    mutability: str | None = None
    component_instance: str | None = None
    variable_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingNeeds:
    """NotifyEVChargingNeeds (K15): what the EV asked for on one EVSE."""

    evse_id: int
    energy_transfer_mode: str
    max_power_w: float | None = None
    departure_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StationMessage:
    """A 2.0.1 station message with no domain mapping of its own (NotifyEvent, ReservationStatusUpdate,
    ClearedChargingLimit, NotifyEVChargingNeeds, NotifyReport parts): action and camelCase payload,
    built by the station from its own validated state."""

    action: str
    payload: dict[str, object]


def parse_time(text: str, field_name: str = "timestamp") -> datetime:
    """An OCPP dateTime (RFC 3339) as an aware UTC datetime; a zone-less time is refused."""
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError, AttributeError):
        raise ValidationError(field_name, text, "must be an RFC 3339 date-time") from None
    if at.tzinfo is None:
        raise ValidationError(field_name, text, "must carry a UTC offset (OCPP dateTime)")
    try:
        return at.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 lies before year 1 in UTC
        raise ValidationError(field_name, text, "must be a date-time between years 1 and 9999 UTC") from None


def format_time(at: datetime) -> str:
    """RFC 3339 in UTC with a Z, as OCPP wants it."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class StationDevice(Protocol):
    """What a station-side OCPP connection asks of the charge point it fronts (any version)."""

    def set_charging_profile(self, profile: ChargingProfile) -> bool: ...

    def install_profile(self, profile: ChargingProfile, same_level_conflicts: bool = True) -> str | None:
        """K01: None when installed, else the reason it was refused (statusInfo reasonCode)."""
        ...

    def composite_schedule(
        self, duration_s: int, evse_id: int, rate_unit: str = "W"
    ) -> tuple[datetime, list[tuple[int, float]], int]:
        """K08: (start, [(offset s, limit in rate_unit)], phases)."""
        ...

    def clear_charging_profile(
        self, profile_id: int | None, purpose: ProfilePurpose | None, stack_level: int | None = None
    ) -> bool: ...

    def charging_profiles(self) -> tuple[ChargingProfile, ...]: ...

    def composite_limit_w(self) -> float | None: ...

    def get_variable(self, ref: VariableRef) -> VariableResult: ...

    def set_variable(self, ref: VariableRef, value: str) -> VariableResult: ...

    def request_start(self, id_token: str) -> bool: ...

    def request_stop(self, transaction_id: str) -> bool: ...

    def reset(self) -> bool: ...

    # ---- OCPP core (issue 10): authorization, availability, reservations, device model ------

    def offline_authorization(self, id_token: str) -> IdTokenInfo | None:
        """The local list's, else the cache's, verdict (C12, C13); None when neither knows it."""
        ...

    def remember(self, id_token: str, info: IdTokenInfo) -> None:
        """Keep a CSMS verdict in the authorization cache (C10)."""
        ...

    def deauthorize(self, transaction_id: str) -> bool:
        """The CSMS refused the token of a running transaction: stop it (E01.FR.11/12)."""
        ...

    def send_local_list(
        self, version: int, update_type: str, entries: list[tuple[str, IdTokenInfo | None]]
    ) -> str: ...

    def local_list_version(self) -> int: ...

    def clear_cache(self) -> bool: ...

    def start_remote(self, id_token: str, profile: ChargingProfile | None) -> bool:
        """RequestStartTransaction after the token was authorized (F01/F02), with its TxProfile."""
        ...

    def change_availability(self, operational: str, evse_id: int | None) -> str: ...

    def unlock_connector(self, evse_id: int, connector_id: int) -> str: ...

    def reserve(
        self,
        reservation_id: int,
        expires_at: datetime,
        id_token: str,
        evse_id: int | None,
        group_id_token: str | None = None,
    ) -> str: ...

    def cancel_reservation(self, reservation_id: int) -> bool: ...

    def transaction_status(self, transaction_id: str | None) -> tuple[bool | None, bool]:
        """(ongoing, messages in queue) for GetTransactionStatus (E14)."""
        ...

    def reset_request(self, reset_type: str, evse_id: int | None) -> str:
        """Reset (B11/B12): Accepted (done now), Scheduled (OnIdle, after the session) or Rejected."""
        ...

    def set_network_profile(self, slot: int, connection: dict[str, object]) -> str: ...

    def meter_readings(self, context: str) -> tuple[MeterReading, ...]: ...

    def trigger_transaction_event(self) -> bool:
        """Queue a TransactionEvent Updated, trigger Trigger, for the running session (F06)."""
        ...

    def report_variables(self) -> list[ReportedVariable]:
        """The whole device model, for GetBaseReport / GetReport (B07/B08)."""
        ...


__all__ = [
    "AUTHORIZATION_STATUSES",
    "BOOT_STATUSES",
    "BootAnswer",
    "MAX_SEQ_NO",
    "BootInfo",
    "ChargingNeeds",
    "ChargingLimitNotice",
    "ChargingProfile",
    "ChargingSchedule",
    "FLAT_SCHEDULE_START",
    "PROFILE_KINDS",
    "RECURRENCY_S",
    "SchedulePeriod",
    "CompositeSchedule",
    "IdTokenInfo",
    "MeterReading",
    "OcppVersion",
    "ProfilePurpose",
    "ProfileReport",
    "ReportedVariable",
    "SecurityNotice",
    "StationDevice",
    "StationMessage",
    "StationNotice",
    "StatusReport",
    "TransactionMessage",
    "VariableRef",
    "VariableResult",
    "format_time",
    "parse_time",
]
