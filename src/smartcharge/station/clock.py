"""Clocks for the emulated charge point: real time, or scaled time for fast deterministic tests.

The policy core never reads a clock (STYLE §1); the station does, through this port, so a test
can run a weekday evening in seconds (:class:`ScaledClock`) instead of waiting real minutes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now_s(self) -> float:
        """UTC epoch seconds now."""
        ...

    async def sleep(self, duration_s: float) -> None:
        """Sleep ``duration_s`` seconds of this clock's time."""
        ...


class SystemClock:
    def now_s(self) -> float:
        return time.time()

    async def sleep(self, duration_s: float) -> None:
        await asyncio.sleep(duration_s)


class ScaledClock:
    """Starts at ``start_s`` and runs ``speed`` times faster than real time."""

    def __init__(self, start_s: float, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self._start_s = start_s
        self._speed = speed
        self._t0 = time.monotonic()

    def now_s(self) -> float:
        return self._start_s + (time.monotonic() - self._t0) * self._speed

    async def sleep(self, duration_s: float) -> None:
        await asyncio.sleep(max(duration_s, 0.0) / self._speed)


__all__ = ["Clock", "ScaledClock", "SystemClock"]
