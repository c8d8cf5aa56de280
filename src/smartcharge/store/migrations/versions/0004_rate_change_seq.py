"""Rate changes keyed per change, not per second: ``rate_change`` gets the ``seq_no`` of the
transaction event that reported it, and its unique key becomes (station, transaction, seq_no).

Revision ID: 0004_rate_change_seq
Revises: 0003_limit_book
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_rate_change_seq"
down_revision = "0003_limit_book"
branch_labels = None
depends_on = None

# Rows written before this revision take the seq_no of the rate-change event recorded at the same
# time (every rate change was stored with its event, in one transaction).
_BACKFILL = (
    "UPDATE rate_change SET seq_no = (SELECT MIN(e.seq_no) FROM transaction_event e "
    "WHERE e.station_id = rate_change.station_id AND e.transaction_id = rate_change.transaction_id "
    "AND e.occurred_at = rate_change.changed_at AND e.trigger_reason = 'ChargingRateChanged')"
)


def upgrade() -> None:
    op.add_column("rate_change", sa.Column("seq_no", sa.Integer(), nullable=True))
    op.execute(_BACKFILL)
    op.execute("UPDATE rate_change SET seq_no = -id WHERE seq_no IS NULL")  # none expected; stays unique
    with op.batch_alter_table("rate_change", recreate="auto") as batch:
        batch.alter_column("seq_no", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint(op.f("uq_rate_change_station_id"), type_="unique")
        batch.create_unique_constraint(
            op.f("uq_rate_change_station_id"), ["station_id", "transaction_id", "seq_no"]
        )


def downgrade() -> None:
    # Two changes in one second cannot both survive the old key: keep the first of each second.
    op.execute(
        "DELETE FROM rate_change WHERE id NOT IN (SELECT MIN(id) FROM rate_change "
        "GROUP BY station_id, transaction_id, changed_at)"
    )
    with op.batch_alter_table("rate_change", recreate="auto") as batch:
        batch.drop_constraint(op.f("uq_rate_change_station_id"), type_="unique")
        batch.create_unique_constraint(
            op.f("uq_rate_change_station_id"), ["station_id", "transaction_id", "changed_at"]
        )
        batch.drop_column("seq_no")
