"""``smartcharge cem consent ...`` and ``smartcharge cem switch-dsrsp`` write the ledger; bad input
is refused with the field named (PRIV-3, INT-6, SEC-D-6)."""

from __future__ import annotations

from typer.testing import CliRunner

from smartcharge.cem.ven import open_ledger
from smartcharge.cli.main import app

FP_A = "AA:BB:CC:DD:EE:FF:00:11:22:33"
FP_B = "11:22:33:44:55:66:77:88:99:00"


def test_grant_switch_and_show(sqlite_url: str) -> None:
    """INT-6: the owner grants A, switches to B; the ledger holds grant, revoke, grant in order."""
    runner = CliRunner()
    grant = ["cem", "consent", "grant", "--storage-url", sqlite_url, "--dsrsp-id", "DSRSP-A"]
    grant += ["--vtn-url", "https://a.invalid/x", "--vtn-fingerprint", FP_A]
    assert runner.invoke(app, grant).exit_code == 0
    switch = ["cem", "switch-dsrsp", "--storage-url", sqlite_url, "--dsrsp-id", "DSRSP-B"]
    switch += ["--vtn-url", "https://b.invalid/x", "--vtn-fingerprint", FP_B, "--reads", "telemetry"]
    result = runner.invoke(app, switch)
    assert result.exit_code == 0, result.output
    assert "switched from DSRSP-A to DSRSP-B" in result.output
    history = open_ledger(sqlite_url).history()
    assert [(e.dsrsp_id, e.action.value) for e in history] == [
        ("DSRSP-A", "grant"),
        ("DSRSP-A", "revoke"),
        ("DSRSP-B", "grant"),
    ]
    shown = runner.invoke(app, ["cem", "consent", "show", "--storage-url", sqlite_url])
    assert shown.exit_code == 0 and "DSRSP-B" in shown.output


def test_bad_reads_refused_naming_field(sqlite_url: str) -> None:
    """SEC-D-6: an unknown read scope is refused, exit code 2, the field named."""
    result = CliRunner().invoke(
        app,
        ["cem", "consent", "grant", "--storage-url", sqlite_url, "--dsrsp-id", "DSRSP-A", "--no-control"]
        + ["--reads", "everything"],
    )
    assert result.exit_code == 2
    assert "reads='everything' refused" in result.output


def test_revoke_unknown_provider_refused(sqlite_url: str) -> None:
    """PRIV-3: revoking a provider with no consent is refused rather than recorded."""
    result = CliRunner().invoke(
        app, ["cem", "consent", "revoke", "--storage-url", sqlite_url, "--dsrsp-id", "X"]
    )
    assert result.exit_code == 2 and "no consent to revoke" in result.output
