"""Tables of Interface B: stations, charging sessions, their events, meter values, rate changes,
the CEM's limit book and the security event log (SCP Regs 2021 reg 9, SCP-MS-1..3, SEC-D-9, SEC-S-6).

Every row that a charge point may send twice (its offline queue replays after a reconnect, or the
CEM crashed between committing and answering) has a natural unique key, so a replay is absorbed
by the database instead of being counted twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from smartcharge.store.base import Base

#: Longest OCPP identity accepted (OCPP 2.0.1 identityString, part 4, 3.1.1: 48 characters).
STATION_ID_MAX = 48
#: Placeholder transaction id for meter values sent outside any transaction (keeps the key unique).
NO_TRANSACTION = ""


class Station(Base):
    """A charge point the CEM accepts; only the argon2 hash of its password is kept (SEC-D-2)."""

    __tablename__ = "station"

    station_id: Mapped[str] = mapped_column(String(STATION_ID_MAX), primary_key=True)
    security_profile: Mapped[int] = mapped_column(Integer)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ocpp_version: Mapped[str | None] = mapped_column(String(16), nullable=True)
    vendor: Mapped[str | None] = mapped_column(String(50), nullable=True)
    model: Mapped[str | None] = mapped_column(String(50), nullable=True)
    firmware_version: Mapped[str | None] = mapped_column(String(50), nullable=True)
    last_boot_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ChargingSession(Base):
    """One charging session (reg 9): start, stop and the energy delivered."""

    __tablename__ = "charging_session"
    __table_args__ = (UniqueConstraint("station_id", "transaction_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(
        String(STATION_ID_MAX), ForeignKey("station.station_id", ondelete="CASCADE"), index=True
    )
    transaction_id: Mapped[str] = mapped_column(String(36))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    meter_start_wh: Mapped[float | None] = mapped_column(Float, nullable=True)
    meter_last_wh: Mapped[float | None] = mapped_column(Float, nullable=True)
    stop_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    id_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # The CEM's clock at the first message, and whether the station's start time was implausible
    # (then the session is listed by its receipt time; issue 15, revision 0005_meter_key).
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    time_suspect: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class TransactionEventRow(Base):
    """Each transaction message as received; (station, transaction, seq_no) makes replays idempotent."""

    __tablename__ = "transaction_event"
    __table_args__ = (UniqueConstraint("station_id", "transaction_id", "seq_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(
        String(STATION_ID_MAX), ForeignKey("station.station_id", ondelete="CASCADE")
    )
    transaction_id: Mapped[str] = mapped_column(String(36))
    seq_no: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(16))
    trigger_reason: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    time_suspect: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class MeterValueRow(Base):
    """One sampled value (energy register or power) at one time (SCP-MS-1, SCP-MS-4); phase,
    location and context are part of the key, so L1, L2 and L3 are three rows (0005_meter_key)."""

    __tablename__ = "meter_value"
    __table_args__ = (
        UniqueConstraint(
            "station_id", "transaction_id", "measured_at", "measurand", "phase", "location", "context"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(
        String(STATION_ID_MAX), ForeignKey("station.station_id", ondelete="CASCADE"), index=True
    )
    transaction_id: Mapped[str] = mapped_column(String(36), default=NO_TRANSACTION)
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    measurand: Mapped[str] = mapped_column(String(50))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    phase: Mapped[str] = mapped_column(String(8), default="", server_default="")
    location: Mapped[str] = mapped_column(String(16), default="Outlet", server_default="Outlet")
    context: Mapped[str] = mapped_column(
        String(32), default="Sample.Periodic", server_default="Sample.Periodic"
    )


class RateChange(Base):
    """Every change of the charging rate with its time (reg 9, SCP-MS-2)."""

    __tablename__ = "rate_change"
    # Keyed by the reporting event's seq_no, not its time: two changes may share a second.
    __table_args__ = (UniqueConstraint("station_id", "transaction_id", "seq_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(
        String(STATION_ID_MAX), ForeignKey("station.station_id", ondelete="CASCADE"), index=True
    )
    transaction_id: Mapped[str] = mapped_column(String(36))
    seq_no: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    power_w: Mapped[float] = mapped_column(Float)
    limit_w: Mapped[float | None] = mapped_column(Float, nullable=True)


class SecurityEvent(Base):
    """The CEM's time-stamped security log (SEC-D-9, SEC-S-6): refusals, station notifications,
    protocol faults. ``station_id`` is free text, not a key: refused callers are often unknown."""

    __tablename__ = "security_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    station_id: Mapped[str | None] = mapped_column(String(STATION_ID_MAX), nullable=True)
    event_type: Mapped[str] = mapped_column(String(50))
    detail: Mapped[str] = mapped_column(Text, default="")
    remote_address: Mapped[str | None] = mapped_column(String(64), nullable=True)


#: ``LimitBookEntry.station_id`` of a site-wide limit (keeps the (station, source) key unique).
SITE_WIDE = ""


class LimitBookEntry(Base):
    """One limit of the CEM's limit book (ARB-5): site-wide (``station_id`` = ``SITE_WIDE``) or on
    one charge point, one row per source. Kept so a restarted CEM re-applies what still holds; a
    row whose ``until_s`` (epoch seconds) has passed is dropped on load, never resumed (SCP-FS-4).
    ``station_id`` is not a foreign key: a limit may name a charge point not yet registered."""

    __tablename__ = "limit_book_entry"
    __table_args__ = (UniqueConstraint("station_id", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(STATION_ID_MAX))
    source: Mapped[int] = mapped_column(Integer)
    limit_w: Mapped[float] = mapped_column(Float)
    until_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    exempt_from_delay: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


__all__ = [
    "NO_TRANSACTION",
    "SITE_WIDE",
    "STATION_ID_MAX",
    "ChargingSession",
    "LimitBookEntry",
    "MeterValueRow",
    "RateChange",
    "SecurityEvent",
    "Station",
    "TransactionEventRow",
]
