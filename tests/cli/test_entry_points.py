"""``python -m smartcharge`` and the console script are the same command."""

from __future__ import annotations

import subprocess
import sys


def test_python_dash_m_runs_the_cli() -> None:
    """SCP-OP-1: the rules the package applies are shown by ``python -m smartcharge rules show``."""
    result = subprocess.run(
        [sys.executable, "-m", "smartcharge", "rules", "show"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Mon-Fri 08:00-11:00; Mon-Fri 16:00-22:00" in result.stdout
    assert "1800 s" in result.stdout
