"""What the CEM keeps of what its stations say, and how it answers their boot.

* Boot policy per station (B01-B03): Accepted (the default), Pending or Rejected, as the operator
  sets it; Pending and Rejected answers carry ``retry_interval_s`` so the station boots again then.
* Connector status (G01), the device model from NotifyReport parts (B07/B08), stored notices
  (NotifyEvent and every other message acknowledged without further action) and reservations
  (H01-H04).

Writes go through the recorder's writer (one writer on SQLite); reads run in a worker thread.
Connector status is a durable write (spooled while the database is down, issue 15), and a boot
while the database is down is answered from the last boot policies read (Accepted by default).
These functions are the services the operator API and the CLI call; they never touch OCPP.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from smartcharge.cem.store_writer import UNREACHABLE, StoreWriter
from smartcharge.ocpp.domain import BootAnswer, ReportedVariable, StationNotice, StatusReport
from smartcharge.store.models import NO_EVSE
from smartcharge.store.station_detail_repo import (
    ConnectorRecord,
    NoticeRecord,
    ReservationRecord,
    StationDetailRepository,
    VariableRecord,
)

T = TypeVar("T")
logger = logging.getLogger(__name__)
Writer = Callable[..., Awaitable[Any]]

#: Heartbeat interval given with Accepted (B01: the station's Heartbeat period).
HEARTBEAT_INTERVAL_S = 300
#: Interval given with Pending or Rejected: the station sends BootNotification again after it.
BOOT_RETRY_INTERVAL_S = 60
#: How long the CEM answers boots from its copy of the boot policies before reading them again.
#: A reconnect storm of 1,000 stations then costs one read, not 1,000; a policy set from the
#: command line (another process) applies within this time, one set through the API at once.
BOOT_POLICY_TTL_S = 2.0


def variable_record(v: ReportedVariable) -> VariableRecord:
    return VariableRecord(
        v.component,
        v.variable,
        v.attribute_type,
        v.value,
        v.mutability,
        v.component_instance or "",
        v.variable_instance or "",
        NO_EVSE if v.evse_id is None else v.evse_id,
        NO_EVSE if v.connector_id is None else v.connector_id,
    )


class StationReports:
    def __init__(
        self, repo: StationDetailRepository, write: Writer, durable: StoreWriter | None = None
    ) -> None:
        self.repo = repo
        self._write = write
        self._durable = durable
        if durable is not None:
            durable.register("status", self._store_status)
        self.heartbeat_interval_s = HEARTBEAT_INTERVAL_S
        self.boot_retry_interval_s = BOOT_RETRY_INTERVAL_S
        self._policies: dict[str, str] | None = None
        self._policies_read_at = 0.0
        self._policies_lock = asyncio.Lock()

    def known(self, station_id: str) -> bool:
        """Whether the station is registered (the API answers 404 otherwise)."""
        return self.repo.station_exists(station_id)

    # boot policy

    def set_boot_status(self, station_id: str, status: str) -> None:
        self.repo.set_boot_status(station_id, status, datetime.now(UTC))
        self._policies = None  # the next boot reads the policies again

    def boot_status(self, station_id: str) -> str:
        return self.repo.boot_status(station_id)

    async def boot_answer(self, station_id: str) -> BootAnswer:
        status = (await self._boot_policies()).get(station_id, "Accepted")
        interval = self.heartbeat_interval_s if status == "Accepted" else self.boot_retry_interval_s
        return BootAnswer(status, interval)

    async def _boot_policies(self) -> dict[str, str]:
        """Every station's boot status that is not the default, read at most every
        :data:`BOOT_POLICY_TTL_S` seconds."""
        async with self._policies_lock:
            fresh = time.monotonic() - self._policies_read_at < BOOT_POLICY_TTL_S
            if self._policies is None or not fresh:
                try:
                    self._policies = await asyncio.to_thread(self.repo.boot_policies)
                except UNREACHABLE as error:
                    # The database is down: answer from the last policies read (or the default,
                    # Accepted) rather than fail the boot; read again at the next boot.
                    logger.warning(
                        "boot policies unreadable (%s): using the last ones read", type(error).__name__
                    )
                    return self._policies or {}
                self._policies_read_at = time.monotonic()
            return self._policies

    # what stations tell

    async def record_status(self, station_id: str, report: StatusReport) -> None:
        record = ConnectorRecord(report.evse_id, report.connector_id, report.status, report.reported_at)
        if self._durable is not None:
            await self._durable.session_write("status", (station_id, record))
        else:
            await self._write(self.repo.record_connector, station_id, record)

    def _store_status(self, item: tuple[str, ConnectorRecord]) -> None:
        self.repo.record_connector(*item)

    async def record_notice(self, station_id: str, notice: StationNotice) -> None:
        record = NoticeRecord(notice.action, notice.received_at, notice.summary, notice.payload_json)
        await self._write(self.repo.record_notice, station_id, record)

    async def record_report(self, station_id: str, variables: tuple[ReportedVariable, ...]) -> None:
        records = [variable_record(v) for v in variables]
        await self._write(self.repo.record_variables, station_id, records, datetime.now(UTC))

    async def record_reservation(self, station_id: str, record: ReservationRecord) -> None:
        await self._write(self.repo.record_reservation, station_id, record, datetime.now(UTC))

    # reads (for the operator API and the CLI)

    def connectors(self, station_id: str) -> list[ConnectorRecord]:
        return self.repo.connectors(station_id)

    def device_model(self, station_id: str) -> list[VariableRecord]:
        return self.repo.device_model(station_id)

    def notices(self, station_id: str, action: str | None = None) -> list[NoticeRecord]:
        return self.repo.notices(station_id, action)

    def reservations(self, station_id: str) -> list[ReservationRecord]:
        return self.repo.reservations(station_id)


__all__ = ["BOOT_RETRY_INTERVAL_S", "HEARTBEAT_INTERVAL_S", "StationReports", "variable_record"]
