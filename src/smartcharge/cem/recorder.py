"""OCPP domain messages -> store records (reg 9, SCP-MS-1/2, SEC-D-9), run off the event loop.

Each write is awaited before the station gets its CALLRESULT, so whatever the station has seen
acknowledged is committed; anything else it still holds and replays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from smartcharge.cem.store_writer import StoreWriter
from smartcharge.core.limit import LimitSource
from smartcharge.ocpp.domain import BootInfo, MeterReading, OcppVersion, SecurityNotice, TransactionMessage
from smartcharge.store.limit_book_repo import LimitBookRepository, StoredLimit
from smartcharge.store.security_log import SecurityEventRecord, SecurityLog
from smartcharge.store.session_repo import MeterSample, SessionRepository, TransactionRecord
from smartcharge.store.spool import BootRecord, Spool
from smartcharge.store.station_repo import StationRepository

T = TypeVar("T")
logger = logging.getLogger(__name__)


#: A station time more than this before the CEM's receipt is implausible: an offline queue holds
#: at most the retention period (reg 9, SCP-MS-3); 1970 (clock never set) is far outside it.
PLAUSIBLE_PAST = timedelta(days=366)
#: A station time more than this after the CEM's receipt is implausible (clock running ahead).
PLAUSIBLE_FUTURE = timedelta(minutes=15)


def _samples(readings: tuple[MeterReading, ...]) -> tuple[MeterSample, ...]:
    return tuple(
        MeterSample(r.measured_at, r.measurand, r.value, r.unit, r.phase or "", r.location, r.context)
        for r in readings
    )


def implausible(station_time: datetime, received_at: datetime) -> bool:
    """Whether a station's time cannot be right next to the CEM's receipt time (issue 15)."""
    return not received_at - PLAUSIBLE_PAST <= station_time <= received_at + PLAUSIBLE_FUTURE


def transaction_record(
    station_id: str, message: TransactionMessage, received_at: datetime | None = None
) -> TransactionRecord:
    """A rate change is a TransactionEvent triggered by ChargingRateChanged (2.0.1 E02) or a 1.6
    MeterValues in context Trigger; its power is the metered import, its limit Power.Offered."""
    rate_w = limit_w = None
    if message.trigger_reason == "ChargingRateChanged":
        by_measurand = {r.measurand: r.value for r in message.readings}
        rate_w = by_measurand.get("Power.Active.Import", 0.0)
        limit_w = by_measurand.get("Power.Offered")
    return TransactionRecord(
        station_id=station_id,
        transaction_id=message.transaction_id,
        seq_no=message.seq_no,
        event_type=message.event_type,
        trigger_reason=message.trigger_reason,
        occurred_at=message.occurred_at,
        offline=message.offline,
        samples=_samples(message.readings),
        rate_power_w=rate_w,
        rate_limit_w=limit_w,
        stop_reason=message.stop_reason,
        id_token=message.id_token,
        received_at=received_at,
        time_suspect=received_at is not None and implausible(message.occurred_at, received_at),
    )


class Recorder:
    """Async facade over the repositories for the OCPP handlers.

    Every write goes through one :class:`~smartcharge.cem.store_writer.StoreWriter` thread:
    session data group-committed, and spooled to ``spool`` (if given) while the database cannot
    be reached, so a station's message is acknowledged only once it is durable somewhere. Boot
    details and security events are durable writes too (issue 15: while the database was down
    they were lost, and a refused handshake's security event turned the refusal into HTTP 500).
    """

    def __init__(
        self,
        stations: StationRepository,
        sessions: SessionRepository,
        security: SecurityLog,
        limits: LimitBookRepository,
        spool: Spool | None = None,
    ) -> None:
        self.stations = stations
        self.sessions = sessions
        self.security = security
        self.limits = limits
        self.writer = StoreWriter(sessions, spool)
        self.writer.register("boot", self._store_boot)
        self.writer.register("security", self._store_security)
        self._flush_due: asyncio.TimerHandle | None = None

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.writer.call(fn, *args)  # type: ignore[no-any-return]

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run one store write on the shared writer (for the CEM's other services)."""
        return await self._write(fn, *args)

    def close(self) -> None:
        if self._flush_due is not None:
            self._flush_due.cancel()
        self.writer.submit_nowait(self.security.flush)  # counts of repeats not yet written
        self.writer.close()

    def _store_boot(self, boot: BootRecord) -> None:
        self.stations.record_boot(
            boot.station_id, boot.ocpp_version, boot.vendor, boot.model, boot.firmware, boot.at
        )

    def _store_security(self, record: SecurityEventRecord) -> None:
        self.security.record(record)

    async def boot(self, station_id: str, version: OcppVersion, info: BootInfo) -> None:
        record = BootRecord(
            station_id, version.value, info.vendor, info.model, info.firmware_version, datetime.now(UTC)
        )
        await self.writer.session_write("boot", record)

    async def transaction(self, station_id: str, message: TransactionMessage) -> bool:
        record = transaction_record(station_id, message, datetime.now(UTC))
        if record.time_suspect:
            logger.warning(
                "%s: implausible station time %s in transaction %s (kept; listed by receipt time)",
                station_id,
                message.occurred_at.isoformat(),
                message.transaction_id,
            )
        return bool(await self.writer.session_write("event", record))

    async def meter_values(
        self, station_id: str, transaction_id: str | None, readings: tuple[MeterReading, ...]
    ) -> None:
        await self.writer.session_write("meter", (station_id, transaction_id, _samples(readings)))

    async def security_event(
        self,
        station_id: str | None,
        event_type: str,
        detail: str,
        at: datetime | None = None,
        remote_address: str | None = None,
    ) -> None:
        """Append to the security log (SEC-D-9) through the same writer as every other write, so a
        storm of refused handshakes cannot race the session writes for SQLite's single lock."""
        record = SecurityEventRecord(at or datetime.now(UTC), station_id, event_type, detail, remote_address)
        await self.writer.session_write("security", record)
        if self._flush_due is None:
            # Repeats of an event are counted in memory (store/security_log.py); write their
            # count a second later even if nothing else arrives.
            self._flush_due = asyncio.get_running_loop().call_later(1.0, self._flush_security)

    def _flush_security(self) -> None:
        self._flush_due = None
        self.writer.submit_nowait(self.security.flush)

    async def save_limit(self, entry: StoredLimit) -> None:
        """Keep one limit of the CEM's limit book (ARB-5), so a restarted CEM re-applies it."""
        await self._write(self.limits.save, entry)

    async def clear_limit(self, station_id: str | None, source: LimitSource) -> None:
        await self._write(self.limits.clear, station_id, source)

    async def load_limits(self, now_s: int) -> list[StoredLimit]:
        """The kept limits still in force at ``now_s``; expired ones are deleted (SCP-FS-4)."""
        return await self._write(self.limits.load, now_s)

    async def station_notice(self, station_id: str, notice: SecurityNotice) -> None:
        await self.security_event(station_id, notice.event_type, notice.tech_info or "", notice.occurred_at)


__all__ = ["PLAUSIBLE_FUTURE", "PLAUSIBLE_PAST", "Recorder", "implausible", "transaction_record"]
