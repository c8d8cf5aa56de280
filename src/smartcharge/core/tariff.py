"""GB fixed-window time-of-use tariffs.

The packaged table ``smartcharge/data/tariffs/tariffs.csv`` is derived from the project's compiled
GB tariff table (``source_uk_tou_tariffs.csv`` beside it, with ``PROVENANCE.md``). Only tariffs
whose cheap hours are a fixed weekly window are included; where a supplier's peak rate was not
captured the row says so in ``peak_rate_note`` and uses the Ofgem cap (Jan-Mar 2025).
Good Energy fixes its window in UTC, so it moves by an hour on the local clock in summer.
"""

from __future__ import annotations

import csv
import enum
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np

from smartcharge.core.errors import DataFileError, UnknownTariffError, ValidationError
from smartcharge.core.localtime import local_fields
from smartcharge.core.units import (
    MINUTES_PER_DAY,
    SECONDS_PER_DAY,
    SECONDS_PER_MINUTE,
    BoolArray,
    FloatArray,
    IntArray,
)
from smartcharge.core.window import WeeklySchedule


class TariffKind(enum.Enum):
    FLAT = "flat"
    FIXED_WINDOW = "fixed_window"
    SMART_DISPATCH = "smart_dispatch"


class ScheduleClock(enum.Enum):
    LOCAL = "local"
    UTC = "utc"


@dataclass(frozen=True, slots=True)
class Tariff:
    """A tariff with one cheap weekly schedule; prices in pence per kWh including VAT."""

    tariff_id: str
    name: str
    kind: TariffKind
    offpeak: WeeklySchedule
    clock: ScheduleClock
    offpeak_p_per_kwh: float
    peak_p_per_kwh: float
    peak_rate_note: str = ""
    standing_charge_p_per_day: float | None = None
    rate_as_of: str = ""
    source_url: str = ""
    _mask: BoolArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("offpeak_p_per_kwh", "peak_p_per_kwh"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValidationError(name, value, "a price must be >= 0 p/kWh")
        if self.kind is not TariffKind.FLAT and not self.offpeak.windows:
            raise ValidationError("offpeak_schedule", "", f"a {self.kind.value} tariff needs a cheap window")
        object.__setattr__(self, "_mask", self.offpeak.minute_mask())

    def minute_of_week(self, epoch_s: IntArray) -> IntArray:
        """Minute of the week on the clock the tariff's window is defined in."""
        t = np.asarray(epoch_s, dtype=np.int64)
        if self.clock is ScheduleClock.UTC:
            day = t // SECONDS_PER_DAY
            return ((day + 3) % 7) * MINUTES_PER_DAY + (t % SECONDS_PER_DAY) // SECONDS_PER_MINUTE
        return local_fields(t).minute_of_week

    def is_offpeak(self, epoch_s: IntArray) -> BoolArray:
        """Whether each UTC timestamp falls in the cheap window."""
        return self._mask[self.minute_of_week(epoch_s)]

    def price_p_per_kwh(self, epoch_s: IntArray) -> FloatArray:
        """Unit price in pence per kWh at each UTC timestamp."""
        return np.where(self.is_offpeak(epoch_s), self.offpeak_p_per_kwh, self.peak_p_per_kwh)


def _row_to_tariff(row: dict[str, str]) -> Tariff:
    kind = TariffKind(row["kind"])
    peak = float(row["peak_p_per_kwh"])
    offpeak = float(row["offpeak_p_per_kwh"]) if row["offpeak_p_per_kwh"] else peak
    standing = row["standing_charge_p_per_day"]
    return Tariff(
        tariff_id=row["tariff_id"],
        name=row["name"],
        kind=kind,
        offpeak=WeeklySchedule.parse(row["offpeak_schedule"], "offpeak_schedule"),
        clock=ScheduleClock(row["schedule_clock"]),
        offpeak_p_per_kwh=offpeak,
        peak_p_per_kwh=peak,
        peak_rate_note=row["peak_rate_note"],
        standing_charge_p_per_day=float(standing) if standing else None,
        rate_as_of=row["rate_as_of"],
        source_url=row["source_url"],
    )


@cache
def load_tariffs() -> dict[str, Tariff]:
    """All packaged tariffs by id."""
    path = resources.files("smartcharge.data").joinpath("tariffs/tariffs.csv")
    try:
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise DataFileError(str(path), "missing from the installed package") from None
    try:
        return {row["tariff_id"]: _row_to_tariff(row) for row in rows}
    except (KeyError, ValueError) as exc:
        raise DataFileError(str(path), f"malformed row: {exc}") from exc


def get_tariff(tariff_id: str) -> Tariff:
    """Look up a packaged tariff; an unknown id names the known ones."""
    tariffs = load_tariffs()
    try:
        return tariffs[tariff_id]
    except KeyError:
        known = ", ".join(sorted(tariffs))
        raise UnknownTariffError("tariff_id", tariff_id, f"unknown tariff; known: {known}") from None


__all__ = ["ScheduleClock", "Tariff", "TariffKind", "get_tariff", "load_tariffs"]
