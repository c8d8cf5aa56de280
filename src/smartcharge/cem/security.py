"""The CEM's security and device-management side (OCPP 2.0.1 A02/A03, L01, M03-M05, N01;
SEC-S-4..6): signs station CSRs, publishes firmware, hands out log-upload locations, and keeps
what stations report (firmware status, uploaded logs) for the operator.

It implements :class:`~smartcharge.ocpp.security_ports.CsmsSecurityEvents` (the version modules
find it as ``gateway.security``). Every refusal is a security-log entry with its reason.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from smartcharge.cem.ca import CsrSigner, check_csr
from smartcharge.cem.file_server import FileServer
from smartcharge.cem.firmware import PublishedImage
from smartcharge.cem.recorder import Recorder
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.security_ports import AlertEvent, FirmwareRequest

logger = logging.getLogger(__name__)


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
        chain = await asyncio.to_thread(self._signer.sign, request, station_id)
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

    async def on_notify_event(self, station_id: str, events: list[AlertEvent]) -> None:
        for event in events:
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

    async def on_customer_information(self, station_id: str, request_id: int, data: str, done: bool) -> None:
        return None

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.files is not None:
            await self.files.stop()


__all__ = ["CemSecurity"]
