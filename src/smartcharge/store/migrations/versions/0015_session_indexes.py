"""The owner's sessions page reads totals per month and one month's rows in SQL (reg 9): each
session's price kept with the inputs it was priced from, and an index on (station, start) that
holds every column those reads use.

The price columns are derived data (cem.owner_sessions prices a session from its energy register
samples, the owner's tariff and the GB grid's carbon intensity); they start empty and each session
is priced the first time its owner reads it, again whenever its inputs change. They live in the
session's own row, so erasing a session erases its price with it (PRIV-6).

Revision ID: 0015_session_indexes
Revises: 0012_plans_site
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_session_indexes"
down_revision = "0012_plans_site"
branch_labels = None
depends_on = None

PRICE_COLUMNS = (
    ("priced_month", sa.String(7)),
    ("priced_cost_p", sa.Float()),
    ("priced_carbon_g", sa.Float()),
    ("priced_tariff_id", sa.String(64)),
    ("priced_started_at", sa.DateTime(timezone=True)),
    ("priced_stopped_at", sa.DateTime(timezone=True)),
    ("priced_meter_start_wh", sa.Float()),
    ("priced_meter_last_wh", sa.Float()),
)

#: The owner's reads filter on (station, start) and read only these: the index covers them.
PRICED_INDEX_COLUMNS = (
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
)


def upgrade() -> None:
    for name, kind in PRICE_COLUMNS:
        op.add_column("charging_session", sa.Column(name, kind, nullable=True))
    op.create_index("ix_charging_session_station_started", "charging_session", list(PRICED_INDEX_COLUMNS))


def downgrade() -> None:
    op.drop_index("ix_charging_session_station_started", table_name="charging_session")
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL), as 0011 does.
    for name, _ in reversed(PRICE_COLUMNS):
        op.execute(f"ALTER TABLE charging_session DROP COLUMN {name}")
