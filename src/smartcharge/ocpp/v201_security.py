# mypy: disable-error-code="untyped-decorator"
"""OCPP 2.0.1 security and device management on both ends (blocks A02/A03, L01, M03-M05, N01-N10):
mixed into :class:`~smartcharge.ocpp.v201.CsmsV201` and :class:`~smartcharge.ocpp.v201.StationV201`.

The CEM end hands what stations send to ``events.security``
(:class:`~smartcharge.ocpp.security_ports.CsmsSecurityEvents`) and offers the commands; the
station end hands what the CSMS asks to ``device.security``
(:class:`~smartcharge.ocpp.security_ports.StationSecurityPort`). Follow-up calls (SignCertificate
after a TriggerMessage, FirmwareStatusNotification after UpdateFirmware, CertificateSigned after
SignCertificate) run as held tasks after the answer, never inside the handler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import call, call_result

from smartcharge.ocpp.domain import format_time, parse_time
from smartcharge.ocpp.security_ports import (
    AlertEvent,
    CertificateHash,
    CsmsSecurityEvents,
    FirmwareRequest,
    InstalledCertificate,
    MonitorResult,
    MonitorSetting,
)

logger = logging.getLogger(__name__)

#: TriggerMessage requestedMessage values handled here (the rest belong to the core triggers).
SECURITY_TRIGGERS = frozenset({"SignChargingStationCertificate", "SignCombinedCertificate"})
#: NotifyCustomerInformation.data is at most 512 characters (CustomerInformation N09): longer
#: answers go in parts (tbc true on all but the last).
CUSTOMER_DATA_PART = 512


class _Tasks:
    _security_tasks: set[asyncio.Task[Any]]

    def _hold(self, work: Coroutine[Any, Any, Any]) -> None:
        if not hasattr(self, "_security_tasks"):
            self._security_tasks = set()
        task = asyncio.get_running_loop().create_task(work)
        self._security_tasks.add(task)
        task.add_done_callback(self._security_tasks.discard)


# ---- the CEM's side ----------------------------------------------------------------------------


class CsmsSecurityV201(_Tasks):
    """CEM end: SignCertificate, FirmwareStatusNotification in; certificate, firmware and log
    commands out."""

    station_id: str
    _events: Any

    def _security(self) -> CsmsSecurityEvents | None:
        return getattr(self._events, "security", None)

    call: Any  # ocpp.ChargePoint.call, from the class this is mixed into

    @on("SignCertificate")
    async def on_sign_certificate(
        self, csr: str, certificate_type: str = "ChargingStationCertificate", **_: Any
    ) -> Any:
        security = self._security()
        reason = "this CEM signs no certificates" if security is None else None
        if security is not None:
            reason = await security.on_sign_certificate(self.station_id, csr, certificate_type)
        if reason is None:
            return call_result.SignCertificate(status="Accepted")
        return call_result.SignCertificate(
            status="Rejected", status_info={"reasonCode": "InvalidCSR", "additionalInfo": reason[:512]}
        )

    @on("FirmwareStatusNotification")
    async def on_firmware_status_notification(
        self, status: str, request_id: int | None = None, **_: Any
    ) -> Any:
        security = self._security()
        if security is not None:
            await security.on_firmware_status(self.station_id, status, request_id)
        return call_result.FirmwareStatusNotification()

    @on("NotifyEvent")
    async def on_notify_event(
        self, generated_at: str, seq_no: int, event_data: list[dict[str, Any]], **_: Any
    ) -> Any:
        security = self._security()
        if security is not None:
            events = [
                AlertEvent(
                    int(e["event_id"]),
                    parse_time(e["timestamp"], "eventData.timestamp"),
                    str(e["trigger"]),
                    str(e["component"]["name"]),
                    str(e["variable"]["name"]),
                    str(e["actual_value"]),
                    e.get("severity"),
                    e.get("tech_info"),
                    str(e["event_notification_type"]),
                )
                for e in event_data
            ]
            await security.on_notify_event(self.station_id, events)
        return call_result.NotifyEvent()

    @on("NotifyMonitoringReport")
    async def on_notify_monitoring_report(
        self,
        request_id: int,
        seq_no: int,
        generated_at: str,
        monitor: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        security = self._security()
        if security is not None:
            lines = [
                f"{m['component']['name']}.{m['variable']['name']} "
                + " ".join(
                    f"#{v['id']} {v['type']} {v['value']:g} sev {v['severity']}"
                    for v in m["variable_monitoring"]
                )
                for m in monitor or []
            ]
            await security.on_monitoring_report(self.station_id, request_id, lines)
        return call_result.NotifyMonitoringReport()

    async def on_notify_customer_information(
        self, data: str, seq_no: int, generated_at: str, request_id: int, tbc: bool = False, **_: Any
    ) -> Any:
        """N09: one part of the station's answer to CustomerInformation; the CEM assembles them."""
        security = self._security()
        if security is not None:
            await security.on_customer_information(self.station_id, request_id, data, not tbc)
        return call_result.NotifyCustomerInformation()

    async def set_variable_monitoring(self, settings: list[MonitorSetting]) -> list[MonitorResult]:
        data = []
        for s in settings:
            item: dict[str, Any] = {
                "value": s.value,
                "type": s.kind,
                "severity": s.severity,
                "component": {"name": s.component},
                "variable": {"name": s.variable},
            }
            if s.monitor_id is not None:
                item["id"] = s.monitor_id
            data.append(item)
        result = await self.call(call.SetVariableMonitoring(set_monitoring_data=data), suppress=False)
        return [
            MonitorResult(r["status"], settings[i], r.get("id"))
            for i, r in enumerate(result.set_monitoring_result)
        ]

    async def set_monitoring_base(self, base: str) -> str:
        return await self._status(call.SetMonitoringBase(monitoring_base=base))

    async def set_monitoring_level(self, severity: int) -> str:
        return await self._status(call.SetMonitoringLevel(severity=severity))

    async def clear_variable_monitoring(self, ids: list[int]) -> list[tuple[int, str]]:
        result = await self.call(call.ClearVariableMonitoring(id=ids), suppress=False)
        return [(int(r["id"]), str(r["status"])) for r in result.clear_monitoring_result]

    async def get_monitoring_report(self, request_id: int) -> str:
        return await self._status(call.GetMonitoringReport(request_id=request_id))

    async def _status(self, payload: Any) -> str:
        result = await self.call(payload, suppress=False)
        return str(result.status)

    async def trigger_message(self, requested_message: str) -> str:
        return await self._status(call.TriggerMessage(requested_message=requested_message))

    async def certificate_signed(
        self, chain_pem: str, certificate_type: str = "ChargingStationCertificate"
    ) -> str:
        return await self._status(
            call.CertificateSigned(certificate_chain=chain_pem, certificate_type=certificate_type)
        )

    async def install_certificate(self, certificate_type: str, pem: str) -> str:
        return await self._status(call.InstallCertificate(certificate_type=certificate_type, certificate=pem))

    async def get_installed_certificate_ids(
        self, certificate_types: list[str] | None = None
    ) -> tuple[str, list[InstalledCertificate]]:
        result = await self.call(
            call.GetInstalledCertificateIds(certificate_type=certificate_types), suppress=False
        )
        found = [
            InstalledCertificate(
                item["certificate_type"], CertificateHash.from_wire(item["certificate_hash_data"])
            )
            for item in result.certificate_hash_data_chain or []
        ]
        return str(result.status), found

    async def delete_certificate(self, hash_data: CertificateHash) -> str:
        return await self._status(call.DeleteCertificate(certificate_hash_data=hash_data.to_wire()))

    async def set_network_profile(self, slot: int, csms_url: str, security_profile: int) -> str:
        """A05/B09: a connection profile for ``slot``."""
        connection = {
            "ocppVersion": "OCPP20",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": csms_url,
            "messageTimeout": 30,
            "securityProfile": security_profile,
            "ocppInterface": "Wired0",
        }
        return await self._status(call.SetNetworkProfile(configuration_slot=slot, connection_data=connection))

    async def update_firmware(self, request: FirmwareRequest) -> str:
        firmware: dict[str, Any] = {
            "location": request.location,
            "retrieveDateTime": format_time(request.retrieve_at),
        }
        if request.signing_certificate is not None:
            firmware["signingCertificate"] = request.signing_certificate
        if request.signature is not None:
            firmware["signature"] = request.signature
        return await self._status(
            call.UpdateFirmware(
                request_id=request.request_id,
                firmware=firmware,
                retries=request.retries or None,
                retry_interval=request.retry_interval_s or None,
            )
        )

    async def get_log_of(self, log_type: str, remote_location: str, request_id: int) -> str:
        """GetLog for ``SecurityLog`` or ``DiagnosticsLog`` (N01)."""
        return await self._status(
            call.GetLog(log={"remoteLocation": remote_location}, log_type=log_type, request_id=request_id)
        )


# ---- the station's side ------------------------------------------------------------------------


class StationSecurityV201(_Tasks):
    """Station end: certificate store and firmware agent behind ``device.security``."""

    id: str
    device: Any

    call: Any  # ocpp.ChargePoint.call, from the class this is mixed into

    def _port(self) -> Any:
        return getattr(self.device, "security", None)

    @on("TriggerMessage")
    def on_trigger_message(self, requested_message: str, **_: Any) -> Any:
        if requested_message in SECURITY_TRIGGERS and self._port() is not None:
            return call_result.TriggerMessage(status="Accepted")
        core = getattr(self, "on_core_trigger", None)  # core triggers (B-K) live with the core messages
        if core is not None:
            return core(requested_message, **_)
        return call_result.TriggerMessage(status="NotImplemented")

    @after("TriggerMessage")
    def after_trigger_message(self, requested_message: str, **_: Any) -> None:
        if requested_message in SECURITY_TRIGGERS and self._port() is not None:
            self._hold(self.sign_certificate("ChargingStationCertificate"))
            return
        core = getattr(self, "after_core_trigger", None)
        if core is not None:
            core(requested_message, **_)

    async def sign_certificate(self, certificate_type: str) -> str:
        """A03: send a CSR for a new certificate; the CSMS answers later with CertificateSigned."""
        csr = self._port().new_csr(certificate_type)
        result = await self.call(
            call.SignCertificate(csr=csr, certificate_type=certificate_type), suppress=False
        )
        return str(result.status)

    @on("CertificateSigned")
    def on_certificate_signed(
        self, certificate_chain: str, certificate_type: str = "ChargingStationCertificate", **_: Any
    ) -> Any:
        port = self._port()
        reason = (
            "no certificate store"
            if port is None
            else port.install_signed(certificate_chain, certificate_type)
        )
        if reason is None:
            return call_result.CertificateSigned(status="Accepted")
        logger.warning("%s: signed certificate refused: %s", self.id, reason)
        self.device.record_security_event("InvalidChargingStationCertificate", reason[:255])
        return call_result.CertificateSigned(
            status="Rejected",
            status_info={"reasonCode": "InvalidCertificate", "additionalInfo": reason[:512]},
        )

    @after("CertificateSigned")
    def after_certificate_signed(self, certificate_chain: str, **_: Any) -> None:
        port = self._port()
        if port is not None and port.pending_reconnect():
            # A02.FR.?: the new certificate is used from the next connection: reconnect now.
            self.device.reconnect()

    @on("InstallCertificate")
    def on_install_certificate(self, certificate_type: str, certificate: str, **_: Any) -> Any:
        port = self._port()
        status = "Rejected" if port is None else port.install_root(certificate_type, certificate)
        if status != "Accepted":
            self.device.record_security_event(
                "InvalidCsmsCertificate", f"{certificate_type} not installed: {status}"
            )
        return call_result.InstallCertificate(status=status)

    @on("GetInstalledCertificateIds")
    def on_get_installed_certificate_ids(self, certificate_type: list[str] | None = None, **_: Any) -> Any:
        port = self._port()
        found: list[InstalledCertificate] = [] if port is None else port.installed(certificate_type)
        if not found:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted",
            certificate_hash_data_chain=[
                {"certificateType": c.certificate_type, "certificateHashData": c.hash.to_wire()}
                for c in found
            ],
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

    def _monitoring(self) -> Any:
        port = self._port()
        return None if port is None else port.monitoring

    @on("SetVariableMonitoring")
    def on_set_variable_monitoring(self, set_monitoring_data: list[dict[str, Any]], **_: Any) -> Any:
        monitoring = self._monitoring()
        results = []
        for item in set_monitoring_data:
            setting = MonitorSetting(
                item["component"]["name"],
                item["variable"]["name"],
                item["type"],
                float(item["value"]),
                int(item["severity"]),
                item.get("id"),
            )
            got = MonitorResult("Rejected", setting) if monitoring is None else monitoring.set(setting)
            entry: dict[str, Any] = {
                "status": got.status,
                "type": setting.kind,
                "severity": setting.severity,
                "component": {"name": setting.component},
                "variable": {"name": setting.variable},
            }
            if got.monitor_id is not None:
                entry["id"] = got.monitor_id
            results.append(entry)
        return call_result.SetVariableMonitoring(set_monitoring_result=results)

    @on("SetMonitoringBase")
    def on_set_monitoring_base(self, monitoring_base: str, **_: Any) -> Any:
        monitoring = self._monitoring()
        status = "Rejected" if monitoring is None else monitoring.set_base(monitoring_base)
        return call_result.SetMonitoringBase(status=status)

    @on("SetMonitoringLevel")
    def on_set_monitoring_level(self, severity: int, **_: Any) -> Any:
        monitoring = self._monitoring()
        status = "Rejected" if monitoring is None else monitoring.set_level(severity)
        return call_result.SetMonitoringLevel(status=status)

    @on("ClearVariableMonitoring")
    def on_clear_variable_monitoring(self, id: list[int], **_: Any) -> Any:
        monitoring = self._monitoring()
        return call_result.ClearVariableMonitoring(
            clear_monitoring_result=[
                {"id": i, "status": "NotFound" if monitoring is None else monitoring.clear(i)} for i in id
            ]
        )

    @on("GetMonitoringReport")
    def on_get_monitoring_report(self, request_id: int, **_: Any) -> Any:
        monitoring = self._monitoring()
        if monitoring is None or not monitoring.report():
            return call_result.GetMonitoringReport(status="EmptyResultSet")
        return call_result.GetMonitoringReport(status="Accepted")

    @after("GetMonitoringReport")
    def after_get_monitoring_report(self, request_id: int, **_: Any) -> None:
        monitoring = self._monitoring()
        if monitoring is not None and monitoring.report():
            self._hold(self._monitoring_report(request_id, monitoring.report()))

    async def _monitoring_report(self, request_id: int, settings: list[MonitorSetting]) -> None:
        by_variable: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for s in settings:
            by_variable.setdefault((s.component, s.variable), []).append(
                {
                    "id": s.monitor_id,
                    "transaction": s.transaction,
                    "value": s.value,
                    "type": s.kind,
                    "severity": s.severity,
                }
            )
        monitor = [
            {"component": {"name": c}, "variable": {"name": v}, "variableMonitoring": items}
            for (c, v), items in by_variable.items()
        ]
        await self.call(
            call.NotifyMonitoringReport(
                request_id=request_id, seq_no=0, generated_at=format_time(datetime.now(UTC)), monitor=monitor
            ),
            suppress=False,
        )

    async def notify_event(self, alerts: list[AlertEvent]) -> None:
        """N07: monitors that tripped, sent as one NotifyEvent."""
        data = []
        for a in alerts:
            item: dict[str, Any] = {
                "eventId": a.event_id,
                "timestamp": format_time(a.occurred_at),
                "trigger": a.trigger,
                "actualValue": a.actual_value,
                "eventNotificationType": a.notification_type,
                "component": {"name": a.component},
                "variable": {"name": a.variable},
            }
            if a.tech_info is not None:
                item["techInfo"] = a.tech_info
            data.append(item)
        await self.call(
            call.NotifyEvent(generated_at=format_time(datetime.now(UTC)), seq_no=0, event_data=data),
            suppress=False,
        )

    # ---- N09/N10: customer information (PRIV-6; station/customer_data.py) ------------------

    @on("CustomerInformation")
    def on_customer_information(
        self,
        request_id: int,
        report: bool,
        clear: bool,
        id_token: dict[str, Any] | None = None,
        customer_identifier: str | None = None,
        customer_certificate: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        """Accepted when a customer is named; Invalid when none is (N09.FR.?: one of idToken,
        customerIdentifier, customerCertificate), or when neither report nor clear is asked."""
        named = id_token is not None or customer_identifier is not None or customer_certificate is not None
        if not named or not (report or clear):
            return call_result.CustomerInformation(
                status="Invalid",
                status_info={
                    "reasonCode": "InvalidValue",
                    "additionalInfo": "name a customer; report or clear",
                },
            )
        return call_result.CustomerInformation(status="Accepted")

    @after("CustomerInformation")
    def after_customer_information(
        self, request_id: int, report: bool, clear: bool, id_token: dict[str, Any] | None = None, **kw: Any
    ) -> None:
        named = id_token is not None or kw.get("customer_identifier") or kw.get("customer_certificate")
        if named and (report or clear):
            token = None if id_token is None else str(id_token["id_token"])
            self._hold(self._customer_information(request_id, report, clear, token))

    async def _customer_information(
        self, request_id: int, report: bool, clear: bool, token: str | None
    ) -> None:
        # Only id tokens identify a customer here; a customer identifier or certificate finds nothing.
        # The device says what it holds (station/customer_data.py behind ``customer_data``).
        held = getattr(self.device, "customer_data", None)
        lines: list[str] = [] if token is None or held is None else held(token)
        if clear and token is not None and held is not None:
            cleared = self.device.forget_customer(token)
            logger.info("%s: customer data of one id token cleared (%d items)", self.id, cleared)
        if not report:
            return
        text = "\n".join(lines) if lines else "no data held for this customer"
        parts = [text[i : i + CUSTOMER_DATA_PART] for i in range(0, len(text), CUSTOMER_DATA_PART)]
        for seq_no, part in enumerate(parts):
            await self.call(
                call.NotifyCustomerInformation(
                    data=part,
                    seq_no=seq_no,
                    generated_at=format_time(datetime.now(UTC)),
                    request_id=request_id,
                    tbc=seq_no < len(parts) - 1,
                ),
                suppress=False,
            )

    @on("SetNetworkProfile")
    def on_set_network_profile(
        self, configuration_slot: int, connection_data: dict[str, Any], **_: Any
    ) -> Any:
        port = self._port()
        status = "Rejected" if port is None else port.set_network_profile(configuration_slot, connection_data)
        return call_result.SetNetworkProfile(status=status)

    @on("UpdateFirmware")
    def on_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> Any:
        port = self._port()
        if port is None:
            return call_result.UpdateFirmware(status="Rejected")
        reason = port.check_signing_certificate(firmware.get("signing_certificate"))
        if reason is not None:  # L01.FR.02: refused at once, the old firmware keeps running
            self.device.record_security_event("InvalidFirmwareSigningCertificate", reason[:255])
            return call_result.UpdateFirmware(
                status="InvalidCertificate",
                status_info={"reasonCode": "InvalidCertificate", "additionalInfo": reason[:512]},
            )
        return call_result.UpdateFirmware(status="Accepted")

    @after("UpdateFirmware")
    def after_update_firmware(
        self,
        request_id: int,
        firmware: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> None:
        port = self._port()
        if port is None or port.check_signing_certificate(firmware.get("signing_certificate")) is not None:
            return
        request = FirmwareRequest(
            request_id,
            firmware["location"],
            parse_time(firmware["retrieve_date_time"], "retrieveDateTime"),
            firmware.get("signing_certificate"),
            firmware.get("signature"),
            retries or 0,
            retry_interval or 0,
        )
        self._hold(port.update_firmware(request, self.firmware_status))

    async def firmware_status(self, status: str, request_id: int | None) -> None:
        await self.call(call.FirmwareStatusNotification(status=status, request_id=request_id), suppress=False)


__all__ = ["SECURITY_TRIGGERS", "CsmsSecurityV201", "StationSecurityV201"]
