"""End to end: the shipped quick study through the real fleet simulator, Dask and both power-flow engines.

Issue 5 "Tests": the quick report builds and contains every section; "Done when": the command
``smartcharge study run studies/quick.yaml`` writes the report.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from browser import render_offline
from smartcharge.cli.main import app
from smartcharge.sim import load_calibration
from smartcharge.study.report import SECTIONS

QUICK = Path(__file__).parents[2] / "studies" / "quick.yaml"


@pytest.mark.slow
def test_quick_report_builds_with_every_section(tmp_path: Path) -> None:
    """Issue 5 item 7: a self-contained HTML report with every section, plus the CSV tables."""
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["study", "run", str(QUICK), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    # Not a terminal: progress comes as plain lines, the last one at the end (a rich bar shows nothing).
    assert re.search(r"study quick: (\d+)/\1 cases \(100 %\)", result.output), result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    for key in SECTIONS:
        assert f"<section id='{key}'>" in page
    assert not re.search(r"<script[^>]+src=", page)  # plotly is inlined: nothing is fetched to view it
    # profiles, duration, diversity, hosting, population, second peak, envelopes
    assert page.count("Plotly.newPlot(") >= 7
    with (out / "hosting_capacity.csv").open() as handle:
        hosting = list(csv.DictReader(handle))
    assert {row["feeder"] for row in hosting} == {
        "ieee_european_lv_1.02pu",
        "radial_60",
        "gb_lv_1_0000",
        "gb_lv_1_0001",
    }
    assert {row["strategy"] for row in hosting} == {"uncontrolled", "go_window_delay_600s", "network_aware"}
    # Issue 14 items 6-7: both numbers (with service quality and on the limits alone), over two seeds.
    assert all(row["seeds"] == "2" and "-" in row["hosted_evs_range"] for row in hosting)
    # Both service bases from the same runs (quick.yaml judges against what the stays could take):
    # against the energy asked, a stay too short for its charger also counts, so never more hosted.
    for row in hosting:
        asked = float(row["hosted_evs_asked_basis_median"].lstrip(">="))
        assert asked <= float(row["hosted_evs_median"].lstrip(">=")), row
    aware = {r["feeder"]: r for r in hosting if r["strategy"] == "network_aware"}
    dumb = {r["feeder"]: r for r in hosting if r["strategy"] == "uncontrolled"}
    # Uncontrolled charging overloads the second population feeder's transformer; the network-aware
    # plan keeps it inside its rating with every car served.
    assert dumb["gb_lv_1_0001"]["first_failure"] == "transformer_thermal"
    assert aware["gb_lv_1_0001"]["first_failure"] == "none reached"
    with (out / "second_peak.csv").open() as handle:
        second = {row["strategy"]: row for row in csv.DictReader(handle)}
    # SCP Regs 2021 reg 11 / SQ-1: a randomised delay softens the step at the window edge.
    assert float(second["delay_1800s"]["max_rise_kw_per_min"]) < float(
        second["delay_0s"]["max_rise_kw_per_min"]
    )
    with (out / "cost_carbon.csv").open() as handle:
        cost = {row["strategy"]: row for row in csv.DictReader(handle)}
    assert float(cost["octopus_go_window"]["charging_cost_gbp_per_ev_per_year"]) < float(
        cost["uncontrolled_flat"]["charging_cost_gbp_per_ev_per_year"]
    )
    assert "power-grid-model vs pandapower, largest voltage gap (%)" in page  # readable headers
    assert "charging_cost_gbp_per_ev_per_year" not in page.split("<section id='appendix-config'>")[0]
    for key in ("SQ-1", "SQ-2", "SQ-3", "SQ-4", "SQ-5", "SQ-6", "SQ-7", "SQ-8"):
        assert f"<h3>{key}: " in page
    sq7 = page.split("<div class='answer' id='sq-7'>")[1].split("</div>")[0]
    assert "service against the energy asked: " in sq7 and "network limits alone: " in sq7
    # Issue 14 item 2: Appendix B shows the calibration of the behaviour the study uses.
    appendix = page.split("<section id='appendix-data'>")[1].split("</section>")[0]
    home = load_calibration()["behaviours"]["home_norway"]["checks"]
    assert "KS D, simulated vs held back" in appendix and "stays per week in use" in appendix
    for key in ("stays_per_week", "plug_in_duration_h", "arrival_hour"):
        assert f"<td>{home[key]['ks_sim_vs_held_out']:.3f}</td>" in appendix, key
    with (out / "intervention.csv").open() as handle:
        shares = list(csv.DictReader(handle))
    assert {row["strategy"] for row in shares} == {"uncontrolled", "go_window_delay_600s", "network_aware"}
    # As a reader would see it: Chromium with no network draws every plot and shows every section.
    drawn = render_offline(
        out / "report.html",
        "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 7",
        "({plots: document.querySelectorAll('.js-plotly-plot .main-svg').length,"
        " sections: [...document.querySelectorAll('section')].map(s => s.id),"
        " first: document.querySelector('h1 + section').id,"
        " answers: document.querySelectorAll('#answers .answer').length,"
        " calibration: document.querySelectorAll('#appendix-data table tbody tr').length,"
        " wide: [...document.querySelectorAll('table')].filter("
        "t => t.getBoundingClientRect().right > document.documentElement.clientWidth).length})",
    )
    assert drawn["sections"] == list(SECTIONS)
    # Issue 14 item 11: the answers come first, all eight, and no table runs off the page.
    assert drawn["first"] == "answers" and drawn["answers"] == 8
    assert drawn["wide"] == 0
    assert drawn["calibration"] == 6  # six quantities of the one behaviour (home_norway) the study uses

    # Run again into the same directory: every task group is read back from the checkpoint, none
    # is run, and the tables come out the same (a stopped full study goes on where it stopped).
    tables = {name: (out / name).read_text() for name in ("hosting_capacity.csv", "second_peak.csv")}
    again = CliRunner().invoke(app, ["study", "run", str(QUICK), "--out", str(out), "--workers", "2"])
    assert again.exit_code == 0, again.output
    read_back = re.search(r"checkpoint \S+: (\d+) task group\(s\) read back, 0 run and kept", again.output)
    assert read_back and int(read_back.group(1)) > 0, again.output
    assert {name: (out / name).read_text() for name in tables} == tables


def test_study_check_counts_cases_and_quick_shrinks() -> None:
    """``study check`` validates without running; ``--quick`` keeps one seed, one day, four penetrations."""
    full = CliRunner().invoke(app, ["study", "check", str(QUICK)])
    assert full.exit_code == 0, full.output
    assert "4 feeders, 81 cases, valid" in full.output  # 4 feeders x 3 strategies x 2 seeds x 3 + 4 + 5
    quick = CliRunner().invoke(app, ["study", "check", str(QUICK), "--quick"])
    assert quick.exit_code == 0, quick.output
    assert "4 feeders, 45 cases, valid" in quick.output  # one seed: 4 x 3 x 3 + 4 + 5


def test_study_run_unknown_feeder_exits_with_message(tmp_path: Path) -> None:
    """Issue 5 bad input: the CLI refuses an unknown feeder before the sweep, naming it."""
    text = QUICK.read_text().replace("- name: radial\n", "- name: radial_feeder_x\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    result = CliRunner().invoke(
        app, ["study", "run", str(bad), "--out", str(tmp_path / "o"), "--workers", "0"]
    )
    assert result.exit_code == 2
    assert "radial_feeder_x" in result.output and "unknown feeder" in result.output
    assert not (tmp_path / "o").exists()
