"""What every command shares: one-line errors, the ``--debug`` switch and checked log levels.

A person at a terminal gets one line naming the field or file and the rule, never a traceback;
``smartcharge --debug ...`` (or ``SMARTCHARGE_DEBUG=1``) shows the traceback for a bug report.
"""

from __future__ import annotations

import logging
import os
from typing import NoReturn

import typer
from rich.console import Console

from smartcharge.core.errors import SmartchargeError, ValidationError

#: Set by the root command's ``--debug`` option (and the SMARTCHARGE_DEBUG variable).
DEBUG = {"on": os.environ.get("SMARTCHARGE_DEBUG", "") not in ("", "0")}

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

#: stderr, never wrapped: an error stays one line whatever the terminal's width.
err_console = Console(stderr=True, soft_wrap=True, highlight=False)


def fail(error: BaseException, prefix: str = "error") -> NoReturn:
    """Print ``error`` as one line on stderr and exit with status 2."""
    err_console.print(f"[red]{prefix}:[/red] {one_line(error)}")
    raise typer.Exit(2)


def one_line(error: BaseException) -> str:
    """The first line of an error's text (multi-line library messages are cut to it)."""
    text = str(error).strip() or type(error).__name__
    first = text.splitlines()[0]
    return first if isinstance(error, SmartchargeError) else f"{type(error).__name__}: {first}"


def setup_logging(level: str) -> None:
    """``logging.basicConfig`` at ``level``, refused with the allowed values when unknown."""
    name = level.upper()
    if name not in LOG_LEVELS:
        fail(ValidationError("log-level", level, f"one of {', '.join(LOG_LEVELS)}"))
    logging.basicConfig(level=name, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


__all__ = ["DEBUG", "LOG_LEVELS", "err_console", "fail", "one_line", "setup_logging"]
