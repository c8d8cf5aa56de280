"""Pure domain core: units, GB local time, time windows, tariffs, limits with their source, errors.

Depends only on the standard library and numpy; never reads the clock or draws random numbers.
"""

from smartcharge.core.errors import (
    DataFileError,
    LimitSourceError,
    SmartchargeError,
    UnknownTariffError,
    ValidationError,
)
from smartcharge.core.limit import Limit, LimitSource
from smartcharge.core.localtime import GB_TZ, local_fields, utc_offset_s
from smartcharge.core.tariff import Tariff, TariffKind, get_tariff, load_tariffs
from smartcharge.core.window import TimeWindow, WeeklySchedule, parse_window

__all__ = [
    "GB_TZ",
    "DataFileError",
    "Limit",
    "LimitSource",
    "LimitSourceError",
    "SmartchargeError",
    "Tariff",
    "TariffKind",
    "TimeWindow",
    "UnknownTariffError",
    "ValidationError",
    "WeeklySchedule",
    "get_tariff",
    "load_tariffs",
    "local_fields",
    "parse_window",
    "utc_offset_s",
]
