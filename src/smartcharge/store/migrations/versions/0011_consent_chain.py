"""The consent ledger's chain becomes keyed: each row says which chain scheme sealed it.

Rows written before this revision keep their unkeyed SHA-256 chain (scheme 1, server default);
the application writes every new row with the keyed HMAC scheme 2 (see
``smartcharge.store.ledger_key``). No row is rewritten: the ledger stays append-only.

Revision ID: 0011_consent_chain
Revises: 0010_owner
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_consent_chain"
down_revision = "0010_owner"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "consent_record", sa.Column("chain_scheme", sa.Integer(), nullable=False, server_default="1")
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy of the table would lose the
    # triggers that keep the ledger append-only.
    op.execute("ALTER TABLE consent_record DROP COLUMN chain_scheme")
