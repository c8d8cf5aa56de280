"""Tables and repositories for Interface A: the CEM's consent ledger, what it holds per DSRSP, the
OpenADR security log, and the DSRSP's CEM registry, opts and readings.

The consent ledger is append-only: the repository only inserts, the ORM refuses updates and
deletes of ledger rows, and each row carries a SHA-256 chain hash over its predecessor so an
edit made behind the application's back is detected (PRIV-3, SEC-D-9). Revoking a DSRSP deletes
the credentials and data kept for it (PRIV-6 erasure) but never the ledger rows, which hold no
personal data.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text, delete, event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from smartcharge.core.errors import SmartchargeError, ValidationError
from smartcharge.policy.consent import (
    KEYED_SCHEME,
    LEGACY_SCHEME,
    ConsentAction,
    ConsentEntry,
    ReadScope,
    chain_hash,
    check_new_entry,
    legacy_chain_hash,
)
from smartcharge.store.base import Base
from smartcharge.store.ledger_key import LedgerKey, key_path, load_or_create

ID_LEN = 64
URL_LEN = 300
FINGERPRINT_LEN = 32


def _utc(epoch_s: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_s, tz=dt.UTC)


def _epoch(at: dt.datetime) -> int:
    # SQLite hands back naive datetimes; every stored value is UTC.
    return int((at if at.tzinfo else at.replace(tzinfo=dt.UTC)).timestamp())


class LedgerTamperedError(SmartchargeError):
    """A consent ledger row was changed or removed outside the application."""


class ConsentRow(Base):
    """One append-only consent ledger entry (PRIV-3)."""

    __tablename__ = "consent_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    dsrsp_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    action: Mapped[str] = mapped_column(String(16))
    may_control: Mapped[bool] = mapped_column(Boolean, default=False)
    may_read: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    vtn_url: Mapped[str] = mapped_column(String(URL_LEN), default="")
    vtn_fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_LEN), default="")
    actor: Mapped[str] = mapped_column(String(ID_LEN), default="owner")
    reason: Mapped[str] = mapped_column(Text, default="")
    chain_hash: Mapped[str] = mapped_column(String(64))
    chain_scheme: Mapped[int] = mapped_column(Integer, default=KEYED_SCHEME, server_default="1")


@event.listens_for(ConsentRow, "before_update")
@event.listens_for(ConsentRow, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, target: ConsentRow) -> None:
    raise LedgerTamperedError(f"consent record {target.id} is append-only; write a new record instead")


class ProviderCredentialRow(Base):
    """What the CEM holds to talk to one DSRSP: its registration there (wiped on revoke)."""

    __tablename__ = "dsr_provider_credential"

    dsrsp_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    ven_id: Mapped[str] = mapped_column(String(ID_LEN))
    registration_id: Mapped[str] = mapped_column(String(ID_LEN))
    vtn_url: Mapped[str] = mapped_column(String(URL_LEN))
    vtn_fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_LEN))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ProviderDataRow(Base):
    """Data the CEM kept for or about one DSRSP: events received, opts and reports sent."""

    __tablename__ = "dsr_provider_data"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dsrsp_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[str] = mapped_column(Text)


class OpenadrSecurityRow(Base):
    """A refused Interface A message or other security fact (SEC-D-9, SEC-S-8)."""

    __tablename__ = "openadr_security_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    side: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(48))
    code: Mapped[int] = mapped_column(Integer)
    peer: Mapped[str] = mapped_column(String(URL_LEN), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class DsrspCemRow(Base):
    """A CEM the DSRSP enrolled by certificate fingerprint, and its registration state."""

    __tablename__ = "dsrsp_cem"

    fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_LEN), primary_key=True)
    ven_name: Mapped[str] = mapped_column(String(ID_LEN))
    ven_id: Mapped[str] = mapped_column(String(ID_LEN), unique=True)
    registration_id: Mapped[str | None] = mapped_column(String(ID_LEN), nullable=True)
    enrolled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    registered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DsrspReadingRow(Base):
    """A reading a CEM reported: telemetry, flexibility offer or power report (DSR-1, DSR-4)."""

    __tablename__ = "dsrsp_reading"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ven_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    report_name: Mapped[str] = mapped_column(String(ID_LEN))
    r_id: Mapped[str] = mapped_column(String(ID_LEN))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    value: Mapped[float] = mapped_column(Float)


class DsrspOptRow(Base):
    """A CEM's opt for an event, with its reason (ARB-6)."""

    __tablename__ = "dsrsp_opt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ven_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    event_id: Mapped[str] = mapped_column(String(ID_LEN))
    opt: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32), default="")


@dataclass(frozen=True, slots=True)
class ProviderCredential:
    dsrsp_id: str
    ven_id: str
    registration_id: str
    vtn_url: str
    vtn_fingerprint: str
    registered_s: int


@dataclass(frozen=True, slots=True)
class SecurityRecord:
    at_s: int
    side: str
    kind: str
    code: int
    peer: str
    detail: str


@dataclass(frozen=True, slots=True)
class CemRecord:
    fingerprint: str
    ven_name: str
    ven_id: str
    registration_id: str | None


class _Repo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def record_security(self, at_s: int, side: str, kind: str, code: int, peer: str, detail: str) -> None:
        with self._session() as s:
            s.add(
                OpenadrSecurityRow(
                    occurred_at=_utc(at_s), side=side, kind=kind, code=code, peer=peer, detail=detail
                )
            )

    def security_events(self) -> list[SecurityRecord]:
        with self._session() as s:
            rows = s.scalars(select(OpenadrSecurityRow).order_by(OpenadrSecurityRow.id)).all()
            return [
                SecurityRecord(_epoch(r.occurred_at), r.side, r.kind, r.code, r.peer, r.detail) for r in rows
            ]


def _entry_from_row(row: ConsentRow) -> ConsentEntry:
    return ConsentEntry(
        dsrsp_id=row.dsrsp_id,
        action=ConsentAction(row.action),
        recorded_s=_epoch(row.recorded_at),
        may_control=row.may_control,
        may_read=frozenset(ReadScope(x) for x in row.may_read.split(",") if x),
        valid_from_s=_epoch(row.valid_from),
        valid_until_s=None if row.valid_until is None else _epoch(row.valid_until),
        vtn_url=row.vtn_url,
        vtn_fingerprint=row.vtn_fingerprint,
        actor=row.actor,
        reason=row.reason,
    )


class ConsentStore(_Repo):
    """The CEM side: consent ledger, credentials and data per DSRSP, security log.

    The chain is keyed (:mod:`smartcharge.store.ledger_key`); ``key`` defaults to the key file of
    this database, created on first use.
    """

    def __init__(self, engine: Engine, key: LedgerKey | None = None) -> None:
        super().__init__(engine)
        self._key = key
        self._key_lock = threading.Lock()

    @property
    def key(self) -> LedgerKey:
        with self._key_lock:  # threads sharing this store must not race to make the key
            if self._key is None:
                self._key = load_or_create(key_path(self._engine), self._count_rows)
            return self._key

    def _count_rows(self) -> tuple[int, int]:
        with self._session() as s:
            total = s.scalar(select(func.count()).select_from(ConsentRow)) or 0
            keyed = s.scalar(
                select(func.count()).select_from(ConsentRow).where(ConsentRow.chain_scheme >= KEYED_SCHEME)
            )
            return int(total), int(keyed or 0)

    def append(self, entry: ConsentEntry) -> ConsentEntry:
        """Append ``entry`` after checking the ledger rules (:func:`check_new_entry`).

        Appends are serialised (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL table lock) so two
        writers can never chain onto the same predecessor. An append reads only what the rules
        need (the latest entry of each DSRSP) and hashes one entry: its cost does not grow with
        the ledger.
        """
        secret = self.key.secret
        with self._session() as s:
            dialect = s.get_bind().dialect.name
            if dialect == "sqlite":
                s.connection().exec_driver_sql("BEGIN IMMEDIATE")
            elif dialect == "postgresql":
                s.execute(text("LOCK TABLE consent_record IN SHARE ROW EXCLUSIVE MODE"))
            latest_ids = select(func.max(ConsentRow.id)).group_by(ConsentRow.dsrsp_id)
            latest = s.scalars(
                select(ConsentRow).where(ConsentRow.id.in_(latest_ids)).order_by(ConsentRow.id)
            ).all()
            check_new_entry([_entry_from_row(r) for r in latest], entry)
            previous = latest[-1].chain_hash if latest else ""
            s.add(
                ConsentRow(
                    recorded_at=_utc(entry.recorded_s),
                    dsrsp_id=entry.dsrsp_id,
                    action=entry.action.value,
                    may_control=entry.may_control,
                    may_read=",".join(sorted(x.value for x in entry.may_read)),
                    valid_from=_utc(entry.valid_from_s),
                    valid_until=None if entry.valid_until_s is None else _utc(entry.valid_until_s),
                    vtn_url=entry.vtn_url,
                    vtn_fingerprint=entry.vtn_fingerprint,
                    actor=entry.actor,
                    reason=entry.reason,
                    chain_hash=chain_hash(previous, entry, secret),
                    chain_scheme=KEYED_SCHEME,
                )
            )
        return entry

    def ledger(self) -> list[ConsentEntry]:
        """Every entry in the order written, after checking the whole chain (SEC-D-9).

        Rows before the key was made are checked with the first, unkeyed scheme; every later row
        must carry the keyed one, so downgrading rows to the old scheme is caught as well.
        """
        key = self.key
        with self._session() as s:
            rows = s.scalars(select(ConsentRow).order_by(ConsentRow.id)).all()
            entries, previous = [], ""
            for index, row in enumerate(rows):
                entry = _entry_from_row(row)
                if index < key.legacy_rows:
                    scheme, expected = LEGACY_SCHEME, legacy_chain_hash(previous, entry)
                else:
                    scheme, expected = KEYED_SCHEME, chain_hash(previous, entry, key.secret)
                if row.chain_scheme != scheme or expected != row.chain_hash:
                    raise LedgerTamperedError(
                        f"consent record {row.id} does not match its chain hash: the ledger was edited, "
                        "reordered or cut outside the application"
                    )
                previous = row.chain_hash
                entries.append(entry)
            return entries

    def save_credential(self, cred: ProviderCredential) -> None:
        with self._session() as s:
            s.merge(
                ProviderCredentialRow(
                    dsrsp_id=cred.dsrsp_id,
                    ven_id=cred.ven_id,
                    registration_id=cred.registration_id,
                    vtn_url=cred.vtn_url,
                    vtn_fingerprint=cred.vtn_fingerprint,
                    registered_at=_utc(cred.registered_s),
                )
            )

    def credentials(self) -> dict[str, ProviderCredential]:
        with self._session() as s:
            rows = s.scalars(select(ProviderCredentialRow)).all()
            return {
                r.dsrsp_id: ProviderCredential(
                    r.dsrsp_id,
                    r.ven_id,
                    r.registration_id,
                    r.vtn_url,
                    r.vtn_fingerprint,
                    _epoch(r.registered_at),
                )
                for r in rows
            }

    def keep(self, dsrsp_id: str, kind: str, at_s: int, body: dict[str, Any]) -> None:
        """Keep a record of what was exchanged with ``dsrsp_id`` (exportable, erasable)."""
        with self._session() as s:
            s.add(
                ProviderDataRow(
                    dsrsp_id=dsrsp_id, kind=kind, at=_utc(at_s), body=json.dumps(body, sort_keys=True)
                )
            )

    def export(self, dsrsp_id: str) -> list[dict[str, Any]]:
        """Everything kept for ``dsrsp_id`` (PRIV-6 access and portability)."""
        with self._session() as s:
            rows = s.scalars(
                select(ProviderDataRow)
                .where(ProviderDataRow.dsrsp_id == dsrsp_id)
                .order_by(ProviderDataRow.id)
            ).all()
            return [{"kind": r.kind, "at_s": _epoch(r.at), **json.loads(r.body)} for r in rows]

    def erase(self, dsrsp_id: str) -> int:
        """Delete the credentials and every data row kept for ``dsrsp_id``; return rows deleted."""
        with self._session() as s:
            data = s.execute(delete(ProviderDataRow).where(ProviderDataRow.dsrsp_id == dsrsp_id))
            cred = s.execute(delete(ProviderCredentialRow).where(ProviderCredentialRow.dsrsp_id == dsrsp_id))
            return int(getattr(data, "rowcount", 0)) + int(getattr(cred, "rowcount", 0))


class DsrspStore(_Repo):
    """The DSRSP side: CEMs enrolled by fingerprint, their registrations, opts and readings."""

    def enrol(self, fingerprint: str, ven_name: str, ven_id: str, at_s: int) -> CemRecord:
        """Admit a CEM's certificate (delivered out of band) under ``ven_id``."""
        with self._session() as s:
            if s.get(DsrspCemRow, fingerprint) is not None:
                raise ValidationError("fingerprint", fingerprint, "this certificate is already enrolled")
            taken = s.scalars(select(DsrspCemRow).where(DsrspCemRow.ven_id == ven_id)).first()
            if taken is not None:
                raise ValidationError("ven_id", ven_id, "already used by another enrolled CEM")
            s.add(
                DsrspCemRow(fingerprint=fingerprint, ven_name=ven_name, ven_id=ven_id, enrolled_at=_utc(at_s))
            )
        return CemRecord(fingerprint, ven_name, ven_id, None)

    def set_registration(self, fingerprint: str, registration_id: str | None, at_s: int) -> CemRecord | None:
        with self._session() as s:
            row = s.get(DsrspCemRow, fingerprint)
            if row is None:
                return None
            row.registration_id = registration_id
            row.registered_at = _utc(at_s) if registration_id else None
            return CemRecord(row.fingerprint, row.ven_name, row.ven_id, row.registration_id)

    def by_ven_id(self, ven_id: str) -> CemRecord | None:
        with self._session() as s:
            row = s.scalars(select(DsrspCemRow).where(DsrspCemRow.ven_id == ven_id)).first()
            return (
                None
                if row is None
                else CemRecord(row.fingerprint, row.ven_name, row.ven_id, row.registration_id)
            )

    def cems(self) -> list[CemRecord]:
        with self._session() as s:
            rows = s.scalars(select(DsrspCemRow).order_by(DsrspCemRow.ven_id)).all()
            return [CemRecord(r.fingerprint, r.ven_name, r.ven_id, r.registration_id) for r in rows]

    def add_batch(
        self,
        security: list[tuple[int, str, str, int, str, str]],
        opts: list[tuple[int, str, str, str, str]],
        readings: list[tuple[str, str, str, int, float]],
    ) -> None:
        """Write many records in one transaction (one fsync): security notices (at_s, side, kind,
        code, peer, detail), opts (at_s, ven_id, event_id, opt, reason) and readings (ven_id,
        report name, r_id, at_s, value)."""
        with self._session() as s:
            s.add_all(
                OpenadrSecurityRow(occurred_at=_utc(t), side=a, kind=k, code=c, peer=p, detail=d)
                for t, a, k, c, p, d in security
            )
            s.add_all(
                DsrspOptRow(received_at=_utc(t), ven_id=v, event_id=e, opt=o, reason=r)
                for t, v, e, o, r in opts
            )
            s.add_all(
                DsrspReadingRow(ven_id=v, report_name=n, r_id=r, at=_utc(t), value=x)
                for v, n, r, t, x in readings
            )

    def add_opt(self, at_s: int, ven_id: str, event_id: str, opt: str, reason: str) -> None:
        with self._session() as s:
            s.add(
                DsrspOptRow(received_at=_utc(at_s), ven_id=ven_id, event_id=event_id, opt=opt, reason=reason)
            )

    def opts(self, event_id: str | None = None) -> list[tuple[str, str, str, str]]:
        """(ven_id, event_id, opt, reason) in arrival order."""
        with self._session() as s:
            query = select(DsrspOptRow).order_by(DsrspOptRow.id)
            if event_id is not None:
                query = query.where(DsrspOptRow.event_id == event_id)
            return [(r.ven_id, r.event_id, r.opt, r.reason) for r in s.scalars(query).all()]

    def add_readings(self, ven_id: str, rows: list[tuple[str, str, int, float]]) -> None:
        """Store (report name, r_id, at_s, value) readings from one report."""
        with self._session() as s:
            s.add_all(
                DsrspReadingRow(ven_id=ven_id, report_name=n, r_id=r, at=_utc(t), value=v)
                for n, r, t, v in rows
            )

    def readings(self, ven_id: str, report_name: str | None = None) -> list[tuple[str, str, int, float]]:
        with self._session() as s:
            query = (
                select(DsrspReadingRow).where(DsrspReadingRow.ven_id == ven_id).order_by(DsrspReadingRow.id)
            )
            if report_name is not None:
                query = query.where(DsrspReadingRow.report_name == report_name)
            return [(r.report_name, r.r_id, _epoch(r.at), r.value) for r in s.scalars(query).all()]


__all__ = [
    "CemRecord",
    "ConsentRow",
    "ConsentStore",
    "DsrspCemRow",
    "DsrspOptRow",
    "DsrspReadingRow",
    "DsrspStore",
    "LedgerTamperedError",
    "OpenadrSecurityRow",
    "ProviderCredential",
    "ProviderCredentialRow",
    "ProviderDataRow",
    "SecurityRecord",
]
