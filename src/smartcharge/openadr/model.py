"""Frozen domain objects of Interface A (OpenADR 2.0b), independent of the wire library.

Nothing inward of :mod:`smartcharge.openadr` sees an XML dict: events, opts, reports and
registrations cross the edge as these objects. Times are UTC epoch seconds (``*_s``).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from smartcharge.core.errors import ValidationError


class Programme(enum.Enum):
    """The two DSR classes the data model must tell apart (SCP-SF-5, PAS 1879)."""

    ROUTINE = "routine"  # tariff and price signals, DSRSP optimisation: ARB-5 layer 5, delayed
    RESPONSE = "response"  # DNO constraint, system need: ARB-5 layer 3, never delayed

    @property
    def market_context(self) -> str:
        """The OpenADR market context URI that names this programme on the wire."""
        return f"http://smartcharge.invalid/programme/{self.value}-dsr"

    @classmethod
    def from_market_context(cls, uri: str) -> Programme:
        for programme in cls:
            if programme.market_context == uri:
                return programme
        known = ", ".join(p.market_context for p in cls)
        raise ValidationError("market_context", uri, f"unknown DSR programme; known: {known}")


class Signal(enum.Enum):
    """The (signal name, signal type) pairs smartcharge sends and obeys (OpenADR 2.0b EiEvent)."""

    LOAD_DISPATCH_SETPOINT = ("LOAD_DISPATCH", "setpoint")  # power ceiling in W
    SIMPLE_LEVEL = ("SIMPLE", "level")  # 0 normal, 1 moderate, 2 high, 3 special
    ELECTRICITY_PRICE = ("ELECTRICITY_PRICE", "price")  # p/kWh

    @property
    def signal_name(self) -> str:
        return self.value[0]

    @property
    def signal_type(self) -> str:
        return self.value[1]

    @classmethod
    def from_wire(cls, signal_name: str, signal_type: str) -> Signal:
        for signal in cls:
            if signal.value == (signal_name, signal_type):
                return signal
        known = ", ".join(f"{s.signal_name}/{s.signal_type}" for s in cls)
        raise ValidationError("event_signal", f"{signal_name}/{signal_type}", f"not supported; use {known}")


#: SIMPLE levels defined by OpenADR 2.0b.
SIMPLE_LEVELS = (0, 1, 2, 3)

#: Report names both sides use (oadrUpdateReport): PAS 1878 offers and the post-event power
#: report are ``x-`` extensions; telemetry uses the OpenADR names.
OFFER_REPORT = "x-FLEX_OFFER"
POWER_REPORT = "x-POWER_REPORT"
USAGE_REPORT = "TELEMETRY_USAGE"
STATUS_REPORT = "TELEMETRY_STATUS"


class Opt(enum.Enum):
    IN = "optIn"
    OUT = "optOut"


class OptReason(enum.Enum):
    """OpenADR opt reasons smartcharge uses (ARB-6: every override is reported with its reason)."""

    OVERRIDE = "overrideStatus"
    NOT_PARTICIPATING = "notParticipating"
    PARTICIPATING = "participating"
    EMERGENCY = "emergency"


#: Path of the DSRSP operators' admin endpoint on the VTN's HTTPS port (mutual TLS).
ADMIN_PREFIX = "/admin"


class StatusCode(enum.IntEnum):
    """OpenADR 2.0b response codes used in refusals."""

    OK = 200
    INVALID_ID = 452
    INVALID_DATA = 454
    SIGNAL_NOT_SUPPORTED = 460
    NOT_REGISTERED_OR_AUTHORIZED = 463


@dataclass(frozen=True, slots=True)
class EventInterval:
    """One interval of an event signal: from ``start_s`` for ``duration_s`` seconds, ``value``."""

    start_s: int
    duration_s: int
    value: float

    def __post_init__(self) -> None:
        if self.duration_s <= 0:
            raise ValidationError("interval.duration_s", self.duration_s, "an interval must last > 0 s")
        if not math.isfinite(self.value):
            raise ValidationError("interval.value", self.value, "must be a finite number")

    @property
    def end_s(self) -> int:
        return self.start_s + self.duration_s


@dataclass(frozen=True, slots=True)
class DsrEvent:
    """A DSR event as both sides understand it (OpenADR 2.0b oadrEvent, one signal).

    ``start_after_s`` is the OpenADR ``tolerance/startafter`` window: the VEN starts the event at
    a random moment within it, so the DSRSP has already randomised (RD-R3).
    """

    event_id: str
    programme: Programme
    signal: Signal
    intervals: tuple[EventInterval, ...]
    start_after_s: int = 0
    modification_number: int = 0
    cancelled: bool = False
    priority: int = 0
    test_event: bool = False

    def __post_init__(self) -> None:
        if not self.event_id:
            raise ValidationError("event_id", self.event_id, "must not be empty")
        if not self.intervals:
            raise ValidationError("intervals", (), "an event needs at least one interval")
        for before, after in zip(self.intervals, self.intervals[1:], strict=False):
            if after.start_s != before.end_s:
                raise ValidationError("intervals", after.start_s, "intervals must follow one another")
        if self.start_after_s < 0:
            raise ValidationError("start_after_s", self.start_after_s, "a start window is >= 0 s")
        if self.signal is Signal.SIMPLE_LEVEL:
            bad = [i.value for i in self.intervals if i.value not in SIMPLE_LEVELS]
            if bad:
                raise ValidationError("interval.value", bad[0], "a SIMPLE level is 0, 1, 2 or 3")
        if self.signal is Signal.LOAD_DISPATCH_SETPOINT:
            bad = [i.value for i in self.intervals if i.value < 0]
            if bad:
                raise ValidationError("interval.value", bad[0], "a power setpoint is >= 0 W")

    @property
    def start_s(self) -> int:
        return self.intervals[0].start_s

    @property
    def end_s(self) -> int:
        return self.intervals[-1].end_s


@dataclass(frozen=True, slots=True)
class OptNotice:
    """A VEN's opt for one event, with the reason (oadrCreatedEvent / oadrCreateOpt)."""

    ven_id: str
    event_id: str
    opt: Opt
    reason: OptReason | None = None


@dataclass(frozen=True, slots=True)
class ReportPoint:
    """One reading in an oadrUpdateReport: report ``name``, reading id ``r_id``, at ``at_s``."""

    name: str
    r_id: str
    at_s: int
    value: float


@dataclass(frozen=True, slots=True)
class Registration:
    """What a VEN holds after oadrCreatedPartyRegistration: the credentials for one VTN."""

    vtn_id: str
    ven_id: str
    registration_id: str
    poll_interval_s: float


@dataclass(frozen=True, slots=True)
class SecurityNotice:
    """A refused message or other security-relevant fact (SEC-D-9, SEC-S-8), for the log."""

    at_s: int
    side: str  # "vtn" or "ven"
    kind: str  # e.g. "unsigned_message", "replayed_nonce", "unknown_ven"
    code: int  # OpenADR status code returned (or 0 when nothing was sent back)
    peer: str = ""  # ven_id, fingerprint or URL of the other side
    detail: str = ""


@dataclass(frozen=True, slots=True)
class VenRecord:
    """A CEM the DSRSP knows by certificate fingerprint; registered once it has a registration id."""

    fingerprint: str
    ven_name: str
    ven_id: str
    registration_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


__all__ = [
    "OFFER_REPORT",
    "POWER_REPORT",
    "SIMPLE_LEVELS",
    "STATUS_REPORT",
    "USAGE_REPORT",
    "DsrEvent",
    "EventInterval",
    "Opt",
    "OptNotice",
    "OptReason",
    "Programme",
    "Registration",
    "ReportPoint",
    "SecurityNotice",
    "Signal",
    "StatusCode",
    "VenRecord",
]
