"""A simple electric vehicle behind the charge point: battery, state of charge, taper near full."""

from __future__ import annotations

from dataclasses import dataclass

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import kwh_from_w_s


@dataclass(slots=True)
class EV:
    """Battery of ``capacity_kwh`` at state of charge ``soc`` (0-1), accepting up to ``max_power_w``.

    Above ``taper_from_soc`` the on-board charger tapers linearly to zero at full, as CC-CV
    charging does near the top of the battery.
    """

    capacity_kwh: float = 60.0
    soc: float = 0.3
    max_power_w: float = 7_400.0
    taper_from_soc: float = 0.8
    efficiency: float = 0.92

    def __post_init__(self) -> None:
        if not 0.0 <= self.soc <= 1.0:
            raise ValidationError("soc", self.soc, "state of charge is a fraction 0..1")
        if self.capacity_kwh <= 0:
            raise ValidationError("capacity_kwh", self.capacity_kwh, "battery capacity must be > 0 kWh")
        if self.max_power_w <= 0:
            raise ValidationError("max_power_w", self.max_power_w, "charger power must be > 0 W")

    def acceptance_w(self) -> float:
        """Most power the vehicle takes now."""
        if self.soc >= 1.0:
            return 0.0
        if self.soc <= self.taper_from_soc:
            return self.max_power_w
        return self.max_power_w * (1.0 - self.soc) / (1.0 - self.taper_from_soc)

    def charge(self, power_w: float, duration_s: float) -> None:
        """Take ``power_w`` from the grid for ``duration_s``; losses stay out of the battery."""
        stored_kwh = kwh_from_w_s(power_w, duration_s) * self.efficiency
        self.soc = min(1.0, self.soc + stored_kwh / self.capacity_kwh)


__all__ = ["EV"]
