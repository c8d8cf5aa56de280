"""Where a station's GetLog upload goes (OCPP 2.0.1 N01 / 1.6 security whitepaper GetLog).

Only ``file://`` directories are supported: the station writes its security log there. Any other
scheme is reported to the CSMS as ``UploadFailure`` rather than pretending to have uploaded.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlparse

logger = logging.getLogger(__name__)


def upload_log(location: str, filename: str, lines: list[str]) -> bool:
    """Write ``lines`` to ``filename`` in the ``file://`` directory ``location``; False if unsupported."""
    url = urlparse(location)
    if url.scheme != "file":
        logger.warning("log upload to %s not supported (only file://)", url.scheme)
        return False
    directory = Path(url.path)
    if not directory.is_dir():
        logger.warning("log upload directory %s does not exist", directory)
        return False
    (directory / Path(filename).name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return True


__all__ = ["upload_log"]
