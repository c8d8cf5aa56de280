"""A local spool for station messages the database cannot take yet (issue 15: nothing lost).

When the database is down (PostgreSQL restarted or stopped), the CEM must still not answer a
station's transaction message with an error that makes it drop the message, nor pretend it kept
what it did not keep. So the message goes to this spool: an append-only file of JSON lines,
flushed and fsync'd before the station gets its CALLRESULT (reg 9, SCP-MS-1/2). The spool is
replayed into the database, in order, as soon as it answers again, and on the next start; the
store's unique keys absorb anything replayed twice. The file is truncated only after the rows are
committed.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from smartcharge.store.security_log import SecurityEventRecord
from smartcharge.store.session_repo import MeterSample, TransactionRecord
from smartcharge.store.station_detail_repo import ConnectorRecord

#: A spooled write: ("event", record), ("meter", (station_id, transaction_id, samples)),
#: ("boot", BootRecord), ("status", (station_id, ConnectorRecord)) or ("security", SecurityEventRecord).
SpooledWrite = tuple[str, Any]


@dataclass(frozen=True, slots=True)
class BootRecord:
    """A station's boot details (BootNotification, B01) as the station table keeps them."""

    station_id: str
    ocpp_version: str
    vendor: str
    model: str
    firmware: str | None
    at: datetime


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _encode(kind: str, item: Any) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    if kind in ("event", "boot", "security"):
        return {"kind": kind, "record": plain(asdict(item))}
    if kind == "status":
        return {"kind": kind, "station_id": item[0], "record": plain(asdict(item[1]))}
    station_id, transaction_id, samples = item
    return {
        "kind": kind,
        "station_id": station_id,
        "transaction_id": transaction_id,
        "samples": [plain(asdict(s)) for s in samples],
    }


def _sample(raw: dict[str, Any]) -> MeterSample:
    return MeterSample(**{**raw, "measured_at": _time(raw["measured_at"])})


def _decode(line: dict[str, Any]) -> SpooledWrite:
    if line["kind"] == "event":
        raw = dict(line["record"])
        raw["occurred_at"] = _time(raw["occurred_at"])
        raw["received_at"] = _time(raw.get("received_at"))
        raw["samples"] = tuple(_sample(s) for s in raw.get("samples", ()))
        return "event", TransactionRecord(**raw)
    if line["kind"] == "boot":
        return "boot", BootRecord(**{**line["record"], "at": _time(line["record"]["at"])})
    if line["kind"] == "security":
        raw = dict(line["record"])
        raw["occurred_at"] = _time(raw["occurred_at"])
        raw["last_at"] = _time(raw.get("last_at"))
        return "security", SecurityEventRecord(**raw)
    if line["kind"] == "status":
        raw = dict(line["record"])
        raw["reported_at"] = _time(raw["reported_at"])
        return "status", (line["station_id"], ConnectorRecord(**raw))
    samples = tuple(_sample(s) for s in line["samples"])
    return "meter", (line["station_id"], line["transaction_id"], samples)


class Spool:
    """JSON lines at ``path``; safe from one writer thread (a lock guards it anyway)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._count = len(self.read()) if path.exists() else 0

    def __len__(self) -> int:
        return self._count

    def append(self, writes: list[SpooledWrite]) -> None:
        """Append and fsync: when this returns, the writes survive a crash of the CEM."""
        if not writes:
            return
        text = "".join(json.dumps(_encode(k, v), separators=(",", ":")) + "\n" for k, v in writes)
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, text.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            self._count += len(writes)

    def read(self) -> list[SpooledWrite]:
        """Every spooled write in order; a torn last line (crash mid-append) is skipped: its write
        was never acknowledged, so the station still holds it."""
        if not self.path.exists():
            return []
        writes = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                writes.append(_decode(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue
        return writes

    def clear(self, replayed: int) -> None:
        """Drop the first ``replayed`` writes (committed to the database)."""
        with self._lock:
            writes = self.read()[replayed:]
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(
                "".join(json.dumps(_encode(k, v), separators=(",", ":")) + "\n" for k, v in writes),
                encoding="utf-8",
            )
            os.replace(tmp, self.path)
            self._count = len(writes)


__all__ = ["BootRecord", "Spool", "SpooledWrite"]
