"""Apply the packaged Alembic migrations programmatically (no alembic.ini in the working directory).

The scripts live inside the package (``smartcharge/store/migrations``), so a pip-installed CEM can
bring any empty or older database up to date on start.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


_REVISION = re.compile(r'^revision\s*=\s*"([^"]+)"', re.MULTILINE)
_DOWN = re.compile(r'^down_revision\s*=\s*"([^"]+)"', re.MULTILINE)


@cache
def script_head() -> str | None:
    """The newest packaged revision, read from the scripts' text without importing Alembic
    (importing it costs about a second, paid by every command that opens a database)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        parents.update(_DOWN.findall(source))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the packaged scripts, bound to ``engine``'s database."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser interpolates '%': URL-encoded options (e.g. a search_path) must be escaped.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision`` (default: the newest).

    A database already at the newest revision is left alone without loading Alembic.
    """
    if revision == "head" and (head := script_head()) is not None and current_revision(engine) == head:
        return
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    logger.info("store migrated to %s on %s", revision, engine.dialect.name)


__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "script_head", "upgrade"]
