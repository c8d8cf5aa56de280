"""Everything security-related an emulated station holds, behind one object (``device.security``):
its certificate store, its firmware agent, its basic-auth password and security profile (A01,
A05), for the OCPP version modules (:class:`~smartcharge.ocpp.security_ports.StationSecurityPort`).
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

from smartcharge.ocpp.security_ports import CertificateHash, FirmwareRequest, InstalledCertificate
from smartcharge.station.certificates import StationCertificates
from smartcharge.station.firmware import FirmwareAgent, Notify

logger = logging.getLogger(__name__)


class StationSecurity:
    """One station's certificates, firmware and credentials."""

    def __init__(self, device: Any, directory: Path) -> None:
        self._device = device
        self.certificates = StationCertificates(device.station_id, directory)
        self.firmware = FirmwareAgent()
        self._reconnect_pending = False
        self._password: str | None = None

    def __repr__(self) -> str:
        return f"StationSecurity({self._device.station_id}, secrets hidden)"

    # ---- what the runner asks at each connection ----------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        return self.certificates.ssl_context()

    def password(self, configured: str | None) -> str | None:
        """The BasicAuthPassword set through SetVariables (A01), else the configured one."""
        return self._password if self._password is not None else configured

    def set_password(self, password: str) -> None:
        self._password = password

    def firmware_version(self, configured: str) -> str:
        return self.firmware.pending_version or self.firmware.version or configured

    async def on_link_up(self, session: Any) -> None:
        try:
            await self.firmware.after_boot(session.firmware_status, self._device.record_security_event)
        except Exception:  # a lost link is the runner's business; never fail the session for it
            logger.warning("%s: could not report the firmware status after boot", self._device.station_id)

    # ---- certificates (StationSecurityPort) ------------------------------------------------------

    def new_csr(self, certificate_type: str) -> str:
        return self.certificates.new_csr(certificate_type)

    def install_signed(self, chain_pem: str, certificate_type: str) -> str | None:
        reason = self.certificates.install_signed(chain_pem, certificate_type)
        self._reconnect_pending = reason is None
        return reason

    def pending_reconnect(self) -> bool:
        pending, self._reconnect_pending = self._reconnect_pending, False
        return pending

    def install_root(self, certificate_type: str, pem: str) -> str:
        return self.certificates.install_root(certificate_type, pem)

    def installed(self, certificate_types: list[str] | None) -> list[InstalledCertificate]:
        return self.certificates.installed(certificate_types)

    def delete_certificate(self, hash_data: CertificateHash) -> str:
        return self.certificates.delete_certificate(hash_data)

    # ---- firmware ---------------------------------------------------------------------------

    def check_signing_certificate(self, pem: str | None) -> str | None:
        return self.firmware.check_signing_certificate(pem, self.certificates.manufacturer_roots())

    async def update_firmware(self, request: FirmwareRequest, notify: Notify) -> None:
        try:
            context: ssl.SSLContext | None = self.certificates.ssl_context()
        except ssl.SSLError:
            context = None
        await self.firmware.update(
            request, notify, context, self._device.record_security_event, self._device.reset
        )


__all__ = ["StationSecurity"]
