"""Tamper-evident, aggregated security log: ``security_event`` gets a sequence number, a count of
identical events the row stands for, the time of the last of them, and an HMAC chain
(``prev_hash`` -> ``entry_hash``). Rows written before this revision keep NULL there: they are
reported as unchained by ``smartcharge cem security-log --verify``.

Revision ID: 0009_security
Revises: 0007_web_auth
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_security"
down_revision = "0007_web_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("security_event", recreate="auto") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("count", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("entry_hash", sa.String(64), nullable=True))
        batch.create_unique_constraint(op.f("uq_security_event_seq"), ["seq"])


def downgrade() -> None:
    with op.batch_alter_table("security_event", recreate="auto") as batch:
        batch.drop_constraint(op.f("uq_security_event_seq"), type_="unique")
        for column in ("entry_hash", "prev_hash", "last_at", "count", "seq"):
            batch.drop_column(column)
