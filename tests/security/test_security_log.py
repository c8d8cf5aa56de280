"""The tamper-evident, aggregated, capped security log (SEC-D-9, SEC-S-6; ETSI EN 303 645 5.7;
issue 15: one fsync'd row per bad frame, no cap)."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from smartcharge.cem.service import SECURITY_LOG_KEY_FILE, open_store
from smartcharge.cli.main import app
from smartcharge.store.security_log import CLEARED, SecurityEventRecord, SecurityLog

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _event(i: int, kind: str = "StationRefused", detail: str = "wrong password") -> SecurityEventRecord:
    return SecurityEventRecord(T0 + timedelta(seconds=i), "S1", kind, detail, "127.0.0.1")


def _fill(log: SecurityLog, n: int) -> None:
    for i in range(n):
        log.record(_event(i, kind=f"E{i}", detail=f"d{i}"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'cem.db'}"


def test_clean_chain_verifies_and_names_its_head(url: str, data_dir: Path) -> None:
    store = open_store(url)
    _fill(store.security, 5)
    result = store.security.verify()
    assert result.ok and result.checked == 5 and result.head_seq == 5
    assert result.line().startswith("ok: 5 entries verified, head seq 5 ")


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "reason"),
    [
        ("UPDATE security_event SET detail = 'nothing happened' WHERE seq = 3", 3, "edited"),
        ("UPDATE security_event SET count = 1 WHERE seq = 2", None, None),  # unchanged value: still ok
        ("DELETE FROM security_event WHERE seq = 3", 3, "entries seq 3..3 removed"),
        ("DELETE FROM security_event WHERE seq IN (1, 2)", 3, "entries before seq 3 removed"),
        ("UPDATE security_event SET occurred_at = '2026-01-01 00:00:00.000000' WHERE seq = 4", 4, "edited"),
        ("UPDATE security_event SET entry_hash = NULL, seq = NULL WHERE seq = 5", None, "without a chain"),
    ],
)
def test_any_edited_or_removed_entry_is_named(
    url: str, tamper: str, bad_seq: int | None, reason: str | None
) -> None:
    """Someone with write access to the database edits or removes rows: --verify names the first
    bad entry (ETSI 5.7-2); an UPDATE that changes nothing is not a false alarm."""
    store = open_store(url)
    _fill(store.security, 6)
    with store.engine.begin() as conn:
        conn.execute(text(tamper))
    result = store.security.verify()
    if reason is None:
        assert result.ok, result.line()
        return
    assert not result.ok
    assert reason in result.reason
    if bad_seq is not None:
        assert result.bad_seq == bad_seq


def test_rebuilt_chain_without_the_key_is_detected(url: str) -> None:
    """An attacker who edits a row and recomputes the hashes with a key of their own (they cannot
    read ours) still fails verification: the chain is keyed (HMAC-SHA256)."""
    store = open_store(url)
    _fill(store.security, 4)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE security_event SET detail = 'forged' WHERE seq = 2"))
    forger = SecurityLog(store.engine, b"attacker-key-of-32-bytes-length!")
    from smartcharge.store.security_log import GENESIS, entry_hash

    prev = GENESIS
    with store.engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            for row in forger.iter_rows():
                row = session.merge(row)
                row.prev_hash = prev
                row.entry_hash = prev = entry_hash(b"attacker-key-of-32-bytes-length!", row)
            session.flush()
    result = store.security.verify()
    assert not result.ok and result.bad_seq == 1 and "HMAC" in result.reason


def test_repeats_are_aggregated_with_a_count(url: str) -> None:
    """1,000 identical refusals in 10 s: a handful of rows, the count is exact (issue 15)."""
    store = open_store(url)
    for i in range(1000):
        store.security.record(
            SecurityEventRecord(T0 + timedelta(milliseconds=10 * i), "S1", "X", "same", "1.2.3.4")
        )
    assert store.security.count("X") == 1000
    rows = store.security.recent(100)
    assert 2 <= len(rows) <= 12, len(rows)
    assert sum(r.count for r in rows) == 1000
    assert rows[-1].count == 1 and rows[0].last_at is not None
    assert store.security.verify().ok


def test_a_different_event_is_written_at_once_and_keeps_the_order(url: str) -> None:
    store = open_store(url)
    store.security.record(_event(0))
    store.security.record(_event(1))  # a repeat: counted
    store.security.record(_event(2, kind="InvalidMessages", detail="bad frame"))
    kinds = [(r.event_type, r.count) for r in reversed(store.security.recent(10))]
    assert kinds == [("StationRefused", 1), ("StationRefused", 1), ("InvalidMessages", 1)]


def test_growth_is_capped_and_the_pruning_is_itself_logged(url: str) -> None:
    """Beyond max_rows the oldest rows go in one step, a SecurityLogWasCleared row says so, and the
    chain still verifies; deleting more of the oldest rows by hand is still detected."""
    store = open_store(url)
    log = SecurityLog(store.engine, b"k" * 32, max_rows=50)
    _fill(log, 300)
    assert log.rows() <= 51
    assert log.count(CLEARED) >= 1
    result = log.verify()
    assert result.ok, result.line()
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM security_event WHERE id = (SELECT MIN(id) FROM security_event)"))
    assert not log.verify().ok


def test_key_and_database_are_private_files(url: str, data_dir: Path) -> None:
    """Data directory 0700, database and HMAC key 0600 whatever the umask (SEC-D-4, issue 15)."""
    old = os.umask(0o022)
    try:
        store = open_store(url)
        store.security.record(_event(0))
    finally:
        os.umask(old)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "cem.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / SECURITY_LOG_KEY_FILE).stat().st_mode) == 0o600
    assert "key" not in repr(store.security).replace("<key hidden>", "")


def test_cli_verify_one_line_and_exit_code(data_dir: Path) -> None:
    """``smartcharge cem security-log --verify``: one line; exit 0 when intact, 1 naming the first
    bad entry when a row was edited."""
    runner = CliRunner()
    store = open_store(f"sqlite:///{data_dir / 'cem.db'}")
    _fill(store.security, 3)
    ok = runner.invoke(app, ["cem", "security-log", "--verify", "--data-dir", str(data_dir)])
    assert ok.exit_code == 0 and ok.output.startswith("ok: 3 entries verified")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE security_event SET station_id = 'S9' WHERE seq = 2"))
    bad = runner.invoke(app, ["cem", "security-log", "--verify", "--data-dir", str(data_dir)])
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines() == [
        "TAMPERED: entry seq 2 (row id 2): contents do not match its HMAC (edited)"
    ]


def test_data_dir_created_private_by_the_cli(tmp_path: Path) -> None:
    """The CLI's default SQLite data directory is created 0700, the database 0600 (issue 15)."""
    runner = CliRunner()
    directory = tmp_path / "fresh"
    result = runner.invoke(app, ["cem", "security-log", "--data-dir", str(directory)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "cem.db").stat().st_mode) == 0o600
