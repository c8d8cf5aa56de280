"""Valid OCPP payloads built from the official JSON schemas the ``ocpp`` library ships.

``instance(schema)`` gives the smallest valid payload (required fields only); ``full=True`` adds
every optional field too. Enumerations take their first value unless ``pick`` chooses another.
Used to walk every station-initiated action without hand-writing (and hand-fitting) payloads.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

#: Every action a charge point may send to the CSMS. OCPP 2.0.1 part 2 (messages) and 1.6J with
#: the security whitepaper; DataTransfer goes both ways. Every other call class of the library is
#: CSMS-initiated (the test checks the two sets cover the library's call classes exactly).
STATION_TO_CSMS = {
    "2.0.1": frozenset(
        {
            "Authorize",
            "BootNotification",
            "ClearedChargingLimit",
            "DataTransfer",
            "FirmwareStatusNotification",
            "Get15118EVCertificate",
            "GetCertificateStatus",
            "Heartbeat",
            "LogStatusNotification",
            "MeterValues",
            "NotifyChargingLimit",
            "NotifyCustomerInformation",
            "NotifyDisplayMessages",
            "NotifyEVChargingNeeds",
            "NotifyEVChargingSchedule",
            "NotifyEvent",
            "NotifyMonitoringReport",
            "NotifyReport",
            "PublishFirmwareStatusNotification",
            "ReportChargingProfiles",
            "ReservationStatusUpdate",
            "SecurityEventNotification",
            "SignCertificate",
            "StatusNotification",
            "TransactionEvent",
        }
    ),
    "1.6": frozenset(
        {
            "Authorize",
            "BootNotification",
            "DataTransfer",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "LogStatusNotification",
            "MeterValues",
            "SecurityEventNotification",
            "SignCertificate",
            "SignedFirmwareStatusNotification",
            "StartTransaction",
            "StatusNotification",
            "StopTransaction",
        }
    ),
}
_PACKAGE = {"2.0.1": "ocpp.v201", "1.6": "ocpp.v16"}
_SUFFIX = {"2.0.1": "Request", "1.6": ""}


def request_schema(version: str, action: str) -> dict[str, Any]:
    files = resources.files(_PACKAGE[version]) / "schemas"
    return dict(json.loads((files / f"{action}{_SUFFIX[version]}.json").read_text(encoding="utf-8")))


def _string(node: dict[str, Any]) -> str:
    if node.get("format") == "date-time":
        return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if node.get("format") == "uri":
        return "https://example.invalid/x"
    return "abc"[: node.get("maxLength", 3)]


def instance(schema: dict[str, Any], full: bool = False, pick: dict[str, Any] | None = None) -> Any:
    """A valid instance of ``schema``; ``pick`` maps a property name to the value to use."""
    pick = pick or {}

    def build(node: dict[str, Any]) -> Any:
        if "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[-1]]
        if "enum" in node:
            return node["enum"][0]
        kind = node.get("type")
        if kind == "object":
            props = node.get("properties", {})
            keys = list(props) if full else list(node.get("required", []))
            return {k: pick[k] if k in pick else build(props[k]) for k in keys}
        if kind == "array":
            return [build(node["items"]) for _ in range(max(1, node.get("minItems", 1)))]
        if kind == "integer":
            return max(1, int(node.get("minimum", 1)))
        if kind == "number":
            return 1.5
        if kind == "boolean":
            return False
        if kind == "string":
            return _string(node)
        if kind is None:  # "any type" (DataTransfer.data)
            return "abc"
        raise AssertionError(f"schema node of unknown type: {node}")

    return build(schema)


__all__ = ["STATION_TO_CSMS", "instance", "request_schema"]
