"""The secret key of the consent ledger's chain, kept outside the database (SEC-D-9, PRIV-3).

The chain of :mod:`smartcharge.store.consent` is an HMAC under this key, so a person who can write
the database but not the CEM's data directory cannot forge entries or rebuild the chain. The key
file is created once, 0600 in a 0700 directory, beside a SQLite database or in the data directory
(``SMARTCHARGE_DATA_DIR``) for a server database; ``SMARTCHARGE_LEDGER_KEY_FILE`` names it
explicitly. It also records how many rows the ledger held when it was keyed: those rows were
written under the unkeyed first scheme and are checked with it; every later row must be keyed.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from smartcharge.core.errors import SmartchargeError
from smartcharge.store.private_files import DATA_DIR_ENV, default_data_dir, write_private_once

KEY_FILE_ENV = "SMARTCHARGE_LEDGER_KEY_FILE"
KEY_BYTES = 32


class LedgerKeyError(SmartchargeError):
    """The ledger's key file is missing (with keyed entries present), unreadable or malformed."""


@dataclass(frozen=True, slots=True)
class LedgerKey:
    """The chain key and the number of unkeyed rows that came before it."""

    secret: bytes
    legacy_rows: int
    path: Path | None


def key_path(engine: Engine) -> Path | None:
    """Where the key of the ledger in ``engine``'s database lives (None: in-memory SQLite)."""
    explicit = os.environ.get(KEY_FILE_ENV)
    if explicit:
        return Path(explicit)
    url = engine.url
    if url.get_backend_name() == "sqlite":
        database = url.database
        if not database or database == ":memory:":
            return None
        db = Path(database)
        return db.with_name(db.name + ".ledger-key")
    return default_data_dir() / f"ledger-{url.host or 'local'}-{url.port or 0}-{url.database}.key"


def load_or_create(path: Path | None, count_rows: Callable[[], tuple[int, int]]) -> LedgerKey:
    """Read the key at ``path``, or make one when none exists yet.

    ``count_rows`` returns (all rows, keyed rows) of the ledger: a missing key file with keyed rows
    present is refused (the chain could no longer be checked), never silently replaced.
    """
    if path is None:
        return LedgerKey(secrets.token_bytes(KEY_BYTES), count_rows()[0], None)
    if path.exists():
        return _read(path)
    total, keyed = count_rows()
    if keyed and path.exists():  # another process made the key (and wrote with it) meanwhile
        return _read(path)
    if keyed:
        raise LedgerKeyError(
            f"consent ledger key {path} is missing but {keyed} entries were written with it: "
            "restore the key file; the chain cannot be checked without it"
        )
    return _create(path, total)


def _read(path: Path) -> LedgerKey:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        secret = bytes.fromhex(str(data["key"]))
        legacy = int(data["legacy_rows"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LedgerKeyError(f"consent ledger key {path} cannot be read: {exc}") from None
    if len(secret) < KEY_BYTES or legacy < 0:
        raise LedgerKeyError(f"consent ledger key {path} is malformed")
    return LedgerKey(secret, legacy, path)


def _create(path: Path, legacy_rows: int) -> LedgerKey:
    """Write a new key once; of two processes (or threads) racing, the second reads the first's."""
    secret = secrets.token_bytes(KEY_BYTES)
    body = json.dumps({"key": secret.hex(), "legacy_rows": legacy_rows}).encode()
    if not write_private_once(path, body):
        return _read(path)
    return LedgerKey(secret, legacy_rows, path)


__all__ = ["DATA_DIR_ENV", "KEY_FILE_ENV", "LedgerKey", "LedgerKeyError", "key_path", "load_or_create"]
