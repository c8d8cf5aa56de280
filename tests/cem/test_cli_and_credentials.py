"""Station registration and the owner's data from the command line; password and handshake rules
(SEC-D-2, SEC-S-1, SEC-S-2, PRIV-6, reg 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartcharge.cem.auth import refusal_reason
from smartcharge.cem.credentials import PASSWORD_ALPHABET, hash_password, new_password, verify_password
from smartcharge.cem.service import open_store
from smartcharge.cli.main import app
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.server import Credentials

runner = CliRunner()


def test_add_station_prints_a_unique_password_once_and_stores_only_its_hash(sqlite_url: str) -> None:
    """Each station gets its own 16-40 character random password from the OCPP charset; only an
    argon2id hash is stored (SEC-D-2, SEC-S-2)."""
    passwords = []
    for sid in ("CLI-1", "CLI-2"):
        result = runner.invoke(app, ["cem", "add-station", "--id", sid, "--profile", "2", "--db", sqlite_url])
        assert result.exit_code == 0, result.output
        passwords.append(result.output.strip().splitlines()[-1])
    assert passwords[0] != passwords[1]
    for password in passwords:
        assert 16 <= len(password) <= 40 and set(password) <= set(PASSWORD_ALPHABET)
    record = open_store(sqlite_url).stations.get("CLI-1")
    assert record is not None and record.password_hash.startswith("$argon2id$")
    assert passwords[0] not in record.password_hash
    assert verify_password(record.password_hash, passwords[0])


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--id", "bad id", "--profile", "1"], "id="),
        (["--id", "OK", "--profile", "4"], "profile=4"),
    ],
)
def test_add_station_refuses_bad_input(sqlite_url: str, args: list[str], field: str) -> None:
    """A malformed id or an unknown profile is refused with the field named (SEC-D-6)."""
    result = runner.invoke(app, ["cem", "add-station", *args, "--db", sqlite_url])
    assert result.exit_code == 2 and field in result.output


def test_add_station_twice_is_refused(sqlite_url: str) -> None:
    """Registering an id again never resets its password to a new value silently."""
    assert runner.invoke(app, ["cem", "add-station", "--id", "TWICE", "--db", sqlite_url]).exit_code == 0
    again = runner.invoke(app, ["cem", "add-station", "--id", "TWICE", "--db", sqlite_url])
    assert again.exit_code == 2 and "already registered" in again.output


def test_export_sessions_and_erase_from_cli(sqlite_url: str, tmp_path: Path) -> None:
    """The owner's sessions can be listed (reg 9), exported to JSON and erased (PRIV-6)."""
    from datetime import UTC, datetime

    from smartcharge.store.session_repo import MeterSample, TransactionRecord

    runner.invoke(app, ["cem", "add-station", "--id", "OWN1", "--db", sqlite_url])
    store = open_store(sqlite_url)
    now = datetime.now(UTC).replace(microsecond=0)
    sample = MeterSample(now, "Energy.Active.Import.Register", 10.0, "Wh")
    store.sessions.record_event(
        TransactionRecord("OWN1", "TX-9", 0, "Started", "Authorized", now, samples=(sample,))
    )
    listed = runner.invoke(app, ["cem", "sessions", "--station", "OWN1", "--db", sqlite_url])
    assert listed.exit_code == 0 and "TX-9" in listed.output
    out = tmp_path / "own1.json"
    exported = runner.invoke(
        app, ["cem", "export", "--station", "OWN1", "--out", str(out), "--db", sqlite_url]
    )
    assert exported.exit_code == 0
    assert json.loads(out.read_text())["sessions"][0]["transaction_id"] == "TX-9"
    refused = runner.invoke(app, ["cem", "erase", "--station", "OWN1", "--db", sqlite_url])
    assert refused.exit_code == 2 and "still running" in refused.output  # issue 15: it would not hold
    store.sessions.record_event(TransactionRecord("OWN1", "TX-9", 1, "Ended", "EVCommunicationLost", now))
    erased = runner.invoke(app, ["cem", "erase", "--station", "OWN1", "--db", sqlite_url])
    assert erased.exit_code == 0 and "4 rows erased" in erased.output
    assert store.sessions.export("OWN1")["sessions"] == []


def test_password_rules_are_enforced() -> None:
    """Outside 16-40 characters or the OCPP charset is refused, never trimmed (SEC-S-2)."""
    with pytest.raises(ValidationError, match="length"):
        new_password(15)
    with pytest.raises(ValidationError, match="password"):
        hash_password("short")
    with pytest.raises(ValidationError, match="password"):
        hash_password("a" * 20 + " space")
    assert not verify_password(hash_password("A" * 20), "B" * 20)
    assert not verify_password("not-a-hash", "A" * 20)


def _creds(station: str, password: str | None, cn: str | None, tls: bool) -> Credentials:
    return Credentials(station, password, cn, tls, "127.0.0.1")


def test_handshake_rules_per_security_profile() -> None:
    """Unknown stations, downgrades, wrong passwords and certificates naming someone else are
    refused; each profile's proper credentials pass (SEC-S-1)."""
    pw = "Q" * 20
    h = hash_password(pw)
    assert refusal_reason(_creds("A", pw, None, False), None, None) == "unknown station"
    assert refusal_reason(_creds("A", pw, None, False), 1, h) is None
    assert refusal_reason(_creds("A", "W" * 20, None, False), 1, h) == "wrong password"
    assert refusal_reason(_creds("A", pw, None, True), 2, h) is None
    assert "profile 2 but connected at profile 1" in refusal_reason(_creds("A", pw, None, False), 2, h)
    assert refusal_reason(_creds("A", None, "A", True), 3, None) is None
    assert "profile 3" in refusal_reason(_creds("A", pw, None, True), 3, h)
    assert (
        refusal_reason(_creds("A", None, "B", True), 3, None)
        == "client certificate subject does not name this station"
    )
