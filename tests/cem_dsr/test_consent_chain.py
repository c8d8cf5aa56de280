"""The consent ledger's chain, as found by reading the code (SEC-D-9, PRIV-3):

- fields were joined with ``|``, so actor ``owner|installer`` with reason ``moved`` hashed like actor
  ``owner`` with reason ``installer|moved``: the canonical form is now JSON with sorted keys;
- the plain SHA-256 had no key, so anyone able to write the database could rebuild the chain: it
  is now an HMAC under a key kept outside the database;
- every append re-read and re-hashed the whole table: an append now hashes one entry.
On SQLite and PostgreSQL, through the migrations (0011_consent_chain keeps old rows as they are).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import smartcharge.policy.consent as consent_rules
import smartcharge.store.consent as consent_store
from smartcharge.cem.consent import ConsentLedger
from smartcharge.policy.consent import ConsentAction, ConsentEntry, chain_hash, legacy_chain_hash
from smartcharge.store.base import make_engine
from smartcharge.store.consent import ConsentRow, ConsentStore, LedgerTamperedError
from smartcharge.store.ledger_key import KEY_FILE_ENV, LedgerKeyError, key_path
from smartcharge.store.migrate import alembic_config, upgrade

FP = "AA:BB:CC:DD:EE:FF:00:11:22:33"
URL = "https://dsrsp-a.invalid/OpenADR2/Simple/2.0b"
NOW_S = 1_795_600_000


def _entry(actor: str, reason: str) -> ConsentEntry:
    return ConsentEntry("DSRSP-A", ConsentAction.REVOKE, NOW_S, actor=actor, reason=reason)


def test_fields_cannot_shift_into_each_other() -> None:
    a, b = _entry("owner|installer", "moved"), _entry("owner", "installer|moved")
    assert a.legacy_canonical() == b.legacy_canonical()  # the old form was ambiguous
    assert a.canonical() != b.canonical()
    assert chain_hash("", a, b"k" * 32) != chain_hash("", b, b"k" * 32)


def test_the_chain_depends_on_the_key() -> None:
    entry = _entry("owner", "")
    assert chain_hash("", entry, b"a" * 32) != chain_hash("", entry, b"b" * 32)
    with pytest.raises(ValueError, match="secret key"):
        chain_hash("", entry, b"")


def _ledger(url: str) -> tuple[ConsentLedger, object]:
    engine = make_engine(url)
    upgrade(engine)
    return ConsentLedger(ConsentStore(engine), clock=lambda: NOW_S), engine


def _rebuild_without_key(engine) -> None:
    """What a database-only attacker can do: drop the triggers, edit, and re-seal the chain."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER consent_record_no_update"))
        else:
            conn.execute(text("DROP TRIGGER consent_record_append_only ON consent_record"))
        conn.execute(text("UPDATE consent_record SET actor = 'attacker'"))
    with Session(engine) as session:
        rows = session.scalars(select(ConsentRow).order_by(ConsentRow.id)).all()
        entries = [(row.id, consent_store._entry_from_row(row)) for row in rows]
    previous = ""
    with engine.begin() as conn:
        for row_id, entry in entries:
            forged = chain_hash(previous, entry, b"guessed-key-of-the-attacker-0000")
            conn.execute(
                text("UPDATE consent_record SET chain_hash = :h WHERE id = :i"), {"h": forged, "i": row_id}
            )
            previous = forged


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "private_postgres_url"])
def test_a_chain_rebuilt_without_the_key_is_detected(request, url_fixture: str) -> None:
    ledger, engine = _ledger(request.getfixturevalue(url_fixture))
    try:
        ledger.grant("DSRSP-A", URL, FP)
        ledger.revoke("DSRSP-A", reason="moved house")
        assert len(ledger.history()) == 2
        _rebuild_without_key(engine)
        with pytest.raises(LedgerTamperedError, match="does not match its chain hash"):
            ConsentLedger(ConsentStore(engine)).history()
    finally:
        engine.dispose()


def test_the_key_file_is_private_and_its_loss_is_refused(sqlite_url: str) -> None:
    ledger, engine = _ledger(sqlite_url)
    try:
        ledger.grant("DSRSP-A", URL, FP)
        path = key_path(engine)
        assert path is not None and path.is_file()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        path.unlink()
        with pytest.raises(LedgerKeyError, match="missing but 1 entries were written with it"):
            ConsentLedger(ConsentStore(engine)).history()
    finally:
        engine.dispose()


def test_an_append_hashes_one_entry_whatever_the_ledger_length(sqlite_url: str, monkeypatch) -> None:
    ledger, engine = _ledger(sqlite_url)
    try:
        for k in range(30):
            ledger.grant(f"DSRSP-R{k}", "", "", may_control=False, reads=frozenset(consent_rules.ReadScope))
        calls = []
        original = consent_store.chain_hash
        monkeypatch.setattr(consent_store, "chain_hash", lambda *a: calls.append(a) or original(*a))
        ledger.grant("DSRSP-A", URL, FP)
        assert len(calls) == 1
    finally:
        engine.dispose()


def test_rows_from_before_the_key_are_kept_and_checked(tmp_path: Path, monkeypatch) -> None:
    """Revision 0011 keeps a first-scheme ledger as it is; new rows are keyed; both verify, and a
    first-scheme row that is edited is still caught."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    try:
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0004_rate_change_seq")
        old = ConsentEntry(
            "DSRSP-A",
            ConsentAction.GRANT,
            NOW_S - 10,
            may_control=True,
            vtn_url=URL,
            vtn_fingerprint=FP,
            valid_from_s=NOW_S - 10,
        )
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO consent_record (recorded_at, dsrsp_id, action, may_control, may_read,"
                    " valid_from, valid_until, vtn_url, vtn_fingerprint, actor, reason, chain_hash)"
                    " VALUES (:t, 'DSRSP-A',"
                    " 'grant', 1, '', :t, NULL, :u, :f, 'owner', '', :h)"
                ),
                {"t": consent_store._utc(NOW_S - 10), "u": URL, "f": FP, "h": legacy_chain_hash("", old)},
            )
        upgrade(engine)
        ledger = ConsentLedger(ConsentStore(engine), clock=lambda: NOW_S)
        ledger.revoke("DSRSP-A", reason="switching")
        assert [e.action for e in ledger.history()] == [ConsentAction.GRANT, ConsentAction.REVOKE]
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER consent_record_no_update"))
            conn.execute(text("UPDATE consent_record SET reason = 'edited' WHERE id = 1"))
        with pytest.raises(LedgerTamperedError, match="consent record 1"):
            ConsentLedger(ConsentStore(engine)).history()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0004_rate_change_seq")
    finally:
        engine.dispose()


def test_the_key_file_can_be_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "keys" / "ledger.key"))
    ledger, engine = _ledger(f"sqlite:///{tmp_path / 'cem.db'}")
    try:
        ledger.grant("DSRSP-A", URL, FP)
        assert (tmp_path / "keys" / "ledger.key").is_file()
        assert stat.S_IMODE(os.stat(tmp_path / "keys").st_mode) == 0o700
    finally:
        engine.dispose()
