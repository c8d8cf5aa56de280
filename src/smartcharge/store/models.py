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
    Index,
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
    __table_args__ = (
        UniqueConstraint("station_id", "transaction_id"),
        # The owner's sessions page reads one owner's charge points over a window of start times
        # (reg 9): which sessions need pricing, totals per month, one month's rows. The index
        # holds every column those read, so a year of sessions is summed from the index alone
        # (revision 0015_session_indexes; columns in PRICED_INDEX_COLUMNS there).
        Index(
            "ix_charging_session_station_started",
            "station_id",
            "started_at",
            "priced_month",
            "meter_start_wh",
            "meter_last_wh",
            "priced_cost_p",
            "priced_carbon_g",
            "stopped_at",
            "priced_tariff_id",
            "priced_started_at",
            "priced_stopped_at",
            "priced_meter_start_wh",
            "priced_meter_last_wh",
        ),
    )

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
    # The session's cost and carbon as last priced (cem.owner_sessions), with the inputs they were
    # priced from: a row whose start, stop, registers or owner's tariff differ is priced again
    # before it is read. Derived data: erased with the session (PRIV-6); 0015_session_indexes.
    priced_month: Mapped[str | None] = mapped_column(String(7), nullable=True)  # GB local YYYY-MM
    priced_cost_p: Mapped[float | None] = mapped_column(Float, nullable=True)
    priced_carbon_g: Mapped[float | None] = mapped_column(Float, nullable=True)
    priced_tariff_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    priced_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    priced_stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    priced_meter_start_wh: Mapped[float | None] = mapped_column(Float, nullable=True)
    priced_meter_last_wh: Mapped[float | None] = mapped_column(Float, nullable=True)


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
    # Tamper evidence and aggregation (revision 0009_security, see store/security_log.py): a row
    # stands for ``count`` identical events from ``occurred_at`` to ``last_at``; ``entry_hash``
    # is an HMAC over the row and ``prev_hash``, the previous row's ``entry_hash``; ``seq`` runs
    # 1, 2, 3... so a removed row leaves a gap. Rows from before 0009 have no seq and no hash.
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    entry_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


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


# ---- OCPP core (issue 10): id tokens, boot policy, station reports ----------------------------

#: OCPP 2.0.1 IdTokenType.idToken is at most 36 characters (1.6 idTag: 20).
ID_TOKEN_MAX = 36
#: ``DeviceVariable.evse_id`` / ``connector_id`` when the component names none (keeps the key unique).
NO_EVSE = -1


class IdToken(Base):
    """One id token the CEM knows (OCPP 2.0.1 C01, C05, C09): its status, expiry and group.
    Looked up by value; 1.6 stations send the bare idTag, so the type is kept but not part of the key."""

    __tablename__ = "id_token"

    id_token: Mapped[str] = mapped_column(String(ID_TOKEN_MAX), primary_key=True)
    token_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    group_id_token: Mapped[str | None] = mapped_column(String(ID_TOKEN_MAX), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StationBootPolicy(Base):
    """How the CEM answers a station's BootNotification (B01-B03): Accepted, Pending or Rejected.
    A station without a row is Accepted."""

    __tablename__ = "station_boot_policy"

    station_id: Mapped[str] = mapped_column(
        String(STATION_ID_MAX), ForeignKey("station.station_id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConnectorStatusRow(Base):
    """The last status each connector reported (G01 StatusNotification)."""

    __tablename__ = "connector_status"
    __table_args__ = (UniqueConstraint("station_id", "evse_id", "connector_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(
        String(STATION_ID_MAX), ForeignKey("station.station_id", ondelete="CASCADE")
    )
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeviceVariable(Base):
    """One attribute of one variable of the station's device model, as its NotifyReport said
    (B07/B08). ``NO_EVSE`` stands for a component that names no EVSE or connector."""

    __tablename__ = "device_variable"
    __table_args__ = (
        UniqueConstraint(
            "station_id",
            "component",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable",
            "variable_instance",
            "attribute_type",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(
        String(STATION_ID_MAX), ForeignKey("station.station_id", ondelete="CASCADE")
    )
    component: Mapped[str] = mapped_column(String(50))
    component_instance: Mapped[str] = mapped_column(String(50))
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    variable: Mapped[str] = mapped_column(String(50))
    variable_instance: Mapped[str] = mapped_column(String(50))
    attribute_type: Mapped[str] = mapped_column(String(10))
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
    mutability: Mapped[str | None] = mapped_column(String(10), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StationNoticeRow(Base):
    """A message a station sent that the CEM stores and acknowledges (NotifyEvent, DataTransfer,
    firmware/diagnostics status, ...): its action, a one-line summary and the payload as JSON."""

    __tablename__ = "station_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(
        String(STATION_ID_MAX), ForeignKey("station.station_id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(50))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    summary: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)


class ReservationRow(Base):
    """A reservation made with ReserveNow (H01) and its last status (ReservationStatusUpdate H04)."""

    __tablename__ = "reservation"
    __table_args__ = (UniqueConstraint("station_id", "reservation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(
        String(STATION_ID_MAX), ForeignKey("station.station_id", ondelete="CASCADE")
    )
    reservation_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    id_token: Mapped[str | None] = mapped_column(String(ID_TOKEN_MAX), nullable=True)
    evse_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---- web access (operator, owner and site-manager API): people, tokens, sessions, audit --------

#: Longest user name accepted by the web API.
USERNAME_MAX = 64


class WebUser(Base):
    """A person who logs in to the web API; only the argon2id hash of the password is kept (SEC-D-2)."""

    __tablename__ = "web_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    """A bearer token for scripts and the CLI; ``id`` is its public part, ``secret_hash`` the
    argon2id hash of its secret part (the token itself is shown once, never kept)."""

    __tablename__ = "api_token"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginSession(Base):
    """A person's logged-in browser session (the cookie holds ``id`` and a secret; only its argon2id
    hash is kept); ends at ``expires_at`` or at logout."""

    __tablename__ = "login_session"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("web_user.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Every web call that changes something: who, what, when and the answer (issue 10 item 2)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OwnedChargePoint(Base):
    """Who owns a charge point, and the owner's settings for it as last accepted by the charge point
    (reg 10 first-use choice and hours, reg 11 maximum delay) plus the tariff that prices its sessions.

    The charge point holds the settings that act (OCPP device-model variables); this row is the
    CEM's copy, shown while the charge point is offline and kept with the owner's data (PRIV-6)."""

    __tablename__ = "owned_charge_point"

    station_id: Mapped[str] = mapped_column(
        String(STATION_ID_MAX), ForeignKey("station.station_id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(64), index=True)
    tariff_id: Mapped[str] = mapped_column(String(64))
    hours_choice: Mapped[str] = mapped_column(String(16))  # Pending | Accepted | Changed | Removed
    hours_schedule: Mapped[str | None] = mapped_column(Text, nullable=True)
    max_delay_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---- site load management and ready-by plans (issue 12): kept so a restarted CEM resumes them ----

#: Longest circuit id of a site.
CIRCUIT_ID_MAX = 64


class SiteCircuit(Base):
    """One node of the site's circuit tree (SCN-WRK after ENA G100, ARB-3): ``position`` 0 is the
    site connection (no parent); a parent is listed before its children. A limit is per phase (A)
    and/or in total (W); NULL: no such limit."""

    __tablename__ = "site_circuit"

    circuit_id: Mapped[str] = mapped_column(String(CIRCUIT_ID_MAX), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    parent: Mapped[str | None] = mapped_column(String(CIRCUIT_ID_MAX), nullable=True)
    phase_limit_a: Mapped[float | None] = mapped_column(Float, nullable=True)
    power_limit_w: Mapped[float | None] = mapped_column(Float, nullable=True)


class SiteChargePointRow(Base):
    """Where a charge point hangs in the site, its phases, its current range and its priority.
    ``station_id`` is not a foreign key: a site may list a charge point not yet registered."""

    __tablename__ = "site_charge_point"

    station_id: Mapped[str] = mapped_column(String(STATION_ID_MAX), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    circuit_id: Mapped[str] = mapped_column(String(CIRCUIT_ID_MAX))
    phases: Mapped[str] = mapped_column(String(8))
    max_current_a: Mapped[float] = mapped_column(Float)
    min_current_a: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer)


class SiteTokenPriority(Base):
    """The priority of a session started with this id token (e.g. the fleet vans' cards first)."""

    __tablename__ = "site_token_priority"

    id_token: Mapped[str] = mapped_column(String(ID_TOKEN_MAX), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer)


class SiteSetting(Base):
    """The site's scalar settings, one row (``id`` 1): fail-safe current (report 7.21), phase
    voltage, and who changed the site last and when."""

    __tablename__ = "site_setting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    failsafe_current_a: Mapped[float] = mapped_column(Float)
    voltage_v: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(100))


class ChargePlanRow(Base):
    """An owner's ready-by plan on a charge point: recurring (``weekdays`` as "0,1,2,3,4", 0 =
    Monday, and ``ready_by_local_min``, minutes after local midnight) or one-off (``ready_by_s``,
    epoch seconds); target ``target_kwh`` or ``target_soc`` with ``battery_kwh``."""

    __tablename__ = "charge_plan"

    plan_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(STATION_ID_MAX), index=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    recurring: Mapped[bool] = mapped_column(Boolean)
    weekdays: Mapped[str] = mapped_column(String(20))
    ready_by_local_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ready_by_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    target_kwh: Mapped[float | None] = mapped_column(Float, nullable=True)
    target_soc: Mapped[float | None] = mapped_column(Float, nullable=True)
    battery_kwh: Mapped[float | None] = mapped_column(Float, nullable=True)
    soc_now: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


__all__ = [
    "ID_TOKEN_MAX",
    "NO_EVSE",
    "NO_TRANSACTION",
    "USERNAME_MAX",
    "CIRCUIT_ID_MAX",
    "ApiToken",
    "ChargePlanRow",
    "SiteChargePointRow",
    "SiteCircuit",
    "SiteSetting",
    "SiteTokenPriority",
    "AuditEntry",
    "LoginSession",
    "WebUser",
    "SITE_WIDE",
    "STATION_ID_MAX",
    "ChargingSession",
    "ConnectorStatusRow",
    "DeviceVariable",
    "IdToken",
    "LimitBookEntry",
    "MeterValueRow",
    "OwnedChargePoint",
    "RateChange",
    "ReservationRow",
    "SecurityEvent",
    "Station",
    "StationBootPolicy",
    "StationNoticeRow",
    "TransactionEventRow",
]
