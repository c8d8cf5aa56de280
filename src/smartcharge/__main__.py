"""``python -m smartcharge``: the same command as the ``smartcharge`` console script."""

from smartcharge.cli import main

main()
