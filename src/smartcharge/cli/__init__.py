"""Command line: the composition root. ``smartcharge --help`` lists the roles.

:func:`main` is the console script: every error that reaches it is printed as one line (the
traceback only with ``--debug``), so no user ever sees a Python traceback for a bad input.
"""

from __future__ import annotations

import sys

from smartcharge.cli.common import DEBUG, err_console, one_line
from smartcharge.cli.main import app
from smartcharge.core.errors import SmartchargeError


def main() -> None:
    """Run the ``smartcharge`` command with one-line errors."""
    try:
        app()
    except SmartchargeError as error:
        if DEBUG["on"]:
            raise
        err_console.print(f"[red]error:[/red] {one_line(error)}")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 - the last line of defence for a person at a terminal
        if DEBUG["on"]:
            raise
        err_console.print(f"[red]error:[/red] {one_line(error)} (run with --debug for the traceback)")
        sys.exit(1)


__all__ = ["app", "main"]
