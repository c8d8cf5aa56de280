"""The CEM's security event log (SEC-D-9, SEC-S-6): refused handshakes, TLS refusals, protocol
faults, and the SecurityEventNotifications stations send. Time-stamped, append-only, tamper-evident
and bounded.

Tamper evidence (ETSI EN 303 645 5.7-2 integrity of the log): each row carries ``seq`` (1, 2, 3,
... with no gap), ``prev_hash`` (the ``entry_hash`` of the row before) and ``entry_hash`` =
HMAC-SHA256 under a key kept 0600 in the data directory, over the canonical encoding of the row
(JSON, sorted keys, compact separators, times in UTC ISO 8601 with microseconds). Someone who can
write the database but not read the key cannot rebuild the chain after editing, inserting or
removing a row; :func:`verify` names the first bad row. An append reads only the last row.

Aggregation (issue 15: a storm of bad frames wrote one fsync'd row each): the first of a run of
identical events (same station, type, detail, remote address) is written at once; the repeats that
follow within ``window_s`` are counted in memory and written as one row with their ``count``,
at most every ``flush_interval_s`` (and on :meth:`SecurityLog.flush`, called by the recorder's
timer and at shutdown). A crash loses at most the count of one interval, never a first event.

Growth cap: beyond ``max_rows`` the oldest rows are removed in one go and a
``SecurityLogWasCleared`` row (an OCPP 2.0.1 security event) records how many and the ``seq`` the
chain now starts at, so a removal by anyone else is still detected.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from smartcharge.store.models import SecurityEvent

GENESIS = "0" * 64
CLEARED = "SecurityLogWasCleared"
#: Default cap on rows: about 60 MB of SQLite at ~600 bytes a row; ample for years of a home CEM.
DEFAULT_MAX_ROWS = 100_000
_STARTS_AT = re.compile(r"chain starts at seq (\d+)")
_PRUNE_EVERY = 100  # appends between two row counts (a COUNT(*) per append would cost a scan)


@dataclass(frozen=True, slots=True)
class SecurityEventRecord:
    occurred_at: datetime
    station_id: str | None
    event_type: str
    detail: str
    remote_address: str | None
    count: int = 1
    last_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``ok``, rows checked, and the first bad row with the reason."""

    ok: bool
    checked: int
    unchained: int = 0
    bad_seq: int | None = None
    bad_id: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS

    def line(self) -> str:
        """The one-line answer of ``smartcharge cem security-log --verify``."""
        if self.ok:
            legacy = f"; {self.unchained} older row(s) predate the chain" if self.unchained else ""
            return (
                f"ok: {self.checked} entries verified, head seq {self.head_seq} {self.head_hash[:16]}{legacy}"
            )
        return f"TAMPERED: entry seq {self.bad_seq} (row id {self.bad_id}): {self.reason}"


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def canonical(row: SecurityEvent) -> bytes:
    """The bytes that ``entry_hash`` covers: every field of the row except ``id`` and the hash."""
    fields = {
        "seq": row.seq,
        "occurred_at": _utc(row.occurred_at),
        "last_at": _utc(row.last_at),
        "station_id": row.station_id,
        "event_type": row.event_type,
        "detail": row.detail,
        "remote_address": row.remote_address,
        "count": row.count,
        "prev_hash": row.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(key: bytes, row: SecurityEvent) -> str:
    return hmac.new(key, canonical(row), hashlib.sha256).hexdigest()


@dataclass
class _Run:
    """Repeats of one event not yet written."""

    first_at: datetime
    last_at: datetime
    flushed_at: datetime
    pending: int = 0
    pending_from: datetime | None = None


def _row_of(event: SecurityEventRecord) -> SecurityEvent:
    return SecurityEvent(
        occurred_at=event.occurred_at,
        last_at=event.last_at,
        station_id=None if event.station_id is None else event.station_id[:48],
        event_type=event.event_type[:50],
        detail=event.detail[:2000],
        remote_address=None if event.remote_address is None else event.remote_address[:64],
        count=event.count,
    )


def _record_of(row: SecurityEvent) -> SecurityEventRecord:
    return SecurityEventRecord(
        row.occurred_at,
        row.station_id,
        row.event_type,
        row.detail,
        row.remote_address,
        row.count,
        row.last_at,
    )


class SecurityLog:
    """Append (chained, aggregated, capped) and read security events."""

    def __init__(
        self,
        engine: Engine,
        key: bytes,
        window_s: float = 60.0,
        flush_interval_s: float = 1.0,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_runs: int = 1024,
    ) -> None:
        if len(key) < 16:
            raise ValueError("security-log key must be at least 16 bytes")
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._key = key
        self._window_s = window_s
        self._flush_interval_s = flush_interval_s
        self._max_rows = max_rows
        self._max_runs = max_runs
        self._runs: dict[tuple[str | None, str, str, str | None], _Run] = {}
        self._lock = threading.Lock()
        self._appends = 0

    def __repr__(self) -> str:  # never show the key
        return "SecurityLog(<key hidden>)"

    # ---- writing ------------------------------------------------------------------------------

    def record(self, event: SecurityEventRecord) -> None:
        """Append ``event``, or count it as a repeat of the same event seen within the window."""
        key = (event.station_id, event.event_type, event.detail, event.remote_address)
        with self._lock:
            now = event.occurred_at
            run = self._runs.get(key)
            if run is not None and (now - run.last_at).total_seconds() <= self._window_s:
                run.last_at = now
                run.pending += 1
                run.pending_from = run.pending_from or now
                if (now - run.flushed_at).total_seconds() >= self._flush_interval_s:
                    self._flush_locked(now)
                return
            rows = self._take_pending()
            rows.append(_row_of(event))
            self._append(rows)
            self._runs[key] = _Run(now, now, now)
            if len(self._runs) > self._max_runs:
                self._expire(now, force=True)

    def flush(self, now: datetime | None = None) -> int:
        """Write the counts of repeats not yet written; returns how many rows that took."""
        with self._lock:
            return self._flush_locked(now or datetime.now(UTC))

    def _flush_locked(self, now: datetime) -> int:
        rows = self._take_pending()
        if rows:
            self._append(rows)
        self._expire(now)
        return len(rows)

    def _take_pending(self) -> list[SecurityEvent]:
        rows = []
        for (station, kind, detail, remote), run in self._runs.items():
            if run.pending:
                record = SecurityEventRecord(
                    run.pending_from or run.last_at, station, kind, detail, remote, run.pending, run.last_at
                )
                rows.append(_row_of(record))
                run.pending, run.pending_from = 0, None
            run.flushed_at = max(run.flushed_at, run.last_at)
        rows.sort(key=lambda r: r.occurred_at)
        return rows

    def _expire(self, now: datetime, force: bool = False) -> None:
        for key, run in list(self._runs.items()):
            if run.pending == 0 and (force or (now - run.last_at).total_seconds() > self._window_s):
                del self._runs[key]

    def _append(self, rows: list[SecurityEvent], retry: bool = True) -> None:
        try:
            with self._sessions.begin() as session:
                self._chain(session, rows)
        except IntegrityError:
            # Another writer took the same seq (a second process on PostgreSQL): chain again on top.
            if not retry:
                raise
            for row in rows:
                row.seq = row.prev_hash = row.entry_hash = None
            self._append(rows, retry=False)
            return
        self._appends += len(rows)
        if self._appends >= _PRUNE_EVERY:
            self._appends = 0
            self._prune()

    def _chain(self, session: Session, rows: list[SecurityEvent]) -> None:
        tail = session.execute(
            select(SecurityEvent.seq, SecurityEvent.entry_hash)
            .where(SecurityEvent.seq.is_not(None))
            .order_by(SecurityEvent.seq.desc())
            .limit(1)
        ).first()
        seq, prev = (0, GENESIS) if tail is None else (int(tail[0] or 0), str(tail[1]))
        for row in rows:
            seq += 1
            row.seq, row.prev_hash = seq, prev
            row.count = row.count or 1
            row.entry_hash = prev = entry_hash(self._key, row)
            session.add(row)

    def _prune(self) -> None:
        """Keep at most ``max_rows`` rows: drop the oldest tenth more than needed, log the removal."""
        with self._sessions() as session:
            total = int(session.scalar(select(func.count()).select_from(SecurityEvent)) or 0)
        if total <= self._max_rows:
            return
        remove = total - self._max_rows + self._max_rows // 10
        with self._sessions.begin() as session:
            boundary = session.execute(
                select(SecurityEvent.id).order_by(SecurityEvent.id).offset(remove - 1).limit(1)
            ).scalar_one()
            session.execute(delete(SecurityEvent).where(SecurityEvent.id <= boundary))
            first = session.scalar(select(func.min(SecurityEvent.seq)))
            note = SecurityEventRecord(
                datetime.now(UTC),
                None,
                CLEARED,
                f"retention cap {self._max_rows} rows: removed the {remove} oldest; "
                f"chain starts at seq {first}",
                None,
            )
            self._chain(session, [_row_of(note)])

    # ---- reading ------------------------------------------------------------------------------

    def recent(self, limit: int = 100, station_id: str | None = None) -> list[SecurityEventRecord]:
        """The newest rows first; a row may stand for ``count`` identical events."""
        self.flush()
        with self._sessions() as session:
            query = select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(limit)
            if station_id is not None:
                query = query.where(SecurityEvent.station_id == station_id)
            return [_record_of(r) for r in session.scalars(query)]

    def count(self, event_type: str) -> int:
        """How many events of ``event_type`` were logged (rows times their counts)."""
        self.flush()
        with self._sessions() as session:
            stmt = select(func.coalesce(func.sum(SecurityEvent.count), 0)).where(
                SecurityEvent.event_type == event_type
            )
            return int(session.scalar(stmt) or 0)

    def rows(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(SecurityEvent)) or 0)

    def iter_rows(self, batch: int = 1000) -> Iterator[SecurityEvent]:
        """Every row in id order, ``batch`` at a time (bounded memory for a large log)."""
        last_id = 0
        while True:
            with self._sessions() as session:
                chunk = list(
                    session.scalars(
                        select(SecurityEvent)
                        .where(SecurityEvent.id > last_id)
                        .order_by(SecurityEvent.id)
                        .limit(batch)
                    )
                )
            if not chunk:
                return
            yield from chunk
            last_id = chunk[-1].id

    def verify(self) -> VerifyResult:
        return verify(self.iter_rows(), self._key)


def verify(rows: Iterator[SecurityEvent], key: bytes) -> VerifyResult:
    """Walk the chain in id order and name the first row that was edited, inserted or removed."""
    checked = unchained = 0
    expected_seq: int | None = None
    prev = GENESIS
    start: int | None = None
    last_seq, last_hash = 0, GENESIS
    cleared_start: int | None = None
    for row in rows:
        if row.seq is None or row.entry_hash is None:
            if expected_seq is None and not checked:
                unchained += 1  # from before revision 0009: a prefix only
                continue
            return VerifyResult(False, checked, unchained, row.seq, row.id, "row without a chain hash")
        if expected_seq is None:
            start = row.seq
            if row.seq == 1 and row.prev_hash != GENESIS:
                return VerifyResult(
                    False, checked, unchained, row.seq, row.id, "first entry does not start the chain"
                )
            expected_seq, prev = row.seq, str(row.prev_hash)
        if row.seq != expected_seq:
            missing = (
                f"entries seq {expected_seq}..{row.seq - 1} removed"
                if row.seq > expected_seq
                else "out of order"
            )
            return VerifyResult(False, checked, unchained, expected_seq, row.id, missing)
        if row.prev_hash != prev:
            return VerifyResult(
                False, checked, unchained, row.seq, row.id, "does not link to the entry before it"
            )
        if not hmac.compare_digest(entry_hash(key, row), row.entry_hash):
            return VerifyResult(
                False, checked, unchained, row.seq, row.id, "contents do not match its HMAC (edited)"
            )
        if row.event_type == CLEARED and (match := _STARTS_AT.search(row.detail)):
            cleared_start = int(match.group(1))
        checked += 1
        expected_seq += 1
        prev = row.entry_hash
        last_seq, last_hash = row.seq, row.entry_hash
    if start is not None and start != 1 and start != cleared_start:
        return VerifyResult(
            False,
            checked,
            unchained,
            start,
            None,
            f"entries before seq {start} removed without a {CLEARED} record",
        )
    return VerifyResult(True, checked, unchained, head_seq=last_seq, head_hash=last_hash)


__all__ = [
    "CLEARED",
    "DEFAULT_MAX_ROWS",
    "GENESIS",
    "SecurityEventRecord",
    "SecurityLog",
    "VerifyResult",
    "verify",
]
