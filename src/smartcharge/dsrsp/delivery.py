"""Verifying that a CEM delivered a response event from its power report (DSR-4).

The CEM reports the site power it sampled while the event ran (``x-POWER_REPORT``). Delivery is
judged on each sample in an interval: the power must stay at or below the interval's setpoint,
plus a tolerance for meter accuracy (±10 % under the Regs, SCP-MS-5) and a settling time for the
charge points to ramp down after the limit reached them.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartcharge.core.errors import ValidationError
from smartcharge.openadr.model import DsrEvent, Signal

#: Meter accuracy required by the Regs (SCP-MS-5).
DEFAULT_TOLERANCE = 0.10
#: Time allowed for the limit to reach the charge points and for them to ramp down.
DEFAULT_SETTLE_S = 10


@dataclass(frozen=True, slots=True)
class DeliveryVerdict:
    event_id: str
    samples: int
    samples_over: int
    worst_excess_w: float

    @property
    def delivered(self) -> bool:
        return self.samples > 0 and self.samples_over == 0


def verify_delivery(
    event: DsrEvent,
    samples: list[tuple[int, float]],
    tolerance: float = DEFAULT_TOLERANCE,
    settle_s: int = DEFAULT_SETTLE_S,
) -> DeliveryVerdict:
    """Compare (at_s, power_w) samples with a LOAD_DISPATCH event's setpoints."""
    if event.signal is not Signal.LOAD_DISPATCH_SETPOINT:
        raise ValidationError(
            "signal", event.signal.signal_name, "delivery is verified for power setpoints only"
        )
    if not 0 <= tolerance < 1:
        raise ValidationError("tolerance", tolerance, "a fraction in [0, 1)")
    judged = over = 0
    worst = 0.0
    for at_s, power_w in samples:
        for interval in event.intervals:
            if interval.start_s + settle_s <= at_s < interval.end_s:
                judged += 1
                excess = power_w - interval.value * (1 + tolerance)
                if excess > 0:
                    over += 1
                    worst = max(worst, excess)
    return DeliveryVerdict(event.event_id, judged, over, worst)


__all__ = ["DEFAULT_SETTLE_S", "DEFAULT_TOLERANCE", "DeliveryVerdict", "verify_delivery"]
