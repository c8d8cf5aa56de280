"""The CEM as OpenADR 2.0b VEN (Interface A): events become limits on the charge points.

* :class:`VenSession` talks to one DSRSP: it polls (OpenADR simple HTTP is pull only), turns each
  event into limits with their source (:mod:`smartcharge.cem.dsr_limits`) and applies them through
  the :class:`~smartcharge.cem.ports.ChargerGateway`; it opts out with reason ``overrideStatus``
  when the owner's override sets a routine event aside (ARB-6), and sends telemetry, PAS 1878
  flexibility offers and a power report after each event (DSR-1, DSR-4).
* :class:`VenSupervisor` keeps the sessions in line with the consent ledger: it registers at the
  provider the owner consented to, and de-registers from and erases a provider whose consent
  ended (switching provider, INT-6). With no provider the DSR limits are cleared and the charge
  points follow their local defaults.
* :func:`run_ven` is what ``smartcharge cem serve --ven-config PATH`` awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from smartcharge.cem.consent import ConsentLedger, open_ledger
from smartcharge.cem.dsr_config import VenSettings, load_ven_settings
from smartcharge.cem.dsr_limits import DsrLimitConfig, is_exempt_from_delay, limit_for, source_of
from smartcharge.cem.dsr_offers import (
    ChargingNeedSource,
    is_override_active,
    offer_points,
    telemetry_points,
)
from smartcharge.cem.dsr_switch import VenIdentity, adapter_for, enrol_provider, retire_provider
from smartcharge.cem.ports import ChargerGateway
from smartcharge.core.limit import LimitSource
from smartcharge.openadr.model import (
    POWER_REPORT,
    DsrEvent,
    Opt,
    OptReason,
    Programme,
    ReportPoint,
    StatusCode,
)
from smartcharge.openadr.ven import PollResult, VenAdapter, VenError
from smartcharge.policy.consent import ReadScope, latest_entries
from smartcharge.store.consent import ConsentStore, ProviderCredential

logger = logging.getLogger(__name__)

#: Wait before registering again at a VTN that cancelled us or could not be reached.
RETRY_S = 30.0
#: Power samples kept for power reports (one per poll).
SAMPLES_KEPT = 7200

AppliedHook = Callable[[str, float], None]


@dataclass
class _Running:
    event: DsrEvent
    opt: Opt
    task: asyncio.Task[None] | None = None
    opted_out_for_override: bool = False


@dataclass(frozen=True, slots=True)
class SessionSettings:
    poll_interval_s: float = 1.0
    telemetry_interval_s: float = 10.0
    offer_step_s: int = 900
    offer_steps: int = 96
    limits: DsrLimitConfig = field(default_factory=DsrLimitConfig)


class VenSession:
    """The VEN's conversation with one DSRSP, until stopped, revoked or cancelled by the VTN."""

    def __init__(
        self,
        dsrsp_id: str,
        adapter: VenAdapter,
        gateway: ChargerGateway,
        ledger: ConsentLedger,
        settings: SessionSettings,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
        on_applied: AppliedHook | None = None,
    ) -> None:
        self.dsrsp_id = dsrsp_id
        self.adapter = adapter
        self._gateway = gateway
        self._ledger = ledger
        self._settings = settings
        self._rng = rng or random.Random()
        self._clock = clock
        self._on_applied = on_applied
        self._events: dict[str, _Running] = {}
        self._samples: deque[tuple[int, float]] = deque(maxlen=SAMPLES_KEPT)
        self._last_report_s = -1e18
        self._override = False
        self.ended: str | None = None

    # ---- main loop --------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> str:
        """Poll until ``stop`` or the end of the relationship; return why it ended."""
        try:
            while not stop.is_set():
                if not self._ledger.may_control(self.dsrsp_id):
                    return self._end("consent_withdrawn")
                busy = await self._poll_once()
                if self.ended:
                    return self.ended
                await self._housekeeping()
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self._settings.poll_interval_s)
            return self._end("stopped")
        finally:
            await self.close()

    def _end(self, why: str) -> str:
        self.ended = why
        return why

    async def _poll_once(self) -> bool:
        try:
            result = await self.adapter.poll()
        except VenError as exc:
            logger.warning("poll of %s failed: %s", self.dsrsp_id, exc)
            return False
        if result.cancelled_by_vtn:
            logger.warning("%s cancelled our registration", self.dsrsp_id)
            self._end("cancelled_by_vtn")
            return False
        if result.reregister:
            registration = await self.adapter.register()
            self._ledger.store.save_credential(
                ProviderCredential(
                    self.dsrsp_id,
                    registration.ven_id,
                    registration.registration_id,
                    self.adapter.config.vtn_url,
                    self.adapter.config.vtn_fingerprint,
                    int(self._clock()),
                )
            )
            return True
        if result.events or result.invalid:
            try:
                await self._handle(result)
            except VenError as exc:
                logger.warning("answer to %s's events not delivered: %s", self.dsrsp_id, exc)
            return True
        return False

    # ---- events -----------------------------------------------------------------------------
    async def _handle(self, result: PollResult) -> None:
        now = int(self._clock())
        answers: list[tuple[str, int, Opt, int]] = [
            (bad.event_id, bad.modification_number, Opt.OUT, bad.code) for bad in result.invalid
        ]
        opt_outs: list[str] = []
        refusal = self._refusal(result)
        if refusal is not None:
            code, kind, detail = refusal
            self.adapter.notify(kind, code, detail)
            answers += [(e.event_id, e.modification_number, Opt.OUT, code) for e in result.events]
            with contextlib.suppress(VenError):
                await self.adapter.respond(result.request_id, answers)
            if kind == "deregistered_provider":
                self._end("consent_withdrawn")
            return
        for event in result.events:
            if event.end_s <= now:
                continue  # completed: OpenADR wants no answer, and it is never resumed (SCP-FS-4)
            known = self._events.get(event.event_id)
            if known and known.event.modification_number == event.modification_number:
                answers.append((event.event_id, event.modification_number, known.opt, StatusCode.OK))
                continue
            if known and known.task:
                known.task.cancel()
            if event.cancelled:
                self._events.pop(event.event_id, None)
                answers.append((event.event_id, event.modification_number, Opt.IN, StatusCode.OK))
                continue
            await self._keep("event", _event_record(event))
            opt = Opt.IN
            if event.programme is Programme.ROUTINE and self._override:
                opt = Opt.OUT
                opt_outs.append(event.event_id)
            running = _Running(event, opt, opted_out_for_override=opt is Opt.OUT)
            if opt is Opt.IN:
                running.task = asyncio.create_task(self._execute(event), name=f"dsr-{event.event_id}")
            self._events[event.event_id] = running
            answers.append((event.event_id, event.modification_number, opt, StatusCode.OK))
        await self.adapter.respond(result.request_id, answers)
        for event_id in opt_outs:
            await self._opt_out(event_id)

    def _refusal(self, result: PollResult) -> tuple[int, str, str] | None:
        """Events from a provider the owner no longer consents to, or from the wrong VTN, are refused."""
        if not self._ledger.may_control(self.dsrsp_id):
            return (
                StatusCode.NOT_REGISTERED_OR_AUTHORIZED,
                "deregistered_provider",
                f"{self.dsrsp_id} has no consent",
            )
        if result.vtn_id is not None and result.vtn_id != self.dsrsp_id:
            return StatusCode.INVALID_ID, "wrong_vtn_id", f"{result.vtn_id} is not {self.dsrsp_id}"
        return None

    async def _execute(self, event: DsrEvent) -> None:
        """Apply each interval's limit at its start (shifted by the startafter draw, RD-R3)."""
        offset_s = self._rng.randint(0, event.start_after_s) if event.start_after_s else 0
        source = source_of(event.programme)
        exempt = is_exempt_from_delay(event)
        try:
            for interval in event.intervals:
                start_s, end_s = interval.start_s + offset_s, interval.end_s + offset_s
                if self._clock() >= end_s:
                    continue  # an interval that expired meanwhile is never resumed (SCP-FS-4)
                await asyncio.sleep(max(0.0, start_s - self._clock()))
                limit = limit_for(event, interval, self._settings.limits)
                if limit is None:
                    await self._gateway.clear_limit(None, source)
                else:
                    await self._gateway.apply_limit(None, limit, end_s, exempt)
                    if self._on_applied is not None:
                        self._on_applied(event.event_id, self._clock())
                logger.info("event %s: %s from %s until %s", event.event_id, limit, start_s, end_s)
            await asyncio.sleep(max(0.0, event.end_s + offset_s - self._clock()))
        finally:
            await asyncio.shield(self._finish(event, source, offset_s))

    async def _finish(self, event: DsrEvent, source: LimitSource, offset_s: int) -> None:
        await self._gateway.clear_limit(None, source)
        if self._clock() >= event.end_s + offset_s and self._ledger.may_read(
            self.dsrsp_id, ReadScope.POWER_REPORTS
        ):
            start, end = event.start_s + offset_s, event.end_s + offset_s
            points = [
                ReportPoint(POWER_REPORT, event.event_id, t, p) for t, p in self._samples if start <= t <= end
            ]
            await self._send(POWER_REPORT, points)

    async def _opt_out(self, event_id: str) -> None:
        try:
            await self.adapter.send_opt(event_id, Opt.OUT, OptReason.OVERRIDE)
            await self._keep("opt", {"event_id": event_id, "reason": "override"})
        except VenError as exc:
            logger.warning("opt-out for %s not delivered: %s", event_id, exc)

    # ---- telemetry, offers, override ----------------------------------------------------------
    async def _housekeeping(self) -> None:
        now = int(self._clock())
        for event_id in [k for k, r in self._events.items() if r.event.end_s + r.event.start_after_s < now]:
            running = self._events.pop(event_id)
            if running.task is not None and not running.task.done():
                self._events[event_id] = running  # still finishing (power report)
        telemetry = self._gateway.telemetry()
        self._samples.append((now, float(sum(t.power_w for t in telemetry))))
        override = is_override_active(telemetry)
        if override and not self._override:
            for running in self._events.values():
                if running.event.programme is Programme.ROUTINE and not running.opted_out_for_override:
                    running.opted_out_for_override = True
                    running.opt = Opt.OUT
                    await self._opt_out(running.event.event_id)
        self._override = override
        if now - self._last_report_s < self._settings.telemetry_interval_s:
            return
        self._last_report_s = now
        if self._ledger.may_read(self.dsrsp_id, ReadScope.TELEMETRY):
            points = telemetry_points(telemetry, now)
            for name in sorted({p.name for p in points}):
                await self._send(name, [p for p in points if p.name == name])
        if isinstance(self._gateway, ChargingNeedSource) and self._ledger.may_read(
            self.dsrsp_id, ReadScope.OFFERS
        ):
            offers = offer_points(
                self._gateway.charging_needs(), now, self._settings.offer_step_s, self._settings.offer_steps
            )
            if offers:
                await self._send(offers[0].name, offers)

    async def _send(self, name: str, points: list[ReportPoint]) -> None:
        if not points:
            return
        try:
            await self.adapter.send_report(name, points)
            await self._keep("report", {"name": name, "readings": len(points)})
        except VenError as exc:
            logger.warning("report %s to %s not delivered: %s", name, self.dsrsp_id, exc)

    async def _keep(self, kind: str, body: dict[str, object]) -> None:
        """Keep a record for this DSRSP (erased on revoke), off the event loop that serves OCPP."""
        await asyncio.to_thread(self._ledger.store.keep, self.dsrsp_id, kind, int(self._clock()), body)

    async def close(self) -> None:
        """Stop every event and clear DSR limits: the charge points fall back to local defaults."""
        tasks = [r.task for r in self._events.values() if r.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._events.clear()
        for source in (LimitSource.RESPONSE_DSR, LimitSource.ROUTINE_DSR):
            await self._gateway.clear_limit(None, source)
        await self.adapter.close()


def _event_record(event: DsrEvent) -> dict[str, object]:
    return {
        "event_id": event.event_id,
        "programme": event.programme.value,
        "signal": event.signal.signal_name,
        "start_s": event.start_s,
        "end_s": event.end_s,
        "values": [i.value for i in event.intervals],
    }


class VenSupervisor:
    """Keeps at most one session, with the provider the ledger says may control (ARB-7, INT-6)."""

    def __init__(
        self,
        gateway: ChargerGateway,
        ledger: ConsentLedger,
        identity: VenIdentity,
        settings: SessionSettings,
        reconcile_interval_s: float = 1.0,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
        on_applied: AppliedHook | None = None,
    ) -> None:
        self._gateway = gateway
        self.ledger = ledger
        self._identity = identity
        self._settings = settings
        self._interval_s = reconcile_interval_s
        self._rng = rng or random.Random()
        self._clock = clock
        self._on_applied = on_applied
        self.session: VenSession | None = None
        self._task: asyncio.Task[str] | None = None
        self._session_stop = asyncio.Event()
        self._retry_at: dict[str, float] = {}

    @property
    def store(self) -> ConsentStore:
        return self.ledger.store

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self.reconcile()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._interval_s)
        finally:
            await self._stop_session()

    async def reconcile(self) -> None:
        """One pass: end sessions without consent, retire and erase old providers, enrol the new."""
        grant = self.ledger.controlling()
        if self.session is not None and self._task is not None:
            finished = self._task.done()
            if finished or grant is None or grant.dsrsp_id != self.session.dsrsp_id:
                why = "consent changed"
                if finished and not self._task.cancelled():
                    failure = self._task.exception()
                    if failure is not None:
                        logger.error(
                            "VEN session with %s failed: %r; restarting", self.session.dsrsp_id, failure
                        )
                        why = "failed"
                    else:
                        why = self._task.result()
                dsrsp_id = self.session.dsrsp_id
                await self._stop_session()
                if why == "cancelled_by_vtn":
                    self.store.erase(dsrsp_id)
                    self._retry_at[dsrsp_id] = self._clock() + RETRY_S
        for dsrsp_id in self.store.credentials():
            if grant is None or dsrsp_id != grant.dsrsp_id:
                await retire_provider(self._identity, self.store, dsrsp_id)
        for dsrsp_id, entry in latest_entries(self.ledger.history(), self.ledger.now_s()).items():
            if not entry.is_in_force(self.ledger.now_s()) and self.store.export(dsrsp_id):
                self.store.erase(dsrsp_id)
        if (
            grant is None
            or self.session is not None
            or self._clock() < self._retry_at.get(grant.dsrsp_id, 0.0)
        ):
            return
        cred = self.store.credentials().get(grant.dsrsp_id)
        if cred is None:
            try:
                cred = await enrol_provider(self._identity, self.store, grant, self.ledger.now_s())
            except (VenError, ValueError) as exc:
                logger.warning("could not register at %s: %s; local defaults apply", grant.dsrsp_id, exc)
                self._retry_at[grant.dsrsp_id] = self._clock() + RETRY_S
                return
        adapter = adapter_for(self._identity, cred.vtn_url, cred.vtn_fingerprint, self.store, cred)
        self.session = VenSession(
            grant.dsrsp_id,
            adapter,
            self._gateway,
            self.ledger,
            self._settings,
            self._rng,
            self._clock,
            self._on_applied,
        )
        self._session_stop = asyncio.Event()
        self._task = asyncio.create_task(self.session.run(self._session_stop), name=f"ven-{grant.dsrsp_id}")
        logger.info("VEN session with %s started", grant.dsrsp_id)

    async def _stop_session(self) -> None:
        if self._task is not None:
            self._session_stop.set()
            with contextlib.suppress(Exception):
                await self._task
        self.session, self._task = None, None


def session_settings(settings: VenSettings) -> SessionSettings:
    return SessionSettings(
        poll_interval_s=settings.poll_interval_s,
        telemetry_interval_s=settings.telemetry_interval_s,
        offer_step_s=settings.offer_step_s,
        offer_steps=settings.offer_steps,
        limits=DsrLimitConfig(dict(settings.simple_level_w), settings.price_ceiling_p_per_kwh),
    )


async def run_ven(gateway: ChargerGateway, config_path: Path, stop: asyncio.Event) -> None:
    """Run the CEM's VEN until ``stop`` is set (called by ``smartcharge cem serve --ven-config``)."""
    settings = load_ven_settings(config_path)
    ledger = open_ledger(settings.storage_url)
    if not ledger.history() and settings.vtn_id and settings.vtn_url and settings.vtn_fingerprint:
        ledger.grant(settings.vtn_id, settings.vtn_url, settings.vtn_fingerprint, actor="commissioning")
    identity = VenIdentity(settings.ven_name, settings.cert, settings.key, settings.ca_file)
    supervisor = VenSupervisor(
        gateway, ledger, identity, session_settings(settings), settings.reconcile_interval_s
    )
    await supervisor.run(stop)


__all__ = ["SessionSettings", "VenSession", "VenSupervisor", "open_ledger", "run_ven", "session_settings"]
