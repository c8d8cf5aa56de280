"""The VTN side of Interface A on openleadr: TLS with client certificates and signed messages.

:class:`VtnAdapter` hides the library behind a small interface: the DSRSP role passes a
:class:`VenDirectory` (who may register, by certificate fingerprint) and a :class:`VtnListener`
(opts, reports, security notices) and calls :meth:`VtnAdapter.publish` with domain events.

openleadr keeps its server configuration on classes and its nonce cache in a module global, so
there is one VTN per process. The library answers some refusals with bare HTTP errors; a
middleware here turns every refusal into an OpenADR response code (463 not registered or
authorised, 454 invalid data) and reports it as a :class:`SecurityNotice` (SEC-S-8, SEC-D-9).
OpenADR 2.0b over simple HTTP is pull only: events wait in a queue until the VEN polls.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import ssl
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

from aiohttp import web
from openleadr import OpenADRServer, enums, errors, messaging, utils
from openleadr.service import VTNService

from smartcharge.core.errors import ValidationError
from smartcharge.openadr.model import (
    ADMIN_PREFIX,
    DsrEvent,
    Opt,
    OptNotice,
    OptReason,
    ReportPoint,
    SecurityNotice,
    StatusCode,
    VenRecord,
)
from smartcharge.openadr.wire import event_to_wire
from smartcharge.openadr.xml_guard import Peeked, UnsafeXmlError, peek, response_code

logger = logging.getLogger(__name__)

PATH_PREFIX = "/OpenADR2/Simple/2.0b"
#: openleadr's replay window; both clocks must agree within it.
REPLAY_WINDOW_S = messaging.REPLAY_PROTECT_MAX_TIME_DELTA.total_seconds()

_DSIG = "{http://www.w3.org/2000/09/xmldsig#}"
_DSP = "{http://openadr.org/oadr-2.0b/2012/07/xmldsig-properties}"
#: Registration messages carry no venID yet, so openleadr checks neither their signature nor their
#: nonce; the guard does, against the client certificate of the TLS connection.
_SIGNED_BY_CONNECTION = frozenset({"oadrCreatePartyRegistration", "oadrQueryRegistration"})


class VenDirectory(Protocol):
    """The DSRSP's list of CEMs it trusts, keyed by certificate fingerprint (SEC-S-8)."""

    def lookup(self, ven_id: str) -> VenRecord | None:
        """The registered VEN with this id, or None (unknown or de-registered)."""

    def register(self, fingerprint: str, ven_name: str) -> VenRecord | None:
        """Register the VEN presenting ``fingerprint``; None refuses it (not enrolled)."""

    def cancel(self, ven_id: str) -> None:
        """Forget the registration of ``ven_id`` (oadrCancelPartyRegistration)."""


class VtnListener(Protocol):
    """What the VTN hears from VENs."""

    def on_opt(self, notice: OptNotice) -> None: ...

    def on_report(self, ven_id: str, points: list[ReportPoint]) -> None: ...

    def on_security(self, notice: SecurityNotice) -> None: ...


AdminHandler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class VtnConfig:
    """Where the VTN listens and which certificates it uses; all paths are PEM files."""

    vtn_id: str
    cert: Path
    key: Path
    ca_file: Path
    host: str = "127.0.0.1"
    port: int = 8443
    poll_interval_s: float = 1.0
    operator_fingerprints: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.vtn_id or self.vtn_id != self.vtn_id.upper():
            raise ValidationError(
                "vtn_id", self.vtn_id, "must be non-empty upper case (VENs flag lower case)"
            )
        if not 0.2 <= self.poll_interval_s <= 86_400:
            raise ValidationError("poll_interval_s", self.poll_interval_s, "must be 0.2 s .. 24 h")
        if not 0 <= self.port <= 65_535:
            raise ValidationError("port", self.port, "must be a TCP port 0..65535")


class _OptService(VTNService):  # type: ignore[misc]
    """EiOpt, which openleadr 0.5.36 routes nowhere: the VEN's opt-out reasons (ARB-6)."""

    __service_name__ = "EiOpt"

    def __init__(self, vtn_id: str, listener: VtnListener) -> None:
        super().__init__(vtn_id)
        self._listener = listener
        self.handlers["oadrCreateOpt"] = self.create_opt
        self.handlers["oadrCancelOpt"] = self.cancel_opt

    async def create_opt(self, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        try:
            reason = OptReason(payload.get("opt_reason"))
        except ValueError:
            reason = None
        self._listener.on_opt(
            OptNotice(
                ven_id=str(payload["ven_id"]),
                event_id=str(payload.get("event_id") or ""),
                opt=Opt(payload["opt_type"]),
                reason=reason,
            )
        )
        return "oadrCreatedOpt", {"opt_id": payload["opt_id"]}

    async def cancel_opt(self, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return "oadrCanceledOpt", {"opt_id": payload["opt_id"]}


def _report_points(report: dict[str, Any]) -> list[ReportPoint]:
    name = str(report.get("report_name") or report.get("report_specifier_id") or "")
    points = []
    for interval in report.get("intervals") or []:
        payload = interval.get("report_payload") or {}
        at = interval.get("dtstart")
        points.append(
            ReportPoint(
                name=name,
                r_id=str(payload.get("r_id")),
                at_s=int(at.timestamp()) if isinstance(at, dt.datetime) else 0,
                value=float(payload.get("value", "nan")),
            )
        )
    return points


class VtnAdapter:
    """One OpenADR 2.0b VTN (one per process, see module docstring)."""

    def __init__(
        self,
        config: VtnConfig,
        directory: VenDirectory,
        listener: VtnListener,
        admin: AdminHandler | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._directory = directory
        self._listener = listener
        self._admin = admin
        self._clock = clock
        self._server: OpenADRServer | None = None
        self.bound_port: int | None = None

    # ---- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.config
        with warnings.catch_warnings():
            # openleadr 0.5.36 stores itself in the aiohttp app under a plain string key.
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            server = self._make_server()
        if server.ssl_context is None:  # pragma: no cover - all three paths are always given
            raise ValidationError("cert", str(cfg.cert), "TLS with client certificates is required")
        server.ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2  # SEC-S-3
        server.add_handler("on_create_party_registration", self._on_register)
        server.add_handler("on_cancel_party_registration", self._on_cancel)
        reports = server.services["report_service"]
        reports.handlers["oadrUpdateReport"] = self._on_update_report
        reports.handlers["oadrRegisterReport"] = self._on_register_report
        opt = _OptService(cfg.vtn_id, self._listener)
        server.services["opt_service"] = opt
        server.app.add_routes([web.post(f"{PATH_PREFIX}/EiOpt", opt.handler)])
        if self._admin is not None:
            server.app.add_routes([web.post(ADMIN_PREFIX + "/{action}", self._on_admin)])
        server.app.middlewares.append(self._guard)
        # openleadr prints banners on start; keep them out of our stdout.
        runner = web.AppRunner(server.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host=cfg.host, port=cfg.port, ssl_context=server.ssl_context)
        await site.start()
        server.app_runner = runner
        sockets = getattr(site._server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else cfg.port
        self._server = server
        logger.info("VTN %s listening on https://%s:%s%s", cfg.vtn_id, cfg.host, self.bound_port, PATH_PREFIX)

    def _make_server(self) -> OpenADRServer:
        cfg = self.config
        return OpenADRServer(
            vtn_id=cfg.vtn_id,
            cert=str(cfg.cert),
            key=str(cfg.key),
            http_cert=str(cfg.cert),
            http_key=str(cfg.key),
            http_ca_file=str(cfg.ca_file),
            http_host=cfg.host,
            http_port=cfg.port,
            http_path_prefix=PATH_PREFIX,
            ven_lookup=self._ven_lookup,
            requested_poll_freq=dt.timedelta(seconds=cfg.poll_interval_s),
            show_fingerprint=False,
        )

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.app_runner.cleanup()
            self._server = None

    @property
    def url(self) -> str:
        return f"https://{self.config.host}:{self.bound_port}{PATH_PREFIX}"

    # ---- outgoing ---------------------------------------------------------------------------
    def publish(self, ven_id: str, event: DsrEvent) -> None:
        """Queue ``event`` for ``ven_id``; it leaves with the VEN's next poll (pull model)."""
        server = self._require()
        existing = utils.find_by(server.events.get(ven_id, []), "event_descriptor.event_id", event.event_id)
        if existing is not None:
            server.events[ven_id].remove(existing)
        wire = event_to_wire(event, ven_id)
        tolerance = wire.active_period.tolerance
        server.add_raw_event(ven_id, wire, callback=self._on_event_response)
        if tolerance:
            # openleadr 0.5.36 rebuilds the active period from the intervals and drops the
            # startafter window (RD-R3); put it back.
            utils.setmember(wire, "active_period", {**wire.active_period, "tolerance": tolerance})

    def cancel(self, ven_id: str, event_id: str) -> None:
        """Mark a queued event cancelled; the VEN learns on its next poll."""
        self._require().cancel_event(ven_id, event_id)

    def drop_ven(self, ven_id: str) -> None:
        """Forget every queued event of a VEN whose registration ended."""
        server = self._require()
        server.events.pop(ven_id, None)
        server.events_updated.pop(ven_id, None)

    def _require(self) -> OpenADRServer:
        if self._server is None:
            raise RuntimeError("VTN not started")
        return self._server

    # ---- library callbacks ------------------------------------------------------------------
    def _ven_lookup(self, ven_id: str) -> dict[str, str]:
        record = self._directory.lookup(ven_id)
        if record is None or record.registration_id is None:
            raise errors.NotRegisteredOrAuthorizedError(f"venID {ven_id} is not registered with this VTN")
        return {
            "ven_id": record.ven_id,
            "ven_name": record.ven_name,
            "fingerprint": record.fingerprint,
            "registration_id": record.registration_id,
        }

    async def _on_register(self, payload: dict[str, Any]) -> tuple[str, str]:
        fingerprint = payload.get("fingerprint")
        ven_name = str(payload.get("ven_name") or "")
        record = None
        if fingerprint:
            # The directory writes to its database: keep that off the event loop.
            record = await asyncio.to_thread(self._directory.register, fingerprint, ven_name)
        if record is None or record.registration_id is None:
            raise errors.NotRegisteredOrAuthorizedError(
                f"certificate {fingerprint} is not enrolled with this DSRSP; deliver it out of band first"
            )
        logger.info("VEN %s (%s) registered as %s", ven_name, fingerprint, record.ven_id)
        return record.ven_id, record.registration_id

    async def _on_cancel(self, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ven_id = str(payload["ven_id"])
        await asyncio.to_thread(self._directory.cancel, ven_id)
        self.drop_ven(ven_id)
        logger.info("VEN %s cancelled its registration", ven_id)
        return "oadrCanceledPartyRegistration", {
            "registration_id": payload.get("registration_id"),
            "ven_id": ven_id,
        }

    def _on_event_response(self, ven_id: str, event_id: str, opt_type: str) -> None:
        self._listener.on_opt(OptNotice(ven_id=ven_id, event_id=event_id, opt=Opt(opt_type)))

    async def _on_update_report(self, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ven_id = str(payload["ven_id"])
        points: list[ReportPoint] = []
        for report in payload.get("reports") or []:
            points.extend(_report_points(report))
        self._listener.on_report(ven_id, points)
        return "oadrUpdatedReport", {}

    async def _on_register_report(self, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        # The VEN sends its telemetry unrequested (see docs/openadr.md); nothing to subscribe.
        return "oadrRegisteredReport", {"report_requests": []}

    async def _on_admin(self, request: web.Request) -> web.Response:
        fingerprint = utils.get_cert_fingerprint_from_request(request)
        if fingerprint not in self.config.operator_fingerprints:
            self._notify("operator_not_authorised", 403, fingerprint or "", "admin request refused")
            return web.json_response(
                {"error": "client certificate is not an operator certificate"}, status=403
            )
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValidationError("body", type(body).__name__, "must be a JSON object")
            assert self._admin is not None
            result = await self._admin(request.match_info["action"], body)
        except ValidationError as exc:
            return web.json_response({"error": str(exc), "field": exc.field}, status=422)
        except json.JSONDecodeError as exc:
            return web.json_response({"error": f"body is not JSON: {exc}"}, status=400)
        return web.json_response(result)

    # ---- refusals ---------------------------------------------------------------------------
    def _notify(self, kind: str, code: int, peer: str, detail: str) -> None:
        notice = SecurityNotice(int(self._clock()), "vtn", kind, code, peer, detail)
        logger.warning("refused OpenADR message (%s, %s) from %s: %s", kind, code, peer or "?", detail)
        self._listener.on_security(notice)

    def _refusal(self, code: int, description: str, ven_id: str | None) -> web.Response:
        msg = VTNService._create_message(
            "oadrResponse",
            # openleadr's template does not escape: a description quoting the peer's bytes must.
            response={"response_code": code, "response_description": escape(description), "request_id": None},
            ven_id=ven_id or "",
        )
        return web.Response(text=msg, status=200, content_type="application/xml")

    def _precheck(self, peeked: Peeked, fingerprint: str) -> tuple[str, int, str] | None:
        """Refusals openleadr would blur or miss: unsigned, replayed, too old, or (for registration
        messages, which openleadr does not authenticate) not signed by the connection's certificate.
        Returns (kind, code, detail) or ``None``."""
        tree = peeked.tree
        if tree.find(f".//{_DSIG}Signature") is None:
            return "unsigned_message", StatusCode.NOT_REGISTERED_OR_AUTHORIZED, "message is not signed"
        stamp = tree.findtext(f".//{_DSP}timestamp")
        nonce = tree.findtext(f".//{_DSP}nonce")
        try:
            signed_at = utils.parse_datetime(stamp)
        except Exception:  # noqa: BLE001 - any malformed stamp is the same refusal
            return "malformed_replay_protect", StatusCode.NOT_REGISTERED_OR_AUTHORIZED, "no valid timestamp"
        skew_s = signed_at.timestamp() - self._clock()
        if (signed_at, nonce) in messaging.NONCE_CACHE:
            return "replayed_nonce", StatusCode.NOT_REGISTERED_OR_AUTHORIZED, f"nonce {nonce} seen before"
        if abs(skew_s) > REPLAY_WINDOW_S:
            direction = "ahead of" if skew_s > 0 else "behind"
            logger.warning(
                "clock skew: the message from %s was signed %.1f s %s our clock, beyond the %.0f s replay "
                "window; check that both machines keep time (NTP)",
                fingerprint or "an unknown VEN",
                abs(skew_s),
                direction,
                REPLAY_WINDOW_S,
            )
            if skew_s < 0:
                return (
                    "stale_timestamp",
                    StatusCode.NOT_REGISTERED_OR_AUTHORIZED,
                    f"signed {abs(skew_s):.1f} s ago",
                )
        if peeked.message_type in _SIGNED_BY_CONNECTION and peeked.ven_id is None:
            return _connection_signature(tree, fingerprint)
        return None

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]
    ) -> Any:
        if not request.path.startswith(PATH_PREFIX):
            return await handler(request)
        body = await request.read()
        # Security events are recorded under the certificate the peer proved it holds, never
        # under the venID it claims (that goes into the detail).
        fingerprint = utils.get_cert_fingerprint_from_request(request) or ""
        try:
            peeked = peek(body)
        except UnsafeXmlError as exc:
            self._notify("unsafe_xml", StatusCode.INVALID_DATA, fingerprint, exc.reason)
            return self._refusal(StatusCode.INVALID_DATA, exc.reason, None)
        ven_id = peeked.ven_id
        claim = f" (claims venID {ven_id})" if ven_id else ""
        refused = self._precheck(peeked, fingerprint)
        if refused is not None:
            kind, code, detail = refused
            self._notify(kind, code, fingerprint, detail + claim)
            return self._refusal(code, detail, ven_id)
        response = await handler(request)
        if not isinstance(response, web.Response):
            return response
        if response.status >= 400:
            kind = "bad_signature" if response.status == 403 else "invalid_message"
            text = response.text or ""
            self._notify(kind, StatusCode.NOT_REGISTERED_OR_AUTHORIZED, fingerprint, text[:200] + claim)
            return self._refusal(StatusCode.NOT_REGISTERED_OR_AUTHORIZED, f"{kind}: {text[:120]}", ven_id)
        payload = response.body if isinstance(response.body, bytes) else b""
        coded = response_code(payload) if payload else None
        if coded is not None and coded[0] >= 400:
            code, detail = coded
            self._notify(_kind_of(code, detail), code, fingerprint, detail + claim)
        return response


def _connection_signature(tree: Any, fingerprint: str) -> tuple[str, int, str] | None:
    """Check a registration message's XML signature against the TLS client certificate and
    record its nonce (so a replay is refused), as openleadr does for every other message."""
    code = StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    if not fingerprint:
        return "no_client_certificate", code, "a client certificate is required"
    try:
        messaging.validate_xml_signature(tree, cert_fingerprint=fingerprint)
    except errors.FingerprintMismatch:
        return "wrong_signer", code, "message not signed with the certificate of the connection"
    except Exception as exc:  # noqa: BLE001 - signxml raises several types for one refusal
        return "bad_signature", code, f"signature check failed: {str(exc).splitlines()[0][:120]}"
    return None


def _kind_of(code: int, detail: str) -> str:
    text = detail.lower()
    if "not registered with this vtn" in text or "not known" in text:
        return "unknown_ven"
    if "not enrolled" in text:
        return "unknown_certificate"
    if "fingerprint" in text or "certificate" in text:
        return "wrong_signer"
    if "signature" in text:
        return "bad_signature"
    if code == enums.STATUS_CODES.INVALID_ID:
        return "invalid_id"
    return "refused"


__all__ = [
    "ADMIN_PREFIX",
    "PATH_PREFIX",
    "REPLAY_WINDOW_S",
    "AdminHandler",
    "VenDirectory",
    "VtnAdapter",
    "VtnConfig",
    "VtnListener",
]
