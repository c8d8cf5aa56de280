"""The CEM's security and device-management side (OCPP 2.0.1 A02/A03, L01, M03-M05, N01-N10;
SEC-S-4..6, PRIV-6): signs station CSRs, publishes firmware, hands out log-upload locations,
asks stations for and clears what they hold about a customer (CustomerInformation), and keeps
what stations report (firmware status, uploaded logs, customer data) for the operator.

It implements :class:`~smartcharge.ocpp.security_ports.CsmsSecurityEvents` (the version modules
find it as ``gateway.security``). Every refusal is a security-log entry with its reason.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpp.exceptions import OCPPError

from smartcharge.cem.ca import CsrSigner, check_csr
from smartcharge.cem.file_server import FileServer
from smartcharge.cem.firmware import PublishedImage
from smartcharge.cem.recorder import Recorder
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.security_ports import AlertEvent, FirmwareRequest

logger = logging.getLogger(__name__)

#: How long the CEM waits for a station's NotifyCustomerInformation parts after its answer (N09):
#: a station sends them at once; a station that answers Accepted and never sends them is
#: reported NoReport, and an export does not hang on it.
CUSTOMER_REPORT_TIMEOUT_S = 5.0


@dataclass
class CustomerAnswer:
    """One station's answer to CustomerInformation for one id token (N09/N10)."""

    station_id: str
    id_token: str
    status: str  # Accepted | Rejected | Invalid, a CALLERROR code, NoReport (parts never came)
    lines: list[str] = field(default_factory=list)


class CemSecurity:
    """Certificates, firmware and logs for every station of one CEM."""

    def __init__(
        self, links: Any, recorder: Recorder, signer: CsrSigner, files: FileServer | None = None
    ) -> None:
        self._links = links  # station id -> StationState with .link (the gateway's table)
        self._recorder = recorder
        self._signer = signer
        self.files = files
        self.firmware_status: list[tuple[str, str, int | None]] = []
        self.signed: list[str] = []
        self.alerts: list[tuple[str, AlertEvent]] = []
        self.monitoring_reports: dict[tuple[str, int], list[str]] = {}
        self._customer_parts: dict[tuple[str, int], list[str]] = {}
        self._customer_done: dict[tuple[str, int], asyncio.Event] = {}
        self._request_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("CEM security task failed: %s", task.exception())

    def link(self, station_id: str) -> Any:
        state = self._links.get(station_id)
        if state is None or state.link is None:
            raise ValidationError("station_id", station_id, "is not connected")
        return state.link

    async def _log(self, station_id: str | None, kind: str, detail: str, remote: str | None = None) -> None:
        await self._recorder.security_event(station_id, kind, detail, remote_address=remote)

    # ---- A02/A03 -----------------------------------------------------------------------------

    async def on_sign_certificate(self, station_id: str, csr: str, certificate_type: str) -> str | None:
        try:
            if certificate_type != "ChargingStationCertificate":
                raise ValidationError(
                    "certificateType", certificate_type, "this CEM signs ChargingStationCertificate only"
                )
            request = check_csr(csr, station_id)
        except ValidationError as error:
            await self._log(station_id, "InvalidCsr", f"CSR refused: {error}")
            return str(error)
        self._spawn(self._sign_and_send(station_id, request, certificate_type))
        return None

    async def _sign_and_send(self, station_id: str, request: Any, certificate_type: str) -> None:
        try:
            chain = await asyncio.to_thread(self._signer.sign, request, station_id)
        except ValidationError as error:  # e.g. an external CA that failed: nothing is sent
            await self._log(station_id, "CertificateSigningFailed", f"{certificate_type} not signed: {error}")
            return
        status = await self.link(station_id).certificate_signed(chain, certificate_type)
        self.signed.append(station_id)
        await self._log(
            station_id, "CertificateIssued", f"{certificate_type} signed; station answered {status}"
        )

    async def renew_certificate(self, station_id: str) -> str:
        """A02: ask the station for a CSR (TriggerMessage SignChargingStationCertificate)."""
        return str(await self.link(station_id).trigger_message("SignChargingStationCertificate"))

    # ---- A01, A05 ---------------------------------------------------------------------------

    async def rotate_password(self, station_id: str, password: str | None = None) -> str:
        """A01: a new BasicAuthPassword (``password``, else a fresh random one) through SetVariables
        SecurityCtrlr.BasicAuthPassword (1.6: ChangeConfiguration AuthorizationKey); once the
        station accepts it, only the new one is accepted (its argon2 hash replaces the old).
        Returns the station's answer; anything but Accepted leaves the old password in force."""
        from smartcharge.cem.credentials import check_password_rules, hash_password, new_password
        from smartcharge.ocpp.domain import VariableRef

        record = self._recorder.stations.get(station_id)
        if record is None:
            raise ValidationError("station_id", station_id, "not a registered station")
        if record.security_profile == 3:
            raise ValidationError("security_profile", 3, "a profile 3 station has no password to rotate")
        password = new_password() if password is None else check_password_rules(password)
        ref = VariableRef("SecurityCtrlr", "BasicAuthPassword")
        (result,) = await self.link(station_id).set_variables([(ref, password)])
        if result.status != "Accepted":
            await self._log(station_id, "PasswordRotationFailed", f"station answered {result.status}")
            return str(result.status)
        hashed = await asyncio.to_thread(hash_password, password)
        await asyncio.to_thread(
            self._recorder.stations.set_credentials, station_id, record.security_profile, hashed
        )
        await self._log(station_id, "ReconfigurationOfSecurityParameters", "BasicAuthPassword rotated")
        return "Accepted"

    async def upgrade_security_profile(
        self, station_id: str, csms_url: str, profile: int, slot: int = 1
    ) -> str:
        """A05: SetNetworkProfile, NetworkConfigurationPriority, Reset; from then on the station is
        registered at ``profile`` and any connection at a lower one is refused (no downgrade)."""
        from smartcharge.ocpp.domain import VariableRef

        record = self._recorder.stations.get(station_id)
        if record is None:
            raise ValidationError("station_id", station_id, "not a registered station")
        if profile <= record.security_profile:
            raise ValidationError(
                "profile", profile, f"must be above the current profile {record.security_profile}"
            )
        link = self.link(station_id)
        status = await link.set_network_profile(slot, csms_url, profile)
        if status != "Accepted":
            await self._log(
                station_id, "SecurityProfileUpgradeFailed", f"SetNetworkProfile answered {status}"
            )
            return str(status)
        (priority,) = await link.set_variables(
            [(VariableRef("OCPPCommCtrlr", "NetworkConfigurationPriority"), str(slot))]
        )
        if priority.status not in ("Accepted", "RebootRequired"):
            return str(priority.status)
        # Raised before the reboot: the station's next connection must already meet the new profile.
        hashed = None if profile == 3 else record.password_hash
        await asyncio.to_thread(self._recorder.stations.set_credentials, station_id, profile, hashed)
        await self._log(
            station_id, "ReconfigurationOfSecurityParameters", f"security profile raised to {profile}"
        )
        return str(await link.reset())

    # ---- L01 ---------------------------------------------------------------------------------

    async def update_firmware(self, station_id: str, image: PublishedImage) -> tuple[int, str]:
        if self.files is None:
            raise ValidationError("firmware", image.name, "the CEM's file server is not running")
        request = FirmwareRequest(
            next(self._request_ids),
            image.location(self.files.base_url),
            datetime.now(UTC),
            image.signing_certificate,
            image.signature,
        )
        status = await self.link(station_id).update_firmware(request)
        return request.request_id, str(status)

    async def on_firmware_status(self, station_id: str, status: str, request_id: int | None) -> None:
        self.firmware_status.append((station_id, status, request_id))
        if status in {
            "InvalidSignature",
            "InstallVerificationFailed",
            "InstallationFailed",
            "DownloadFailed",
        }:
            await self._log(station_id, "FirmwareUpdateFailed", f"request {request_id}: {status}")

    # ---- N01 ---------------------------------------------------------------------------------

    async def request_log(
        self, station_id: str, log_type: str = "SecurityLog", remote_location: str | None = None
    ) -> tuple[int, str]:
        """GetLog to this CEM's upload endpoint; any other location is refused and logged."""
        if self.files is None:
            raise ValidationError(
                "remoteLocation", remote_location, "the CEM's upload endpoint is not running"
            )
        request_id = next(self._request_ids)
        if remote_location is not None:
            await self._log(
                station_id,
                "LogUploadRefused",
                f"GetLog to {remote_location[:200]!r} refused: not this CEM's upload endpoint",
            )
            raise ValidationError(
                "remoteLocation", remote_location, "uploads go only to this CEM's own upload endpoint"
            )
        location = self.files.upload_location(station_id, request_id)
        status = await self.link(station_id).get_log_of(log_type, location, request_id)
        return request_id, str(status)

    async def check_outgoing(self, station_id: str, action: str, payload: dict[str, Any]) -> None:
        """An operator's GetLog (2.0.1, 1.6 security extension) or GetDiagnostics (1.6) goes out
        only to an upload location this CEM handed out for that station (``upload_location``);
        any other is refused with a ValidationError and logged, and nothing is sent (N01)."""
        if action == "GetLog":
            field, location = "log.remoteLocation", (payload.get("log") or {}).get("remoteLocation")
        elif action == "GetDiagnostics":
            field, location = "location", payload.get("location")
        else:
            return
        if (
            self.files is not None
            and isinstance(location, str)
            and self.files.is_own_location(location, station_id)
        ):
            return
        await self._log(
            station_id,
            "LogUploadRefused",
            f"{action} to {str(location)[:200]!r} refused: not an upload location of this CEM for it",
        )
        raise ValidationError(
            field, location, "uploads go only to a location this CEM handed out for this station"
        )

    def upload_location(self, station_id: str, request_id: int) -> str:
        """A fresh single-use upload location for one GetLog / GetDiagnostics of ``station_id``."""
        if self.files is None:
            raise ValidationError("remoteLocation", None, "the CEM's upload endpoint is not running")
        return self.files.upload_location(station_id, request_id)

    async def on_notify_event(self, station_id: str, events: list[AlertEvent]) -> None:
        """N07: a tripped monitor is an alert for the operator (kept, logged at WARNING); a hard-wired
        state notification (e.g. Occupied at every plug-in, G05) is not, and is only stored as a
        notice by the NotifyEvent handler."""
        for event in events:
            if not event.is_monitor_alert:
                logger.debug(
                    "%s state: %s.%s = %s", station_id, event.component, event.variable, event.actual_value
                )
                continue
            self.alerts.append((station_id, event))
            logger.warning(
                "%s alert: %s.%s = %s (%s)",
                station_id,
                event.component,
                event.variable,
                event.actual_value,
                event.trigger,
            )

    async def on_monitoring_report(self, station_id: str, request_id: int, lines: list[str]) -> None:
        self.monitoring_reports.setdefault((station_id, request_id), []).extend(lines)

    # ---- N09/N10: customer information (PRIV-6) ----------------------------------------------

    async def on_customer_information(self, station_id: str, request_id: int, data: str, done: bool) -> None:
        key = (station_id, request_id)
        if key not in self._customer_done:  # not asked by this CEM (or asked long ago): kept as notice
            return
        self._customer_parts.setdefault(key, []).append(data)
        if done:
            self._customer_done[key].set()

    async def customer_information(
        self,
        station_id: str,
        id_token: str,
        *,
        report: bool,
        clear: bool,
        timeout_s: float = CUSTOMER_REPORT_TIMEOUT_S,
    ) -> CustomerAnswer:
        """CustomerInformation for one id token at one 2.0.1 station; with ``report`` the
        NotifyCustomerInformation parts, assembled in order, one line per item held."""
        (answer,) = await self._ask_station(station_id, [id_token], report, clear, timeout_s)
        return answer

    async def _ask_station(
        self, station_id: str, id_tokens: list[str], report: bool, clear: bool, timeout_s: float
    ) -> list[CustomerAnswer]:
        """One CustomerInformation per token (one call in flight per connection), then one wait
        of at most :data:`CUSTOMER_REPORT_TIMEOUT_S` for all their reports together: a station
        that never sends them costs that once per request, not once per token."""
        link = self.link(station_id)
        keys = [(station_id, next(self._request_ids)) for _ in id_tokens]
        for key in keys:
            self._customer_done[key] = asyncio.Event()
        statuses: list[str] = []
        try:
            for key, token in zip(keys, id_tokens, strict=True):
                payload = {
                    "requestId": key[1],
                    "report": report,
                    "clear": clear,
                    "idToken": {"idToken": token, "type": "Central"},
                }
                try:
                    outcome = await link.call_action("CustomerInformation", payload, timeout_s)
                except (TimeoutError, ValidationError, ConnectionError, OCPPError) as error:
                    statuses.append(type(error).__name__)
                    continue
                statuses.append(
                    str(outcome.error_code) if outcome.result is None else str(outcome.result["status"])
                )
            waiting = [
                asyncio.ensure_future(self._customer_done[k].wait())
                for k, status in zip(keys, statuses, strict=True)
                if report and status == "Accepted"
            ]
            if waiting:
                _, pending = await asyncio.wait(waiting, timeout=min(timeout_s, CUSTOMER_REPORT_TIMEOUT_S))
                for task in pending:
                    task.cancel()
            answers = []
            for key, token, status in zip(keys, id_tokens, statuses, strict=True):
                parts = self._customer_parts.get(key, [])
                if report and status == "Accepted" and not self._customer_done[key].is_set():
                    answers.append(CustomerAnswer(station_id, token, "NoReport", parts))
                    continue
                answers.append(CustomerAnswer(station_id, token, status, "".join(parts).splitlines()))
            if clear and "Accepted" in statuses:
                cleared = statuses.count("Accepted")
                await self._log(
                    station_id,
                    "CustomerDataCleared",
                    f"CustomerInformation clear accepted for {cleared} token(s)",
                )
            return answers
        finally:
            for key in keys:
                self._customer_done.pop(key, None)
                self._customer_parts.pop(key, None)

    def customer_stations(self) -> list[str]:
        """The connected OCPP 2.0.1 stations (1.6 has no CustomerInformation)."""
        from smartcharge.ocpp.domain import OcppVersion

        return sorted(
            sid
            for sid, state in self._links.items()
            if state.link is not None and state.link.version is OcppVersion.V201
        )

    async def customer_information_everywhere(
        self,
        id_tokens: list[str],
        *,
        report: bool,
        clear: bool,
        timeout_s: float = CUSTOMER_REPORT_TIMEOUT_S,
    ) -> list[CustomerAnswer]:
        """The same request for each token at every connected 2.0.1 station: a token may be cached
        at a station that is not the owner's. Stations are asked at once; one station's tokens in
        turn (one call in flight per connection). A station that fails is reported, not raised."""

        async def one_station(station_id: str) -> list[CustomerAnswer]:
            try:
                return await self._ask_station(station_id, id_tokens, report, clear, timeout_s)
            except ValidationError as error:  # disconnected since it was listed
                return [CustomerAnswer(station_id, token, type(error).__name__) for token in id_tokens]

        per_station = await asyncio.gather(*(one_station(s) for s in self.customer_stations()))
        return [answer for answers in per_station for answer in answers]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.files is not None:
            await self.files.stop()


__all__ = ["CUSTOMER_REPORT_TIMEOUT_S", "CemSecurity", "CustomerAnswer"]
