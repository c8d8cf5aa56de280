"""The official OCPP JSON schemas (shipped by the ``ocpp`` package), as one reusable check.

:func:`validate_request` checks a CSMS-initiated payload of OCPP 2.0.1 or 1.6J against its
version's schema before anything is sent, and refuses it with a :class:`SchemaViolation` naming
the field (as a JSON path, e.g. ``chargingProfile.chargingSchedule[0].chargingRateUnit``) and the
schema rule broken (``enum``, ``required``, ``maxLength``, ...). :data:`CSMS_TO_CS` lists the
messages a CSMS may send in each version (2.0.1 part 2 "Messages"; 1.6 section 5 plus the 1.6
security whitepaper's additions).
"""

from __future__ import annotations

import decimal
import json
import re
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError as JsonSchemaError
from jsonschema.exceptions import best_match
from ocpp.messages import MessageType, get_validator

from smartcharge.core.errors import ValidationError

#: CSMS -> charging station messages of OCPP 2.0.1 (part 2, chapter 1 "Messages").
CSMS_TO_CS_V201 = frozenset(
    {
        "CancelReservation",
        "CertificateSigned",
        "ChangeAvailability",
        "ClearCache",
        "ClearChargingProfile",
        "ClearDisplayMessage",
        "ClearVariableMonitoring",
        "CostUpdated",
        "CustomerInformation",
        "DataTransfer",
        "DeleteCertificate",
        "GetBaseReport",
        "GetChargingProfiles",
        "GetCompositeSchedule",
        "GetDisplayMessages",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetLog",
        "GetMonitoringReport",
        "GetReport",
        "GetTransactionStatus",
        "GetVariables",
        "InstallCertificate",
        "PublishFirmware",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SetDisplayMessage",
        "SetMonitoringBase",
        "SetMonitoringLevel",
        "SetNetworkProfile",
        "SetVariableMonitoring",
        "SetVariables",
        "TriggerMessage",
        "UnlockConnector",
        "UnpublishFirmware",
        "UpdateFirmware",
    }
)
#: Central system -> charge point messages of OCPP 1.6J (section 5), with the security whitepaper's.
CSMS_TO_CS_V16 = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
        # OCPP 1.6 security whitepaper edition 3
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "SignedUpdateFirmware",
    }
)
CSMS_TO_CS: dict[str, frozenset[str]] = {"2.0.1": CSMS_TO_CS_V201, "1.6": CSMS_TO_CS_V16}

# The ``ocpp`` library parses these 1.6 schemas and payloads with Decimal (their ``multipleOf: 0.1``
# fails on binary floats such as 21.4); we must load them the same way, since it caches by name.
_DECIMAL_V16 = {
    (MessageType.Call, "SetChargingProfile"),
    (MessageType.Call, "RemoteStartTransaction"),
    (MessageType.CallResult, "GetCompositeSchedule"),
}
_REQUIRED = re.compile(r"^'(.+)' is a required property$")


class SchemaViolation(ValidationError):
    """A payload that breaks its OCPP schema: ``field`` is the JSON path, ``rule`` the schema rule."""


class UnknownAction(ValidationError):
    """An action that is not a CSMS-initiated message of the station's OCPP version."""


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _violation(error: JsonSchemaError) -> SchemaViolation:
    field = _path(error.absolute_path)
    missing = _REQUIRED.match(error.message)
    if error.validator == "required" and missing:
        field = f"{field}.{missing.group(1)}" if field else missing.group(1)
        return SchemaViolation(field, None, "required: the schema requires this field")
    value = error.instance if not isinstance(error.instance, dict | list) else "<object>"
    detail = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return SchemaViolation(field or "(payload)", value, f"{error.validator}: {detail}")


def _validator(message_type: int, action: str, version: str) -> tuple[Draft4Validator, bool]:
    decimal_floats = version == "1.6" and (message_type, action) in _DECIMAL_V16
    parse_float = decimal.Decimal if decimal_floats else float
    return get_validator(message_type, action, version, parse_float=parse_float), decimal_floats


def check_action(version: str, action: str) -> str:
    """Refuse an action the CSMS may not send in ``version``."""
    allowed = CSMS_TO_CS.get(version)
    if allowed is None:
        raise UnknownAction("ocpp_version", version, "one of 2.0.1, 1.6")
    if action not in allowed:
        raise UnknownAction(
            "action", action, f"not a CSMS-initiated message of OCPP {version} (see CSMS_TO_CS)"
        )
    return action


def _check(message_type: int, version: str, action: str, payload: Any) -> None:
    if not isinstance(payload, dict):
        raise SchemaViolation("(payload)", type(payload).__name__, "type: the payload must be a JSON object")
    validator, decimal_floats = _validator(message_type, action, version)
    instance = json.loads(json.dumps(payload), parse_float=decimal.Decimal) if decimal_floats else payload
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise _violation(error)


def validate_request(version: str, action: str, payload: Any) -> None:
    """Check a CSMS-initiated request: the action exists in ``version`` and ``payload`` meets its
    official schema. Raises :class:`UnknownAction` or :class:`SchemaViolation` (both name the field)."""
    check_action(version, action)
    _check(MessageType.Call, version, action, payload)


def validate_response(version: str, action: str, payload: Any) -> None:
    """Check a station's answer to ``action`` against its schema (raises :class:`SchemaViolation`)."""
    _check(MessageType.CallResult, version, action, payload)


__all__ = [
    "CSMS_TO_CS",
    "CSMS_TO_CS_V16",
    "CSMS_TO_CS_V201",
    "SchemaViolation",
    "UnknownAction",
    "check_action",
    "validate_request",
    "validate_response",
]
