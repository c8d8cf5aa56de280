"""Where a station's GetLog upload goes (OCPP 2.0.1 N01 / 1.6 security whitepaper GetLog).

``https://`` (and ``http://`` on a trusted network): the log is sent with HTTP PUT to
``<remoteLocation>/<filename>``, the server checked against the station's CSMS roots; the CEM's
upload endpoint hands out one such location per request. ``file://`` directories are still
written for local tests. Any other scheme, or a refusal by the server, is reported to the CSMS as
``UploadFailure`` rather than pretending to have uploaded.
"""

from __future__ import annotations

import logging
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlparse

logger = logging.getLogger(__name__)

UPLOAD_TIMEOUT_S = 30.0


def upload_log(location: str, filename: str, lines: list[str], context: ssl.SSLContext | None = None) -> bool:
    """Upload ``lines`` as ``filename`` to ``location``; False if unsupported or refused."""
    url = urlparse(location)
    body = ("\n".join(lines) + "\n").encode("utf-8")
    name = Path(filename).name
    if url.scheme in ("https", "http"):
        target = location.rstrip("/") + "/" + quote(name)
        request = urllib.request.Request(
            target, data=body, method="PUT", headers={"Content-Type": "text/plain"}
        )
        try:
            with urllib.request.urlopen(
                request, timeout=UPLOAD_TIMEOUT_S, context=context if url.scheme == "https" else None
            ) as answer:  # noqa: S310
                return bool(200 <= int(answer.status) < 300)
        except (urllib.error.URLError, OSError) as error:
            if isinstance(error, urllib.error.HTTPError):
                error.close()  # it holds the connection open until collected
            logger.warning("log upload to %s refused or failed: %s", url.netloc, error)
            return False
    if url.scheme != "file":
        logger.warning("log upload to %s not supported (https, http or file only)", url.scheme)
        return False
    directory = Path(url.path)
    if not directory.is_dir():
        logger.warning("log upload directory %s does not exist", directory)
        return False
    (directory / name).write_bytes(body)
    return True


__all__ = ["upload_log"]
