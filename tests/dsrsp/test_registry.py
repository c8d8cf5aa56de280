"""The DSRSP's CEM registry by certificate fingerprint, on SQLite and PostgreSQL through the
Alembic migrations (0001_ocpp -> 0002_openadr)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

from smartcharge.core.errors import ValidationError
from smartcharge.dsrsp.service import CemRegistry
from smartcharge.store.base import make_engine
from smartcharge.store.consent import DsrspStore
from smartcharge.store.migrate import upgrade

FP = "AA:BB:CC:DD:EE:FF:00:11:22:33"


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


@pytest.fixture
def make_registry(engines: list[Engine]) -> Callable[[str], CemRegistry]:
    def make(url: str) -> CemRegistry:
        engine = make_engine(url)
        engines.append(engine)
        upgrade(engine)
        return CemRegistry(DsrspStore(engine), clock=lambda: 1_795_600_000)

    return make


def _exercise(registry: CemRegistry) -> None:
    cem = registry.enrol(FP, "home-cem")
    assert registry.lookup(cem.ven_id) is None  # enrolled, not yet registered
    record = registry.register(FP, "home-cem")
    assert record is not None and record.registration_id
    assert registry.lookup(cem.ven_id) == record
    assert registry.registered() == [cem.ven_id]
    registry.cancel(cem.ven_id)
    assert registry.lookup(cem.ven_id) is None
    assert registry.register("11:22:33:44:55:66:77:88:99:00", "stranger") is None


def test_registry_enrol_register_cancel_sqlite(make_registry, sqlite_url: str) -> None:
    """SEC-S-8, INT-5: only enrolled certificates register; a cancelled VEN is unknown again."""
    _exercise(make_registry(sqlite_url))


@pytest.mark.postgres
def test_registry_enrol_register_cancel_postgres(make_registry, private_postgres_url: str) -> None:
    """SEC-S-8, INT-5: the same on the real PostgreSQL server, through the migrations."""
    _exercise(make_registry(private_postgres_url))


@pytest.mark.parametrize(
    ("fingerprint", "name", "field"),
    [("not-a-fingerprint", "x", "fingerprint"), (FP, "", "ven_name"), (FP.lower(), "x", "fingerprint")],
)
def test_enrol_bad_input_refused(
    make_registry, sqlite_url: str, fingerprint: str, name: str, field: str
) -> None:
    """SEC-D-6: enrolment input is checked and the error names the field."""
    with pytest.raises(ValidationError) as err:
        make_registry(sqlite_url).enrol(fingerprint, name)
    assert err.value.field == field


def test_enrol_twice_refused(make_registry, sqlite_url: str) -> None:
    """SEC-S-8: a certificate is enrolled once."""
    registry = make_registry(sqlite_url)
    registry.enrol(FP, "home-cem")
    with pytest.raises(ValidationError, match="already enrolled"):
        registry.enrol(FP, "home-cem")


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("private_postgres_url", marks=pytest.mark.postgres)]
)
def test_migration_0002_downgrades_and_upgrades_again(
    engines: list[Engine], request, url_fixture: str
) -> None:
    """The Interface A tables come and go with revision 0002_openadr, leaving 0001_ocpp intact."""
    from alembic import command
    from sqlalchemy import inspect

    from smartcharge.store.migrate import alembic_config

    engine = make_engine(request.getfixturevalue(url_fixture))
    engines.append(engine)
    upgrade(engine)
    ours = {"consent_record", "dsr_provider_credential", "dsr_provider_data", "openadr_security_event"}
    ours |= {"dsrsp_cem", "dsrsp_opt", "dsrsp_reading"}
    assert ours <= set(inspect(engine).get_table_names())
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001_ocpp")
    tables = set(inspect(engine).get_table_names())
    assert not ours & tables and "station" in tables
    upgrade(engine)
    assert ours <= set(inspect(engine).get_table_names())
