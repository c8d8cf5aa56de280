"""Which charging profile leads, per purpose, on one charge point (ARB-2, ARB-3; OCPP 2.0.1 K01).

Within one purpose the valid profile with the highest stack level leads (ARB-2). Across purposes
the effective limit is the minimum of the station maximum, the external constraints and the
transaction limit, where a TxProfile replaces the TxDefaultProfile for its transaction (ARB-3).
A profile whose ``valid_to`` has passed no longer counts (SCP-FS-4: an expired DSR event is never
resumed). The caller maps the result onto the ARB-5 layers.
"""

from __future__ import annotations

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import FloatArray, IntArray

STATION_MAX = 0
EXTERNAL_CONSTRAINTS = 1
TX_DEFAULT = 2
TX = 3
N_PURPOSES = 4
#: ``valid_to_s`` of a profile that never lapses.
NO_END = -1


def leading_limits_w(
    purpose: IntArray, stack_level: IntArray, limit_w: FloatArray, valid_to_s: IntArray, now_s: int
) -> FloatArray:
    """Limit of the leading profile per purpose, shape (4,); ``inf`` where no valid profile exists.

    Inputs have one entry per installed profile (shape (K,)); ``purpose`` holds the codes above.
    """
    purposes = np.asarray(purpose, dtype=np.int64)
    levels = np.asarray(stack_level, dtype=np.int64)
    limits = np.asarray(limit_w, dtype=np.float64)
    ends = np.asarray(valid_to_s, dtype=np.int64)
    if np.any((purposes < 0) | (purposes >= N_PURPOSES)):
        raise ValidationError("purpose", purposes.tolist(), f"purpose codes are 0..{N_PURPOSES - 1}")
    if np.any(np.isnan(limits)) or np.any(limits < 0):
        raise ValidationError("limit_w", limits.tolist(), "profile limits are >= 0 W")
    valid = (ends == NO_END) | (ends > now_s)
    result = np.full(N_PURPOSES, np.inf)
    for code in range(N_PURPOSES):
        mine = valid & (purposes == code)
        if np.any(mine):
            top = np.max(levels[mine])
            result[code] = float(np.min(limits[mine & (levels == top)]))
    return result


def transaction_limit_w(leading_w: FloatArray) -> float:
    """The transaction's own limit: its TxProfile if it has one, else the TxDefaultProfile (ARB-3)."""
    tx = float(leading_w[TX])
    return tx if np.isfinite(tx) else float(leading_w[TX_DEFAULT])


__all__ = [
    "EXTERNAL_CONSTRAINTS",
    "NO_END",
    "N_PURPOSES",
    "STATION_MAX",
    "TX",
    "TX_DEFAULT",
    "leading_limits_w",
    "transaction_limit_w",
]
