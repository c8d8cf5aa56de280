"""Alembic environment of the smartcharge store, run from :func:`smartcharge.store.migrate.upgrade`.

Generic on purpose: ``target_metadata`` is the shared ``Base.metadata`` and every model module is
imported so that autogenerate sees all tables, including the OpenADR consent tables when present.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import smartcharge.store.models  # noqa: F401  (registers the Interface B tables)
from smartcharge.store.base import Base, make_engine

try:
    import smartcharge.store.consent  # noqa: F401  (Interface A tables, when that module exists)
except ImportError:
    pass

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
