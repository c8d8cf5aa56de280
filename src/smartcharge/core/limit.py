"""Limits that carry their source, and the order of sources (ARB-5, report 7.16).

A limit is a power ceiling in watts plus where it came from. Sources are layered; a lower layer
(higher number) can only narrow what the layers above it allow. The consumer override (layer 4)
sets aside routine DSR and device defaults (layers 5 and 6) but never layers 1-3.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from smartcharge.core.errors import LimitSourceError, ValidationError


class LimitSource(enum.IntEnum):
    """Where a limit comes from; the value is its layer in the ARB-5 order (1 = strongest)."""

    SAFETY = 1  # hardware rating, cable, unsafe input refused (SCP Regs 2021 reg 8, ARB-1)
    SITE = 2  # site / DNO connection agreement, G100 limitation (ARB-3, SCP-FS-6)
    RESPONSE_DSR = 3  # emergency, DNO constraint, frequency (SCP-SF-5)
    CONSUMER_OVERRIDE = 4  # owner "charge now" or cancelled delay (SCP-OP-3, SCP-RD-6)
    ROUTINE_DSR = 5  # tariff and price signals, DSRSP optimisation (SCP-SF-5)
    DEVICE_DEFAULT = 6  # off-peak default hours, randomised delay (reg 10, reg 11)

    @property
    def is_delayable(self) -> bool:
        """Whether a change made by this source takes a randomised delay (SCP-RD-4, OP-R1).

        Safety, site and response DSR act at once; an owner override is exempt by reg 11; routine
        DSR and device defaults are delayed.
        """
        return self >= LimitSource.ROUTINE_DSR

    @property
    def is_set_aside_by_override(self) -> bool:
        """Whether a consumer override removes this source's limit (ARB-5 layers 5 and 6)."""
        return self >= LimitSource.ROUTINE_DSR


N_LAYERS = len(LimitSource)


@dataclass(frozen=True, slots=True)
class Limit:
    """A power ceiling in watts and its source; ``detail`` says which rule or message set it."""

    value_w: float
    source: LimitSource
    detail: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.source, LimitSource):
            raise LimitSourceError("source", self.source, "every limit must carry a LimitSource (ARB-5)")
        if isinstance(self.value_w, bool) or not isinstance(self.value_w, int | float):
            raise ValidationError("value_w", self.value_w, "must be a number of watts")
        if math.isnan(self.value_w) or self.value_w < 0:
            raise ValidationError("value_w", self.value_w, "a limit is a power >= 0 W (inf = none)")

    @classmethod
    def from_wire(cls, value_w: float, source: str, detail: str = "") -> Limit:
        """Build a limit from untrusted input, naming the source by its enum name."""
        try:
            parsed = LimitSource[source.upper()]
        except (KeyError, AttributeError):
            names = ", ".join(s.name for s in LimitSource)
            raise LimitSourceError("source", source, f"must be one of {names}") from None
        return cls(float(value_w), parsed, detail)


__all__ = ["N_LAYERS", "Limit", "LimitSource"]
