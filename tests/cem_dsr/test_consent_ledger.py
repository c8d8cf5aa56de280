"""The owner's consent ledger per DSRSP: append-only, hash-chained, scoped and time-bounded
(PRIV-3, ETSI 6-2/6-3, ARB-7), on SQLite and PostgreSQL through the migrations."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from smartcharge.cem.consent import ConsentLedger
from smartcharge.core.errors import ValidationError
from smartcharge.policy.consent import ConsentAction, ReadScope
from smartcharge.store.base import make_engine
from smartcharge.store.consent import ConsentRow, ConsentStore, LedgerTamperedError
from smartcharge.store.migrate import upgrade

FP = "AA:BB:CC:DD:EE:FF:00:11:22:33"
URL = "https://dsrsp-a.invalid/OpenADR2/Simple/2.0b"


class Clock:
    def __init__(self) -> None:
        self.now_s = 1_795_600_000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


@pytest.fixture
def make_ledger(engines: list[Engine]) -> Callable[[str], tuple[ConsentLedger, Clock, Engine]]:
    def make(url: str) -> tuple[ConsentLedger, Clock, Engine]:
        engine = make_engine(url)
        engines.append(engine)
        upgrade(engine)
        clock = Clock()
        return ConsentLedger(ConsentStore(engine), clock), clock, engine

    return make


def _grant_revoke_cycle(ledger: ConsentLedger, clock: Clock) -> None:
    ledger.grant(
        "DSRSP-A", URL, FP, reads=frozenset({ReadScope.TELEMETRY}), valid_until_s=int(clock.now_s) + 3600
    )
    assert ledger.controlling() is not None and ledger.controlling().dsrsp_id == "DSRSP-A"
    assert ledger.may_read("DSRSP-A", ReadScope.TELEMETRY)
    assert not ledger.may_read("DSRSP-A", ReadScope.OFFERS)
    clock.now_s += 60
    ledger.revoke("DSRSP-A", reason="owner changed mind")
    assert ledger.controlling() is None
    assert not ledger.may_read("DSRSP-A", ReadScope.TELEMETRY)
    actions = [(e.dsrsp_id, e.action, e.recorded_s) for e in ledger.history()]
    assert actions == [
        ("DSRSP-A", ConsentAction.GRANT, 1_795_600_000),
        ("DSRSP-A", ConsentAction.REVOKE, 1_795_600_060),
    ]


def test_grant_and_revoke_recorded_with_times_sqlite(make_ledger, sqlite_url: str) -> None:
    """PRIV-3: every change is a timestamped record; revoking ends control and reading."""
    ledger, clock, _ = make_ledger(sqlite_url)
    _grant_revoke_cycle(ledger, clock)


@pytest.mark.postgres
def test_grant_and_revoke_recorded_with_times_postgres(make_ledger, private_postgres_url: str) -> None:
    """PRIV-3: the same on the real PostgreSQL server."""
    ledger, clock, _ = make_ledger(private_postgres_url)
    _grant_revoke_cycle(ledger, clock)


def _assert_append_only(ledger: ConsentLedger, engine: Engine) -> None:
    ledger.grant("DSRSP-A", URL, FP)
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE consent_record SET may_control = false"))
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM consent_record"))
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        row = session.query(ConsentRow).one()
        row.reason = "edited"
        with pytest.raises(LedgerTamperedError):
            session.flush()
    assert len(ledger.history()) == 1


def test_ledger_refuses_update_and_delete_sqlite(make_ledger, sqlite_url: str) -> None:
    """PRIV-3, SEC-D-9: the database itself refuses UPDATE and DELETE on the ledger (trigger)."""
    ledger, _, engine = make_ledger(sqlite_url)
    _assert_append_only(ledger, engine)


@pytest.mark.postgres
def test_ledger_refuses_update_and_delete_postgres(make_ledger, private_postgres_url: str) -> None:
    """PRIV-3, SEC-D-9: the same on PostgreSQL (plpgsql trigger)."""
    ledger, _, engine = make_ledger(private_postgres_url)
    _assert_append_only(ledger, engine)


def test_edit_behind_the_application_detected_by_chain(make_ledger, sqlite_url: str) -> None:
    """SEC-D-9: if someone drops the trigger and edits a row, reading the ledger says so."""
    ledger, _, engine = make_ledger(sqlite_url)
    ledger.grant("DSRSP-A", URL, FP)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER consent_record_no_update"))
        conn.execute(
            text("UPDATE consent_record SET may_read = 'offers,power_reports,telemetry', actor = 'x'")
        )
    with pytest.raises(LedgerTamperedError, match="chain hash"):
        ledger.history()


def test_consent_lapses_at_valid_until(make_ledger, sqlite_url: str) -> None:
    """PRIV-3: consent given until a time ends by itself at that time."""
    ledger, clock, _ = make_ledger(sqlite_url)
    ledger.grant("DSRSP-A", URL, FP, valid_until_s=int(clock.now_s) + 100)
    clock.now_s += 99
    assert ledger.may_control("DSRSP-A")
    clock.now_s += 1
    assert not ledger.may_control("DSRSP-A")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dsrsp_id": "dsrsp-a"}, "dsrsp_id"),
        ({"vtn_url": "http://plain.invalid/x"}, "vtn_url"),
        ({"vtn_fingerprint": ""}, "vtn_fingerprint"),
        ({"valid_until_s": 1_795_599_000}, "valid_until_s"),
        ({"may_control": False, "reads": frozenset()}, "may_control"),
    ],
)
def test_bad_grant_refused_naming_field(make_ledger, sqlite_url: str, kwargs: dict, field: str) -> None:
    """SEC-D-6: a grant that breaks a rule is refused, and nothing is written."""
    ledger, _, _ = make_ledger(sqlite_url)
    args = {"dsrsp_id": "DSRSP-A", "vtn_url": URL, "vtn_fingerprint": FP} | kwargs
    with pytest.raises(ValidationError) as err:
        ledger.grant(**args)
    assert err.value.field == field
    assert ledger.history() == []


def test_revoke_without_consent_refused(make_ledger, sqlite_url: str) -> None:
    """PRIV-3: revoking a provider that holds no consent is refused rather than recorded."""
    ledger, _, _ = make_ledger(sqlite_url)
    with pytest.raises(ValidationError, match="no consent to revoke"):
        ledger.revoke("DSRSP-A")


def test_read_only_provider_alongside_controller(make_ledger, sqlite_url: str) -> None:
    """ARB-7, PRIV-5: a second DSRSP may read with consent while only one controls."""
    ledger, _, _ = make_ledger(sqlite_url)
    ledger.grant("DSRSP-A", URL, FP)
    ledger.grant("DSRSP-R", "", "", may_control=False, reads=frozenset({ReadScope.TELEMETRY}))
    assert ledger.controlling().dsrsp_id == "DSRSP-A"
    assert ledger.may_read("DSRSP-R", ReadScope.TELEMETRY) and not ledger.may_control("DSRSP-R")


def test_export_lists_consent_and_kept_data(make_ledger, sqlite_url: str) -> None:
    """PRIV-6: the owner can export what is kept for a provider, and erasing removes it."""
    ledger, clock, _ = make_ledger(sqlite_url)
    ledger.grant("DSRSP-A", URL, FP)
    ledger.store.keep("DSRSP-A", "event", int(clock.now_s), {"event_id": "E1"})
    exported = ledger.export("DSRSP-A")
    assert exported["consent"][0]["action"] == "grant"
    assert exported["data"] == [{"kind": "event", "at_s": 1_795_600_000, "event_id": "E1"}]
    assert ledger.store.erase("DSRSP-A") == 1
    assert ledger.export("DSRSP-A")["data"] == []


def _append_concurrently(ledger: ConsentLedger) -> None:
    import threading

    def writer(prefix: str) -> None:
        for k in range(15):
            reads = frozenset({ReadScope.TELEMETRY})
            ledger.grant(f"DSRSP-{prefix}{k}", "", "", may_control=False, reads=reads)

    threads = [threading.Thread(target=writer, args=(p,)) for p in ("A", "B", "C")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ledger.history()) == 45  # the chain verifies: no two entries share a predecessor


def test_concurrent_appends_keep_one_chain_sqlite(make_ledger, sqlite_url: str) -> None:
    """SEC-D-9: writers appending at once are serialised, so the hash chain never forks."""
    ledger, _, _ = make_ledger(sqlite_url)
    _append_concurrently(ledger)


@pytest.mark.postgres
def test_concurrent_appends_keep_one_chain_postgres(make_ledger, private_postgres_url: str) -> None:
    """SEC-D-9: the same on PostgreSQL (table lock for the append)."""
    ledger, _, _ = make_ledger(private_postgres_url)
    _append_concurrently(ledger)
