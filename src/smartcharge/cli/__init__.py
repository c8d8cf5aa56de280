"""Command line: the composition root. ``smartcharge --help`` lists the roles."""

from smartcharge.cli.main import app

__all__ = ["app"]
