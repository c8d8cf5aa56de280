"""Pure domain core: units, GB local time, time windows, tariffs, limits with their source, errors.

Depends only on the standard library and numpy; never reads the clock or draws random numbers.

Names are imported on first use (PEP 562), so importing one light submodule (or the command line)
does not pull in every library the package uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartcharge.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
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

_EXPORTS: dict[str, tuple[str, str]] = {
    "DataFileError": ("smartcharge.core.errors", "DataFileError"),
    "LimitSourceError": ("smartcharge.core.errors", "LimitSourceError"),
    "SmartchargeError": ("smartcharge.core.errors", "SmartchargeError"),
    "UnknownTariffError": ("smartcharge.core.errors", "UnknownTariffError"),
    "ValidationError": ("smartcharge.core.errors", "ValidationError"),
    "Limit": ("smartcharge.core.limit", "Limit"),
    "LimitSource": ("smartcharge.core.limit", "LimitSource"),
    "GB_TZ": ("smartcharge.core.localtime", "GB_TZ"),
    "local_fields": ("smartcharge.core.localtime", "local_fields"),
    "utc_offset_s": ("smartcharge.core.localtime", "utc_offset_s"),
    "Tariff": ("smartcharge.core.tariff", "Tariff"),
    "TariffKind": ("smartcharge.core.tariff", "TariffKind"),
    "get_tariff": ("smartcharge.core.tariff", "get_tariff"),
    "load_tariffs": ("smartcharge.core.tariff", "load_tariffs"),
    "TimeWindow": ("smartcharge.core.window", "TimeWindow"),
    "WeeklySchedule": ("smartcharge.core.window", "WeeklySchedule"),
    "parse_window": ("smartcharge.core.window", "parse_window"),
}


__getattr__ = lazy_getattr(__name__, _EXPORTS)


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
