"""The DSR service provider role: a VTN with a CEM registry, programmes, opts, readings, delivery.

* CEMs are *enrolled* out of band by certificate fingerprint (``smartcharge dsrsp enrol``); only an
  enrolled certificate can register (oadrCreatePartyRegistration), and a CEM that cancelled its
  registration is refused until it registers again (SEC-S-8, 463).
* Operators create events through the admin endpoint (mutual TLS with an operator certificate),
  or in-process through :meth:`DsrspService.create_event`.
* Opts (with the override reason, ARB-6), telemetry, offers and power reports are stored;
  :meth:`DsrspService.verify` judges delivery of a response event (DSR-4).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from smartcharge.core.errors import ValidationError
from smartcharge.dsrsp.delivery import DEFAULT_SETTLE_S, DeliveryVerdict, verify_delivery
from smartcharge.dsrsp.programmes import EventRequest, build_event
from smartcharge.openadr.model import (
    POWER_REPORT,
    DsrEvent,
    OptNotice,
    Programme,
    ReportPoint,
    SecurityNotice,
    Signal,
    VenRecord,
)
from smartcharge.openadr.pki import is_fingerprint
from smartcharge.openadr.vtn import VtnAdapter, VtnConfig
from smartcharge.store.consent import CemRecord, DsrspStore

logger = logging.getLogger(__name__)

#: How often received records are written to the database.
WRITE_INTERVAL_S = 0.2


def _ven_record(cem: CemRecord) -> VenRecord:
    return VenRecord(cem.fingerprint, cem.ven_name, cem.ven_id, cem.registration_id)


class CemRegistry:
    """The VTN's directory of CEMs by certificate fingerprint, kept in the DSRSP's database."""

    def __init__(self, store: DsrspStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._cache: dict[str, VenRecord] = {}

    def enrol(self, fingerprint: str, ven_name: str) -> CemRecord:
        """Admit a CEM certificate delivered out of band; its VEN id is derived from it."""
        if not is_fingerprint(fingerprint):
            raise ValidationError("fingerprint", fingerprint, "10 colon-separated upper-case hex bytes")
        if not ven_name or len(ven_name) > 64:
            raise ValidationError("ven_name", ven_name, "1..64 characters")
        ven_id = "VEN-" + fingerprint.replace(":", "")
        return self._store.enrol(fingerprint, ven_name, ven_id, int(self._clock()))

    def lookup(self, ven_id: str) -> VenRecord | None:
        # Every signed request looks the VEN up; keep registered answers until a registration
        # changes. Misses are not cached, so random ids cannot grow the cache.
        if ven_id in self._cache:
            return self._cache[ven_id]
        cem = self._store.by_ven_id(ven_id)
        if cem is None or cem.registration_id is None:
            return None
        self._cache[ven_id] = _ven_record(cem)
        return self._cache[ven_id]

    def register(self, fingerprint: str, ven_name: str) -> VenRecord | None:
        cem = self._store.set_registration(fingerprint, "REG-" + uuid.uuid4().hex[:16], int(self._clock()))
        if cem is None:
            return None
        self._cache.pop(cem.ven_id, None)
        return _ven_record(cem)

    def cancel(self, ven_id: str) -> None:
        cem = self._store.by_ven_id(ven_id)
        if cem is not None:
            self._store.set_registration(cem.fingerprint, None, int(self._clock()))
        self._cache.pop(ven_id, None)

    def registered(self) -> list[str]:
        return [c.ven_id for c in self._store.cems() if c.registration_id is not None]


class DsrspService:
    """One DSRSP: a VTN plus what it learns from the CEMs (implements ``VtnListener``)."""

    def __init__(
        self,
        config: VtnConfig,
        store: DsrspStore,
        clock: Callable[[], float] = time.time,
        on_opt: Callable[[OptNotice], None] | None = None,
    ) -> None:
        self.store = store
        self.registry = CemRegistry(store, clock)
        self._clock = clock
        self._on_opt = on_opt
        self.events: dict[str, tuple[DsrEvent, list[str]]] = {}
        self.vtn = VtnAdapter(config, self.registry, self, admin=self._admin, clock=clock)
        # Records wait here and are written in batches from a worker thread: a synchronous,
        # fsync'd insert per message on the event loop made signed messages queue past the 5 s
        # replay window under load, and each refusal then added another insert.
        self._security: list[tuple[int, str, str, int, str, str]] = []
        self._opts: list[tuple[int, str, str, str, str]] = []
        self._readings: list[tuple[str, str, str, int, float]] = []
        self._writer: asyncio.Task[None] | None = None
        # One batch at a time: a flush that found the lists empty while the write loop's batch
        # was still in its thread returned before that batch was stored, so "flush, then read"
        # could miss records received before the flush was called.
        self._flushing = asyncio.Lock()

    async def start(self) -> None:
        await self.vtn.start()
        self._writer = asyncio.create_task(self._write_loop(), name="dsrsp-writer")

    async def stop(self) -> None:
        await self.vtn.stop()
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        await self.flush()

    async def flush(self) -> None:
        """Write every record received so far (opts, readings, security notices); on return they
        are stored, including any batch another flush had in flight."""
        async with self._flushing:
            security, opts, readings = self._security, self._opts, self._readings
            self._security, self._opts, self._readings = [], [], []
            if security or opts or readings:
                await asyncio.to_thread(self.store.add_batch, security, opts, readings)

    async def _write_loop(self) -> None:
        while True:
            await asyncio.sleep(WRITE_INTERVAL_S)
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - a failed batch is logged; the VTN keeps serving
                logger.exception("could not store a batch of Interface A records")

    # ---- VtnListener ------------------------------------------------------------------------
    def on_opt(self, notice: OptNotice) -> None:
        reason = notice.reason.value if notice.reason else ""
        self._opts.append((int(self._clock()), notice.ven_id, notice.event_id, notice.opt.value, reason))
        logger.info("%s %s event %s %s", notice.ven_id, notice.opt.value, notice.event_id, reason)
        if self._on_opt is not None:
            self._on_opt(notice)

    def on_report(self, ven_id: str, points: list[ReportPoint]) -> None:
        self._readings.extend((ven_id, p.name, p.r_id, p.at_s, p.value) for p in points)

    def on_security(self, notice: SecurityNotice) -> None:
        self._security.append(
            (notice.at_s, notice.side, notice.kind, notice.code, notice.peer, notice.detail)
        )

    # ---- events -----------------------------------------------------------------------------
    def create_event(self, request: EventRequest, ven_ids: list[str] | None = None) -> DsrEvent:
        """Build, check and queue an event for the given CEMs (default: every registered one)."""
        event = build_event(request)
        targets = self.registry.registered() if ven_ids is None else ven_ids
        for ven_id in targets:
            if self.registry.lookup(ven_id) is None:
                raise ValidationError("ven_ids", ven_id, "not a registered CEM of this DSRSP")
        for ven_id in targets:
            self.vtn.publish(ven_id, event)
        self.events[event.event_id] = (event, list(targets))
        logger.info("event %s (%s) queued for %d CEMs", event.event_id, event.programme.value, len(targets))
        return event

    def cancel_event(self, event_id: str) -> None:
        if event_id not in self.events:
            raise ValidationError("event_id", event_id, "no such event")
        event, targets = self.events[event_id]
        for ven_id in targets:
            self.vtn.cancel(ven_id, event_id)

    def verify(self, event_id: str, ven_id: str, settle_s: int = DEFAULT_SETTLE_S) -> DeliveryVerdict:
        """Judge delivery of an event by one CEM from its power report (DSR-4)."""
        if event_id not in self.events:
            raise ValidationError("event_id", event_id, "no such event")
        samples = [(t, v) for _, r_id, t, v in self.store.readings(ven_id, POWER_REPORT) if r_id == event_id]
        return verify_delivery(self.events[event_id][0], samples, settle_s=settle_s)

    async def _admin(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        if action == "events":
            request = _event_request(body, int(self._clock()))
            ven_ids = body.get("ven_ids")
            if ven_ids is not None and not (
                isinstance(ven_ids, list) and all(isinstance(v, str) for v in ven_ids)
            ):
                raise ValidationError("ven_ids", ven_ids, "a list of VEN ids")
            event = self.create_event(request, ven_ids)
            return {"event_id": event.event_id, "ven_ids": self.events[event.event_id][1]}
        if action == "cancel":
            self.cancel_event(str(body.get("event_id")))
            return {"cancelled": body.get("event_id")}
        if action == "cems":
            return {"cems": [_cem_dict(c) for c in self.store.cems()]}
        if action == "verify":
            verdict = self.verify(str(body.get("event_id")), str(body.get("ven_id")))
            return {
                "delivered": verdict.delivered,
                "samples": verdict.samples,
                "samples_over": verdict.samples_over,
            }
        raise ValidationError("action", action, "one of events, cancel, cems, verify")


def _cem_dict(cem: CemRecord) -> dict[str, Any]:
    return {
        "fingerprint": cem.fingerprint,
        "ven_name": cem.ven_name,
        "ven_id": cem.ven_id,
        "registered": cem.registration_id is not None,
    }


def _event_request(body: dict[str, Any], now_s: int) -> EventRequest:
    """An event request from admin JSON; every field checked and named."""
    try:
        programme = Programme(body.get("programme"))
    except ValueError:
        raise ValidationError("programme", body.get("programme"), "routine or response") from None
    names = {s.signal_name: s for s in Signal}
    signal = names.get(str(body.get("signal")))
    if signal is None:
        raise ValidationError("signal", body.get("signal"), f"one of {', '.join(names)}")
    values = body.get("values")
    if not isinstance(values, list):
        raise ValidationError("values", values, "a list of numbers, one per interval")
    ints = {}
    for name, default in (("interval_s", 900), ("start_after_s", 0), ("start_in_s", 0)):
        value = body.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(name, value, "a whole number of seconds")
        ints[name] = value
    if ints["start_in_s"] < 0:
        raise ValidationError("start_in_s", ints["start_in_s"], "an event starts now or later")
    return EventRequest(
        programme,
        signal,
        tuple(values),
        ints["interval_s"],
        now_s + ints["start_in_s"],
        ints["start_after_s"],
    )


async def serve(service: DsrspService, stop: Any) -> None:
    """Run the VTN until ``stop`` (an ``asyncio.Event``) is set."""
    await service.start()
    try:
        await stop.wait()
    finally:
        await service.stop()


__all__ = ["CemRegistry", "DsrspService", "serve"]
