"""Meter values keyed by phase, location and context too, and the CEM's receipt time beside the
station's (issue 15).

* ``meter_value`` gets ``phase`` ("" when the value is not per phase), ``location`` (OCPP default
  ``Outlet``) and ``context`` (OCPP default ``Sample.Periodic``), and its unique key becomes
  (station, transaction, time, measurand, phase, location, context): L1, L2 and L3 of one
  measurand at one time are three rows. Existing rows keep their values and take the defaults.
* ``transaction_event`` and ``charging_session`` get ``received_at`` (the CEM's clock when the
  message arrived) and ``time_suspect`` (the station's time was implausible, e.g. 1970 before
  its clock was set).

Revision ID: 0005_meter_key
Revises: 0004_rate_change_seq
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_meter_key"
down_revision = "0004_rate_change_seq"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)
_OLD_KEY = ["station_id", "transaction_id", "measured_at", "measurand"]
_NEW_KEY = [*_OLD_KEY, "phase", "location", "context"]


def upgrade() -> None:
    with op.batch_alter_table("meter_value", recreate="auto") as batch:
        batch.add_column(sa.Column("phase", sa.String(8), nullable=False, server_default=""))
        batch.add_column(sa.Column("location", sa.String(16), nullable=False, server_default="Outlet"))
        batch.add_column(
            sa.Column("context", sa.String(32), nullable=False, server_default="Sample.Periodic")
        )
        batch.drop_constraint(op.f("uq_meter_value_station_id"), type_="unique")
        batch.create_unique_constraint(op.f("uq_meter_value_station_id"), _NEW_KEY)
    for table in ("transaction_event", "charging_session"):
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.add_column(sa.Column("received_at", _TZ, nullable=True))
            batch.add_column(
                sa.Column("time_suspect", sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    for table in ("transaction_event", "charging_session"):
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.drop_column("time_suspect")
            batch.drop_column("received_at")
    # The old key holds one value per (time, measurand): keep the first of each.
    op.execute(
        "DELETE FROM meter_value WHERE id NOT IN (SELECT MIN(id) FROM meter_value "
        "GROUP BY station_id, transaction_id, measured_at, measurand)"
    )
    with op.batch_alter_table("meter_value", recreate="auto") as batch:
        batch.drop_constraint(op.f("uq_meter_value_station_id"), type_="unique")
        batch.create_unique_constraint(op.f("uq_meter_value_station_id"), _OLD_KEY)
        batch.drop_column("context")
        batch.drop_column("location")
        batch.drop_column("phase")
