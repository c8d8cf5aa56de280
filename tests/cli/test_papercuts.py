"""What a new user hit on main (issue: "Papercuts a new user hits"), through the real console
command: every command started slowly because every package was imported eagerly, and bad input
surfaced as Python tracebacks or named the wrong field.

Start-up speed itself is measured in ``benchmarks/bench_cli_startup.py``; here we check its cause
(which libraries the command line imports before a command runs), which does not depend on load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "numpy",
    "pandas",
    "sqlalchemy",
    "alembic",
    "openleadr",
    "ocpp",
    "websockets",
    "aiohttp",
    "lxml",
    "cryptography",
    "pandapower",
    "power_grid_model",
    "dask",
    "plotly",
    "pydantic",
    "fastapi",
)


def _run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smartcharge", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def _one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def test_the_command_line_imports_no_heavy_library_before_a_command_runs() -> None:
    code = (
        "import sys, json; import smartcharge.cli; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout) == []


def test_help_lists_every_role() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for role in ("cem", "station", "dsrsp", "sim", "study", "rules", "demo"):
        assert role in result.stdout


def test_binary_scenario_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_bytes(bytes(range(256)) * 8)
    _one_line_error(_run("sim", "run", str(path), "--out", str(tmp_path / "o")), "binary file, not text")


def test_a_missing_field_is_named_without_quoting_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("name: x\ndays: 999\n")
    line = _one_line_error(_run("sim", "run", str(path), "--out", str(tmp_path / "o")))
    assert "start refused: required field is missing" in line and "days" not in line


@pytest.mark.parametrize("command", [("sim", "run"), ("study", "check")])
def test_yaml_aliases_are_refused_at_load(tmp_path: Path, command: tuple[str, str]) -> None:
    """The alias bomb's root cause: aliases were expanded. Even a tiny alias is now refused."""
    path = tmp_path / "bomb.yaml"
    path.write_text('a: &a ["lol", "lol"]\nb: [*a, *a]\n')
    args = [*command, str(path)] + (["--out", str(tmp_path / "o")] if command[0] == "sim" else [])
    _one_line_error(_run(*args), "YAML anchors (&name) are not accepted", "line 1")


def test_an_oversized_config_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("# " + "x" * (2 * 1024 * 1024))
    _one_line_error(_run("sim", "run", str(path), "--out", str(tmp_path / "o")), "files of up to")


def test_a_huge_radial_feeder_is_refused_at_check(tmp_path: Path) -> None:
    import re

    study = Path(__file__).parents[2] / "studies" / "quick.yaml"
    text, count = re.subn(r"n_households: \d+", "n_households: 10000000000", study.read_text())
    assert count >= 1
    path = tmp_path / "study.yaml"
    path.write_text(text)
    _one_line_error(_run("study", "check", str(path)), "radial.n_households", "must be 1..1000")


def test_missing_certificate_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "server.pem"
    line = _one_line_error(
        _run(
            "cem",
            "serve",
            "--db",
            f"sqlite:///{tmp_path / 'cem.db'}",
            "--port",
            "0",
            "--tls-port",
            "0",
            "--cert",
            str(missing),
            "--key",
            str(tmp_path / "server.key"),
        ),
        "file not found",
    )
    assert "cert=" in line and "server.pem" in line


def test_bad_log_level_is_one_line(tmp_path: Path) -> None:
    _one_line_error(
        _run("cem", "serve", "--log-level", "LOUD", "--db", f"sqlite:///{tmp_path / 'c.db'}"),
        "log-level='LOUD' refused: one of DEBUG, INFO",
    )


def _tampered_ledger(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'cem.db'}"
    granted = _run(
        "cem",
        "consent",
        "grant",
        "--storage-url",
        db,
        "--dsrsp-id",
        "DSRSP-A",
        "--vtn-url",
        "https://a.invalid/x",
        "--vtn-fingerprint",
        "AA:BB",
    )
    assert granted.returncode == 0, granted.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "cem.db") as conn:
        conn.execute("DROP TRIGGER consent_record_no_update")
        conn.execute("UPDATE consent_record SET actor = 'someone else'")
    return db


def test_tampered_consent_ledger_is_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    db = _tampered_ledger(tmp_path)
    _one_line_error(_run("cem", "consent", "show", "--storage-url", db), "does not match its chain hash")
    debug = _run("--debug", "cem", "consent", "show", "--storage-url", db)
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "LedgerTamperedError" in debug.stderr


def test_consent_show_prints_readable_times(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cem.db'}"
    _run(
        "cem",
        "consent",
        "grant",
        "--storage-url",
        db,
        "--dsrsp-id",
        "DSRSP-A",
        "--vtn-url",
        "https://a.invalid/x",
        "--vtn-fingerprint",
        "AA:BB",
        "--until-s",
        "4102444800",
    )
    shown = _run("cem", "consent", "show", "--storage-url", db, env={"COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    assert "2100-01-01 00:00:00 UTC" in shown.stdout
    assert " UTC" in shown.stdout and "4102444800" not in shown.stdout


def test_a_ragged_max_delay_in_a_scenario_is_refused_by_name(tmp_path: Path) -> None:
    """Found by the config-file fuzzer in CI: ``max_delay_s: [null, []]`` made numpy raise a
    ValueError traceback from ``validate_max_delay_s`` instead of naming the field (SCP-RD-3)."""
    import re

    demo = Path(__file__).parents[2] / "scenarios" / "demo.yaml"
    text, count = re.subn(r"max_delay_s: \d+", "max_delay_s: [null, []]", demo.read_text())
    assert count >= 1
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    _one_line_error(
        _run("sim", "run", str(path), "--out", str(tmp_path / "o")),
        "strategy_config.max_delay_s=",
        "whole number",
    )


@pytest.mark.parametrize("value", ["[null, []]", "null", "'ten'", "{a: 1}"])
def test_a_strategy_setting_of_the_wrong_kind_is_refused_by_name(tmp_path: Path, value: str) -> None:
    """Every strategy setting is checked for its kind before its range: a list or null for
    ``max_rounds`` raised a TypeError traceback from the Config's range check (config fuzzer)."""
    import re

    demo = Path(__file__).parents[2] / "scenarios" / "demo.yaml"
    text = re.sub(r"strategy: \S+", "strategy: smart", demo.read_text(), count=1)
    text = re.sub(r"max_delay_s: \d+", f"max_rounds: {value}", text)
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    _one_line_error(
        _run("sim", "run", str(path), "--out", str(tmp_path / "o")), "max_rounds=", "whole number"
    )
