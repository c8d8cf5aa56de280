"""The emulated GB smart charge point (ESA): the policy core at N = 1 over an EV model.

Every decision comes from :func:`smartcharge.policy.charge_point.step_charge_points`, called
with arrays of one on each tick: reg 10 default hours with the owner's first-use choice, reg 11
randomised delay at every relevant time (a session starting, any change of the arbitrated limit,
power-up and link restoration, RD-R1), ARB-5 layered arbitration, and fail-safe operation with
no network (reg 7, SCP-FS-1/2: installed profiles and default hours keep running locally).

Charging profiles map onto the ARB-5 layers: ChargingStationMaxProfile -> site (2),
ChargingStationExternalConstraints -> response DSR (3, never delayed), TxProfile or else
TxDefaultProfile -> routine DSR (5, delayed unless randomised upstream). No vehicle, or no
transaction, is a hardware limit of 0 W (layer 1), so a session start is a relevant time.

Every message to the CSMS goes into an outbox that the connection drains in order; while the
link is down it is the offline queue, replayed after reconnecting (SCP-FS-5).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import N_LAYERS, LimitSource
from smartcharge.core.localtime import local_fields
from smartcharge.core.units import NOMINAL_VOLTAGE_V, a_from_w
from smartcharge.core.window import WeeklySchedule
from smartcharge.ocpp.domain import (
    ChargingLimitNotice,
    ChargingProfile,
    IdTokenInfo,
    MeterReading,
    ProfilePurpose,
    ReportedVariable,
    SecurityNotice,
    StationMessage,
    TransactionMessage,
    VariableRef,
    VariableResult,
    format_time,
)
from smartcharge.ocpp.v201 import BYTES_PER_MESSAGE, ITEMS_PER_MESSAGE
from smartcharge.policy import profile_stack
from smartcharge.policy.charge_point import ChargePointState, StepInputs, step_charge_points
from smartcharge.policy.default_hours import GB_DEFAULT_HOURS, FirstUseChoice, ScheduleTable
from smartcharge.policy.modes import Mode, select_mode
from smartcharge.policy.random_delay import validate_max_delay_s
from smartcharge.station import composite, customer_data
from smartcharge.station.authorization import LocalAuthorization
from smartcharge.station.ev import EV
from smartcharge.station.outbox import Outbox
from smartcharge.station.reservations import Reservation, Reservations

logger = logging.getLogger(__name__)

#: Profile id the station uses for a limit set by its local EMS (NotifyChargingLimit, K12).
LOCAL_EMS_PROFILE_ID = 900_001
#: Device-model variables this station exposes (OCPP 2.0.1 B05/B06 Get/SetVariables).
MAX_DELAY = VariableRef("RandomisedDelay", "MaxDelaySeconds")  # reg 11, SCP-RD-3
DELAY_COUNTDOWN = VariableRef("RandomisedDelay", "CountdownSeconds")  # RD-R2, read only
DEFAULT_HOURS_CHOICE = VariableRef("DefaultHours", "Choice")  # reg 10, SCP-OP-2: Accepted|Changed|Removed
DEFAULT_HOURS = VariableRef("DefaultHours", "Schedule")  # the owner's own hours, window grammar
OVERRIDE = VariableRef("ConsumerOverride", "Active")  # SCP-OP-3, SCP-RD-6: "true" | "false"
MODE = VariableRef("SmartChargingCtrlr", "Mode")  # read only: NORMAL | DSR_MANAGED | ... | FAIL_SAFE

Uplink = (
    TransactionMessage
    | SecurityNotice
    | ChargingLimitNotice
    | StationMessage
    | tuple[MeterReading, ...]
    | str
)


@dataclass(frozen=True, slots=True)
class StationConfig:
    """Hardware and behaviour of one emulated charge point."""

    rated_power_w: float = 7_400.0
    max_delay_s: int = 600
    meter_interval_s: int = 60
    dsr_agreement: bool = False
    phases: int = 1  # a GB home charge point is single phase
    nominal_voltage_v: float = NOMINAL_VOLTAGE_V  # A -> W for profiles in A (K01)

    def __post_init__(self) -> None:
        validate_max_delay_s(self.max_delay_s)
        if not self.rated_power_w > 0:
            raise ValidationError("rated_power_w", self.rated_power_w, "the rated power must be > 0 W")
        if self.meter_interval_s < 1:
            raise ValidationError(
                "meter_interval_s", self.meter_interval_s, "meter values at most once a second"
            )
        if self.phases not in (1, 2, 3):
            raise ValidationError("phases", self.phases, "a charge point has 1, 2 or 3 phases")


@functools.cache
def shipped_table() -> ScheduleTable:
    """The shipped default-hours table, built once per process (about 0.1 s) and shared read-only."""
    return ScheduleTable.build([GB_DEFAULT_HOURS])


def _validity_overlaps(a: ChargingProfile, b: ChargingProfile) -> bool:
    """[validFrom, validTo) of two profiles meet (an absent bound is open)."""
    a_from = a.valid_from.timestamp() if a.valid_from else -np.inf
    b_from = b.valid_from.timestamp() if b.valid_from else -np.inf
    a_to = a.valid_to.timestamp() if a.valid_to else np.inf
    b_to = b.valid_to.timestamp() if b.valid_to else np.inf
    return bool(a_from < b_to and b_from < a_to)


def _at(now_s: float) -> datetime:
    return datetime.fromtimestamp(int(now_s), tz=UTC)


class EmulatedChargePoint:
    """One charge point: policy state of shape (1,), an EV, profiles, and the outbox."""

    def __init__(self, station_id: str, rng: np.random.Generator, config: StationConfig | None = None):
        self.station_id = station_id
        self.config = config or StationConfig()
        self._rng = rng
        self._state = ChargePointState.shipped(1, self.config.max_delay_s, self.config.dsr_agreement)
        self._schedules: list[WeeklySchedule] = [GB_DEFAULT_HOURS]
        self._table = shipped_table()
        self._profiles: dict[int, ChargingProfile] = {}
        self._override = False
        self._upstream_randomised = False
        self._restored = True  # power-up is a restoration (RD-R1)
        self.comms_ok = False
        self.ev: EV | None = None
        self.transaction_id: str | None = None
        self._tx_started_s: float | None = None  # Relative schedules start here (K01)
        self._seq_no = 0
        self.energy_wh = 0.0
        self.power_w = 0.0
        self.output_w = 0.0
        self.countdown_s = 0
        self.binding_layer = 0
        self.mode = Mode.FAIL_SAFE
        self._last_meter_s = 0.0
        self._last_tick_s: float | None = None
        self.outbox: Outbox = Outbox()
        self.reboot_requested = False
        self.on_reboot: Callable[[], None] | None = None  # set by the runner to drop the link
        self.security: Any = None  # station.security.StationSecurity: certificates, firmware (SEC-S-4/5)
        self.now_s = 0.0
        self.auth = LocalAuthorization()
        self.availability = "Operative"  # of the station and its one EVSE (G03/G04)
        self._availability_after_tx: str | None = None
        self.reservations = Reservations()  # H01-H04, 1.6 Reservation profile
        #: A connector fault (set by a test or a fault drill): ReserveNow answers Faulted.
        self.faulted = False
        self.network_profiles: dict[int, dict[str, object]] = {}
        self._reset_after_tx = False
        self._event_id = 0
        # A plug-in before the first tick (the clock not yet known) is reported at that tick, so
        # no message is ever stamped 1970-01-01 (issue 15).
        self._start_pending: tuple[str | None, str | None] | None = None

    # ---- the control loop ------------------------------------------------------------------

    def _applicable_profiles(self) -> list[ChargingProfile]:
        """Profiles that bound this EVSE now: all but a TxProfile of another transaction."""
        return [
            p
            for p in self._profiles.values()
            if p.purpose is not ProfilePurpose.TX or p.transaction_id == self.transaction_id
        ]

    def _leading_w(self, at_s: float) -> np.ndarray:
        return composite.leading_limits_w(
            self._applicable_profiles(),
            at_s,
            self._tx_started_s,
            self.config.phases,
            self.config.nominal_voltage_v,
        )

    def _layer_limits(self, now_s: int) -> np.ndarray:
        """ARB-5 layers from the profiles in force at ``now_s``: each schedule's period at that
        instant (K01, K08), so the limit follows the schedules as the ticks go by."""
        leading = self._leading_w(now_s)
        limits = np.full((1, N_LAYERS), np.inf)
        plugged = self.transaction_id is not None and self.ev is not None
        limits[0, LimitSource.SAFETY - 1] = self.config.rated_power_w if plugged else 0.0
        limits[0, LimitSource.SITE - 1] = leading[profile_stack.STATION_MAX]
        limits[0, LimitSource.RESPONSE_DSR - 1] = leading[profile_stack.EXTERNAL_CONSTRAINTS]
        limits[0, LimitSource.ROUTINE_DSR - 1] = profile_stack.transaction_limit_w(leading)
        return limits

    def tick(self, now_s: float) -> None:
        """One decision step at ``now_s`` (called every second by the runner)."""
        self.now_s = now_s
        self._expire_reservations()
        dt_s = 0.0 if self._last_tick_s is None else max(now_s - self._last_tick_s, 0.0)
        self._last_tick_s = now_s
        if self._start_pending is not None:
            trigger, id_token = self._start_pending
            self._start_pending = None
            self._tx_started_s = now_s  # the clock was not known at the plug-in
            self._report_start(trigger, id_token)
        self._account_energy(dt_s)
        t = int(now_s)
        limits = self._layer_limits(t)
        external_active = bool(np.isfinite(limits[0, LimitSource.RESPONSE_DSR - 1]))
        inputs = StepInputs(
            limit_w=limits,
            override_active=np.array([self._override]),
            response_dsr_active=np.array([external_active]),
            upstream_randomised=np.array([self._upstream_randomised]),
            restored=np.array([self._restored]),
        )
        minute = local_fields(np.array([t], dtype=np.int64)).minute_of_week
        self._state, decision = step_charge_points(
            self._state, self._table, inputs, minute, t, self._rng.random(1)
        )
        recovering = self._restored or bool(decision.countdown_s[0] > 0 and self.output_w == 0.0)
        self.mode = Mode(
            int(
                select_mode(
                    np.array([self.comms_ok]),
                    np.array([self._override]),
                    np.array([external_active]),
                    np.array([recovering]),
                )[0]
            )
        )
        self._upstream_randomised = False
        self._restored = False
        self.countdown_s = int(decision.countdown_s[0])
        self.binding_layer = int(decision.binding_layer[0])
        output = float(decision.output_w[0])
        acceptance = self.ev.acceptance_w() if self.ev is not None and self.transaction_id else 0.0
        self.power_w = min(output, acceptance)
        if self.transaction_id is not None and output != self.output_w:
            self._queue_tx("Updated", "ChargingRateChanged", rate=output)
        self.output_w = output
        if self.transaction_id is not None and now_s - self._last_meter_s >= self.config.meter_interval_s:
            self._queue_tx("Updated", "MeterValuePeriodic")

    def _account_energy(self, dt_s: float) -> None:
        if dt_s <= 0 or self.power_w <= 0:
            return
        self.energy_wh += self.power_w * dt_s / 3600.0
        if self.ev is not None:
            self.ev.charge(self.power_w, dt_s)

    # ---- messages to the CSMS ---------------------------------------------------------------

    def _readings(self, context: str, rate: float | None = None) -> tuple[MeterReading, ...]:
        at = _at(self.now_s)
        readings = [
            MeterReading(at, "Energy.Active.Import.Register", round(self.energy_wh, 1), "Wh", context),
            MeterReading(at, "Power.Active.Import", round(self.power_w, 1), "W", context),
        ]
        if rate is not None:
            offered = rate if np.isfinite(rate) else self.config.rated_power_w
            readings.append(MeterReading(at, "Power.Offered", round(offered, 1), "W", context))
        return tuple(readings)

    def _queue_tx(
        self, event_type: str, trigger: str, rate: float | None = None, **extra: str | None
    ) -> None:
        assert self.transaction_id is not None
        context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(
            event_type, "Trigger" if trigger == "ChargingRateChanged" else "Sample.Periodic"
        )
        message = TransactionMessage(
            transaction_id=self.transaction_id,
            seq_no=self._seq_no,
            event_type=event_type,
            trigger_reason=trigger,
            occurred_at=_at(self.now_s),
            readings=self._readings(context, rate),
            offline=not self.comms_ok,
            id_token=extra.get("id_token"),
            stop_reason=extra.get("stop_reason"),
            charging_state="Charging" if self.power_w > 0 else "SuspendedEVSE",
        )
        self._seq_no += 1
        self._last_meter_s = self.now_s
        self.outbox.append(message)

    def plug_in(self, ev: EV, id_token: str | None = None, trigger: str | None = None) -> str:
        """An EV arrives and a session starts (reg 9 start); returns the transaction id.

        ``id_token`` None: the GB home charge point starts on plug-in without authorization
        (AuthCtrlr.Enabled false); a token is given once the runner has authorized it."""
        if self.transaction_id is not None:
            raise ValidationError("transaction_id", self.transaction_id, "a session is already running")
        if self.availability != "Operative":
            raise ValidationError("availability", self.availability, "the EVSE is Inoperative (G03)")
        self.ev = ev
        self.transaction_id = str(uuid.uuid4())
        self._tx_started_s = self.now_s
        self._seq_no = 0
        self.reservations.use(id_token)  # H03: the reserving token's session uses it up
        if self._last_tick_s is None:
            self._start_pending = (trigger, id_token)
        else:
            self._report_start(trigger, id_token)
        return self.transaction_id

    def _report_start(self, trigger: str | None, id_token: str | None) -> None:
        self.outbox.append("Occupied")
        self._notify_event("Connector", "AvailabilityState", "Occupied")
        if trigger is None:
            trigger = "CablePluggedIn" if id_token is None else "Authorized"
        self._queue_tx("Started", trigger, id_token=id_token)

    def unplug(self, reason: str = "EVDisconnected") -> None:
        """The session ends (reg 9 stop); an override for the session ends with it (SCP-OP-3)."""
        if self.transaction_id is None:
            return
        self.power_w = 0.0
        trigger = {"EVDisconnected": "EVCommunicationLost", "DeAuthorized": "Deauthorized"}.get(
            reason, "RemoteStop"
        )
        self._queue_tx("Ended", trigger, stop_reason=reason)
        self.transaction_id = None
        self._tx_started_s = None
        self.ev = None
        self._override = False
        self._profiles = {k: p for k, p in self._profiles.items() if p.purpose is not ProfilePurpose.TX}
        if self._availability_after_tx is not None:
            self.availability, self._availability_after_tx = self._availability_after_tx, None
        status = "Available" if self.availability == "Operative" else "Unavailable"
        self.outbox.append(status)
        self._notify_event("Connector", "AvailabilityState", status)
        if self._reset_after_tx:
            self._reset_after_tx = False
            self.reset()

    def link_up(self) -> None:
        """Communications restored. The level in force stays: a car charging offline keeps
        charging. What the restoration brings (new profiles) is a change of rate and goes through
        the randomised delay like any other (RD-R1, SCP-RD-*); cutting to 0 W here would make a
        reconnecting fleet drop its load in one step, the event the delay exists to prevent."""
        self.comms_ok = True

    def link_down(self) -> None:
        self.comms_ok = False

    def apply_local_limit(self, limit_w: float, source: str = "EMS") -> None:
        """A limit from the local energy manager (e.g. a G100 CLS), reported to the CSMS (K12)."""
        self._profiles[LOCAL_EMS_PROFILE_ID] = ChargingProfile(
            LOCAL_EMS_PROFILE_ID, 0, ProfilePurpose.EXTERNAL_CONSTRAINTS, limit_w
        )
        self.outbox.append(ChargingLimitNotice(source, limit_w, 1))

    def record_security_event(self, event_type: str, tech_info: str | None = None) -> None:
        self.outbox.append(SecurityNotice(event_type, _at(self.now_s), tech_info))

    # ---- StationDevice: what the CSMS asks ----------------------------------------------------

    def set_charging_profile(self, profile: ChargingProfile) -> bool:
        return self.install_profile(profile) is None

    def install_profile(self, profile: ChargingProfile, same_level_conflicts: bool = True) -> str | None:
        """K01 on the station: None when the profile is installed, else the statusInfo reasonCode.

        A profile with the id of one held replaces it (K01.FR.05). ``same_level_conflicts``
        (2.0.1, K01.FR.39): another id with the same purpose, stack level and EVSE (and, for a
        TxProfile, transaction) whose validity overlaps is Rejected, so two profiles of one
        level are never in force at once. 1.6 has no such rule here: the CEM holds its site and
        response-DSR limits as two ChargePointMaxProfiles at one level (the lower counts).
        """
        if profile.evse_id not in (0, 1):
            return "UnknownEvse"  # K01.FR.28: this station has one EVSE
        schedule = composite.schedule_of(profile)
        if profile.purpose is ProfilePurpose.STATION_MAX:
            if profile.evse_id != 0:
                return "InvalidValue"  # K01.FR.03: a ChargingStationMaxProfile is for EVSE 0
            if schedule.kind == "Relative":
                return "InvalidValue"  # K01.FR.38
        if profile.purpose is ProfilePurpose.TX:
            if self.transaction_id is None:
                logger.info("%s: TxProfile with no transaction refused", self.station_id)
                return "TxNotFound"  # K01.FR.09
            if profile.transaction_id != self.transaction_id:
                logger.info(
                    "%s: TxProfile for unknown transaction %s refused",
                    self.station_id,
                    profile.transaction_id,
                )
                return "TxNotFound"  # K01.FR.33
        if profile.schedule is not None and schedule.kind != "Relative" and schedule.start_at is None:
            # startSchedule is required for Absolute and Recurring (K01.FR.40); taken leniently
            # as the time received, which is what a CSMS that leaves it out means.
            profile = dataclasses.replace(
                profile, schedule=dataclasses.replace(schedule, start_at=self._now())
            )
        if same_level_conflicts:
            for held in self._profiles.values():
                if held.profile_id in (profile.profile_id, LOCAL_EMS_PROFILE_ID):
                    continue
                if (
                    held.purpose is profile.purpose
                    and held.stack_level == profile.stack_level
                    and held.evse_id == profile.evse_id
                    and held.transaction_id == profile.transaction_id
                    and _validity_overlaps(held, profile)
                ):
                    logger.info(
                        "%s: profile %d refused: profile %d has %s stack level %d",
                        self.station_id,
                        profile.profile_id,
                        held.profile_id,
                        profile.purpose.value,
                        profile.stack_level,
                    )
                    return "DuplicateProfile"
        self._profiles[profile.profile_id] = profile
        if profile.randomised_upstream:
            self._upstream_randomised = True
        return None

    def clear_charging_profile(
        self, profile_id: int | None, purpose: ProfilePurpose | None, stack_level: int | None = None
    ) -> bool:
        """K10: every profile matching all the criteria given (id, purpose, stack level)."""
        keep = {
            k: p
            for k, p in self._profiles.items()
            if not (
                (profile_id is None or k == profile_id)
                and (purpose is None or p.purpose is purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )
        }
        cleared = len(keep) != len(self._profiles)
        self._profiles = keep
        return cleared

    def charging_profiles(self) -> tuple[ChargingProfile, ...]:
        return tuple(self._profiles.values())

    def composite_limit_w(self) -> float | None:
        """The composite limit now (K08), the hardware's rating when nothing else bounds it."""
        return composite.composite_limit_w(self._leading_w(int(self.now_s)), self.config.rated_power_w)

    def composite_schedule(
        self, duration_s: int, evse_id: int, rate_unit: str = "W"
    ) -> tuple[datetime, list[tuple[int, float]], int]:
        """K08 / 1.6 GetCompositeSchedule from now for ``duration_s``: the start, (offset in s,
        limit in ``rate_unit``) at each change, and the phases an A limit is per. EVSE 0 and
        EVSE 1 give the same: the station's one EVSE is all it draws."""
        start_s = int(self.now_s)
        periods_w = composite.composite_schedule_w(
            self._applicable_profiles(),
            start_s,
            duration_s,
            self._tx_started_s,
            self.config.rated_power_w,
            self.config.phases,
            self.config.nominal_voltage_v,
        )
        if rate_unit == "A":
            volts = self.config.nominal_voltage_v
            periods_w = [(t, a_from_w(w, volts, self.config.phases)) for t, w in periods_w]
        return _at(start_s), periods_w, self.config.phases

    def get_variable(self, ref: VariableRef) -> VariableResult:
        if self.auth.owns_variable(ref):  # LocalAuthListCtrlr (D01, 1.6 Local Auth List)
            return self.auth.get_variable(ref)
        hours = self._state.hours
        values = {
            MAX_DELAY: str(int(self._state.delay.max_delay_s[0])),
            DELAY_COUNTDOWN: str(self.countdown_s),
            DEFAULT_HOURS_CHOICE: FirstUseChoice(int(hours.choice[0])).name.capitalize(),
            DEFAULT_HOURS: str(self._schedules[int(hours.schedule_row[0])]),
            OVERRIDE: "true" if self._override else "false",
            MODE: self.mode.name,
        }
        if ref not in values:
            return VariableResult(ref, "UnknownVariable")
        return VariableResult(ref, "Accepted", values[ref])

    def set_variable(self, ref: VariableRef, value: str) -> VariableResult:
        if self.security is not None and self.security.owns_variable(ref):  # A01, A05
            return self.security.set_variable(ref, value)  # type: ignore[no-any-return]
        if self.auth.owns_variable(ref):
            return self.auth.set_variable(ref, value)
        try:
            if ref == MAX_DELAY:
                if not value.strip().lstrip("-").isdigit():
                    raise ValidationError("MaxDelaySeconds", value, "a whole number of seconds")
                self._state = ChargePointState(
                    self._state.hours, self._state.delay.with_max_delay_s(int(value))
                )
            elif ref == DEFAULT_HOURS:
                schedule = WeeklySchedule.parse(value, "DefaultHours.Schedule")
                self._schedules.append(schedule)
                self._table = ScheduleTable.build(self._schedules)
                self._set_hours(FirstUseChoice.CHANGED, len(self._schedules) - 1)
            elif ref == DEFAULT_HOURS_CHOICE:
                choice = FirstUseChoice[value.strip().upper()]
                if choice is FirstUseChoice.CHANGED:
                    raise ValidationError(
                        "DefaultHours.Choice", value, "set DefaultHours.Schedule to change hours"
                    )
                self._set_hours(choice, None)
            elif ref == OVERRIDE:
                if value not in ("true", "false"):
                    raise ValidationError("ConsumerOverride.Active", value, "must be 'true' or 'false'")
                self._override = value == "true"
            elif ref in (DELAY_COUNTDOWN, MODE):
                return VariableResult(ref, "Rejected")
            else:
                return VariableResult(ref, "UnknownVariable")
        except (ValidationError, KeyError) as error:
            logger.warning(
                "%s: SetVariables %s.%s=%r refused: %s",
                self.station_id,
                ref.component,
                ref.variable,
                value,
                error,
            )
            return VariableResult(ref, "Rejected")
        return VariableResult(ref, "Accepted")

    def _set_hours(self, choice: FirstUseChoice, row: int | None) -> None:
        hours = self._state.hours.with_choice(np.array([0]), choice, row)
        self._state = ChargePointState(hours, self._state.delay)

    def request_start(self, id_token: str) -> bool:
        if self.transaction_id is not None or self.availability != "Operative":
            return False
        self.plug_in(self.ev or EV(), id_token=id_token, trigger="RemoteStart")
        return True

    def request_stop(self, transaction_id: str) -> bool:
        if transaction_id != self.transaction_id:
            return False
        self.unplug("Remote")
        return True

    def reconnect(self) -> None:
        """Drop the link and connect again at once (a new client certificate, A02; a new network
        profile, A05): no reboot, no session ends."""
        self.reboot_requested = True
        if self.on_reboot is not None:
            self.on_reboot()

    def reset(self) -> bool:
        """Reboot: the session ends, the link drops, and power-up is a relevant time (RD-R1)."""
        self.unplug("ImmediateReset")
        self.record_security_event("ResetOrReboot", "reset requested by the CSMS")
        self._restored = True
        self.reboot_requested = True
        if self.security is not None:
            self.security.on_reboot()  # a new network profile is taken into use at boot (A05)
        if self.on_reboot is not None:
            self.on_reboot()
        return True

    # ---- OCPP core (issue 10) ---------------------------------------------------------------

    def _now(self) -> datetime:
        return _at(self.now_s)

    def _notify_event(self, component: str, variable: str, value: str) -> None:
        """G05 / N07: a hard-wired notification of a connector's availability state."""
        self._event_id += 1
        event = {
            "eventId": self._event_id,
            "timestamp": format_time(self._now()),
            "trigger": "Delta",
            "actualValue": value,
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": component, "evse": {"id": 1, "connectorId": 1}},
            "variable": {"name": variable},
        }
        self.outbox.append(
            StationMessage(
                "NotifyEvent",
                {"generatedAt": format_time(self._now()), "seqNo": 0, "eventData": [event]},
            )
        )

    def offline_authorization(self, id_token: str) -> IdTokenInfo | None:
        return self.auth.verdict(id_token, self._now())

    def remember(self, id_token: str, info: IdTokenInfo) -> None:
        self.auth.remember(id_token, info)

    def deauthorize(self, transaction_id: str) -> bool:
        if transaction_id != self.transaction_id:
            return False
        logger.info("%s: token refused by the CSMS, transaction %s stopped", self.station_id, transaction_id)
        self.unplug("DeAuthorized")
        return True

    def send_local_list(
        self, version: int, update_type: str, entries: list[tuple[str, IdTokenInfo | None]]
    ) -> str:
        return self.auth.send_local_list(version, update_type, entries)

    def local_list_version(self) -> int:
        return self.auth.version

    def clear_cache(self) -> bool:
        return self.auth.clear_cache()

    def start_remote(self, id_token: str, profile: ChargingProfile | None) -> bool:
        if not self.request_start(id_token):
            return False
        if profile is not None:
            assert self.transaction_id is not None
            self.install_profile(
                dataclasses.replace(
                    profile, purpose=ProfilePurpose.TX, transaction_id=self.transaction_id, evse_id=1
                )
            )
        return True

    def change_availability(self, operational: str, evse_id: int | None) -> str:
        """G03/G04: with a session running the change waits for its end (Scheduled)."""
        if evse_id not in (None, 0, 1):
            return "Rejected"
        if self.transaction_id is not None and operational == "Inoperative":
            self._availability_after_tx = operational
            return "Scheduled"
        if operational != self.availability:
            self.availability = operational
            if operational == "Inoperative":  # H04: a reservation cannot be kept on it
                self._report_reservations(self.reservations.remove_all(), "Removed")
            self.outbox.append("Available" if operational == "Operative" else "Unavailable")
        return "Accepted"

    def unlock_connector(self, evse_id: int, connector_id: int) -> str:
        """F05: a connector in an authorized session is not unlocked."""
        if (evse_id, connector_id) != (1, 1):
            return "UnknownConnector"
        if self.transaction_id is not None:
            return "OngoingAuthorizedTransaction"
        return "Unlocked"

    def reserve(
        self,
        reservation_id: int,
        expires_at: datetime,
        id_token: str,
        evse_id: int | None,
        group_id_token: str | None = None,
    ) -> str:
        """H01 / 1.6 ReserveNow (station/reservations.py)."""
        reservation = Reservation(reservation_id, expires_at, id_token, evse_id, group_id_token)
        return self.reservations.reserve(
            reservation,
            self._now(),
            operative=self.availability == "Operative",
            occupied=self.transaction_id is not None,
            faulted=self.faulted,
        )

    def cancel_reservation(self, reservation_id: int) -> bool:
        return self.reservations.cancel(reservation_id)

    def _expire_reservations(self) -> None:
        """H04: a reservation past its expiry is removed and reported."""
        self._report_reservations(self.reservations.expire(self._now()), "Expired")

    def _report_reservations(self, reservation_ids: list[int], status: str) -> None:
        """ReservationStatusUpdate (2.0.1 only: 1.6 has no such message, the CSMS keeps the expiry)."""
        for rid in reservation_ids:
            self.outbox.append(
                StationMessage(
                    "ReservationStatusUpdate", {"reservationId": rid, "reservationUpdateStatus": status}
                )
            )

    def customer_data(self, id_token: str) -> list[str]:
        """N09: what this station holds about ``id_token`` (station/customer_data.py)."""
        return customer_data.held_for(self, id_token)

    def forget_customer(self, id_token: str) -> int:
        """N10: clear it; how many items were cleared."""
        return customer_data.forget(self, id_token)

    def transaction_status(self, transaction_id: str | None) -> tuple[bool | None, bool]:
        queued = any(
            isinstance(m, TransactionMessage)
            and (transaction_id is None or m.transaction_id == transaction_id)
            for m in self.outbox
        )
        ongoing = None if transaction_id is None else transaction_id == self.transaction_id
        return ongoing, queued

    def reset_request(self, reset_type: str, evse_id: int | None) -> str:
        """B11 (OnIdle: after the session), B12 (Immediate: the session ends now). Resetting the
        one EVSE ends its session but keeps the station and its link up."""
        if evse_id not in (None, 1):
            return "Rejected"
        if evse_id == 1:
            if reset_type == "OnIdle" and self.transaction_id is not None:
                return "Scheduled"  # the EVSE resets when its session ends: nothing else to do
            self.unplug("ImmediateReset")
            return "Accepted"
        if reset_type == "OnIdle" and self.transaction_id is not None:
            self._reset_after_tx = True
            return "Scheduled"
        return "Accepted"

    def set_network_profile(self, slot: int, connection: dict[str, object]) -> str:
        """B09: the profile is kept for its slot; this emulator connects only to its configured URL."""
        if not 0 <= slot <= 9:
            return "Rejected"
        self.network_profiles[slot] = dict(connection)
        return "Accepted"

    def meter_readings(self, context: str) -> tuple[MeterReading, ...]:
        return self._readings(context)

    def trigger_transaction_event(self) -> bool:
        if self.transaction_id is None:
            return False
        self._queue_tx("Updated", "Trigger")
        return True

    def report_variables(self) -> list[ReportedVariable]:
        values = [
            (ref, self.get_variable(ref).value, "ReadOnly" if ref in (DELAY_COUNTDOWN, MODE) else "ReadWrite")
            for ref in (MAX_DELAY, DELAY_COUNTDOWN, DEFAULT_HOURS_CHOICE, DEFAULT_HOURS, OVERRIDE, MODE)
        ]
        out = [ReportedVariable(r.component, r.variable, "Actual", v, m) for r, v, m in values]
        for instance in ("GetReport", "GetVariables", "SetVariables"):
            out.append(
                ReportedVariable(
                    "DeviceDataCtrlr",
                    "ItemsPerMessage",
                    "Actual",
                    str(ITEMS_PER_MESSAGE),
                    "ReadOnly",
                    variable_instance=instance,
                )
            )
            out.append(
                ReportedVariable(
                    "DeviceDataCtrlr",
                    "BytesPerMessage",
                    "Actual",
                    str(BYTES_PER_MESSAGE),
                    "ReadOnly",
                    variable_instance=instance,
                )
            )
        out.append(
            ReportedVariable(
                "LocalAuthListCtrlr", "Entries", "Actual", str(len(self.auth.local_list)), "ReadOnly"
            )
        )
        out.append(ReportedVariable("AuthCtrlr", "LocalAuthorizeOffline", "Actual", "true", "ReadOnly"))
        out.append(
            ReportedVariable(
                "EVSE",
                "AvailabilityState",
                "Actual",
                "Occupied"
                if self.transaction_id
                else ("Available" if self.availability == "Operative" else "Unavailable"),
                "ReadOnly",
                evse_id=1,
            )
        )
        return out


__all__ = [
    "DEFAULT_HOURS",
    "DEFAULT_HOURS_CHOICE",
    "DELAY_COUNTDOWN",
    "MAX_DELAY",
    "MODE",
    "OVERRIDE",
    "EmulatedChargePoint",
    "StationConfig",
    "Uplink",
]
