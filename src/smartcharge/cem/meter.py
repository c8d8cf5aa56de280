"""The site meter: what the site draws from the network, as an input port (issue 12 item 3).

The site limit follows the meter (SCN-WRK, ENA G100): the CEM subtracts the charge points' own
draw from the meter's import to find the rest of the site's load, and gives the cars what the
connection leaves. A reading carries when it was taken; a meter whose data is older than
15 s is stale, and the site service then puts every charge point on its fail-safe limit
(report 7.21).

Two sources implement :class:`SiteMeter`:

- :class:`EmulatedMeter` — readings set by a test or the demo (``publish``), on an injected clock.
- :class:`MqttMeter` — the first real transport: subscribes to one MQTT topic (aiomqtt) whose
  messages are JSON ``{"import_w": 41250.0, "phase_a": [61.2, 58.0, 60.3], "ts": 1764650000.0}``
  (``phase_a`` optional, ``ts`` optional: the time of receipt when absent). A malformed message is
  logged with the field and the rule and dropped; the previous reading keeps ageing.

``cem serve --site-meter`` names the source: ``emulated``, or ``mqtt://HOST:PORT/TOPIC``
(:func:`parse_meter_spec`; the topic may hold ``/``, no wildcards).

Listeners (``subscribe``) are called with each new reading, so a change reaches the charge
points at once rather than at the next poll.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from smartcharge.core.errors import ValidationError

logger = logging.getLogger(__name__)

#: Data older than this is stale (SCN-WRK; report 7.21).
METER_STALE_S = 15.0

Listener = Callable[["MeterReading"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class MeterReading:
    """Site import in W (negative: export) and per-phase current in A when the meter gives it."""

    import_w: float
    taken_s: float  # epoch s when the meter took it
    phase_a: tuple[float, float, float] | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if not math.isfinite(self.import_w):
            raise ValidationError("import_w", self.import_w, "a site import is a finite power in W")
        if not math.isfinite(self.taken_s) or self.taken_s <= 0:
            raise ValidationError("ts", self.taken_s, "a reading's time is a positive epoch second")
        if self.phase_a is not None and (
            len(self.phase_a) != 3 or not all(math.isfinite(a) and a >= 0 for a in self.phase_a)
        ):
            raise ValidationError("phase_a", self.phase_a, "three finite currents >= 0 A (L1, L2, L3)")

    def age_s(self, now_s: float) -> float:
        return max(0.0, now_s - self.taken_s)


def parse_reading(payload: bytes | str, received_s: float, source: str) -> MeterReading:
    """A reading from one MQTT message; raises ValidationError naming the field and the rule."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationError("payload", str(payload)[:40], "must be a JSON object") from None
    if not isinstance(data, dict):
        raise ValidationError("payload", str(data)[:40], "must be a JSON object")
    value = data.get("import_w")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError("import_w", value, "required: the site import in W, a number")
    ts = data.get("ts", received_s)
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        raise ValidationError("ts", ts, "an epoch second, a number")
    phases = data.get("phase_a")
    phase_a: tuple[float, float, float] | None = None
    if phases is not None:
        if (
            not isinstance(phases, list)
            or len(phases) != 3
            or not all(isinstance(a, int | float) and not isinstance(a, bool) for a in phases)
        ):
            raise ValidationError("phase_a", phases, "three numbers, A on L1, L2, L3")
        phase_a = (float(phases[0]), float(phases[1]), float(phases[2]))
    return MeterReading(float(value), float(ts), phase_a, source)


class SiteMeter(Protocol):
    """The site meter port: the latest reading (None before the first) and change listeners."""

    def latest(self) -> MeterReading | None: ...

    def subscribe(self, listener: Listener) -> None: ...


class _Listeners:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._latest: MeterReading | None = None

    def latest(self) -> MeterReading | None:
        return self._latest

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def _deliver(self, reading: MeterReading) -> None:
        self._latest = reading
        for listener in list(self._listeners):
            try:
                await listener(reading)
            except Exception:  # a listener's failure must not stop the meter feed
                logger.exception("site meter listener failed")


class EmulatedMeter(_Listeners):
    """A meter driven by the caller (tests, the demo): ``publish`` a reading, or fall silent."""

    def __init__(self, clock: Callable[[], float] = time.time, source: str = "emulated") -> None:
        super().__init__()
        self.clock = clock
        self.source = source

    async def publish(
        self, import_w: float, phase_a: tuple[float, float, float] | None = None, taken_s: float | None = None
    ) -> MeterReading:
        reading = MeterReading(import_w, self.clock() if taken_s is None else taken_s, phase_a, self.source)
        await self._deliver(reading)
        return reading


@dataclass(frozen=True, slots=True)
class MqttMeterConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    topic: str = "site/meter"
    username: str | None = None
    password: str | None = None
    reconnect_s: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValidationError("meter.port", self.port, "a TCP port 1..65535")
        if not self.topic or any(c in self.topic for c in "+#"):
            raise ValidationError("meter.topic", self.topic, "one topic, no wildcards")


def parse_meter_spec(spec: str) -> MqttMeterConfig | None:
    """``emulated`` -> None; ``mqtt://HOST[:PORT]/TOPIC`` -> its config (port 1883 if not given).
    Raises ValidationError naming ``site_meter`` and the rule."""
    from urllib.parse import urlsplit

    if spec == "emulated":
        return None
    if any(c in spec for c in "+#"):
        raise ValidationError("site_meter", spec, "one topic, no MQTT wildcards (+ or #)")
    try:
        url = urlsplit(spec)
        port = url.port
    except ValueError as exc:
        raise ValidationError("site_meter", spec, f"not a valid URL ({exc})") from None
    if url.scheme != "mqtt" or not url.hostname:
        raise ValidationError("site_meter", spec, "'emulated' or mqtt://HOST:PORT/TOPIC")
    if url.username is not None or url.password is not None:
        raise ValidationError("site_meter", spec, "no user or password in the URL (they would show in ps)")
    if url.query or url.fragment:
        raise ValidationError("site_meter", spec, "no ?query or #fragment: the topic is the URL's path")
    topic = url.path.lstrip("/")
    if not topic:
        raise ValidationError("site_meter", spec, "names no topic: mqtt://HOST:PORT/TOPIC")
    try:
        return MqttMeterConfig(host=url.hostname, port=1883 if port is None else port, topic=topic)
    except ValidationError as exc:
        raise ValidationError("site_meter", spec, exc.rule) from None


class MqttMeter(_Listeners):
    """Site meter readings from an MQTT topic (aiomqtt); reconnects after a broker outage."""

    def __init__(self, config: MqttMeterConfig, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.config = config
        self.clock = clock
        self.refused = 0
        self.connected = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Receive readings until ``stop`` is set."""
        import aiomqtt

        while not stop.is_set():
            try:
                async with aiomqtt.Client(
                    self.config.host,
                    self.config.port,
                    username=self.config.username,
                    password=self.config.password,
                ) as client:
                    await client.subscribe(self.config.topic, qos=1)
                    self.connected.set()
                    receiving = asyncio.ensure_future(self._receive(client))
                    stopping = asyncio.ensure_future(stop.wait())
                    try:
                        await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for task in (receiving, stopping):
                            task.cancel()
                        await asyncio.gather(receiving, stopping, return_exceptions=True)
                    if receiving.done() and not receiving.cancelled() and receiving.exception():
                        raise receiving.exception()  # type: ignore[misc]
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                logger.warning(
                    "site meter MQTT link lost (%s); retrying in %.0f s", exc, self.config.reconnect_s
                )
                try:
                    await asyncio.wait_for(stop.wait(), self.config.reconnect_s)
                except TimeoutError:
                    pass

    async def _receive(self, client: object) -> None:
        async for message in client.messages:  # type: ignore[attr-defined]
            payload = message.payload
            raw = payload if isinstance(payload, bytes | str) else str(payload)
            try:
                reading = parse_reading(raw, self.clock(), f"mqtt:{self.config.topic}")
            except ValidationError as exc:
                self.refused += 1
                logger.warning("site meter message refused: %s", exc)
                continue
            await self._deliver(reading)


__all__ = [
    "METER_STALE_S",
    "EmulatedMeter",
    "MeterReading",
    "MqttMeter",
    "MqttMeterConfig",
    "SiteMeter",
    "parse_meter_spec",
    "parse_reading",
]
