"""Operating modes and fail-safe behaviour (SCP-FS-1…6, report 8.5; mode model M1-M4 is [R]).

* M1 ``NORMAL``: local schedule and default hours.
* M2 ``DSR_MANAGED``: following a DSR event or profile from the CEM / DSRSP.
* M3 ``CONSUMER_OVERRIDE``: the owner said "charge now"; works offline too.
* M4 ``FAIL_SAFE``: communications lost, or just after power came back: keep charging on the locally
  stored schedule (reg 7, SCP-FS-1/2), apply the randomised delay before resuming (SCP-FS-4,
  RD-R1), and never resume a DSR event that expired meanwhile.
"""

from __future__ import annotations

import enum

import numpy as np

from smartcharge.core.units import BoolArray, IntArray

#: Marks "no DSR event" in event end times.
NO_EVENT = -1


class Mode(enum.IntEnum):
    NORMAL = 1
    DSR_MANAGED = 2
    CONSUMER_OVERRIDE = 3
    FAIL_SAFE = 4


def is_dsr_event_live(event_start_s: IntArray, event_end_s: IntArray, now_s: IntArray | int) -> BoolArray:
    """Whether each DSR event is in force now; an expired event is never resumed (SCP-FS-4)."""
    now = np.asarray(now_s, dtype=np.int64)
    end = np.asarray(event_end_s, dtype=np.int64)
    live: BoolArray = (end != NO_EVENT) & (np.asarray(event_start_s) <= now) & (now < end)
    return live


def select_mode(
    comms_ok: BoolArray,
    override_active: BoolArray,
    dsr_event_live: BoolArray,
    recovering: BoolArray,
) -> IntArray:
    """Mode per charge point. The owner's override works with or without a network (SCP-OP-3);
    lost communications or a power restoration still in its delay put the device in fail-safe;
    a live DSR event stored on the device is followed while communications are up."""
    comms = np.asarray(comms_ok, dtype=np.bool_)
    mode = np.full(comms.shape, Mode.NORMAL, dtype=np.int64)
    mode = np.where(np.asarray(dsr_event_live, dtype=np.bool_), Mode.DSR_MANAGED, mode)
    mode = np.where(~comms | np.asarray(recovering, dtype=np.bool_), Mode.FAIL_SAFE, mode)
    return np.where(np.asarray(override_active, dtype=np.bool_), Mode.CONSUMER_OVERRIDE, mode)


__all__ = ["NO_EVENT", "Mode", "is_dsr_event_live", "select_mode"]
