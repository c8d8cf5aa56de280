"""What the owner of a charge point can see and do, for the API, the pages and the CLI alike.

The charge point holds the settings that act (OCPP device-model variables, 2.0.1 B05/B06
Get/SetVariables, 1.6 Get/ChangeConfiguration): reg 10 default hours and the owner's first-use
choice (SCP-OP-1..3), the reg 11 maximum randomised delay and its countdown (SCP-RD-3, RD-R2), and
the consumer override (SCP-OP-3, SCP-RD-6). This service reads them live from the connected charge
point, changes them there, and keeps a copy of what was accepted in the store (shown while the
charge point is offline). The limits the CEM itself sets come from its limit book, each with its
source (ARB-5), so the owner is told in plain words who limits the charge point and until when.

An owner sees and changes only his own charge points: every call names the owner, and a charge
point of someone else is answered exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from smartcharge.cem.gateway import CemGateway, StationState
from smartcharge.cem.ports import StationTelemetry
from smartcharge.core.errors import SmartchargeError, ValidationError
from smartcharge.core.limit import LimitSource
from smartcharge.core.localtime import GB_TZ, local_fields
from smartcharge.core.tariff import get_tariff
from smartcharge.core.units import MINUTES_PER_WEEK
from smartcharge.core.window import WeeklySchedule
from smartcharge.ocpp.domain import VariableRef
from smartcharge.policy.default_hours import GB_DEFAULT_HOURS
from smartcharge.policy.random_delay import MAX_DELAY_CAPABILITY_S, validate_max_delay_s
from smartcharge.store.owner_repo import OwnedRecord, OwnerRepository

logger = logging.getLogger(__name__)

#: The charge point's device-model variables the owner's settings live in (the emulated station's
#: names; a real charge point maps them in its device model).
MAX_DELAY = VariableRef("RandomisedDelay", "MaxDelaySeconds")  # reg 11, SCP-RD-3
DELAY_COUNTDOWN = VariableRef("RandomisedDelay", "CountdownSeconds")  # RD-R2, read only
HOURS_CHOICE = VariableRef("DefaultHours", "Choice")  # reg 10, SCP-OP-2: Pending|Accepted|Changed|Removed
HOURS_SCHEDULE = VariableRef("DefaultHours", "Schedule")  # window grammar of core.window
OVERRIDE = VariableRef("ConsumerOverride", "Active")  # SCP-OP-3, SCP-RD-6
MODE = VariableRef("SmartChargingCtrlr", "Mode")  # NORMAL | DSR_MANAGED | CONSUMER_OVERRIDE | FAIL_SAFE
LIVE_VARIABLES = [MAX_DELAY, DELAY_COUNTDOWN, HOURS_CHOICE, HOURS_SCHEDULE, OVERRIDE, MODE]

#: The tariff that prices sessions until the owner names his own (the GB price cap, flat).
DEFAULT_TARIFF = "ofgem_cap_2025q1"
#: How long one reading of a charge point's variables is reused (the home page polls every 2 s).
LIVE_CACHE_S = 1.0

HOURS_CHOICES = ("accept", "change", "remove")
#: The shipped default hours as text (str() of a schedule rebuilds it: once, not per charge point).
GB_DEFAULT_HOURS_TEXT = str(GB_DEFAULT_HOURS)

#: Records read once for the request in hand (OwnerService.reading): the service they belong to
#: and its records by station id.
_READING: ContextVar[tuple[object, dict[str, OwnedRecord]] | None] = ContextVar("owner_records", default=None)

SOURCE_WORDS = {
    LimitSource.SAFETY: "a safety limit",
    LimitSource.SITE: "your site's supply limit",
    LimitSource.RESPONSE_DSR: "your DSR provider's response event",
    LimitSource.CONSUMER_OVERRIDE: "your own override",
    LimitSource.ROUTINE_DSR: "your DSR provider's routine schedule",
    LimitSource.DEVICE_DEFAULT: "your default charging hours",
}
MODE_WORDS = {
    "NORMAL": "normal: your default hours and schedule",
    "DSR_MANAGED": "managed by your DSR provider",
    "CONSUMER_OVERRIDE": "charging now: you overrode the schedule for this session",
    "FAIL_SAFE": "fail-safe: running on its stored settings",
}


class NotYoursError(ValidationError):
    """The caller owns no charge point of that id (whether or not it exists)."""

    def __init__(self, station_id: str) -> None:
        super().__init__("station_id", station_id, "no charge point of yours has this id")


class ActionRefusedError(SmartchargeError):
    """A well-formed request that cannot be carried out now (offline, nothing to cancel, refused
    by the charge point); names the field and the rule like a validation error, changes nothing."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


@dataclass(frozen=True, slots=True)
class LimitView:
    """The limit in force on one charge point, its binding source and the same in plain words."""

    limit_w: float | None  # None: no limit below the charge point's rating
    source: str | None  # LimitSource name in lower case, e.g. "response_dsr"
    until: datetime | None
    detail: str
    words: str


@dataclass(frozen=True, slots=True)
class DelayView:
    """Reg 11 randomised delay: the maximum, the countdown and whether "start now" is allowed."""

    max_delay_s: int | None
    countdown_s: int
    can_start_now: bool
    why_not: str | None


@dataclass(frozen=True, slots=True)
class HoursView:
    """Reg 10 default hours: the owner's choice, the hours in force, whether they allow charging now."""

    choice: str  # Pending | Accepted | Changed | Removed
    schedule: str
    shipped_schedule: str
    first_use_pending: bool
    allowed_now: bool
    next_allowed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ChargePointView:
    station_id: str
    connected: bool
    status: str
    mode: str
    mode_words: str
    power_w: float
    offered_w: float | None
    energy_kwh: float
    charging: bool
    session_active: bool
    override_active: bool
    limit: LimitView
    delay: DelayView
    hours: HoursView
    tariff_id: str
    live: bool  # the settings were read from the charge point just now (else: the CEM's copy)
    as_of: datetime


def _local_hhmm(at: datetime) -> str:
    return at.astimezone(GB_TZ).strftime("%H:%M")


def _kw(value_w: float) -> str:
    return f"{value_w / 1000:.1f}".rstrip("0").rstrip(".") + " kW"


@functools.lru_cache(maxsize=256)
def _minute_mask(schedule_text: str) -> np.ndarray:
    """The schedule's week of minutes, built once per distinct schedule (a fleet shares a few)."""
    mask = WeeklySchedule.parse(schedule_text, "schedule").minute_mask()
    mask.setflags(write=False)
    return mask


def hours_allow(schedule_text: str, choice: str, now_s: int) -> tuple[bool, datetime | None]:
    """Whether the default hours allow charging at ``now_s`` and, if not, when they next do (SCP-OP-5)."""
    if choice == "Removed":
        return True, None
    mask = _minute_mask(schedule_text)
    minute = int(local_fields(np.array([now_s], dtype=np.int64)).minute_of_week[0])
    if mask[minute]:
        return True, None
    ahead = np.roll(mask, -minute)
    if not ahead.any():
        return False, None
    wait_min = int(np.argmax(ahead))
    start = (now_s // 60 + wait_min) * 60
    return False, datetime.fromtimestamp(start, UTC) if wait_min < MINUTES_PER_WEEK else None


class OwnerService:
    """The owner's charge points, their settings and what limits them; see the module docstring."""

    def __init__(
        self,
        repo: OwnerRepository,
        gateway: CemGateway | None,
        clock: Callable[[], float] = time.time,
        variable_timeout_s: float = 3.0,
    ) -> None:
        self.repo = repo
        self.gateway = gateway
        self._clock = clock
        self._timeout_s = variable_timeout_s
        # station id -> (monotonic time read, transaction then running, values)
        self._live: dict[str, tuple[float, str | None, dict[VariableRef, str]]] = {}

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    # ---- ownership ------------------------------------------------------------------------------

    def assign(self, station_id: str, owner: str, tariff_id: str = DEFAULT_TARIFF) -> OwnedRecord:
        """Make ``owner`` the owner of a registered charge point (done by the operator or the CLI)."""
        get_tariff(tariff_id)
        return self.repo.assign(station_id, owner, tariff_id, self.now())

    def owned(self, owner: str) -> list[OwnedRecord]:
        return self.repo.owned_by(owner)

    @contextlib.contextmanager
    def reading(self, records: list[OwnedRecord]) -> Iterator[None]:
        """Within this block (one request, one thread), answer ownership and tariff questions about
        ``records`` from them instead of one store read each: a page over a fleet asks three per
        charge point. Nothing outlives the block, so no answer is older than the request."""
        token = _READING.set((self, {r.station_id: r for r in records}))
        try:
            yield
        finally:
            _READING.reset(token)

    def _get(self, station_id: str) -> OwnedRecord | None:
        reading = _READING.get()
        if reading is not None and reading[0] is self and station_id in reading[1]:
            return reading[1][station_id]
        return self.repo.get(station_id)

    def record_of(self, owner: str, station_id: str) -> OwnedRecord:
        """The owner's record of ``station_id``; someone else's charge point is "not yours"."""
        record = self._get(station_id)
        if record is None or record.owner != owner:
            raise NotYoursError(station_id)
        return record

    def owns(self, owner: str, station_id: str) -> bool:
        """Whether ``owner`` owns ``station_id`` (the plans' ownership port, cem.plans.Ownership)."""
        record = self._get(station_id)
        return record is not None and record.owner == owner

    def tariff_of(self, station_id: str) -> str:
        """The tariff that prices this charge point (plans and sessions use the same one)."""
        record = self._get(station_id)
        return DEFAULT_TARIFF if record is None else record.tariff_id

    def set_tariff(self, owner: str, station_id: str, tariff_id: str) -> OwnedRecord:
        """The tariff that prices this charge point's sessions (a packaged GB tariff)."""
        self.record_of(owner, station_id)
        get_tariff(tariff_id)
        return self.repo.update(station_id, self.now(), tariff_id=tariff_id)

    # ---- reading the charge point ---------------------------------------------------------------

    def _state(self, station_id: str) -> StationState | None:
        return None if self.gateway is None else self.gateway.stations.get(station_id)

    async def _read_live(self, station_id: str, fresh: bool = False) -> dict[VariableRef, str] | None:
        """The charge point's variables, or None when it is offline or does not answer in time."""
        state = self._state(station_id)
        if state is None or state.link is None:
            return None
        cached = self._live.get(station_id)
        if (
            cached is not None
            and not fresh
            and time.monotonic() - cached[0] < LIVE_CACHE_S
            and cached[1] == state.transaction_id  # a session starting or ending is news at once
        ):
            return cached[2]
        try:
            results = await asyncio.wait_for(state.link.get_variables(LIVE_VARIABLES), self._timeout_s)
        except (TimeoutError, ConnectionError, OSError) as error:
            logger.info("%s: variables not read (%r)", station_id, error)
            return None
        values = {r.ref: r.value for r in results if r.status == "Accepted" and r.value is not None}
        self._live[station_id] = (time.monotonic(), state.transaction_id, values)
        return values

    async def charge_points(self, owner: str) -> list[ChargePointView]:
        """Every charge point of ``owner`` with its live state (read in parallel)."""
        records = await asyncio.to_thread(self.repo.owned_by, owner)
        # One pass of the limit arithmetic for all of them: per charge point it was one pass over
        # every station each, O(N^2) for a fleet.
        telemetry = self._telemetry()
        return list(await asyncio.gather(*(self._view(r, telemetry=telemetry) for r in records)))

    async def charge_point(self, owner: str, station_id: str) -> ChargePointView:
        record = await asyncio.to_thread(self.record_of, owner, station_id)
        return await self._view(record, fresh=True)

    def _telemetry(self) -> dict[str, StationTelemetry]:
        """The CEM's limit and binding source of every station it knows, by station id."""
        if self.gateway is None:
            return {}
        return {t.station_id: t for t in self.gateway.telemetry()}

    async def _view(
        self, record: OwnedRecord, fresh: bool = False, telemetry: dict[str, StationTelemetry] | None = None
    ) -> ChargePointView:
        sid = record.station_id
        live = await self._read_live(sid, fresh)
        state = self._state(sid) or StationState(status="Offline")
        now_s = int(self._clock())
        choice = (live or {}).get(HOURS_CHOICE, record.hours_choice)
        schedule = (live or {}).get(HOURS_SCHEDULE) or record.hours_schedule or GB_DEFAULT_HOURS_TEXT
        allowed, next_at = hours_allow(schedule, choice, now_s)
        override = (live or {}).get(OVERRIDE) == "true"
        countdown = int((live or {}).get(DELAY_COUNTDOWN, "0") or 0)
        max_delay = (live or {}).get(MAX_DELAY)
        mode = (live or {}).get(MODE, "FAIL_SAFE" if state.link is not None else "OFFLINE")
        session_active = state.transaction_id is not None
        can_start, why_not = self._start_now_rule(state, live, countdown, session_active)
        hours = HoursView(
            choice,
            schedule,
            GB_DEFAULT_HOURS_TEXT,
            choice == "Pending",
            allowed,
            None if allowed else next_at,
        )
        return ChargePointView(
            station_id=sid,
            connected=state.link is not None,
            status="Offline" if state.link is None else state.status,
            mode=mode,
            mode_words=self._mode_words(mode, countdown, state),
            power_w=state.power_w,
            offered_w=state.offered_w,
            energy_kwh=state.energy_wh / 1000.0,
            charging=state.power_w > 0,
            session_active=session_active,
            override_active=override,
            limit=self._limit_view(sid, state, hours, countdown, override, now_s, telemetry),
            delay=DelayView(
                int(max_delay) if max_delay is not None else record.max_delay_s, countdown, can_start, why_not
            ),
            hours=hours,
            tariff_id=record.tariff_id,
            live=live is not None,
            as_of=datetime.fromtimestamp(now_s, UTC),
        )

    @staticmethod
    def _mode_words(mode: str, countdown_s: int, state: StationState) -> str:
        if state.link is None:
            return "offline: the CEM cannot reach it"
        if mode == "FAIL_SAFE" and countdown_s > 0:
            # The device counts a start held by its delay as recovering (reg 11, RD-R1).
            return "waiting for its randomised delay before it starts (reg 11)"
        return MODE_WORDS.get(mode, mode.lower())

    @staticmethod
    def _start_now_rule(
        state: StationState, live: dict[VariableRef, str] | None, countdown: int, session: bool
    ) -> tuple[bool, str | None]:
        """ "Start now" cancels a running randomised delay (SCP-RD-4 owner override, SCP-RD-6)."""
        if state.link is None or live is None:
            return False, "the charge point is offline"
        if not session:
            return False, "no charging session is running"
        if countdown <= 0:
            return False, "no randomised delay is running"
        return True, None

    def _cem_limit(
        self, station_id: str, telemetry: dict[str, StationTelemetry] | None = None
    ) -> tuple[float | None, LimitSource | None, int | None, str]:
        """The CEM's own limit on this charge point (site, DSR), with its source and end (ARB-5)."""
        if self.gateway is None or station_id not in self.gateway.stations:
            return None, None, None, ""
        book = self.gateway.book
        t = (self._telemetry() if telemetry is None else telemetry).get(station_id)
        if t is not None:
            source = t.binding_source
            if source is LimitSource.CONSUMER_OVERRIDE:
                # The override sets aside layers 5 and 6 only: name a safety, site or response
                # DSR limit that still binds (ARB-5).
                return self._held_through_override(station_id, t.limit_w)
            if source is None:
                return None, None, None, ""
            entry = book.station.get(station_id, {}).get(source) or book.site.get(source)
            until_s = None if entry is None else entry[1]
            detail = "" if entry is None else entry[0].detail
            return t.limit_w, source, until_s, detail
        return None, None, None, ""

    def _held_through_override(
        self, station_id: str, limit_w: float
    ) -> tuple[float | None, LimitSource | None, int | None, str]:
        assert self.gateway is not None
        book, now_s = self.gateway.book, int(self._clock())
        held = [
            (limit.value_w, source, until_s, limit.detail)
            for table in (book.station.get(station_id, {}), book.site)
            for source, (limit, until_s, _) in table.items()
            if source < LimitSource.CONSUMER_OVERRIDE and (until_s is None or until_s > now_s)
        ]
        if not held:
            return None, None, None, ""
        value_w, source, until_s, detail = min(held, key=lambda h: h[0])
        if value_w > limit_w + 1e-6:  # the site's share binds below it: named by the site limit
            return None, None, None, ""
        return value_w, source, until_s, detail

    def _limit_view(
        self,
        sid: str,
        state: StationState,
        hours: HoursView,
        countdown: int,
        override: bool,
        now_s: int,
        telemetry: dict[str, StationTelemetry] | None = None,
    ) -> LimitView:
        limit_w, source, until_s, detail = self._cem_limit(sid, telemetry)
        until = None if until_s is None else datetime.fromtimestamp(until_s, UTC)
        cem_words = ""
        if limit_w is not None and source is not None:
            cem_words = f"limited to {_kw(limit_w)} by {SOURCE_WORDS[source]}"
            if until is not None:
                cem_words += f" until {_local_hhmm(until)}"
        if state.link is None:
            words = "Offline: the charge point keeps its stored limits and default hours (fail-safe)."
            return LimitView(limit_w, None if source is None else source.name.lower(), until, detail, words)
        if override:
            words = "Charging now: you overrode the default hours and the randomised delay for this session"
            words += f"; still {cem_words}." if cem_words else "."
            return LimitView(limit_w, "consumer_override", until, detail, words)
        if countdown > 0:
            words = f"Waiting {countdown} s of randomised delay (reg 11) before the rate changes"
            words += f"; {cem_words}." if cem_words else "."
            return LimitView(limit_w, "device_default", until, detail, words)
        if cem_words and source is not None:
            return LimitView(
                limit_w, source.name.lower(), until, detail, cem_words[0].upper() + cem_words[1:] + "."
            )
        if not hours.allowed_now:
            words = "Not charging: outside your default charging hours (reg 10)"
            if hours.next_allowed_at is not None:
                words += f"; they next allow charging at {_local_hhmm(hours.next_allowed_at)}"
            return LimitView(0.0, "device_default", hours.next_allowed_at, "", words + ".")
        if state.external_limit is not None and state.external_limit.limit_w is not None:
            ext_w = state.external_limit.limit_w
            words = (
                f"Limited to {_kw(ext_w)} by the site's local energy manager ({state.external_limit.source})."
            )
            return LimitView(ext_w, "site", None, state.external_limit.source, words)
        rated = f" ({_kw(state.offered_w)})" if state.offered_w else ""
        return LimitView(None, None, None, "", f"No limit: up to the charge point's rating{rated}.")

    # ---- changing the charge point --------------------------------------------------------------

    async def _set(self, station_id: str, values: list[tuple[VariableRef, str]], field: str) -> None:
        """Set variables on the connected charge point; refuse (nothing changed) if it cannot."""
        state = self._state(station_id)
        if state is None or state.link is None:
            raise ActionRefusedError(
                field, "the charge point is offline; nothing was changed, try again later"
            )
        try:
            results = await asyncio.wait_for(state.link.set_variables(values), self._timeout_s)
        except (TimeoutError, ConnectionError, OSError):
            raise ActionRefusedError(field, "the charge point did not answer; try again later") from None
        refused = [r for r in results if r.status != "Accepted"]
        if refused:
            raise ActionRefusedError(
                field, f"the charge point refused {refused[0].ref.component}.{refused[0].ref.variable}"
            )
        self._live.pop(station_id, None)

    async def choose_default_hours(
        self, owner: str, station_id: str, choice: str, schedule: str | None = None
    ) -> ChargePointView:
        """The owner's reg 10 choice, at first use or any time later (SCP-OP-2, SCP-OP-3):
        ``accept`` the shipped hours, ``change`` them to ``schedule``, or ``remove`` them."""
        record = await asyncio.to_thread(self.record_of, owner, station_id)
        if choice not in HOURS_CHOICES:
            raise ValidationError(
                "choice", choice, "must be one of accept, change, remove (reg 10, SCP-OP-2)"
            )
        if choice == "change":
            if not schedule or not schedule.strip():
                raise ValidationError("schedule", schedule, "changing the default hours needs the new hours")
            hours = str(WeeklySchedule.parse(schedule.strip(), "schedule"))
            await self._set(station_id, [(HOURS_SCHEDULE, hours)], "schedule")
            stored: tuple[str, str | None] = ("Changed", hours)
        elif choice == "accept":
            await self._set(station_id, [(HOURS_CHOICE, "Accepted")], "choice")
            stored = ("Accepted", str(GB_DEFAULT_HOURS))
        else:
            await self._set(station_id, [(HOURS_CHOICE, "Removed")], "choice")
            stored = ("Removed", None)
        await asyncio.to_thread(
            self.repo.update, station_id, self.now(), hours_choice=stored[0], hours_schedule=stored[1]
        )
        return await self._view(record, fresh=True)

    async def set_override(self, owner: str, station_id: str, active: bool) -> ChargePointView:
        """Override the default hours (and any randomised delay) for this session, or end that
        override (SCP-OP-3, SCP-RD-6); the charge point ends it itself when the session ends."""
        record = await asyncio.to_thread(self.record_of, owner, station_id)
        await self._set(station_id, [(OVERRIDE, "true" if active else "false")], "active")
        if self.gateway is not None:
            (self.gateway.book.override.add if active else self.gateway.book.override.discard)(station_id)
        return await self._view(record, fresh=True)

    async def start_now(self, owner: str, station_id: str) -> ChargePointView:
        """Cancel the running randomised delay: the owner's override at this relevant time
        (reg 11, SCP-RD-4, SCP-RD-6). Refused when no delay runs or the charge point is offline."""
        record = await asyncio.to_thread(self.record_of, owner, station_id)
        view = await self._view(record, fresh=True)
        if not view.delay.can_start_now:
            raise ActionRefusedError("start_now", f"nothing to cancel: {view.delay.why_not}")
        return await self.set_override(owner, station_id, True)

    async def set_max_delay(self, owner: str, station_id: str, max_delay_s: int) -> ChargePointView:
        """The reg 11 maximum randomised delay, 0-1800 whole seconds (SCP-RD-3); never clamped."""
        record = await asyncio.to_thread(self.record_of, owner, station_id)
        if isinstance(max_delay_s, bool) or not isinstance(max_delay_s, int):
            raise ValidationError("max_delay_s", max_delay_s, "a whole number of seconds")
        value = int(validate_max_delay_s(max_delay_s)[()])
        await self._set(station_id, [(MAX_DELAY, str(value))], "max_delay_s")
        await asyncio.to_thread(self.repo.update, station_id, self.now(), max_delay_s=value)
        return await self._view(record, fresh=True)


__all__ = [
    "DEFAULT_TARIFF",
    "HOURS_CHOICES",
    "LIVE_VARIABLES",
    "MAX_DELAY_CAPABILITY_S",
    "ActionRefusedError",
    "ChargePointView",
    "DelayView",
    "HoursView",
    "LimitView",
    "NotYoursError",
    "OwnerService",
    "hours_allow",
]
