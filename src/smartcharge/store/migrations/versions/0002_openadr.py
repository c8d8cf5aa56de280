"""Interface A tables: consent ledger (append-only, enforced by triggers), per-DSRSP credentials
and data, OpenADR security log, and the DSRSP's CEM registry, opts and readings.

Revision ID: 0002_openadr
Revises: 0001_ocpp
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_openadr"
down_revision = "0001_ocpp"
branch_labels = None
depends_on = None


_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER consent_record_no_{verb.lower()} BEFORE {verb} ON consent_record "
    "BEGIN SELECT RAISE(ABORT, 'consent_record is append-only'); END"
    for verb in ("UPDATE", "DELETE")
]
_PG_FUNCTION = (
    "CREATE FUNCTION consent_record_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'consent_record is append-only'; END $$"
)
_PG_TRIGGER = (
    "CREATE TRIGGER consent_record_append_only BEFORE UPDATE OR DELETE ON consent_record "
    "FOR EACH ROW EXECUTE FUNCTION consent_record_append_only()"
)


def _append_only() -> None:
    """The consent ledger refuses UPDATE and DELETE in the database too (PRIV-3, SEC-D-9)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)


def upgrade() -> None:
    op.create_table(
        "consent_record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dsrsp_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("may_control", sa.Boolean(), nullable=False),
        sa.Column("may_read", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vtn_url", sa.String(length=300), nullable=False),
        sa.Column("vtn_fingerprint", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_record")),
    )
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_record_dsrsp_id"), ["dsrsp_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_record_recorded_at"), ["recorded_at"], unique=False)

    op.create_table(
        "dsr_provider_credential",
        sa.Column("dsrsp_id", sa.String(length=64), nullable=False),
        sa.Column("ven_id", sa.String(length=64), nullable=False),
        sa.Column("registration_id", sa.String(length=64), nullable=False),
        sa.Column("vtn_url", sa.String(length=300), nullable=False),
        sa.Column("vtn_fingerprint", sa.String(length=32), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dsrsp_id", name=op.f("pk_dsr_provider_credential")),
    )
    op.create_table(
        "dsr_provider_data",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dsrsp_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_provider_data")),
    )
    with op.batch_alter_table("dsr_provider_data", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dsr_provider_data_dsrsp_id"), ["dsrsp_id"], unique=False)

    op.create_table(
        "dsrsp_cem",
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("ven_name", sa.String(length=64), nullable=False),
        sa.Column("ven_id", sa.String(length=64), nullable=False),
        sa.Column("registration_id", sa.String(length=64), nullable=True),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_dsrsp_cem")),
        sa.UniqueConstraint("ven_id", name=op.f("uq_dsrsp_cem_ven_id")),
    )
    op.create_table(
        "dsrsp_opt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ven_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("opt", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsrsp_opt")),
    )
    with op.batch_alter_table("dsrsp_opt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dsrsp_opt_ven_id"), ["ven_id"], unique=False)

    op.create_table(
        "dsrsp_reading",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ven_id", sa.String(length=64), nullable=False),
        sa.Column("report_name", sa.String(length=64), nullable=False),
        sa.Column("r_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsrsp_reading")),
    )
    with op.batch_alter_table("dsrsp_reading", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dsrsp_reading_ven_id"), ["ven_id"], unique=False)

    op.create_table(
        "openadr_security_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("peer", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_openadr_security_event")),
    )
    with op.batch_alter_table("openadr_security_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_openadr_security_event_occurred_at"), ["occurred_at"], unique=False
        )
    _append_only()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS consent_record_append_only ON consent_record")
        op.execute("DROP FUNCTION IF EXISTS consent_record_append_only()")
    with op.batch_alter_table("openadr_security_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_openadr_security_event_occurred_at"))

    op.drop_table("openadr_security_event")
    with op.batch_alter_table("dsrsp_reading", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsrsp_reading_ven_id"))

    op.drop_table("dsrsp_reading")
    with op.batch_alter_table("dsrsp_opt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsrsp_opt_ven_id"))

    op.drop_table("dsrsp_opt")
    op.drop_table("dsrsp_cem")
    with op.batch_alter_table("dsr_provider_data", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsr_provider_data_dsrsp_id"))

    op.drop_table("dsr_provider_data")
    op.drop_table("dsr_provider_credential")
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_record_recorded_at"))
        batch_op.drop_index(batch_op.f("ix_consent_record_dsrsp_id"))

    op.drop_table("consent_record")
