"""Site load management settings and ready-by plans in the store, so a restarted CEM keeps them
(issue 12): the circuit tree, the site's charge points with their currents and priorities, token
priorities, the fail-safe setting, and the owners' plans.

Revision ID: 0012_plans_site
Revises: 0011_consent_chain
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_plans_site"
down_revision = "0011_consent_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_circuit",
        sa.Column("circuit_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(64), nullable=True),
        sa.Column("phase_limit_a", sa.Float(), nullable=True),
        sa.Column("power_limit_w", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("circuit_id", name=op.f("pk_site_circuit")),
    )
    op.create_table(
        "site_charge_point",
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("circuit_id", sa.String(64), nullable=False),
        sa.Column("phases", sa.String(8), nullable=False),
        sa.Column("max_current_a", sa.Float(), nullable=False),
        sa.Column("min_current_a", sa.Float(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_site_charge_point")),
    )
    op.create_table(
        "site_token_priority",
        sa.Column("id_token", sa.String(36), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id_token", name=op.f("pk_site_token_priority")),
    )
    op.create_table(
        "site_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("failsafe_current_a", sa.Float(), nullable=False),
        sa.Column("voltage_v", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_setting")),
    )
    op.create_table(
        "charge_plan",
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("recurring", sa.Boolean(), nullable=False),
        sa.Column("weekdays", sa.String(20), nullable=False),
        sa.Column("ready_by_local_min", sa.Integer(), nullable=True),
        sa.Column("ready_by_s", sa.BigInteger(), nullable=True),
        sa.Column("target_kwh", sa.Float(), nullable=True),
        sa.Column("target_soc", sa.Float(), nullable=True),
        sa.Column("battery_kwh", sa.Float(), nullable=True),
        sa.Column("soc_now", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_charge_plan")),
    )
    op.create_index(op.f("ix_charge_plan_station_id"), "charge_plan", ["station_id"])
    op.create_index(op.f("ix_charge_plan_owner"), "charge_plan", ["owner"])


def downgrade() -> None:
    op.drop_index(op.f("ix_charge_plan_owner"), table_name="charge_plan")
    op.drop_index(op.f("ix_charge_plan_station_id"), table_name="charge_plan")
    for table in ("charge_plan", "site_setting", "site_token_priority", "site_charge_point", "site_circuit"):
        op.drop_table(table)
