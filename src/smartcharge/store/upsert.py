"""Insert-or-ignore on SQLite and PostgreSQL: the de-duplication every replayed message relies on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_duplicates(session: Session, table: Table, rows: list[dict[str, Any]]) -> int:
    """Insert ``rows``; a row whose unique key exists already is skipped. Returns rows inserted."""
    if not rows:
        return 0
    name = session.get_bind().dialect.name
    stmt: Any
    if name == "postgresql":
        stmt = postgresql.insert(table).values(rows).on_conflict_do_nothing()
    elif name == "sqlite":
        stmt = sqlite.insert(table).values(rows).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two supported databases are configured
        raise NotImplementedError(f"database {name!r} is not supported (SQLite or PostgreSQL)")
    # RETURNING counts what was really inserted; rowcount is not reliable for this on every driver.
    key = next(iter(table.primary_key.columns))
    return len(session.execute(stmt.returning(key)).all())


__all__ = ["insert_ignoring_duplicates"]
