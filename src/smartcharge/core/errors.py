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

from collections.abc import Mapping, Sequence
from typing import Any


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
        # A field named from a file (a mapping's key) may hold a newline: the message stays one line.
        shown = field if field.isprintable() else field.encode("unicode_escape").decode("ascii")
        if value is MISSING:
            super().__init__(f"{shown} refused: {rule}")
        else:
            super().__init__(f"{shown}={quote_value(value)} refused: {rule}")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


#: The value of a :class:`ValidationError` for a field that was not given at all.
MISSING = _Missing()

#: Longest quoted value in an error message; a longer one is cut (a YAML alias bomb or a
#: multi-megabyte field must not be expanded into a log line or a terminal).
MAX_QUOTED_CHARS = 80


def quote_value(value: object) -> str:
    """``repr(value)`` cut to :data:`MAX_QUOTED_CHARS`, saying how long it was.

    Containers are summarised by type and length before any repr is built, so a huge nested value
    costs nothing to quote.
    """
    if isinstance(value, (dict, list, tuple, set, frozenset)) and len(value) > 8:
        return f"<{type(value).__name__} of {len(value)} items>"
    text = repr(value)
    if len(text) <= MAX_QUOTED_CHARS:
        return text
    return f"{text[: MAX_QUOTED_CHARS - 20]}... ({len(text)} characters)"


def schema_error(errors: Sequence[Mapping[str, Any]], root: str) -> ValidationError:
    """The first error of a schema validator's list (pydantic's ``exc.errors()`` shape: ``loc``,
    ``msg``, ``type``, ``input``) as one :class:`ValidationError` naming the field; ``root`` names
    the document when the error is about the whole of it."""
    first = errors[0]
    loc = first.get("loc") or ()
    where = ".".join(str(p) for p in loc) if isinstance(loc, (list, tuple)) and loc else root
    kind = first.get("type")
    if kind == "missing":
        return ValidationError(where, MISSING, "required field is missing")
    if kind == "extra_forbidden":
        return ValidationError(where, MISSING, "unknown field (not allowed here)")
    return ValidationError(where, first.get("input"), str(first.get("msg", "invalid")))


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


def check_setting_types(config_type: type, settings: dict[str, object], prefix: str) -> None:
    """Refuse a setting whose value is not of its field's kind (the default's type: a whole number,
    a number, text or true/false), by name, before the dataclass compares it: a list or null from
    a file made ``__post_init__``'s range checks raise a TypeError traceback (config fuzzer)."""
    import dataclasses

    words = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    for f in dataclasses.fields(config_type):
        if f.name not in settings or type(f.default) not in words:
            continue
        value, kind = settings[f.name], type(f.default)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            raise ValidationError(f"{prefix}.{f.name}", value, f"must be {words[kind]}")


__all__ = [
    "check_setting_types",
    "MAX_QUOTED_CHARS",
    "MISSING",
    "DataFileError",
    "LimitSourceError",
    "SmartchargeError",
    "UnknownTariffError",
    "ValidationError",
    "quote_value",
    "schema_error",
]
