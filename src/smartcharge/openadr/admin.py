"""Client for the DSRSP's admin endpoint (mutual TLS with an operator certificate).

The endpoint lives on the VTN's own HTTPS port under ``/admin/<action>`` and admits only client
certificates whose fingerprint the DSRSP lists as operators; bodies are JSON.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import aiohttp

from smartcharge.core.config_file import require_file
from smartcharge.core.errors import SmartchargeError, ValidationError
from smartcharge.openadr.model import ADMIN_PREFIX


class AdminError(SmartchargeError):
    """The admin endpoint refused the request or could not be reached."""


def _context(cert: Path, key: Path, ca_file: Path) -> ssl.SSLContext:
    for field, path in (("cert", cert), ("key", key), ("ca_file", ca_file)):
        require_file(Path(path), field)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(str(ca_file))
    except ssl.SSLError as exc:
        raise ValidationError("ca_file", str(ca_file), f"not a PEM CA certificate ({exc.reason})") from None
    try:
        context.load_cert_chain(str(cert), str(key))
    except ssl.SSLError as exc:
        raise ValidationError("cert", str(cert), f"certificate and key do not load ({exc.reason})") from None
    return context


async def post_admin(
    base_url: str, action: str, body: dict[str, Any], cert: Path, key: Path, ca_file: Path
) -> dict[str, Any]:
    """POST ``body`` to ``{base_url}/admin/{action}`` and return the JSON answer."""
    url = f"{base_url.rstrip('/')}{ADMIN_PREFIX}/{action}"
    connector = aiohttp.TCPConnector(ssl=_context(cert, key, ca_file))
    try:
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.post(url, json=body) as reply,
        ):
            answer = await reply.json(content_type=None)
            if reply.status != 200:
                raise AdminError(f"{reply.status}: {answer.get('error', answer)}")
            if not isinstance(answer, dict):
                raise AdminError(f"unexpected answer {answer!r}")
            return answer
    except aiohttp.ClientError as exc:
        raise AdminError(f"admin endpoint {url} unreachable: {exc}") from exc


__all__ = ["AdminError", "post_admin"]
