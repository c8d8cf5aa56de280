"""How the CEM turns an OpenADR DSR event into a limit with its source (ARB-5, SCP-SF-5, RD-R3).

* Response DSR (DNO constraint, system need) becomes a :attr:`LimitSource.RESPONSE_DSR` limit,
  layer 3, applied at once: reg 11 exempts a device delivering response DSR (SCP-RD-4).
* Routine DSR (price and tariff signals) becomes a :attr:`LimitSource.ROUTINE_DSR` limit, layer 5.
  It takes the charge point's randomised delay (OP-R1) unless the DSRSP already randomised the
  start with an OpenADR ``tolerance/startafter`` window, which the VEN draws from (RD-R3).

Signals: ``LOAD_DISPATCH/setpoint`` is a ceiling in W; ``SIMPLE/level`` maps levels 1-3 to the
ceilings configured for the site (level 0: no limit); ``ELECTRICITY_PRICE/price`` in p/kWh stops
charging while the price is above the owner's ceiling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import Limit, LimitSource
from smartcharge.openadr.model import DsrEvent, EventInterval, Programme, Signal

#: Ceilings for SIMPLE levels 1, 2, 3 when the owner sets none: 16 A, 6 A (the IEC 61851
#: minimum) and off, single phase at 230 V.
DEFAULT_SIMPLE_LEVEL_W = {1: 3680.0, 2: 1380.0, 3: 0.0}


@dataclass(frozen=True, slots=True)
class DsrLimitConfig:
    """Owner and site settings that give SIMPLE levels and prices a power meaning."""

    simple_level_w: dict[int, float] = field(default_factory=lambda: dict(DEFAULT_SIMPLE_LEVEL_W))
    price_ceiling_p_per_kwh: float = math.inf

    def __post_init__(self) -> None:
        if set(self.simple_level_w) != {1, 2, 3}:
            raise ValidationError("simple_level_w", sorted(self.simple_level_w), "needs levels 1, 2 and 3")
        for level, value in self.simple_level_w.items():
            if not value >= 0 or math.isinf(value):
                raise ValidationError(f"simple_level_w[{level}]", value, "a ceiling is a finite power >= 0 W")
        if math.isnan(self.price_ceiling_p_per_kwh):
            raise ValidationError("price_ceiling_p_per_kwh", "nan", "must be a number of p/kWh (inf: none)")


def source_of(programme: Programme) -> LimitSource:
    """The ARB-5 layer a DSR programme acts at."""
    return LimitSource.RESPONSE_DSR if programme is Programme.RESPONSE else LimitSource.ROUTINE_DSR


def is_exempt_from_delay(event: DsrEvent) -> bool:
    """Response DSR is exempt (SCP-RD-4); routine DSR only if the DSRSP randomised it (RD-R3)."""
    return event.programme is Programme.RESPONSE or event.start_after_s > 0


def limit_for(event: DsrEvent, interval: EventInterval, config: DsrLimitConfig) -> Limit | None:
    """The limit one interval asks for, or None when it asks for none (SIMPLE 0, cheap price)."""
    source = source_of(event.programme)
    detail = f"OpenADR event {event.event_id} ({event.signal.signal_name})"
    if event.signal is Signal.LOAD_DISPATCH_SETPOINT:
        return Limit(interval.value, source, detail)
    if event.signal is Signal.SIMPLE_LEVEL:
        level = int(interval.value)
        return None if level == 0 else Limit(config.simple_level_w[level], source, detail)
    if interval.value > config.price_ceiling_p_per_kwh:
        return Limit(0.0, source, f"{detail}: {interval.value:g} p/kWh above the owner's ceiling")
    return None


__all__ = ["DEFAULT_SIMPLE_LEVEL_W", "DsrLimitConfig", "is_exempt_from_delay", "limit_for", "source_of"]
