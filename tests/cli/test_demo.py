"""The main job, ``smartcharge demo``, end to end through the real CLI (README quick start)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartcharge.cli.main import app

pytestmark = [pytest.mark.integration]


def test_demo_runs_fleet_and_live_chain(tmp_path: Path) -> None:
    """SQ-1, SCP-RD-2: the delay shrinks the step at the tariff edge and delivers the same energy;
    INT-2, ARB-5: a response-DSR setpoint travels DSRSP -> CEM -> charge point and binds over an override."""
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    rows = re.findall(r"│\s+(\d+) s │\s+([\d.]+) │\s+([\d.]+) │\s+(\d+) │", result.output)
    assert [int(r[0]) for r in rows] == [0, 600, 1800]
    steps = [float(r[2]) for r in rows]
    energy = [float(r[3]) for r in rows]
    assert steps[0] > 2 * steps[1] > 0 and steps[1] > steps[2]
    assert max(energy) - min(energy) < 0.02 * max(energy)
    for delay in (0, 600, 1800):
        assert (tmp_path / "demo" / f"delay_{delay}s" / "summary.json").is_file()
    text = " ".join(result.output.split())
    assert "cut it to 2000 W at the charge point" in text
    assert "binding source RESPONSE_DSR" in text
