"""Default charging hours, SCP Regs 2021 reg 10 (SCP-OP-1…5, OP-R1).

The Regulations fix the weekday peak hours, 08:00-11:00 and 16:00-22:00 local time Monday to
Friday (reg 10(4)(b)); weekends have none. A charge point ships with default charging hours that
lie outside them; at first use, and at any time later, the owner may accept, change or remove
them, and may override them (for example for one session). Defaults are not required where the
device is sold under a DSR agreement (SCP-OP-4). Outside the default hours the device normally
does not charge unless overridden or under DSR (SCP-OP-5).

Per charge point the state is an index into a :class:`ScheduleTable` (the shipped defaults are
row 0; each owner's own hours get a row), whether defaults are in force, and an override deadline.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import MINUTES_PER_WEEK, BoolArray, IntArray
from smartcharge.core.window import WeeklySchedule

#: Weekday peak hours, reg 10(4)(b) (SCP-OP-1).
GB_PEAK = WeeklySchedule.parse("Mon-Fri 08:00-11:00; Mon-Fri 16:00-22:00", "GB_PEAK")

#: The shipped default charging hours: every minute outside the peak (a product choice, [R]).
GB_DEFAULT_HOURS = WeeklySchedule.parse(
    "Mon-Fri 00:00-08:00; Mon-Fri 11:00-16:00; Mon-Fri 22:00-24:00; Sat-Sun 00:00-24:00",
    "GB_DEFAULT_HOURS",
)

#: Marks "no override" in ``override_until_s``.
NO_OVERRIDE = -1


class FirstUseChoice(enum.IntEnum):
    """The owner's answer to the first-use offer (SCP-OP-2); PENDING until they answer."""

    PENDING = 0
    ACCEPTED = 1
    CHANGED = 2
    REMOVED = 3


def validate_preset_hours(schedule: WeeklySchedule, field: str = "default_hours") -> WeeklySchedule:
    """Refuse pre-set default hours that touch the weekday peak (reg 10, SCP-OP-1)."""
    clash = schedule.minute_mask() & GB_PEAK.minute_mask()
    if np.any(clash):
        minute = int(np.argmax(clash))
        day, hhmm = divmod(minute, 1440)
        raise ValidationError(
            field,
            str(schedule),
            f"pre-set default hours must lie outside the weekday peak 08:00-11:00 and 16:00-22:00 "
            f"(SCP Regs 2021 reg 10, SCP-OP-1); first clash on day {day} at "
            f"{hhmm // 60:02d}:{hhmm % 60:02d}",
        )
    return schedule


@dataclass(frozen=True, slots=True)
class ScheduleTable:
    """Weekly schedules as boolean rows over the 10,080 local minutes; row 0 is the shipped default.

    ``wait_min[p, m]`` is how many minutes from minute ``m`` until row ``p`` next allows charging
    (0 inside; ``MINUTES_PER_WEEK`` for a schedule with no window at all).
    """

    allowed: BoolArray  # (P, 10080)
    wait_min: IntArray  # (P, 10080)

    @classmethod
    def build(cls, schedules: list[WeeklySchedule]) -> ScheduleTable:
        allowed = np.stack([s.minute_mask() for s in schedules])
        return cls(allowed=allowed, wait_min=_wait_table(allowed))

    @classmethod
    def gb_default(cls) -> ScheduleTable:
        return cls.build([GB_DEFAULT_HOURS])


def _wait_table(allowed: BoolArray) -> IntArray:
    p, m = allowed.shape
    wait = np.full((p, m), MINUTES_PER_WEEK, dtype=np.int64)
    # Walk the week backwards twice so that waits wrap from Sunday night into Monday.
    nxt = np.full(p, MINUTES_PER_WEEK, dtype=np.int64)
    for minute in list(range(m - 1, -1, -1)) * 2:
        nxt = np.where(allowed[:, minute], 0, np.minimum(nxt + 1, MINUTES_PER_WEEK))
        wait[:, minute] = nxt
    return wait


@dataclass(frozen=True, slots=True)
class DefaultHoursState:
    """Per charge point, shapes (N,): which schedule row, the owner's choice, DSR agreement, override."""

    schedule_row: IntArray
    choice: IntArray  # FirstUseChoice values
    dsr_agreement: BoolArray
    override_until_s: IntArray  # epoch s; NO_OVERRIDE when none

    @classmethod
    def shipped(cls, n: int, dsr_agreement: bool = False) -> DefaultHoursState:
        """N charge points fresh from the box: shipped defaults, first-use choice pending."""
        return cls(
            schedule_row=np.zeros(n, dtype=np.int64),
            choice=np.full(n, FirstUseChoice.PENDING, dtype=np.int64),
            dsr_agreement=np.full(n, dsr_agreement, dtype=np.bool_),
            override_until_s=np.full(n, NO_OVERRIDE, dtype=np.int64),
        )

    def defaults_in_force(self) -> BoolArray:
        """Defaults bind unless the owner removed them or a DSR agreement replaces them (SCP-OP-4)."""
        in_force: BoolArray = (self.choice != FirstUseChoice.REMOVED) & ~self.dsr_agreement
        return in_force

    def with_choice(
        self, index: IntArray, choice: FirstUseChoice, schedule_row: int | None = None
    ) -> DefaultHoursState:
        """Record the owner's answer for the charge points at ``index`` (SCP-OP-2, SCP-OP-3)."""
        if choice is FirstUseChoice.CHANGED and schedule_row is None:
            raise ValidationError("schedule_row", None, "changing the default hours needs the new hours")
        rows = self.schedule_row.copy()
        choices = self.choice.copy()
        choices[index] = choice
        if choice is FirstUseChoice.CHANGED and schedule_row is not None:
            rows[index] = schedule_row
        elif choice is FirstUseChoice.ACCEPTED:
            rows[index] = 0
        return DefaultHoursState(rows, choices, self.dsr_agreement, self.override_until_s)

    def with_override(self, index: IntArray, until_s: int) -> DefaultHoursState:
        """Override the default hours until ``until_s`` (e.g. the end of this session, SCP-OP-3)."""
        until = self.override_until_s.copy()
        until[index] = until_s
        return DefaultHoursState(self.schedule_row, self.choice, self.dsr_agreement, until)


def is_charging_allowed(
    state: DefaultHoursState, table: ScheduleTable, minute_of_week: IntArray, now_s: IntArray | int
) -> BoolArray:
    """Whether reg 10 lets each charge point charge at this local minute (SCP-OP-5)."""
    overridden = state.override_until_s > np.asarray(now_s, dtype=np.int64)
    inside = table.allowed[state.schedule_row, np.asarray(minute_of_week) % MINUTES_PER_WEEK]
    allowed: BoolArray = inside | overridden | ~state.defaults_in_force()
    return allowed


def minutes_until_allowed(
    state: DefaultHoursState, table: ScheduleTable, minute_of_week: IntArray
) -> IntArray:
    """Whole local minutes until each charge point's default hours next allow charging (0 if now).

    Counts minutes of the local clock; across a clock change the caller converts back to UTC.
    """
    wait = table.wait_min[state.schedule_row, np.asarray(minute_of_week) % MINUTES_PER_WEEK]
    return np.where(state.defaults_in_force(), wait, 0).astype(np.int64)


__all__ = [
    "GB_DEFAULT_HOURS",
    "GB_PEAK",
    "NO_OVERRIDE",
    "DefaultHoursState",
    "FirstUseChoice",
    "ScheduleTable",
    "is_charging_allowed",
    "minutes_until_allowed",
    "validate_preset_hours",
]
