"""Everything security-related an emulated station holds, behind one object (``device.security``):
its certificate store, its firmware agent, its basic-auth password and security profile (A01,
A05), for the OCPP version modules (:class:`~smartcharge.ocpp.security_ports.StationSecurityPort`).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from datetime import datetime
from pathlib import Path
from typing import Any

from smartcharge.ocpp.domain import VariableRef, VariableResult
from smartcharge.ocpp.security_ports import CertificateHash, FirmwareRequest, InstalledCertificate
from smartcharge.station.certificates import StationCertificates
from smartcharge.station.firmware import FirmwareAgent, Notify
from smartcharge.station.monitoring import StationMonitoring

logger = logging.getLogger(__name__)

BASIC_AUTH_PASSWORD = VariableRef("SecurityCtrlr", "BasicAuthPassword")  # A01, write only
SECURITY_PROFILE = VariableRef("SecurityCtrlr", "SecurityProfile")  # read only: set via A05
NETWORK_PRIORITY = VariableRef("OCPPCommCtrlr", "NetworkConfigurationPriority")  # A05, B09
#: OCPP 2.0.1 BasicAuthPassword rules (SEC-S-2): 16-40 characters of this set.
_PASSWORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-_=:+|@.")
#: Wait before reconnecting with a new password, so the CSMS has stored it (A01.FR.?).
RECONNECT_DELAY_S = 0.5


class StationSecurity:
    """One station's certificates, firmware and credentials."""

    def __init__(self, device: Any, directory: Path) -> None:
        self._device = device
        self.certificates = StationCertificates(device.station_id, directory)
        self.firmware = FirmwareAgent()
        self.monitoring = StationMonitoring()
        self._reconnect_pending = False
        self._password: str | None = None
        self.security_profile: int | None = None  # None: whatever the configured link gives
        self.network_profiles: dict[int, dict[str, Any]] = {}
        self._priority: list[int] = []
        self._active_slot: int | None = None

    def __repr__(self) -> str:
        return f"StationSecurity({self._device.station_id}, secrets hidden)"

    # ---- what the runner asks at each connection ----------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """TLS to the CSMS; the client certificate is presented unless profile 2 is in use."""
        return self.certificates.ssl_context(with_client_cert=self.security_profile != 2)

    def password(self, configured: str | None) -> str | None:
        """The BasicAuthPassword set through SetVariables (A01), else the configured one; none at
        security profile 3 (the client certificate authenticates)."""
        if self.security_profile == 3:
            return None
        return self._password if self._password is not None else configured

    def set_password(self, password: str) -> None:
        self._password = password

    def csms_url(self, configured: str) -> str:
        """The CSMS URL of the active network profile (A05), else the configured one."""
        if self._active_slot is None:
            return configured
        return str(self.network_profiles[self._active_slot]["ocpp_csms_url"])

    # ---- device-model variables owned here (A01, A05) ----------------------------------------

    def owns_variable(self, ref: VariableRef) -> bool:
        return ref in (BASIC_AUTH_PASSWORD, SECURITY_PROFILE, NETWORK_PRIORITY)

    def set_variable(self, ref: VariableRef, value: str) -> VariableResult:
        if ref == BASIC_AUTH_PASSWORD:
            if not 16 <= len(value) <= 40 or not set(value) <= _PASSWORD_CHARS:
                logger.warning(
                    "%s: BasicAuthPassword refused: breaks the OCPP rules", self._device.station_id
                )
                return VariableResult(ref, "Rejected")
            self._password = value
            # A01: reconnect with the new password once this answer has gone out.
            asyncio.get_running_loop().call_later(RECONNECT_DELAY_S, self._device.reconnect)
            self._device.record_security_event(
                "ReconfigurationOfSecurityParameters", "BasicAuthPassword changed"
            )
            return VariableResult(ref, "Accepted")
        if ref == NETWORK_PRIORITY:
            try:
                slots = [int(part) for part in value.split(",") if part.strip()]
            except ValueError:
                return VariableResult(ref, "Rejected")
            if not slots or any(slot not in self.network_profiles for slot in slots):
                return VariableResult(ref, "Rejected")
            self._priority = slots
            return VariableResult(ref, "RebootRequired")  # used from the next boot (B09, A05)
        return VariableResult(ref, "Rejected")  # SecurityProfile is read only

    def set_network_profile(self, slot: int, connection: dict[str, Any]) -> str:
        """SetNetworkProfile (B09/A05): a profile below the one in use is refused (no downgrade)."""
        profile = int(connection.get("security_profile", 0))
        current = self.security_profile or 0
        if profile < current or profile not in (1, 2, 3) or slot < 0:
            return "Rejected"
        if profile == 3 and self.certificates.client_cert is None:
            return "Rejected"  # A05.FR.?: no profile 3 without a client certificate
        self.network_profiles[slot] = connection
        return "Accepted"

    def on_reboot(self) -> None:
        """A reboot takes the first slot of NetworkConfigurationPriority into use (A05)."""
        if self._priority:
            self._active_slot = self._priority[0]
            self.security_profile = int(self.network_profiles[self._active_slot]["security_profile"])
            self._device.record_security_event(
                "ReconfigurationOfSecurityParameters", f"security profile {self.security_profile} in use"
            )

    def firmware_version(self, configured: str) -> str:
        return self.firmware.pending_version or self.firmware.version or configured

    def tick(self, now: datetime) -> None:
        """Each second: monitors that trip go to the outbox as NotifyEvent alerts (N07)."""
        self._device.outbox.extend(self.monitoring.evaluate(self._device, now))

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
