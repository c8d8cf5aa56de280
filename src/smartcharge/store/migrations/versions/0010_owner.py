"""Charge points' owners and the owner's settings for each (reg 10 choice and hours, reg 11 maximum
delay, the tariff that prices the sessions), for the owner's API and pages.

Revision ID: 0010_owner
Revises: 0009_security
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_owner"
down_revision = "0009_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owned_charge_point",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("tariff_id", sa.String(64), nullable=False),
        sa.Column("hours_choice", sa.String(16), nullable=False),
        sa.Column("hours_schedule", sa.Text(), nullable=True),
        sa.Column("max_delay_s", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.station_id"],
            name=op.f("fk_owned_charge_point_station_id_station"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_owned_charge_point")),
    )
    op.create_index(op.f("ix_owned_charge_point_owner"), "owned_charge_point", ["owner"])


def downgrade() -> None:
    op.drop_index(op.f("ix_owned_charge_point_owner"), table_name="owned_charge_point")
    op.drop_table("owned_charge_point")
