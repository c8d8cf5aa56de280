"""``smartcharge cem assign-owner``: links a web user to a registered charge point; a bad station
or tariff is one line naming the field, nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from smartcharge.cem.service import open_store
from smartcharge.cli import app
from smartcharge.store.owner_repo import OwnerRepository


def test_assign_owner(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    store.stations.add("CP-9", 2, None, datetime.now(UTC))
    runner = CliRunner()
    bad = runner.invoke(
        app, ["cem", "assign-owner", "--station", "NOPE", "--owner", "ann", "--db", sqlite_url]
    )
    assert bad.exit_code == 2 and "station_id" in bad.output and "Traceback" not in bad.output
    bad = runner.invoke(
        app,
        ["cem", "assign-owner", "--station", "CP-9", "--owner", "ann", "--tariff", "x", "--db", sqlite_url],
    )
    assert bad.exit_code == 2 and "tariff_id" in bad.output
    assert OwnerRepository(store.engine).get("CP-9") is None
    ok = runner.invoke(
        app, ["cem", "assign-owner", "--station", "CP-9", "--owner", "ann", "--db", sqlite_url]
    )
    assert ok.exit_code == 0, ok.output
    record = OwnerRepository(store.engine).get("CP-9")
    assert record is not None and record.owner == "ann" and record.hours_choice == "Pending"
