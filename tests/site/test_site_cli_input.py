"""``cem serve --site FILE --site-meter ...``: a bad site file or meter option is one line naming
the field and the rule, no traceback, and the CEM does not start (issue 12, bad input)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from interface_b_harness import free_port
from smartcharge.cem.meter import MqttMeterConfig, parse_meter_spec
from smartcharge.cem.site import load_site_file
from smartcharge.core.errors import DataFileError, ValidationError

GOOD = """\
circuits:
  - {circuit_id: site, phase_limit_a: 100}
  - {circuit_id: vans, parent: site, power_limit_w: 44000}
charge_points:
  - {station_id: van-1, circuit_id: vans, phases: L1L2L3, max_current_a: 32, min_current_a: 6, priority: 5}
token_priority: {FLEET-1: 50}
failsafe_current_a: 8
"""


def _serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "smartcharge",
            "cem",
            "serve",
            "--db",
            f"sqlite:///{tmp_path / 'c.db'}",
            "--log-level",
            "ERROR",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )


def test_a_good_site_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(GOOD, encoding="utf-8")
    config = load_site_file(path)
    assert [c.circuit_id for c in config.circuits] == ["site", "vans"]
    assert config.circuits[1].power_limit_w == 44000.0
    cp = config.charge_points[0]
    assert (cp.station_id, cp.phases, cp.max_current_a, cp.priority) == ("van-1", "L1L2L3", 32.0, 5)
    assert config.token_priority == {"FLEET-1": 50}
    assert config.failsafe_current_a == 8.0


@pytest.mark.parametrize(
    ("edit", "field", "rule"),
    [
        (
            ("phase_limit_a: 100", "phase_limit_a: 5"),
            "circuits[0].phase_limit_a",
            "below the minimum charging current",
        ),
        (
            ("circuit_id: vans, phases", "circuit_id: garage, phases"),
            "charge_points[0].circuit_id",
            "names no circuit",
        ),
        (("max_current_a: 32", "max_current_a: lots"), "charge_points[0].max_current_a", "must be a number"),
        (("priority: 5", "priorty: 5"), "charge_points[0].priorty", "unknown setting"),
        (("FLEET-1: 50", "FLEET-1: 500"), "token_priority['FLEET-1']", "-100..100"),
    ],
)
def test_a_bad_site_file_is_one_line_naming_the_field(
    tmp_path: Path, edit: tuple[str, str], field: str, rule: str
) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(GOOD.replace(*edit), encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        load_site_file(path)
    assert field in str(info.value) and rule in str(info.value)
    result = _serve(
        tmp_path, "--port", "0", "--tls-port", "1", "--site", str(path), "--site-meter", "emulated"
    )
    # (--tls-port without a certificate would also be refused: the site file is checked with the
    # other options, before anything starts.)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--site-meter", "mqtt://127.0.0.1:1883/site/#"], "site_meter"),
        (["--site-meter", "http://127.0.0.1/x"], "site_meter"),
        (["--site-meter", "mqtt://127.0.0.1:1883"], "names no topic"),
        (["--site-meter", "emulated", "--meter-stale-s", "20"], "meter_stale_s"),
        (["--site", "site.yaml"], "site_meter"),
    ],
)
def test_bad_meter_options_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    result = _serve(tmp_path, "--port", str(free_port()), "--api-port", "0", *args)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.stderr


def test_a_meter_needs_site_settings_somewhere(tmp_path: Path) -> None:
    """--site-meter on a database holding no site and without --site: one line, the CEM stops."""
    result = _serve(tmp_path, "--port", str(free_port()), "--api-port", "0", "--site-meter", "emulated")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "no site settings in the store: give --site FILE" in result.stderr


def test_meter_spec() -> None:
    assert parse_meter_spec("emulated") is None
    assert parse_meter_spec("mqtt://broker.local:1884/site/main/meter") == MqttMeterConfig(
        "broker.local", 1884, "site/main/meter"
    )
    assert parse_meter_spec("mqtt://10.0.0.2/m").port == 1883  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="no user or password"):
        parse_meter_spec("mqtt://u:p@host/t")


@pytest.mark.integration
def test_an_emulated_meter_reads_the_charge_points_draw_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    """``--site-meter emulated`` (the demo's meter) keeps the site fed, so no fail-safe; the
    process stops on SIGTERM with status 0."""
    import re
    import signal
    import time

    import httpx

    from smartcharge.cem.service import open_store
    from smartcharge.store.web_access import WebAccessRepository
    from smartcharge.web.auth import AuthService, Role

    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = open_store(url)
    _, token = AuthService(WebAccessRepository(store.engine)).create_token(Role.VIEWER, "test")
    store.engine.dispose()
    path = tmp_path / "site.yaml"
    path.write_text(GOOD, encoding="utf-8")
    log = tmp_path / "cem.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "smartcharge", "cem", "serve", "--db", url, "--port", str(free_port()),
             "--api-port", "0", "--site", str(path), "--site-meter", "emulated", "--log-level", "WARNING"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not re.search(r"^site: 1 charge points", log.read_text(), re.MULTILINE):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        port = re.search(r"web API on http://127\.0\.0\.1:(\d+)", log.read_text()).group(1)  # type: ignore[union-attr]
        headers = {"Authorization": f"Bearer {token}"}
        state = httpx.get(f"http://127.0.0.1:{port}/api/v1/site/meter", headers=headers, timeout=30).json()
        while state["meter"] is None:  # the first emulated reading follows the start at once
            assert time.monotonic() < deadline
            time.sleep(0.1)
            state = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/site/meter", headers=headers, timeout=30
            ).json()
        assert state["meter"]["source"] == "emulated" and state["meter"]["import_w"] == 0.0
        assert state["failsafe_active"] is False
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()
