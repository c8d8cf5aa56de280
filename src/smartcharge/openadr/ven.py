"""The VEN side of Interface A on openleadr: register, poll, answer events, opt out, report.

:class:`VenAdapter` uses openleadr only to build, sign, check and parse messages; the CEM drives
the poll loop itself (no background scheduler), so it decides when to poll, how to answer and
what to do with a refusal. Every incoming message must be signed by the VTN certificate whose
fingerprint the owner consented to; anything else is refused and reported as a
:class:`SecurityNotice` (SEC-S-8). OpenADR 2.0b simple HTTP is pull only: the VEN polls.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from lxml.etree import XMLSyntaxError
from openleadr import OpenADRClient, errors, objects
from openleadr.messaging import parse_message, validate_xml_schema, validate_xml_signature

from smartcharge.core.errors import SmartchargeError, ValidationError
from smartcharge.openadr.model import (
    DsrEvent,
    Opt,
    OptReason,
    Registration,
    ReportPoint,
    SecurityNotice,
    StatusCode,
)
from smartcharge.openadr.wire import event_from_wire
from smartcharge.openadr.xml_guard import UnsafeXmlError, parse_untrusted

logger = logging.getLogger(__name__)


class VenError(SmartchargeError):
    """The VTN could not be reached, refused us, or answered with something we refuse."""


@dataclass(frozen=True, slots=True)
class VenConfig:
    """One VEN's identity and the one VTN it may talk to."""

    ven_name: str
    vtn_url: str
    vtn_fingerprint: str
    cert: Path
    key: Path
    ca_file: Path
    ven_id: str | None = None
    registration_id: str | None = None

    def __post_init__(self) -> None:
        if not self.vtn_url.startswith("https://"):
            raise ValidationError("vtn_url", self.vtn_url, "Interface A runs over HTTPS only (SEC-S-8)")
        if not self.ven_name:
            raise ValidationError("ven_name", self.ven_name, "must not be empty")


@dataclass(frozen=True, slots=True)
class InvalidEvent:
    """An event we refuse to obey, with the OpenADR code we answer and why."""

    event_id: str
    modification_number: int
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll brought: valid events, refused ones, and flow-control facts."""

    request_id: str | None = None
    vtn_id: str | None = None
    events: tuple[DsrEvent, ...] = ()
    invalid: tuple[InvalidEvent, ...] = ()
    reregister: bool = False
    cancelled_by_vtn: bool = False
    raw_events: tuple[dict[str, Any], ...] = field(default=(), repr=False)


class _Client(OpenADRClient):  # type: ignore[misc]
    """openleadr's client used as a signer and transport; refusals become exceptions."""

    def __init__(self, adapter: VenAdapter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._adapter = adapter

    async def _ensure_client_session(self) -> None:
        if not self.client_session:  # type: ignore[has-type]
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.minimum_version = ssl.TLSVersion.TLSv1_2  # SEC-S-3
            context.load_verify_locations(self.ca_file)
            context.load_cert_chain(self.cert_path, self.key_path, self.passphrase)
            self.client_session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context),
                headers={"content-type": "application/xml"},
                timeout=aiohttp.ClientTimeout(sock_connect=5, sock_read=10),
            )

    async def _perform_request(self, service: str, message: str) -> tuple[str | None, dict[str, Any]]:
        await self._ensure_client_session()
        url = f"{self.vtn_url}/{service}"
        try:
            async with self.client_session.post(url, data=message) as reply:
                content = await reply.read()
                status = reply.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise VenError(f"VTN at {self.vtn_url} unreachable: {exc.__class__.__name__}: {exc}") from exc
        if status != 200:
            raise VenError(f"VTN answered HTTP {status} to {service}: {content[:200]!r}")
        if not content:
            return None, {}
        try:
            parse_untrusted(content)  # refuse DTDs and entities before openleadr's parser runs
            tree = validate_xml_schema(content)
            validate_xml_signature(tree, cert_fingerprint=self.vtn_fingerprint)
            message_type, payload = parse_message(content)
        except errors.FingerprintMismatch as exc:
            self._adapter.notify("untrusted_vtn_signer", 0, str(exc))
            raise VenError(f"refused a message not signed by the consented VTN: {exc}") from exc
        except UnsafeXmlError as exc:
            self._adapter.notify("unsafe_vtn_xml", 0, exc.reason)
            raise VenError(f"refused a VTN message: {exc.reason}") from exc
        except (XMLSyntaxError, ValueError, AttributeError) as exc:
            self._adapter.notify("invalid_vtn_message", 0, f"{exc.__class__.__name__}: {exc}")
            raise VenError(f"refused a VTN message that failed checks: {exc}") from exc
        response = payload.get("response") or {}
        code = response.get("response_code")
        if code is not None and int(code) != StatusCode.OK:
            raise VenError(f"VTN refused {service}: {code} {response.get('response_description')}")
        return message_type, payload


class VenAdapter:
    """One VEN talking to one VTN over HTTPS with signed messages."""

    def __init__(
        self,
        config: VenConfig,
        on_security: Callable[[SecurityNotice], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._on_security = on_security
        self._clock = clock
        self._client = _Client(
            self,
            ven_name=config.ven_name,
            vtn_url=config.vtn_url,
            cert=str(config.cert),
            key=str(config.key),
            ca_file=str(config.ca_file),
            vtn_fingerprint=config.vtn_fingerprint,
            ven_id=config.ven_id,
            show_fingerprint=False,
        )
        self._client.registration_id = config.registration_id
        self.vtn_id: str | None = None

    def notify(self, kind: str, code: int, detail: str) -> None:
        notice = SecurityNotice(int(self._clock()), "ven", kind, code, self.config.vtn_url, detail)
        logger.warning("VEN refused a message from %s (%s): %s", self.config.vtn_url, kind, detail)
        if self._on_security is not None:
            self._on_security(notice)

    @property
    def registration(self) -> Registration | None:
        client = self._client
        if not client.registration_id or not client.ven_id:
            return None
        freq = client.poll_frequency or dt.timedelta(seconds=10)
        return Registration(self.vtn_id or "", client.ven_id, client.registration_id, freq.total_seconds())

    async def register(self) -> Registration:
        """oadrQueryRegistration then oadrCreatePartyRegistration (INT-5, INT-6)."""
        _, info = await self._client._perform_request(
            "EiRegisterParty", self._client._create_message("oadrQueryRegistration", request_id=_new_id())
        )
        self.vtn_id = info.get("vtn_id")
        await self._client.create_party_registration(ven_id=self.config.ven_id)
        registration = self.registration
        if registration is None:
            raise VenError(f"VTN at {self.config.vtn_url} did not register us")
        logger.info("registered at VTN %s as %s", registration.vtn_id, registration.ven_id)
        return registration

    async def cancel_registration(self) -> None:
        """oadrCancelPartyRegistration: leave this VTN (switching provider, INT-6)."""
        client = self._client
        if not client.registration_id:
            return
        message = client._create_message(
            "oadrCancelPartyRegistration",
            request_id=_new_id(),
            registration_id=client.registration_id,
            ven_id=client.ven_id,
        )
        kind, _ = await client._perform_request("EiRegisterParty", message)
        if kind != "oadrCanceledPartyRegistration":
            raise VenError(f"VTN answered {kind} to oadrCancelPartyRegistration")
        client.registration_id = None

    async def poll(self) -> PollResult:
        """One oadrPoll; events are parsed and checked but not yet answered."""
        client = self._client
        kind, payload = await client._perform_request(
            "OadrPoll", client._create_message("oadrPoll", ven_id=client.ven_id)
        )
        vtn_id = payload.get("vtn_id") if payload else None
        if kind == "oadrRequestReregistration":
            return PollResult(vtn_id=vtn_id, reregister=True)
        if kind == "oadrCancelPartyRegistration":
            client.registration_id = None
            return PollResult(vtn_id=vtn_id, cancelled_by_vtn=True)
        if kind != "oadrDistributeEvent":
            return PollResult(vtn_id=vtn_id)
        events: list[DsrEvent] = []
        invalid: list[InvalidEvent] = []
        raw = payload.get("events") or []
        for item in raw:
            descriptor = item.get("event_descriptor") or {}
            try:
                events.append(event_from_wire(item))
            except ValidationError as exc:
                code = (
                    StatusCode.SIGNAL_NOT_SUPPORTED
                    if exc.field == "event_signal"
                    else StatusCode.INVALID_DATA
                )
                invalid.append(
                    InvalidEvent(
                        str(descriptor.get("event_id")),
                        int(descriptor.get("modification_number") or 0),
                        code,
                        str(exc),
                    )
                )
                self.notify("invalid_event", code, f"event {descriptor.get('event_id')}: {exc}")
        return PollResult(
            payload.get("request_id"), vtn_id, tuple(events), tuple(invalid), raw_events=tuple(raw)
        )

    async def respond(self, request_id: str | None, answers: list[tuple[str, int, Opt, int]]) -> None:
        """oadrCreatedEvent: for each (event id, modification number, opt, code)."""
        if not answers:
            return
        responses = [
            {
                "response_code": int(code),
                "response_description": "OK" if code == StatusCode.OK else "ERROR",
                "request_id": request_id,
                "event_id": event_id,
                "modification_number": modification,
                "opt_type": opt.value,
            }
            for event_id, modification, opt, code in answers
        ]
        message = self._client._create_message(
            "oadrCreatedEvent",
            response={"response_code": 200, "response_description": "OK", "request_id": request_id},
            event_responses=responses,
            ven_id=self._client.ven_id,
        )
        await self._client._perform_request("EiEvent", message)

    async def send_opt(self, event_id: str, opt: Opt, reason: OptReason) -> None:
        """oadrCreateOpt for one event with its reason (ARB-6: the override reaches the DSRSP)."""
        client = self._client
        message = client._create_message(
            "oadrCreateOpt",
            request_id=_new_id(),
            ven_id=client.ven_id,
            opt_id=_new_id(),
            opt_type=opt.value,
            opt_reason=reason.value,
            event_id=event_id,
            modification_number=0,
            targets=[{"ven_id": client.ven_id}],
            created_date_time=dt.datetime.now(dt.UTC),
        )
        await client._perform_request("EiOpt", message)

    async def send_report(self, report_name: str, points: list[ReportPoint]) -> None:
        """oadrUpdateReport with the readings ``points`` (telemetry, offers, power reports)."""
        if not points:
            return
        now = dt.datetime.now(dt.UTC)
        intervals = [
            objects.ReportInterval(
                dtstart=dt.datetime.fromtimestamp(p.at_s, tz=dt.UTC),
                report_payload=objects.ReportPayload(r_id=p.r_id, value=p.value),
            )
            for p in points
        ]
        report = asdict(
            objects.Report(
                report_specifier_id=report_name,
                report_name=report_name,
                report_request_id=report_name,
                created_date_time=now,
                dtstart=intervals[0].dtstart,
                intervals=intervals,
            )
        )
        report["report_id"] = _new_id()  # the template wants eiReportID; the dataclass lacks it
        message = self._client._create_message(
            "oadrUpdateReport", request_id=_new_id(), reports=[report], ven_id=self._client.ven_id
        )
        await self._client._perform_request("EiReport", message)

    async def close(self) -> None:
        if self._client.client_session is not None:
            await self._client.client_session.close()
            self._client.client_session = None  # type: ignore[assignment]


def _new_id() -> str:
    return uuid.uuid4().hex


__all__ = ["InvalidEvent", "PollResult", "VenAdapter", "VenConfig", "VenError"]
