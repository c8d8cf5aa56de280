"""``python -m smartcharge``: the same command as the ``smartcharge`` console script."""

from smartcharge.cli.main import app

app()
