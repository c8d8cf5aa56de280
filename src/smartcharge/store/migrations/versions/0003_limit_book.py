"""The CEM's limit book (ARB-5 limits per source, site-wide or per charge point), kept across restarts.

Revision ID: 0003_limit_book
Revises: 0002_openadr
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_limit_book"
down_revision = "0002_openadr"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "limit_book_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("source", sa.Integer(), nullable=False),
        sa.Column("limit_w", sa.Float(), nullable=False),
        sa.Column("until_s", sa.BigInteger(), nullable=True),
        sa.Column("exempt_from_delay", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_limit_book_entry")),
        sa.UniqueConstraint("station_id", "source", name=op.f("uq_limit_book_entry_station_id")),
    )


def downgrade() -> None:
    op.drop_table("limit_book_entry")
