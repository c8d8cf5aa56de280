"""Interface B tables: stations, sessions, transaction events, meter values, rate changes, security log.

Revision ID: 0001_ocpp
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_ocpp"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def _station_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["station_id"], ["station.station_id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "station",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("security_profile", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("ocpp_version", sa.String(16), nullable=True),
        sa.Column("vendor", sa.String(50), nullable=True),
        sa.Column("model", sa.String(50), nullable=True),
        sa.Column("firmware_version", sa.String(50), nullable=True),
        sa.Column("last_boot_at", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_station")),
    )
    op.create_table(
        "charging_session",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("transaction_id", sa.String(36), nullable=False),
        sa.Column("started_at", _TZ, nullable=False),
        sa.Column("stopped_at", _TZ, nullable=True),
        sa.Column("meter_start_wh", sa.Float(), nullable=True),
        sa.Column("meter_last_wh", sa.Float(), nullable=True),
        sa.Column("stop_reason", sa.String(40), nullable=True),
        sa.Column("id_token", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.station_id"],
            name=op.f("fk_charging_session_station_id_station"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charging_session")),
        sa.UniqueConstraint("station_id", "transaction_id", name=op.f("uq_charging_session_station_id")),
    )
    op.create_index(op.f("ix_charging_session_station_id"), "charging_session", ["station_id"])
    op.create_index(op.f("ix_charging_session_started_at"), "charging_session", ["started_at"])
    op.create_table(
        "transaction_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("transaction_id", sa.String(36), nullable=False),
        sa.Column("seq_no", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(16), nullable=False),
        sa.Column("trigger_reason", sa.String(40), nullable=False),
        sa.Column("occurred_at", _TZ, nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.station_id"],
            name=op.f("fk_transaction_event_station_id_station"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_event")),
        sa.UniqueConstraint(
            "station_id", "transaction_id", "seq_no", name=op.f("uq_transaction_event_station_id")
        ),
    )
    op.create_table(
        "meter_value",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("transaction_id", sa.String(36), nullable=False),
        sa.Column("measured_at", _TZ, nullable=False),
        sa.Column("measurand", sa.String(50), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.station_id"],
            name=op.f("fk_meter_value_station_id_station"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_value")),
        sa.UniqueConstraint(
            "station_id",
            "transaction_id",
            "measured_at",
            "measurand",
            name=op.f("uq_meter_value_station_id"),
        ),
    )
    op.create_index(op.f("ix_meter_value_station_id"), "meter_value", ["station_id"])
    op.create_table(
        "rate_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("transaction_id", sa.String(36), nullable=False),
        sa.Column("changed_at", _TZ, nullable=False),
        sa.Column("power_w", sa.Float(), nullable=False),
        sa.Column("limit_w", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.station_id"],
            name=op.f("fk_rate_change_station_id_station"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_change")),
        sa.UniqueConstraint(
            "station_id", "transaction_id", "changed_at", name=op.f("uq_rate_change_station_id")
        ),
    )
    op.create_index(op.f("ix_rate_change_station_id"), "rate_change", ["station_id"])
    op.create_table(
        "security_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("occurred_at", _TZ, nullable=False),
        sa.Column("station_id", sa.String(48), nullable=True),
        sa.Column("event_type", sa.String(50), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("remote_address", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_event")),
    )
    op.create_index(op.f("ix_security_event_occurred_at"), "security_event", ["occurred_at"])


def downgrade() -> None:
    for table in ("security_event", "rate_change", "meter_value", "transaction_event", "charging_session"):
        op.drop_table(table)
    op.drop_table("station")
