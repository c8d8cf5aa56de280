# mypy: disable-error-code="untyped-decorator"
"""The OCPP 1.6 security extension (Improved security for OCPP 1.6-J) on both ends: certificate
management (SignCertificate, CertificateSigned, ExtendedTriggerMessage, Install/Get/
DeleteCertificate) and SignedUpdateFirmware with SignedFirmwareStatusNotification (SEC-S-4, SEC-S-5).

The same station and CEM logic as 2.0.1 (``ocpp.security_ports``) behind the 1.6 message names:
``CentralSystemRootCertificate`` is the 2.0.1 ``CSMSRootCertificate``, ``SignChargePointCertificate``
the 2.0.1 ``SignChargingStationCertificate``. The CEM-side methods have the 2.0.1 names, so
``cem.security`` drives both versions the same way.
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import call, call_result

from smartcharge.ocpp.domain import format_time, parse_time
from smartcharge.ocpp.security_ports import CertificateHash, FirmwareRequest, InstalledCertificate
from smartcharge.ocpp.v201_security import _Tasks

logger = logging.getLogger(__name__)

_TYPE_TO_201 = {
    "CentralSystemRootCertificate": "CSMSRootCertificate",
    "ManufacturerRootCertificate": "ManufacturerRootCertificate",
}
_TYPE_TO_16 = {v: k for k, v in _TYPE_TO_201.items()}
_TRIGGER_TO_16 = {"SignChargingStationCertificate": "SignChargePointCertificate"}


class CsmsSecurityV16(_Tasks):
    """CEM end of the 1.6 security extension."""

    station_id: str
    _events: Any
    call: Any

    def _security(self) -> Any:
        return getattr(self._events, "security", None)

    @on("SignCertificate")
    async def on_sign_certificate(self, csr: str, **_: Any) -> Any:
        security = self._security()
        reason = "this CEM signs no certificates" if security is None else None
        if security is not None:
            reason = await security.on_sign_certificate(self.station_id, csr, "ChargingStationCertificate")
        return call_result.SignCertificate(status="Accepted" if reason is None else "Rejected")

    @on("SignedFirmwareStatusNotification")
    async def on_signed_firmware_status_notification(
        self, status: str, request_id: int | None = None, **_: Any
    ) -> Any:
        security = self._security()
        if security is not None:
            await security.on_firmware_status(self.station_id, status, request_id)
        return call_result.SignedFirmwareStatusNotification()

    async def _status(self, payload: Any) -> str:
        result = await self.call(payload, suppress=False)
        return str(result.status)

    async def trigger_message(self, requested_message: str) -> str:
        message = _TRIGGER_TO_16.get(requested_message, requested_message)
        return await self._status(call.ExtendedTriggerMessage(requested_message=message))

    async def certificate_signed(
        self, chain_pem: str, certificate_type: str = "ChargingStationCertificate"
    ) -> str:
        return await self._status(call.CertificateSigned(certificate_chain=chain_pem))

    async def install_certificate(self, certificate_type: str, pem: str) -> str:
        kind = _TYPE_TO_16.get(certificate_type, certificate_type)
        return await self._status(call.InstallCertificate(certificate_type=kind, certificate=pem))

    async def get_installed_certificate_ids(
        self, certificate_types: list[str] | None = None
    ) -> tuple[str, list[InstalledCertificate]]:
        found: list[InstalledCertificate] = []
        for kind in certificate_types or list(_TYPE_TO_16):  # 1.6 asks for one type at a time
            result = await self.call(
                call.GetInstalledCertificateIds(certificate_type=_TYPE_TO_16[kind]), suppress=False
            )
            found += [
                InstalledCertificate(kind, CertificateHash.from_wire(h))
                for h in result.certificate_hash_data or []
            ]
        return ("Accepted" if found else "NotFound"), found

    async def delete_certificate(self, hash_data: CertificateHash) -> str:
        return await self._status(call.DeleteCertificate(certificate_hash_data=hash_data.to_wire()))

    async def update_firmware(self, request: FirmwareRequest) -> str:
        firmware: dict[str, Any] = {
            "location": request.location,
            "retrieveDateTime": format_time(request.retrieve_at),
            "signingCertificate": request.signing_certificate or "",
            "signature": request.signature or "",
        }
        return await self._status(call.SignedUpdateFirmware(request_id=request.request_id, firmware=firmware))

    async def get_log_of(self, log_type: str, remote_location: str, request_id: int) -> str:
        return await self._status(
            call.GetLog(log={"remoteLocation": remote_location}, log_type=log_type, request_id=request_id)
        )


class StationSecurityV16(_Tasks):
    """Station end of the 1.6 security extension, behind ``device.security``."""

    id: str
    device: Any
    call: Any

    def _port(self) -> Any:
        return getattr(self.device, "security", None)

    @on("ExtendedTriggerMessage")
    def on_extended_trigger_message(self, requested_message: str, **_: Any) -> Any:
        if requested_message == "SignChargePointCertificate" and self._port() is not None:
            return call_result.ExtendedTriggerMessage(status="Accepted")
        return call_result.ExtendedTriggerMessage(status="NotImplemented")

    @after("ExtendedTriggerMessage")
    def after_extended_trigger_message(self, requested_message: str, **_: Any) -> None:
        if requested_message == "SignChargePointCertificate" and self._port() is not None:
            self._hold(self.sign_certificate())

    async def sign_certificate(self) -> str:
        csr = self._port().new_csr("ChargingStationCertificate")
        result = await self.call(call.SignCertificate(csr=csr), suppress=False)
        return str(result.status)

    @on("CertificateSigned")
    def on_certificate_signed(self, certificate_chain: str, **_: Any) -> Any:
        port = self._port()
        reason = (
            "no certificate store"
            if port is None
            else port.install_signed(certificate_chain, "ChargingStationCertificate")
        )
        if reason is None:
            return call_result.CertificateSigned(status="Accepted")
        logger.warning("%s: signed certificate refused: %s", self.id, reason)
        self.device.record_security_event("InvalidChargePointCertificate", reason[:255])
        return call_result.CertificateSigned(status="Rejected")

    @after("CertificateSigned")
    def after_certificate_signed(self, certificate_chain: str, **_: Any) -> None:
        port = self._port()
        if port is not None and port.pending_reconnect():
            self.device.reconnect()

    @on("InstallCertificate")
    def on_install_certificate(self, certificate_type: str, certificate: str, **_: Any) -> Any:
        port = self._port()
        kind = _TYPE_TO_201.get(certificate_type, certificate_type)
        status = "Rejected" if port is None else port.install_root(kind, certificate)
        return call_result.InstallCertificate(
            status="Accepted" if status == "Accepted" else "Rejected" if status == "Rejected" else "Failed"
        )

    @on("GetInstalledCertificateIds")
    def on_get_installed_certificate_ids(self, certificate_type: str, **_: Any) -> Any:
        port = self._port()
        kind = _TYPE_TO_201.get(certificate_type, certificate_type)
        found = [] if port is None else port.installed([kind])
        if not found:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data=[c.hash.to_wire() for c in found]
        )

    @on("DeleteCertificate")
    def on_delete_certificate(self, certificate_hash_data: dict[str, Any], **_: Any) -> Any:
        port = self._port()
        status = (
            "NotFound"
            if port is None
            else port.delete_certificate(CertificateHash.from_wire(certificate_hash_data))
        )
        return call_result.DeleteCertificate(status=status)

    @on("SignedUpdateFirmware")
    def on_signed_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> Any:
        port = self._port()
        if port is None:
            return call_result.SignedUpdateFirmware(status="Rejected")
        reason = port.check_signing_certificate(firmware.get("signing_certificate"))
        if reason is not None:
            self.device.record_security_event("InvalidFirmwareSigningCertificate", reason[:255])
            return call_result.SignedUpdateFirmware(status="InvalidCertificate")
        return call_result.SignedUpdateFirmware(status="Accepted")

    @after("SignedUpdateFirmware")
    def after_signed_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> None:
        port = self._port()
        if port is None or port.check_signing_certificate(firmware.get("signing_certificate")) is not None:
            return
        request = FirmwareRequest(
            request_id,
            firmware["location"],
            parse_time(firmware["retrieve_date_time"], "retrieveDateTime"),
            firmware.get("signing_certificate"),
            firmware.get("signature"),
        )
        self._hold(port.update_firmware(request, self.firmware_status))

    async def firmware_status(self, status: str, request_id: int | None) -> None:
        await self.call(
            call.SignedFirmwareStatusNotification(status=status, request_id=request_id), suppress=False
        )


__all__ = ["CsmsSecurityV16", "StationSecurityV16"]
