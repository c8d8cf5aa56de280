"""The CEM's OCPP listener: one port for OCPP 2.0.1 and 1.6J, chosen by the websocket subprotocol.

The handshake is where security profiles are enforced (SEC-S-1..3): our own ``process_request``
reads the station id from the URL path, the basic-auth password and the TLS client certificate,
and asks the :class:`Authenticator` (the CEM) whether this station may connect this way. A refusal
is answered with HTTP 401 before any OCPP traffic and reported for the security log. When the
authenticator cannot decide now (the CEM's database is down and the station is not one it has
verified before), the handshake gets HTTP 503 with Retry-After and one log line: the station
tries again later (on main it got HTTP 500 and a traceback was logged, issue 15).
Oversize frames are refused by websockets' ``max_size`` (close code 1009) and counted.

On the TLS port the TLS handshake runs in :class:`TlsGate` rather than inside asyncio's server, so
that a refused handshake (expired or unknown-CA client certificate, TLS below 1.2, no OCPP cipher
suite) is seen by us and reported for the security log (issue 15) instead of vanishing in asyncio.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import unquote

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from smartcharge.ocpp.csms import CsmsEvents
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.ocpp.rpc import FaultTolerantChargePoint, FrameTap
from smartcharge.ocpp.tls import describe_tls_failure, peer_common_name
from smartcharge.ocpp.v16 import CsmsV16
from smartcharge.ocpp.v201 import CsmsV201

logger = logging.getLogger(__name__)

#: OCPP 2.0.1 identityString: printable, no ':' (it would break basic auth), at most 48 characters.
STATION_ID = re.compile(r"^[A-Za-z0-9*\-_=+|@.]{1,48}$")
#: Largest frame accepted; OCPP messages of this CEM are far smaller (SEC-D-6: bounded input).
DEFAULT_MAX_FRAME_BYTES = 64 * 1024
#: Frames websockets buffers per connection before it stops reading (back-pressure to the peer):
#: with 64 KiB frames at most 1 MiB per connection (bounded memory, issue 15).
MAX_QUEUED_FRAMES = 16
SUBPROTOCOLS = [v.value for v in (OcppVersion.V201, OcppVersion.V16)]


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a station presented at the handshake."""

    station_id: str
    password: str | None
    certificate_cn: str | None
    tls: bool
    remote_address: str

    @property
    def presented_profile(self) -> int:
        """Security profile the connection meets: 3 mutual TLS, 2 TLS + password, 1 password."""
        if self.tls and self.certificate_cn is not None:
            return 3
        return 2 if self.tls else 1


class AuthUnavailable(Exception):
    """The authenticator cannot decide now (its store is unreachable): answer HTTP 503."""

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class Authenticator(Protocol):
    async def check(self, credentials: Credentials) -> str | None:
        """None to let the station in; otherwise the reason for refusing it (logged, HTTP 401).
        Raises :class:`AuthUnavailable` when it cannot decide now (HTTP 503, Retry-After)."""
        ...

    async def refused(self, station_id: str | None, reason: str, remote_address: str) -> None: ...


def station_id_from_path(path: str) -> str | None:
    """The last path segment, URL-decoded, if it is a valid OCPP identity."""
    segment = unquote(path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])
    return segment if STATION_ID.match(segment) else None


def _basic_password(headers: Headers, station_id: str) -> tuple[str | None, str | None]:
    """(password, problem): the password if the Authorization header names this station."""
    header = headers.get("Authorization")
    if header is None:
        return None, None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None, "authorization scheme is not Basic"
    try:
        user, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, "malformed basic-auth header"
    if not sep:
        return None, "malformed basic-auth header"
    if user != station_id:
        return None, "basic-auth user is not the station id in the URL"
    return password, None


#: Reports a refused TLS handshake: (event type, reason, remote address).
TlsRefusalHook = Callable[[str, str, str], Awaitable[None]]
TLS_HANDSHAKE_TIMEOUT_S = 10.0


class _Holding(asyncio.Protocol):
    """Stands in for the websockets connection during the TLS handshake: keeps early data, and
    takes the connection_lost of a failed handshake (the connection never began)."""

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.lost = False
        self.error: BaseException | None = None

    def data_received(self, data: bytes) -> None:
        self.data.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost, self.error = True, exc


class TlsGate(asyncio.Protocol):
    """The asyncio protocol of one TLS connection until its handshake is done: it runs the
    handshake with ``loop.start_tls``, reports a refusal, and on success hands the TLS transport to
    the websockets connection it wraps."""

    def __init__(self, inner: ServerConnection, context: ssl.SSLContext, on_refused: TlsRefusalHook) -> None:
        self._inner = inner
        self._context = context
        self._on_refused = on_refused
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()  # the ClientHello waits in the socket for start_tls
        self._task = asyncio.get_running_loop().create_task(self._upgrade(transport))

    async def _upgrade(self, transport: asyncio.Transport) -> None:
        peer = transport.get_extra_info("peername")
        remote = str(peer[0]) if peer else "?"
        loop = asyncio.get_running_loop()
        holding = _Holding()
        try:
            tls = await loop.start_tls(
                transport,
                holding,
                self._context,
                server_side=True,
                ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT_S,
            )
        except (ssl.SSLError, OSError, TimeoutError, ConnectionError) as error:
            transport.abort()
            kind, reason = describe_tls_failure(holding.error or error)
            logger.warning("TLS handshake from %s refused: %s", remote, reason)
            await self._on_refused(kind, reason, remote)
            return
        if tls is None or holding.lost:  # the peer closed right after the handshake
            transport.abort()
            return
        tls.set_protocol(self._inner)
        self._inner.connection_made(tls)
        for chunk in holding.data:  # what arrived between the handshake and the hand-over
            self._inner.data_received(chunk)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()


async def _no_tls_hook(kind: str, reason: str, remote: str) -> None:
    return None


def basic_auth_header(station_id: str, password: str) -> str:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class OcppServer:
    """Accept stations, authenticate them, and run one OCPP session per connection."""

    def __init__(
        self,
        events: CsmsEvents,
        authenticator: Authenticator,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        ping_interval_s: float | None = 60.0,
        on_tls_refused: TlsRefusalHook | None = None,
    ) -> None:
        self._events = events
        self._auth = authenticator
        self._on_tls_refused = on_tls_refused or _no_tls_hook
        self._max_size = max_frame_bytes
        self._ping_interval_s = ping_interval_s
        self.sessions: dict[str, FaultTolerantChargePoint] = {}
        #: Sees every OCPP frame of every station, both ways (set by the operator API); may be set late.
        self.tap: FrameTap | None = None

    def _tap(self, station_id: str, direction: str, raw: str) -> None:
        if self.tap is not None:
            self.tap(station_id, direction, raw)

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        remote = str(connection.remote_address[0]) if connection.remote_address else "?"
        station_id = station_id_from_path(request.path)
        if station_id is None:
            return await self._refuse(connection, None, "invalid station id in URL path", remote)
        password, problem = _basic_password(request.headers, station_id)
        if problem is not None:
            return await self._refuse(connection, station_id, problem, remote)
        ssl_object = connection.transport.get_extra_info("ssl_object")
        credentials = Credentials(
            station_id, password, peer_common_name(ssl_object), ssl_object is not None, remote
        )
        try:
            reason = await self._auth.check(credentials)
        except AuthUnavailable as unavailable:
            # Not the station's fault and not a refusal: no security event, no traceback.
            logger.warning(
                "station %s from %s asked to retry in %d s: %s",
                station_id,
                remote,
                unavailable.retry_after_s,
                unavailable.reason,
            )
            response = connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "Service Unavailable\n")
            response.headers["Retry-After"] = str(unavailable.retry_after_s)
            return response
        if reason is not None:
            return await self._refuse(connection, station_id, reason, remote)
        return None

    async def _refuse(
        self, connection: ServerConnection, station_id: str | None, reason: str, remote: str
    ) -> Response:
        logger.warning("refused station %s from %s: %s", station_id, remote, reason)
        await self._auth.refused(station_id, reason, remote)
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        response.headers["WWW-Authenticate"] = 'Basic realm="smartcharge"'
        return response

    async def _handle(self, connection: ServerConnection) -> None:
        station_id = station_id_from_path(connection.request.path if connection.request else "")
        if station_id is None or connection.subprotocol is None:
            await connection.close(1002, "no station id or subprotocol")
            return

        async def on_fault(kind: str, detail: str) -> None:
            await self._events.on_fault(station_id, kind, detail)

        session: CsmsV201 | CsmsV16
        if connection.subprotocol == OcppVersion.V201.value:
            session = CsmsV201(station_id, connection, self._events, on_fault)
        else:
            session = CsmsV16(station_id, connection, self._events, on_fault)
        session.tap = self._tap
        previous = self.sessions.get(station_id)
        self.sessions[station_id] = session
        if previous is not None:
            # The station reconnected while its old link lingers: the newest connection wins.
            await previous._connection.close(1000, "superseded by a new connection")
        await self._events.on_connected(session)
        try:
            await session.start()
        except ConnectionClosed as closed:
            if (
                closed.rcvd is not None
                and closed.rcvd.code == 1009
                or closed.sent is not None
                and closed.sent.code == 1009
            ):
                await on_fault("oversize_frame", f"frame larger than {self._max_size} bytes refused")
        finally:
            if self.sessions.get(station_id) is session:
                del self.sessions[station_id]
            await self._events.on_disconnected(session)

    async def start(self, host: str, port: int, ssl_context: ssl.SSLContext | None = None) -> Server:
        """Listen on ``host:port`` (TLS when ``ssl_context`` is given); returns the running server."""
        gate: dict[str, Any] = {}
        if ssl_context is not None:
            context, hook = ssl_context, self._on_tls_refused

            def gated(*args: Any, **kwargs: Any) -> Any:
                return TlsGate(ServerConnection(*args, **kwargs), context, hook)

            gate["create_connection"] = gated
        server = await serve(
            self._handle,
            host,
            port,
            subprotocols=SUBPROTOCOLS,
            process_request=self._process_request,
            max_size=self._max_size,
            **gate,
            max_queue=MAX_QUEUED_FRAMES,
            ping_interval=self._ping_interval_s,
            # OCPP frames are small: per-message deflate costs CPU and ~100 KiB of zlib state per link.
            compression=None,
        )
        logger.info("OCPP server on %s:%s (%s)", host, port, "TLS" if ssl_context else "plain")
        return server


async def open_station_connection(
    url: str,
    station_id: str,
    version: OcppVersion,
    password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    open_timeout_s: float = 10.0,
) -> ClientConnection:
    """Open a station's websocket to ``url`` (ending in the station id) with its credentials."""
    headers = {} if password is None else {"Authorization": basic_auth_header(station_id, password)}
    return await connect(
        url,
        subprotocols=[version.value],  # type: ignore[list-item]
        additional_headers=headers,
        ssl=ssl_context,
        open_timeout=open_timeout_s,
        max_size=DEFAULT_MAX_FRAME_BYTES,
        max_queue=MAX_QUEUED_FRAMES,
        ping_interval=None,
        compression=None,
    )


FaultHook = Callable[[str, str], Awaitable[None]]

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "SUBPROTOCOLS",
    "AuthUnavailable",
    "Authenticator",
    "Credentials",
    "OcppServer",
    "TlsGate",
    "basic_auth_header",
    "open_station_connection",
    "station_id_from_path",
]
