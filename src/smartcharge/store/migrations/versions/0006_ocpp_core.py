"""OCPP core (issue 10): id tokens, boot policy per station, connector status, the device model
the stations report, stored station notices (NotifyEvent and the like) and reservations.

Revision ID: 0006_ocpp_core
Revises: 0005_meter_key
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_ocpp_core"
down_revision = "0005_meter_key"
branch_labels = None
depends_on = None


def _station_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["station_id"],
        ["station.station_id"],
        name=op.f(f"fk_{table}_station_id_station"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "id_token",
        sa.Column("id_token", sa.String(36), nullable=False),
        sa.Column("token_type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("group_id_token", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_token", name=op.f("pk_id_token")),
    )
    op.create_table(
        "station_boot_policy",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _station_fk("station_boot_policy"),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_station_boot_policy")),
    )
    op.create_table(
        "connector_status",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        _station_fk("connector_status"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_status")),
        sa.UniqueConstraint(
            "station_id", "evse_id", "connector_id", name=op.f("uq_connector_status_station_id")
        ),
    )
    op.create_table(
        "device_variable",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("component", sa.String(50), nullable=False),
        sa.Column("component_instance", sa.String(50), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("variable", sa.String(50), nullable=False),
        sa.Column("variable_instance", sa.String(50), nullable=False),
        sa.Column("attribute_type", sa.String(10), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("mutability", sa.String(10), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _station_fk("device_variable"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_variable")),
        sa.UniqueConstraint(
            "station_id",
            "component",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable",
            "variable_instance",
            "attribute_type",
            name=op.f("uq_device_variable_station_id"),
        ),
    )
    op.create_table(
        "station_notice",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _station_fk("station_notice"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_notice")),
    )
    op.create_index(op.f("ix_station_notice_station_id"), "station_notice", ["station_id"])
    op.create_table(
        "reservation",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id_token", sa.String(36), nullable=True),
        sa.Column("evse_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _station_fk("reservation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservation")),
        sa.UniqueConstraint("station_id", "reservation_id", name=op.f("uq_reservation_station_id")),
    )


def downgrade() -> None:
    op.drop_table("reservation")
    op.drop_index(op.f("ix_station_notice_station_id"), table_name="station_notice")
    op.drop_table("station_notice")
    op.drop_table("device_variable")
    op.drop_table("connector_status")
    op.drop_table("station_boot_policy")
    op.drop_table("id_token")
