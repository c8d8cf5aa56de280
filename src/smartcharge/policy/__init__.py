"""The GB and PAS 1878 charge-point rules as pure, vectorised functions.

Every function takes arrays with one entry per charge point; the time and any random draws are
arguments, so the live station (arrays of one) and the fleet simulator (arrays of a million) run
the same code. No clock, no randomness, no I/O.
"""

from smartcharge.policy.arbitration import allocate_tree, arbitrate_layers, hard_envelope_w
from smartcharge.policy.default_hours import (
    GB_DEFAULT_HOURS,
    GB_PEAK,
    DefaultHoursState,
    FirstUseChoice,
    ScheduleTable,
    is_charging_allowed,
    minutes_until_allowed,
)
from smartcharge.policy.modes import Mode, is_dsr_event_live, select_mode
from smartcharge.policy.offers import FlexibilityOffers, flexibility_offers
from smartcharge.policy.random_delay import (
    DEFAULT_MAX_DELAY_S,
    MAX_DELAY_CAPABILITY_S,
    RandomDelayState,
    countdown_s,
    delay_s_from_uniform,
    step_random_delay,
    validate_max_delay_s,
)

__all__ = [
    "DEFAULT_MAX_DELAY_S",
    "GB_DEFAULT_HOURS",
    "GB_PEAK",
    "MAX_DELAY_CAPABILITY_S",
    "DefaultHoursState",
    "FirstUseChoice",
    "FlexibilityOffers",
    "Mode",
    "RandomDelayState",
    "ScheduleTable",
    "allocate_tree",
    "arbitrate_layers",
    "countdown_s",
    "delay_s_from_uniform",
    "flexibility_offers",
    "hard_envelope_w",
    "is_charging_allowed",
    "is_dsr_event_live",
    "minutes_until_allowed",
    "select_mode",
    "step_random_delay",
    "validate_max_delay_s",
]
