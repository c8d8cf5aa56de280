"""Randomised delay, SCP Regs 2021 reg 11 (SCP-RD-1…6, RD-R1…R3, report 7.9).

At every *relevant time* (charging would start, or its rate would rise or fall; also after power
or communications are restored, RD-R1) the charge point waits a delay drawn uniformly in whole
seconds from 0 to a maximum (default 600 s, settable 0-1800 s) before the change takes effect.
During the delay the previous level stays in force ("limit during delay"); at its end the new
level applies ("limit after delay", RD-R2).

A change is exempt (applies at once) when the owner or another end user overrode the delay, when
an equivalent delay was already applied upstream for that relevant time (RD-R3, e.g. an OpenADR
``startafter`` window), or when the device delivers response DSR for that time (SCP-RD-4).

If the requested level moves again while a delay runs, the running countdown is kept and only its
target moves: one relevant time, one delay. A request back to the level in force cancels it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import BoolArray, FloatArray, IntArray

#: Default maximum delay in default operation, reg 11 (SCP-RD-2).
DEFAULT_MAX_DELAY_S = 600
#: Maximum delay the device must be capable of, reg 11 (SCP-RD-1).
MAX_DELAY_CAPABILITY_S = 1800
#: Marks "no delay running" in ``delay_end_s``.
NO_DELAY = -1


def validate_max_delay_s(max_delay_s: IntArray | int, field: str = "max_delay_s") -> IntArray:
    """Refuse any maximum outside 0-1800 whole seconds (reg 11, SCP-RD-3); never clamp."""
    try:
        raw = np.asarray(max_delay_s)
    except (ValueError, TypeError):  # ragged input from a file, e.g. [null, []]: not an array at all
        raise ValidationError(field, max_delay_s, "a delay maximum is a whole number of seconds") from None
    if raw.dtype.kind == "f":
        if not np.all(np.isfinite(raw)) or not np.all(raw == np.floor(raw)):
            bad = raw[~np.isfinite(raw) | (raw != np.floor(raw))].ravel()[0]
            raise ValidationError(field, float(bad), "a delay maximum is a whole number of seconds")
    elif raw.dtype.kind not in "iu":
        raise ValidationError(field, max_delay_s, "a delay maximum is a whole number of seconds")
    values = raw.astype(np.int64)
    outside = (values < 0) | (values > MAX_DELAY_CAPABILITY_S)
    if np.any(outside):
        raise ValidationError(
            field,
            int(values[outside].ravel()[0]),
            f"must be 0..{MAX_DELAY_CAPABILITY_S} s (SCP Regs 2021 reg 11, SCP-RD-3)",
        )
    return values


def delay_s_from_uniform(uniform: FloatArray, max_delay_s: IntArray) -> IntArray:
    """Turn uniform draws in [0, 1) into delays uniform over the whole seconds 0..max (SCP-RD-2)."""
    u = np.asarray(uniform, dtype=np.float64)
    top = np.asarray(max_delay_s, dtype=np.int64)
    return np.minimum(np.floor(u * (top + 1)).astype(np.int64), top)


@dataclass(frozen=True, slots=True)
class RandomDelayState:
    """Per charge point: the level in force, a pending level and when its delay ends. Shapes (N,)."""

    max_delay_s: IntArray
    applied_w: FloatArray  # level in force ("limit during delay" while one runs)
    pending_w: FloatArray  # level after the delay (nan: none pending)
    delay_end_s: IntArray  # epoch s when the pending level applies (NO_DELAY: none)

    @classmethod
    def initial(cls, n: int, max_delay_s: IntArray | int = DEFAULT_MAX_DELAY_S) -> RandomDelayState:
        """N idle charge points with nothing in force yet (power 0 W)."""
        maxima = validate_max_delay_s(np.broadcast_to(np.asarray(max_delay_s), (n,)).copy())
        return cls(
            max_delay_s=maxima,
            applied_w=np.zeros(n),
            pending_w=np.full(n, np.nan),
            delay_end_s=np.full(n, NO_DELAY, dtype=np.int64),
        )

    def with_max_delay_s(self, max_delay_s: IntArray | int) -> RandomDelayState:
        """A copy with a new maximum (settable remotely, SCP-RD-3); a running delay keeps its end."""
        n = self.applied_w.shape[0]
        maxima = validate_max_delay_s(np.broadcast_to(np.asarray(max_delay_s), (n,)).copy())
        return replace(self, max_delay_s=maxima)


def step_random_delay(
    state: RandomDelayState,
    requested_w: FloatArray,
    now_s: IntArray | int,
    uniform: FloatArray,
    exempt: BoolArray,
    restored: BoolArray | None = None,
) -> tuple[RandomDelayState, FloatArray]:
    """Advance the reg 11 delay to ``now_s`` for a new requested level; return (state, level in force).

    ``uniform`` holds one draw in [0, 1) per charge point, used only where a new delay starts.
    ``exempt`` marks the SCP-RD-4 exemptions; ``restored`` marks *power* just restored (RD-R1):
    the output was off, so the level in force is 0 W and the restart is a relevant time.
    Communications restored is not passed here: the level in force stays, and the changes of rate
    the restoration brings are relevant times like any other change (delayed unless exempt).
    """
    now = np.asarray(now_s, dtype=np.int64)
    requested = np.asarray(requested_w, dtype=np.float64)
    applied = state.applied_w.copy()
    pending = state.pending_w.copy()
    end = state.delay_end_s.copy()
    if restored is not None:
        applied = np.where(restored, 0.0, applied)

    running = end != NO_DELAY
    due = running & (now >= end)
    applied = np.where(due, pending, applied)
    running &= ~due

    exempt = np.asarray(exempt, dtype=np.bool_)
    differs = requested != applied
    immediate = differs & (exempt | ((state.max_delay_s == 0) & ~running))
    applied = np.where(immediate, requested, applied)

    back_to_applied = running & ~differs
    retarget = running & differs & ~immediate
    start = differs & ~running & ~immediate
    delay = delay_s_from_uniform(uniform, state.max_delay_s)
    start_now = start & (delay == 0)
    applied = np.where(start_now, requested, applied)
    start &= ~start_now

    keep = retarget | start
    pending = np.where(keep, requested, np.nan)
    end = np.where(start, now + delay, np.where(retarget, end, NO_DELAY))
    end = np.where(back_to_applied | immediate, NO_DELAY, end).astype(np.int64)
    new_state = RandomDelayState(state.max_delay_s, applied, pending, end)
    return new_state, applied


def countdown_s(state: RandomDelayState, now_s: IntArray | int) -> IntArray:
    """Seconds left of each running delay, 0 where none runs (RD-R2)."""
    now = np.asarray(now_s, dtype=np.int64)
    left = np.maximum(state.delay_end_s - now, 0)
    return np.where(state.delay_end_s == NO_DELAY, 0, left).astype(np.int64)


__all__ = [
    "DEFAULT_MAX_DELAY_S",
    "MAX_DELAY_CAPABILITY_S",
    "NO_DELAY",
    "RandomDelayState",
    "countdown_s",
    "delay_s_from_uniform",
    "step_random_delay",
    "validate_max_delay_s",
]
