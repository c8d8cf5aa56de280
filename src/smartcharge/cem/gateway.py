"""The CEM's OCPP side: it hears every station (``CsmsEvents``) and drives them (``ChargerGateway``).

Limits from the VEN, the owner or the site go into a :class:`~smartcharge.cem.limits.LimitBook`,
which is also kept in the store (written through the recorder's writer on every apply and clear,
reloaded by :meth:`CemGateway.restore_limits` when the CEM starts, expired limits dropped);
after each change the wanted profiles are pushed to every affected station at once, one task per
station (one OCPP call in flight per connection). A station that connects later gets its profiles
after its BootNotification, from a supervised task: never from inside its own message handler,
where awaiting a call to it would deadlock the receive loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smartcharge.cem import reservations
from smartcharge.cem.id_tokens import IdTokenService
from smartcharge.cem.limits import PROFILE_ID, LimitBook, ProfileTarget
from smartcharge.cem.ports import StationTelemetry
from smartcharge.cem.recorder import Recorder
from smartcharge.cem.station_reports import StationReports
from smartcharge.core.limit import Limit, LimitSource
from smartcharge.ocpp.csms import StationLink
from smartcharge.ocpp.domain import (
    BootAnswer,
    BootInfo,
    ChargingLimitNotice,
    ChargingNeeds,
    ChargingProfile,
    IdTokenInfo,
    MeterReading,
    OcppVersion,
    ProfilePurpose,
    ProfileReport,
    ReportedVariable,
    SecurityNotice,
    StationNotice,
    StatusReport,
    TransactionMessage,
    VariableRef,
)
from smartcharge.store.limit_book_repo import StoredLimit
from smartcharge.store.station_detail_repo import ReservationRecord

logger = logging.getLogger(__name__)

OVERRIDE_VARIABLE = VariableRef("ConsumerOverride", "Active")
#: Id of the TxProfile the CEM sends in answer to NotifyEVChargingNeeds (K15). The CEM's own
#: profiles use ids 101-104 at stack level 0; operators keep to other ids (docs/ocpp.md).
NEEDS_PROFILE_ID = 104
#: Most log-status and profile reports kept in memory (the latest; older ones are in the logs).
KEPT_REPORTS = 1000


@dataclass
class StationState:
    """What the CEM last heard from one station."""

    link: StationLink | None = None
    booted: asyncio.Event | None = None
    status: str = "Unknown"
    power_w: float = 0.0
    offered_w: float | None = None
    energy_wh: float = 0.0
    transaction_id: str | None = None
    sent: dict[ProfilePurpose, ProfileTarget] | None = None
    external_limit: ChargingLimitNotice | None = None
    boot_status: str | None = None
    transaction_evse: int = 1
    connectors: dict[tuple[int, int], str] = field(default_factory=dict)
    #: The id token of the running session (TransactionEvent idToken, 1.6 StartTransaction idTag,
    #: or the token authorized on this station while the session had none): site priorities per
    #: token read it (issue 12 item 3). None outside a session or for a session without a token.
    id_token: str | None = None
    #: The last token this station had authorized before its session started (C01 then E01).
    authorized_token: str | None = None


class CemGateway:
    """Implements ``smartcharge.ocpp.csms.CsmsEvents`` and ``smartcharge.cem.ports.ChargerGateway``."""

    def __init__(self, recorder: Recorder, id_tokens: IdTokenService, reports: StationReports) -> None:
        self.recorder = recorder
        self.id_tokens = id_tokens
        self.reports = reports
        self.book = LimitBook()
        self.stations: dict[str, StationState] = {}
        self.faults: Counter[str] = Counter()
        # Bounded (issue 15): a station repeating these cannot grow the CEM's memory.
        self.log_status: deque[tuple[str, str, int | None]] = deque(maxlen=KEPT_REPORTS)
        self.profile_reports: deque[tuple[str, ProfileReport]] = deque(maxlen=KEPT_REPORTS)
        self._boot_pending: dict[str, tuple[OcppVersion, BootInfo]] = {}
        self.report_parts: deque[tuple[str, int, int, bool]] = deque(maxlen=KEPT_REPORTS)
        self.needs_answers: deque[tuple[str, float, str]] = deque(maxlen=KEPT_REPORTS)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._push_lock = asyncio.Lock()
        self.security: Any = None  # cem.security.CemSecurity, set by the service (SEC-S-4..6)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("CEM background task failed", exc_info=task.exception())

    def _state(self, station_id: str) -> StationState:
        return self.stations.setdefault(station_id, StationState())

    # ---- CsmsEvents ---------------------------------------------------------------------------

    async def on_connected(self, link: StationLink) -> None:
        state = self._state(link.station_id)
        state.link, state.booted, state.sent = link, asyncio.Event(), None
        self._spawn(self._sync_after_boot(link.station_id, state.booted))

    async def on_disconnected(self, link: StationLink) -> None:
        state = self.stations.get(link.station_id)
        if state is not None and state.link is link:
            state.link, state.status = None, "Offline"

    async def _sync_after_boot(self, station_id: str, booted: asyncio.Event) -> None:
        await booted.wait()
        await self._push(station_id)

    async def on_boot(self, station_id: str, version: OcppVersion, info: BootInfo) -> BootAnswer:
        # Boot details are refreshed at every boot and are not session data: write them behind
        # the answer, so a reconnect storm is not paced by the database's commit rate. At most
        # one write per station is pending; a newer boot replaces the one not yet written.
        if station_id not in self._boot_pending:
            self._spawn(self._write_boot(station_id))
        self._boot_pending[station_id] = (version, info)
        answer = await self.reports.boot_answer(station_id)
        state = self._state(station_id)
        state.boot_status = answer.status
        if state.booted is not None and answer.status == "Accepted":
            state.booted.set()  # profiles only go to an accepted station (B02: Pending configures only)
        return answer

    async def _write_boot(self, station_id: str) -> None:
        await asyncio.sleep(0)  # let a burst of boots coalesce
        version, info = self._boot_pending.pop(station_id)
        await self.recorder.boot(station_id, version, info)

    async def on_status(self, station_id: str, report: StatusReport) -> None:
        state = self._state(station_id)
        state.status = report.status
        state.connectors[(report.evse_id, report.connector_id)] = report.status
        self._spawn(self.reports.record_status(station_id, report))

    async def authorize(self, station_id: str, id_token: str) -> IdTokenInfo:
        """C01: the store's verdict; only Accepted lets charging start. An accepted token is the
        session's token (now, if a session runs without one; else for the session it starts)."""
        info = await self.id_tokens.authorize(id_token)
        if info.status == "Accepted":
            state = self._state(station_id)
            if state.transaction_id is not None and state.id_token is None:
                state.id_token = id_token
            else:
                state.authorized_token = id_token
        return info

    async def on_transaction(self, station_id: str, message: TransactionMessage) -> IdTokenInfo | None:
        await self.recorder.transaction(station_id, message)
        state = self._state(station_id)
        self._take_readings(state, message.readings)
        new_session = message.transaction_id != state.transaction_id
        state.transaction_id = None if message.event_type == "Ended" else message.transaction_id
        if message.event_type == "Ended":
            # The station ends an override with its session (SCP-OP-3); so does the book's copy.
            self.book.override.discard(station_id)
            state.id_token = state.authorized_token = None
        else:
            state.transaction_evse = message.evse_id
            if message.id_token is not None:
                state.id_token = message.id_token
            elif new_session:
                state.id_token, state.authorized_token = state.authorized_token, None
        if message.id_token is None:
            return None
        return await self.id_tokens.authorize(message.id_token)

    async def on_meter_values(
        self, station_id: str, transaction_id: str | None, readings: tuple[MeterReading, ...]
    ) -> None:
        await self.recorder.meter_values(station_id, transaction_id, readings)
        self._take_readings(self._state(station_id), readings)

    @staticmethod
    def _take_readings(state: StationState, readings: tuple[MeterReading, ...]) -> None:
        for r in readings:
            if r.measurand == "Power.Active.Import":
                state.power_w = r.value
            elif r.measurand == "Power.Offered":
                state.offered_w = r.value
            elif r.measurand == "Energy.Active.Import.Register":
                state.energy_wh = r.value * (1000.0 if r.unit == "kWh" else 1.0)

    async def on_security_event(self, station_id: str, notice: SecurityNotice) -> None:
        await self.recorder.station_notice(station_id, notice)

    async def on_charging_limit(self, station_id: str, notice: ChargingLimitNotice) -> None:
        self._state(station_id).external_limit = notice
        logger.info("%s: external limit %s W from %s", station_id, notice.limit_w, notice.source)

    async def on_profile_report(self, station_id: str, report: ProfileReport) -> None:
        self.profile_reports.append((station_id, report))

    async def on_log_status(self, station_id: str, status: str, request_id: int | None) -> None:
        self.log_status.append((station_id, status, request_id))

    async def on_fault(self, station_id: str, kind: str, detail: str) -> None:
        self.faults[kind] += 1
        await self.recorder.security_event(station_id, "InvalidMessages", f"{kind}: {detail}")

    async def on_notice(self, station_id: str, notice: StationNotice) -> None:
        await self.reports.record_notice(station_id, notice)

    async def on_report(
        self,
        station_id: str,
        request_id: int,
        seq_no: int,
        tbc: bool,
        variables: tuple[ReportedVariable, ...],
    ) -> None:
        await self.reports.record_report(station_id, variables)
        self.report_parts.append((station_id, request_id, seq_no, tbc))

    async def on_reservation_status(self, station_id: str, reservation_id: int, status: str) -> None:
        await self.reports.record_reservation(station_id, ReservationRecord(reservation_id, status))

    async def check_call(self, station_id: str, version: str, action: str, payload: dict[str, Any]) -> None:
        """Before an operator's call goes out: a ReserveNow must carry a time the CEM can record
        (cem/reservations.py); the security side's rules (cem/security.py)."""
        if action == "ReserveNow":
            reservations.from_reserve_now(version, payload, "Unsent")
        if self.security is not None:
            await self.security.check_outgoing(station_id, action, payload)

    async def on_call_answered(
        self, station_id: str, version: str, action: str, payload: dict[str, Any], answer: dict[str, Any]
    ) -> None:
        """An operator's call answered (``CsmsBase.call_action``): a reservation made or cancelled
        is recorded (cem/reservations.py), however it was sent."""
        record = reservations.from_answer(version, action, payload, answer)
        if record is None:
            return
        if action == "ReserveNow" and record.status != "Accepted":
            # A refused ReserveNow with the id of a reservation the station holds leaves it held.
            held = await asyncio.to_thread(self.reports.reservations, station_id)
            if any(r.reservation_id == record.reservation_id and r.status == "Accepted" for r in held):
                return
        await self.reports.record_reservation(station_id, record)

    async def on_cleared_charging_limit(self, station_id: str, source: str, evse_id: int | None) -> None:
        state = self._state(station_id)
        if state.external_limit is not None and state.external_limit.source == source:
            state.external_limit = None
        logger.info("%s: external limit from %s cleared", station_id, source)

    async def on_charging_needs(self, station_id: str, needs: ChargingNeeds) -> str:
        """K15: with a transaction running on that EVSE, a TxProfile follows (sent from a task,
        never from inside the handler) at the lower of the EV's maximum and what the limit book
        allows this station now; otherwise Rejected."""
        state = self._state(station_id)
        if state.transaction_id is None or state.link is None:
            return "Rejected"
        self._spawn(self._answer_needs(station_id, state.transaction_id, needs))
        return "Accepted"

    def allowed_w(self, station_id: str) -> float:
        """What the limit book allows one station right now (all layers and the site share)."""
        ids = sorted(self.stations)
        rated = {sid: s.offered_w for sid, s in self.stations.items() if s.offered_w is not None}
        _, alloc, _ = self.book.targets(ids, rated, int(time.time()))
        return float(alloc[ids.index(station_id)])

    async def _answer_needs(self, station_id: str, transaction_id: str, needs: ChargingNeeds) -> None:
        limit_w = self.allowed_w(station_id)
        if needs.max_power_w is not None:
            limit_w = min(limit_w, needs.max_power_w)
        link = self.stations[station_id].link
        if link is None:
            return
        profile = ChargingProfile(
            NEEDS_PROFILE_ID, 0, ProfilePurpose.TX, limit_w, transaction_id=transaction_id
        )
        status = await link.set_charging_profile(profile, needs.evse_id)
        self.needs_answers.append((station_id, limit_w, status))

    # ---- ChargerGateway -----------------------------------------------------------------------

    async def apply_limit(
        self, station_id: str | None, limit: Limit, until_s: int | None, exempt_from_delay: bool
    ) -> None:
        """Add a limit (site-wide for ``station_id=None``) and push the resulting profiles."""
        if limit.source is LimitSource.CONSUMER_OVERRIDE:
            await self.set_override(station_id, True)
            return
        self.book.apply(station_id, limit, until_s, exempt_from_delay)
        await self.recorder.save_limit(StoredLimit(station_id, limit, until_s, exempt_from_delay))
        await self._push(station_id)

    async def apply_limits(
        self, entries: list[tuple[str | None, Limit, int | None, bool]], keep: bool = True
    ) -> None:
        """Several limits at once (a site re-allocation), then one push: the limit book's
        arithmetic runs once for all stations, not once per limit. ``keep=False`` for limits
        recomputed from live data (the site meter), which a restarted CEM must not resume."""
        if not entries:
            return
        for station_id, limit, until_s, exempt in entries:
            self.book.apply(station_id, limit, until_s, exempt)
        if keep:
            await asyncio.gather(
                *(
                    self.recorder.save_limit(StoredLimit(sid, lim, until, ex))
                    for sid, lim, until, ex in entries
                )
            )
        await self._push(None)

    async def clear_limit(self, station_id: str | None, source: LimitSource) -> None:
        if source is LimitSource.CONSUMER_OVERRIDE:
            await self.set_override(station_id, False)
            return
        self.book.clear(station_id, source)
        await self.recorder.clear_limit(station_id, source)
        await self._push(station_id)

    async def restore_limits(self, now_s: int | None = None) -> int:
        """Reload the limit book kept in the store (call before stations connect); each station
        then gets its profiles after its BootNotification. A limit whose end has passed is deleted,
        not resumed (SCP-FS-4). Returns how many limits were restored."""
        stored = await self.recorder.load_limits(int(time.time()) if now_s is None else now_s)
        for entry in stored:
            self.book.apply(entry.station_id, entry.limit, entry.until_s, entry.exempt_from_delay)
        return len(stored)

    async def set_override(self, station_id: str | None, active: bool) -> None:
        """The owner's "charge now" (SCP-OP-3, SCP-RD-6) as the station's override variable."""
        ids = list(self.stations) if station_id is None else [station_id]
        for sid in ids:
            (self.book.override.add if active else self.book.override.discard)(sid)
        await self._fan_out(
            [self._set_override_on(sid, active) for sid in ids if self.stations.get(sid, StationState()).link]
        )

    async def _set_override_on(self, station_id: str, active: bool) -> None:
        link = self.stations[station_id].link
        if link is not None:
            await link.set_variables([(OVERRIDE_VARIABLE, "true" if active else "false")])

    def telemetry(self) -> list[StationTelemetry]:
        ids = sorted(self.stations)
        if not ids:
            return []
        rated = {sid: s.offered_w or 0.0 for sid, s in self.stations.items() if s.offered_w}
        _, alloc, layer = self.book.targets(ids, rated, int(time.time()))
        out = []
        for i, sid in enumerate(ids):
            s = self.stations[sid]
            source = LimitSource(int(layer[i])) if int(layer[i]) > 0 else None
            if sid in self.book.override:
                source = LimitSource.CONSUMER_OVERRIDE
            out.append(
                StationTelemetry(
                    station_id=sid,
                    connected=s.link is not None,
                    charging=s.power_w > 0,
                    power_w=s.power_w,
                    energy_kwh=s.energy_wh / 1000.0,
                    limit_w=float(alloc[i]),
                    binding_source=source,
                )
            )
        return out

    # ---- pushing profiles -----------------------------------------------------------------------

    async def _push(self, station_id: str | None) -> None:
        """Bring the profiles of one station, or of every station, in line with the limit book."""
        async with self._push_lock:
            ids = sorted(self.stations)
            if not ids:
                return
            if (
                station_id is not None
                and station_id not in self.book.station
                and not self.book.site
                and not self.stations[station_id].sent
            ):
                # Nothing bears on this station and it holds nothing from us: skip the O(N) site
                # arithmetic, which would make a reconnect storm of N stations cost O(N^2).
                self.stations[station_id].sent = {}
                return
            rated = {sid: s.offered_w for sid, s in self.stations.items() if s.offered_w is not None}
            targets, _, _ = self.book.targets(ids, rated, int(time.time()))
            chosen = ids if station_id is None else [station_id] if station_id in targets else []
            work = [self._sync_station(sid, targets[sid]) for sid in chosen]
        await self._fan_out(work)

    async def _fan_out(self, work: list[Coroutine[Any, Any, None]]) -> None:
        results = await asyncio.gather(*work, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                logger.warning("pushing to a station failed: %r", result)

    async def _sync_station(self, station_id: str, wanted: dict[ProfilePurpose, ProfileTarget]) -> None:
        state = self.stations[station_id]
        link = state.link
        if link is None:
            return  # sent when it connects again
        if state.sent is None and not wanted:
            state.sent = {}  # nothing to hold: the limit book (restored on start) wants nothing here
            return
        sent = state.sent or {}
        for purpose in (
            ProfilePurpose.STATION_MAX,
            ProfilePurpose.EXTERNAL_CONSTRAINTS,
            ProfilePurpose.TX_DEFAULT,
        ):
            target = wanted.get(purpose)
            if target == sent.get(purpose) and state.sent is not None:
                continue
            if target is None or target.limit_w is None:
                if state.sent is None or purpose in sent:
                    await link.clear_charging_profile(PROFILE_ID[purpose], None)
                continue
            profile = ChargingProfile(
                PROFILE_ID[purpose],
                0,
                purpose,
                target.limit_w,
                valid_to=None if target.until_s is None else datetime.fromtimestamp(target.until_s, UTC),
                randomised_upstream=target.exempt_from_delay,
            )
            status = await link.set_charging_profile(profile)
            if status != "Accepted":
                logger.warning("%s refused %s (%s)", station_id, purpose.value, status)
        state.sent = dict(wanted)

    async def push_profile(self, station_id: str, profile: ChargingProfile) -> str:
        """Send one profile as given (TxProfile, or a test of any purpose); returns the status."""
        link = self.stations[station_id].link
        if link is None:
            return "Offline"
        return await link.set_charging_profile(profile)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()


__all__ = ["CemGateway", "StationState"]
