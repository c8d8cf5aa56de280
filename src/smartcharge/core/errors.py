"""The one error tree of smartcharge.

::

    SmartchargeError
     ├── ValidationError        a value broke a rule (names the field, the value and the rule)
     │    ├── LimitSourceError  a limit arrived without a known source (ARB-5)
     │    └── UnknownTariffError
     └── DataFileError          a data file the product needs is missing or malformed

Adapters translate these at the boundary (OCPP CALLERROR codes, OpenADR status codes, HTTP 422);
nothing inside the package catches them to carry on silently.
"""

from __future__ import annotations


class SmartchargeError(Exception):
    """Base of every error raised by smartcharge."""


class ValidationError(SmartchargeError, ValueError):
    """A value broke a rule. The message names the field, the offending value and the rule.

    Nothing is clamped or repaired: the caller gets the error and keeps its input.
    """

    def __init__(self, field: str, value: object, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{field}={value!r} refused: {rule}")


class LimitSourceError(ValidationError):
    """A limit without a source (or with an unknown one) cannot be arbitrated (ARB-5)."""


class UnknownTariffError(ValidationError):
    """The tariff id is not in the packaged tariff table."""


class DataFileError(SmartchargeError):
    """A data file the product needs is missing or does not have the expected shape."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"data file {path}: {problem}")


__all__ = [
    "DataFileError",
    "LimitSourceError",
    "SmartchargeError",
    "UnknownTariffError",
    "ValidationError",
]
