"""``smartcharge cem id-token ...`` and ``smartcharge cem boot-status``: what they change is what
the running CEM answers; bad input is one line naming the field and the rule, exit code 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from smartcharge.cem.core_services import open_core
from smartcharge.cli.main import app

runner = CliRunner()


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["cem", *args])
    return result.exit_code, result.output


def test_id_token_commands_manage_the_store(sqlite_url: str) -> None:
    assert _cli("id-token", "add", "CARD-9", "--group", "FLEET", "--db", sqlite_url)[0] == 0
    assert _cli("id-token", "add", "OLD-9", "--expires", "2020-01-01T00:00Z", "--db", sqlite_url)[0] == 0
    code, out = _cli("id-token", "list", "--db", sqlite_url)
    assert code == 0 and "CARD-9\tAccepted\tISO14443\t-\tFLEET" in out
    tokens, _ = open_core(sqlite_url)
    assert tokens.check("CARD-9").status == "Accepted"
    assert tokens.check("OLD-9").status == "Expired"
    assert _cli("id-token", "block", "CARD-9", "--db", sqlite_url)[0] == 0
    assert tokens.check("CARD-9").status == "Blocked"
    assert _cli("id-token", "remove", "CARD-9", "--db", sqlite_url)[0] == 0
    assert tokens.check("CARD-9").status == "Unknown"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["id-token", "add", "X" * 37], "id_token"),
        (["id-token", "add", "CARD", "--status", "Maybe"], "status"),
        (["id-token", "add", "CARD", "--type", "Magic"], "token_type"),
        (["id-token", "add", "CARD", "--expires", "2027-01-01"], "expires"),
        (["id-token", "block", "NOBODY"], "id_token"),
        (["boot-status", "NOPE", "Pending"], "station_id"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(sqlite_url: str, args: list[str], field: str) -> None:
    code, out = _cli(*args, "--db", sqlite_url)
    assert code == 2 and f"{field}=" in out and "Traceback" not in out


def test_boot_status_shows_and_sets(sqlite_url: str) -> None:
    assert _cli("add-station", "--id", "BOOT-1", "--profile", "1", "--db", sqlite_url)[0] == 0
    assert _cli("boot-status", "BOOT-1", "--db", sqlite_url)[1].strip() == "BOOT-1: Accepted"
    assert _cli("boot-status", "BOOT-1", "Pending", "--db", sqlite_url)[1].strip() == "BOOT-1: Pending"
    code, out = _cli("boot-status", "BOOT-1", "Later", "--db", sqlite_url)
    assert code == 2 and "status=" in out
