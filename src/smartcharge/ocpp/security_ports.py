"""What the security and device-management messages (OCPP 2.0.1 blocks A, L, M, N; the 1.6
security extension) ask of each end, version-neutral, as domain objects (SEC-S-4..6).

* Station end: :class:`StationSecurityPort`, implemented by ``station.security`` (certificate
  store, firmware agent, monitoring, customer information); the version modules reach it as
  ``device.security``.
* CEM end: :class:`CsmsSecurityEvents`, implemented by ``cem.security``; the version modules
  reach it as ``events.security``. Like ``CsmsEvents`` its methods run in the station's receive
  loop, so they must never await a call to the same station.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CertificateHash:
    """OCPP CertificateHashDataType (2.0.1 M03/M04, 1.6 security extension)."""

    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str

    def to_wire(self) -> dict[str, str]:
        return {
            "hashAlgorithm": self.hash_algorithm,
            "issuerNameHash": self.issuer_name_hash,
            "issuerKeyHash": self.issuer_key_hash,
            "serialNumber": self.serial_number,
        }

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> CertificateHash:
        return cls(
            str(wire["hash_algorithm"]),
            str(wire["issuer_name_hash"]).lower(),
            str(wire["issuer_key_hash"]).lower(),
            str(wire["serial_number"]).lower().lstrip("0") or "0",
        )


@dataclass(frozen=True, slots=True)
class InstalledCertificate:
    certificate_type: str
    hash: CertificateHash


@dataclass(frozen=True, slots=True)
class FirmwareRequest:
    """UpdateFirmware (2.0.1 L01) / SignedUpdateFirmware (1.6): where the image is and how to
    check it. ``signature`` is base64 of the signature over the image's bytes."""

    request_id: int
    location: str
    retrieve_at: datetime
    signing_certificate: str | None
    signature: str | None
    retries: int = 0
    retry_interval_s: int = 0


@dataclass(frozen=True, slots=True)
class MonitorSetting:
    """One SetMonitoringData (2.0.1 N04): a variable watched, its threshold or delta, severity."""

    component: str
    variable: str
    kind: str  # UpperThreshold | LowerThreshold | Delta | Periodic | PeriodicClockAligned
    value: float
    severity: int
    monitor_id: int | None = None
    transaction: bool = False


@dataclass(frozen=True, slots=True)
class MonitorResult:
    status: (
        str  # Accepted | UnknownComponent | UnknownVariable | UnsupportedMonitorType | Rejected | Duplicate
    )
    setting: MonitorSetting
    monitor_id: int | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One EventData of a NotifyEvent (2.0.1 N07): what tripped, when, how bad."""

    event_id: int
    occurred_at: datetime
    trigger: str
    component: str
    variable: str
    actual_value: str
    severity: int | None = None
    tech_info: str | None = None
    #: eventNotificationType: HardWiredNotification (a state change the station always reports, e.g.
    #: a connector becoming Occupied at plug-in) or one of MONITOR_NOTIFICATIONS (a monitor tripped).
    notification_type: str = "CustomMonitor"

    @property
    def is_monitor_alert(self) -> bool:
        """A monitor of the station tripped (N07): what the operator must see, unlike a state change."""
        return self.notification_type in MONITOR_NOTIFICATIONS


#: OCPP 2.0.1 EventNotificationEnumType values that mean a monitor tripped (N07.FR.xx); the fourth,
#: HardWiredNotification, is a state change reported whatever the monitors (G05 plug-in and out).
MONITOR_NOTIFICATIONS = frozenset({"HardWiredMonitor", "PreconfiguredMonitor", "CustomMonitor"})


@dataclass(frozen=True, slots=True)
class CustomerRequest:
    """CustomerInformation (2.0.1 N09/N10): report and/or clear what is held about a customer."""

    request_id: int
    report: bool
    clear: bool
    customer_identifier: str | None = None
    id_token: str | None = None


@dataclass
class CustomerReport:
    lines: list[str] = field(default_factory=list)
    cleared: int = 0


class StationSecurityPort(Protocol):
    # certificates (A02/A03, M03-M05)
    def new_csr(self, certificate_type: str) -> str: ...

    def install_signed(self, chain_pem: str, certificate_type: str) -> str | None: ...

    def install_root(self, certificate_type: str, pem: str) -> str: ...

    def installed(self, certificate_types: list[str] | None) -> list[InstalledCertificate]: ...

    def delete_certificate(self, hash_data: CertificateHash) -> str: ...


class CsmsSecurityEvents(Protocol):
    async def on_sign_certificate(self, station_id: str, csr: str, certificate_type: str) -> str | None:
        """None to accept (the CEM signs and sends CertificateSigned), else the refusal reason."""
        ...

    async def on_firmware_status(self, station_id: str, status: str, request_id: int | None) -> None: ...

    async def on_notify_event(self, station_id: str, events: list[AlertEvent]) -> None: ...

    async def on_monitoring_report(self, station_id: str, request_id: int, lines: list[str]) -> None: ...

    async def on_customer_information(
        self, station_id: str, request_id: int, data: str, done: bool
    ) -> None: ...


__all__ = [
    "AlertEvent",
    "CertificateHash",
    "CsmsSecurityEvents",
    "CustomerReport",
    "CustomerRequest",
    "FirmwareRequest",
    "InstalledCertificate",
    "MONITOR_NOTIFICATIONS",
    "MonitorResult",
    "MonitorSetting",
    "StationSecurityPort",
]
