"""The CEM's data directory and the private files in it (SEC-D-4, ETSI EN 303 645 5.4-1).

The directory holds the database, the security-log key and the CA's key: it is created 0700 and
every file in it that holds a secret or personal data is 0600, whatever the process umask. A
directory or file found with wider permissions is narrowed, not trusted as it is.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

DATA_DIR_ENV = "SMARTCHARGE_DATA_DIR"
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def default_data_dir() -> Path:
    """``SMARTCHARGE_DATA_DIR``, else ``~/.local/share/smartcharge`` (XDG data home)."""
    return Path(os.environ.get(DATA_DIR_ENV) or Path.home() / ".local/share/smartcharge")


def ensure_private_dir(directory: Path) -> Path:
    """Create ``directory`` (and parents) and make it 0700."""
    directory.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    if directory.stat().st_mode & 0o777 != DIRECTORY_MODE:
        directory.chmod(DIRECTORY_MODE)
    return directory


def ensure_private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, and make it 0600 (the database before SQLite opens it:
    SQLite gives its -wal and -shm files the mode of the database file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    if path.stat().st_mode & 0o777 != FILE_MODE:
        path.chmod(FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new file readable by its owner only (never briefly world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    if path.stat().st_mode & 0o777 != FILE_MODE:
        path.chmod(FILE_MODE)
    return path


def write_private_once(path: Path, data: bytes) -> bool:
    """Create ``path`` (0600) holding ``data`` unless it exists; False when it already did.

    The data goes to a private temporary file that is then linked into place, so the file appears
    whole or not at all, and of two processes (or threads) racing, exactly one writes it."""
    ensure_private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
    finally:
        os.unlink(temporary)
    return True


def sqlite_path(database_url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None (in-memory SQLite, PostgreSQL)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def secure_database_file(database_url: str) -> None:
    """For a SQLite file: its directory 0700 if it is ours to create, the file itself 0600."""
    path = sqlite_path(database_url)
    if path is None:
        return
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    ensure_private_file(path)


def key_directory(database_url: str, data_dir: Path | None = None) -> Path:
    """Where the CEM keeps its keys: the data directory given, else the SQLite file's directory,
    else the default data directory (a PostgreSQL CEM still has a private directory of its own)."""
    if data_dir is not None:
        return data_dir
    path = sqlite_path(database_url)
    return path.parent if path is not None else default_data_dir()


def load_or_create_key(path: Path, size_bytes: int = 32) -> bytes:
    """A random secret key kept in ``path`` (0600), created on first use. Never logged."""
    if not path.exists():
        write_private_once(path, secrets.token_bytes(size_bytes))  # a racing writer may win
    if path.stat().st_mode & 0o077:
        path.chmod(FILE_MODE)
    data = path.read_bytes()
    if len(data) < 16:
        raise ValueError(f"key file {path.name} is shorter than 16 bytes")
    return data


__all__ = [
    "DATA_DIR_ENV",
    "DIRECTORY_MODE",
    "FILE_MODE",
    "default_data_dir",
    "ensure_private_dir",
    "ensure_private_file",
    "key_directory",
    "load_or_create_key",
    "secure_database_file",
    "sqlite_path",
    "write_private",
    "write_private_once",
]
