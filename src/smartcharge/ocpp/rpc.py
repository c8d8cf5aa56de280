"""The shared OCPP-J core for both versions: every frame answered or logged, none fatal.

OCPP-J (1.6 section 4, 2.0.1 part 4 section 4) frames are text frames holding a JSON array:
``[2, id, action, payload]`` (CALL), ``[3, id, payload]`` (CALLRESULT), ``[4, id, code,
description, details]`` (CALLERROR); the id is a string of at most 36 characters. This module
owns that framing, so the ``ocpp`` library is used only through its public API (``@on``/``@after``
routing, the message dataclasses, ``get_validator`` for the official JSON schemas, the case
converters): no private attribute, no module-wide switch.

:class:`FaultTolerantChargePoint`

* answers every bad frame with a CALLERROR naming the rule (id ``"-1"`` when the id cannot be
  read): not UTF-8, not JSON (``NaN``/``Infinity`` are not JSON), nested too deeply, not an OCPP
  array, a bad id, an unknown message type, a lone surrogate in a string, a payload breaking the
  version's schema (field path in the description), an integer outside 32 bits or a number
  that is not finite, a domain rule broken
  (``ValidationError`` -> PropertyConstraintViolation naming the field);
* tells ``NotImplemented`` (an action the version does not define) from ``NotSupported`` (a
  defined action this end does not handle), as OCPP-J defines them;
* keeps at most one call in flight and accepts only the CALLRESULT/CALLERROR for that call; any
  other response is dropped and logged (nothing is queued for an id that was never sent);
* reports every fault through a callback so the CEM can count it and log it as a security event
  (SEC-S-6 "InvalidMessages"); an unexpected exception in a handler is logged with its traceback
  and answered ``InternalError``;
* logs frames at DEBUG only (INFO is for what changed).
"""

from __future__ import annotations

import asyncio
import decimal
import functools
import inspect
import json
import logging
import math
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import fastjsonschema
from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import OCPPError, PropertyConstraintViolationError
from ocpp.messages import CallError, get_validator
from ocpp.routing import create_route_map
from ocpp.v16.enums import Action as ActionV16
from ocpp.v201.enums import Action as ActionV201

from smartcharge.core.errors import ValidationError

logger = logging.getLogger(__name__)
#: Every frame in and out, at DEBUG (``--log-level debug`` shows the traffic).
frame_logger = logging.getLogger("smartcharge.ocpp.frames")

#: Callback for a refused frame: (kind, detail).
FaultCallback = Callable[[str, str], Awaitable[None]]
#: Callback for every OCPP frame on a link: (station id, "received" or "sent", raw frame). Called
#: synchronously in the receive loop or after a send, so it must only enqueue, never block or await.
#: (Same interface as on main, for the operator API's message stream.)
FrameTap = Callable[[str, str, str], None]

CALL, CALLRESULT, CALLERROR = 2, 3, 4
#: OCPP-J: the message id is a string of at most 36 characters (1.6 section 4.1.3, 2.0.1 part 4 4.1.3).
MAX_MESSAGE_ID_CHARS = 36
#: Longest error description sent (OCPP-J: errorDescription should be short).
MAX_DESCRIPTION_CHARS = 255
#: A JSON escape that may encode a surrogate or NUL; only then are strings checked (cheap on
#: normal frames). NUL cannot be stored in PostgreSQL text, and OCPP strings are printable.
_SUSPECT_ESCAPE = re.compile(r"\\u([dD][89a-fA-F]|0000)")
#: OCPP ``integer`` is a 32-bit signed number (2.0.1 part 2, primitive datatypes; 1.6 section
#: 2.2): a longer one would overflow our stores (SQLite/PostgreSQL integer columns).
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
#: Only a frame holding a 10+ digit run or a 3-digit exponent can carry an integer outside int32
#: or a float that parses as infinity ("1e400"); only then are numbers walked.
_SUSPECT_NUMBER = re.compile(r"\d{10}|[eE][+-]?\d{3}")
#: 1.6 fields with ``multipleOf: 0.1``: validated with decimals (floats would fail 21.4).
_DECIMAL_CALLS_16 = frozenset({"SetChargingProfile", "RemoteStartTransaction"})
_DECIMAL_RESULTS_16 = frozenset({"GetCompositeSchedule"})
_KNOWN_ACTIONS = {
    "1.6": frozenset(a.value for a in ActionV16),
    "2.0.1": frozenset(a.value for a in ActionV201),
}


class Fault(OCPPError):  # type: ignore[misc]  # ocpp ships no types
    """A frame refused with an OCPP-J error code; ``kind`` is how it is counted."""

    def __init__(self, code: str, description: str, kind: str, unique_id: str = "-1") -> None:
        super().__init__(description=description[:MAX_DESCRIPTION_CHARS])
        self.code = code
        self.description = description[:MAX_DESCRIPTION_CHARS]
        self.kind = kind
        self.unique_id = unique_id


@dataclass(frozen=True, slots=True)
class Frame:
    """A parsed, well-formed OCPP-J frame."""

    type_id: int
    unique_id: str
    action: str | None = None  # CALL only
    payload: Any = None  # CALL and CALLRESULT: a dict
    error_code: str | None = None  # CALLERROR only
    error_description: str = ""


class CallErrorReply(OCPPError):  # type: ignore[misc]
    """A CALLERROR received in answer to our call (carries the peer's code)."""

    def __init__(self, code: str, description: str, details: Any = None) -> None:
        super().__init__(description=description, details=details)
        self.code = code


def as_ocpp_error(error: ValidationError) -> OCPPError:
    """Our validation error as the OCPP error that names the field and the rule."""
    return PropertyConstraintViolationError(description=str(error)[:MAX_DESCRIPTION_CHARS])


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def _format_code(version: str) -> str:
    # OCPP 1.6 spells it FormationViolation (errata 5.2), 2.0.1 FormatViolation.
    return "FormationViolation" if version == "1.6" else "FormatViolation"


def _occurrence_code(version: str) -> str:
    return "OccurenceConstraintViolation" if version == "1.6" else "OccurrenceConstraintViolation"


def _bad_string_path(value: Any, path: str = "") -> str | None:
    """Path of the first string holding a lone surrogate (not encodable as UTF-8) or NUL, if any."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "(frame)"
        return (path or "(frame)") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _bad_string_path(key, path) or _bad_string_path(item, f"{path}.{key}".lstrip("."))
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _bad_string_path(item, f"{path}[{i}]")
            if found:
                return found
    return None


def _bad_number_path(value: Any, path: str = "") -> str | None:
    """Dotted path (list indices left out, as in our field errors) of the first integer outside
    int32 or non-finite number, if any."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT32_MIN <= value <= INT32_MAX else (path or "(frame)")
    if isinstance(value, float):
        return None if math.isfinite(value) else (path or "(frame)")
    if isinstance(value, dict):
        children: Any = ((f"{path}.{key}".lstrip("."), item) for key, item in value.items())
    elif isinstance(value, list):
        children = ((path, item) for item in value)
    else:
        return None
    for child_path, item in children:
        found = _bad_number_path(item, child_path)
        if found:
            return found
    return None


def parse_frame(raw: str | bytes, version: str) -> Frame:
    """One websocket message as an OCPP-J frame, or :class:`Fault` saying which rule it breaks."""
    fmt = _format_code(version)
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Fault(
                fmt, "binary frame is not UTF-8 text (OCPP-J uses text frames)", "malformed_frame"
            ) from None
        raise Fault(
            fmt, "binary frame refused: OCPP-J uses text frames", "malformed_frame", _readable_id(text)
        )
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise Fault(fmt, "frame is nested too deeply to be an OCPP message", "malformed_frame") from None
    except ValueError as error:
        raise Fault(fmt, f"frame is not JSON: {error}", "malformed_frame") from None
    if (
        not isinstance(data, list)
        or len(data) < 3
        or not isinstance(data[0], int)
        or isinstance(data[0], bool)
    ):
        raise Fault(fmt, "frame is not an OCPP-J array [type, id, ...]", "malformed_frame")
    type_id, unique_id = data[0], data[1]
    if not isinstance(unique_id, str) or not 1 <= len(unique_id) <= MAX_MESSAGE_ID_CHARS:
        raise Fault(
            fmt, f"message id must be a string of 1..{MAX_MESSAGE_ID_CHARS} characters", "malformed_frame"
        )
    if _SUSPECT_ESCAPE.search(raw):
        payload = data[3] if type_id == CALL and len(data) == 4 and isinstance(data[3], dict) else None
        where = (
            _bad_string_path(data)
            if payload is None
            else _bad_string_path(data[:3]) or _bad_string_path(payload)
        )
        if where is not None:
            code = fmt if where == "(frame)" else "PropertyConstraintViolation"
            rule = "a lone surrogate or NUL is not valid text here"
            raise Fault(code, f"{where}: {rule}", "malformed_frame", unique_id)
    body = data[3] if type_id == CALL and len(data) == 4 else data[2] if len(data) == 3 else data[2:]
    if _SUSPECT_NUMBER.search(raw) and (where := _bad_number_path(body)):
        rule = f"an OCPP integer is 32-bit ({INT32_MIN}..{INT32_MAX}) and a number must be finite"
        raise Fault("PropertyConstraintViolation", f"{where}: {rule}", "field_violation", unique_id)
    if type_id == CALL:
        if len(data) != 4 or not isinstance(data[2], str) or not isinstance(data[3], dict):
            raise Fault(fmt, "a CALL is [2, id, action, {payload}]", "malformed_frame", unique_id)
        return Frame(CALL, unique_id, action=data[2], payload=data[3])
    if type_id == CALLRESULT:
        if len(data) != 3 or not isinstance(data[2], dict):
            raise Fault(fmt, "a CALLRESULT is [3, id, {payload}]", "malformed_frame", unique_id)
        return Frame(CALLRESULT, unique_id, payload=data[2])
    if type_id == CALLERROR:
        if len(data) != 5 or not isinstance(data[2], str) or not isinstance(data[3], str):
            raise Fault(
                fmt, "a CALLERROR is [4, id, code, description, {details}]", "malformed_frame", unique_id
            )
        return Frame(CALLERROR, unique_id, error_code=data[2], error_description=data[3])
    # 2.0.1 has a code for this (part 4, 4.3); 1.6 does not.
    code = "MessageTypeNotSupported" if version == "2.0.1" else "PropertyConstraintViolation"
    raise Fault(code, f"message type {type_id} is not 2, 3 or 4", "malformed_frame", unique_id)


def _readable_id(text: str) -> str:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return "-1"
    if isinstance(data, list) and len(data) > 1 and isinstance(data[1], str):
        if 1 <= len(data[1]) <= MAX_MESSAGE_ID_CHARS:
            return data[1]
    return "-1"


def _schema_fault(error: SchemaError, version: str, unique_id: str) -> Fault:
    where = ".".join(str(p) for p in error.absolute_path) or "(payload)"
    if error.validator == "required":
        code = _occurrence_code(version)
    elif error.validator in ("type", "maxLength"):
        code = "TypeConstraintViolation"
    elif error.validator == "additionalProperties":
        code = _format_code(version)
    else:
        code = "PropertyConstraintViolation"
    return Fault(code, f"{where}: {error.message}", "schema_violation", unique_id)


@functools.cache
def _fast_validator(type_id: int, action: str, version: str) -> Callable[[Any], Any]:
    """The official schema compiled to Python once (fastjsonschema): about 20 times faster than
    ``jsonschema`` on a GetVariables answer, the largest cost of a 1,000-station fan-out in the
    CEM (benchmarks/README.md, operator API)."""
    schema = dict(get_validator(type_id, action, version).schema)
    # As the official validator: draft 4 for every version (the 2.0.1 files name draft 6, where
    # 1.0 is an integer; the ocpp library validates them as draft 4, where it is not).
    schema["$schema"] = "http://json-schema.org/draft-04/schema#"
    return fastjsonschema.compile(schema)


def validate_against_schema(type_id: int, action: str, payload: dict[str, Any], version: str) -> None:
    """Check a payload against the official OCPP JSON schema of ``action`` (raises SchemaError).

    A payload the compiled schema accepts is valid; one it refuses goes to the ``jsonschema``
    validator, which decides and words the error (the compiled one is stricter only about
    ``format``, which the official validator does not check). 1.6 payloads with decimals
    (multipleOf 0.1) are checked by ``jsonschema`` alone, on Decimal values. Inline: one small
    payload costs well under a millisecond, less than a hop to a thread pool would."""
    decimals = version == "1.6" and (
        (type_id == CALL and action in _DECIMAL_CALLS_16)
        or (type_id == CALLRESULT and action in _DECIMAL_RESULTS_16)
    )
    if decimals:
        validator = get_validator(type_id, action, version, parse_float=decimal.Decimal)
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    else:
        try:
            _fast_validator(type_id, action, version)(payload)
            return
        except fastjsonschema.JsonSchemaException:
            pass
        validator = get_validator(type_id, action, version)
    validator.validate(payload)


def _dump(message: list[Any]) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


class FaultTolerantChargePoint:
    """One end of an OCPP-J link (either version) with ``@on``/``@after`` handlers.

    Subclasses set ``_ocpp_version`` ("1.6" or "2.0.1") and ``_call_result`` (the version's
    ``ocpp.v*.call_result`` module)."""

    _ocpp_version: str
    _call_result: Any
    #: Sees every frame both ways (the operator API's message stream); None costs nothing.
    tap: FrameTap | None = None

    def __init__(
        self, station_id: str, connection: Any, on_fault: FaultCallback, response_timeout: float = 30
    ):
        self.id = station_id
        self._connection = connection
        self._response_timeout = response_timeout
        self._on_fault = on_fault
        self.route_map = create_route_map(self)
        self._call_lock = asyncio.Lock()
        # The one call in flight (OCPP-J): its id and the future its answer resolves.
        self._pending: tuple[str, asyncio.Future[Frame]] | None = None
        self._after_tasks: set[asyncio.Task[Any]] = set()
        self.faults = 0
        self.dropped_responses = 0

    # ---- receiving ------------------------------------------------------------------------

    async def start(self) -> None:
        """Receive and handle frames until the connection closes (``ConnectionClosed``)."""
        while True:
            raw = await self._connection.recv()
            await self.route_message(raw)

    async def route_message(self, raw: str | bytes) -> None:
        frame_logger.debug("%s: receive %s", self.id, raw[:2000])
        if self.tap is not None:
            self.tap(self.id, "received", raw if isinstance(raw, str) else raw.decode("utf-8", "replace"))
        try:
            frame = parse_frame(raw, self._ocpp_version)
        except Fault as fault:
            await self._refuse(fault)
            return
        if frame.type_id == CALL:
            await self._answer_call(frame)
        else:
            self._take_response(frame)

    def _take_response(self, frame: Frame) -> None:
        pending = self._pending
        if pending is not None and pending[0] == frame.unique_id and not pending[1].done():
            pending[1].set_result(frame)
            return
        # Never queued: a response to an id we did not send (or one that timed out) is dropped.
        self.dropped_responses += 1
        logger.warning("%s: dropped a response to unknown message id %r", self.id, frame.unique_id[:40])

    async def _answer_call(self, frame: Frame) -> None:
        assert frame.action is not None
        try:
            result = await self._dispatch(frame)
        except Fault as fault:
            await self._refuse(fault)
            return
        await self._send_frame([CALLRESULT, frame.unique_id, result])
        self._run_after(frame)

    async def _dispatch(self, frame: Frame) -> dict[str, Any]:
        action, unique_id, version = frame.action, frame.unique_id, self._ocpp_version
        assert action is not None
        handlers = self.route_map.get(action)
        if handlers is None or "_on_action" not in handlers:
            if action in _KNOWN_ACTIONS[version]:
                raise Fault(
                    "NotSupported", f"{action} is not supported by this end", "unsupported_action", unique_id
                )
            raise Fault(
                "NotImplemented", f"{action} is not an OCPP {version} action", "unknown_action", unique_id
            )
        try:
            if not handlers.get("_skip_schema_validation", False):
                validate_against_schema(CALL, action, frame.payload, version)
            kwargs = camel_to_snake_case(frame.payload)
            response = handlers["_on_action"](**kwargs)
            if inspect.isawaitable(response):
                response = await response
        except SchemaError as error:
            raise _schema_fault(error, version, unique_id) from None
        except ValidationError as error:
            raise Fault("PropertyConstraintViolation", str(error), "field_violation", unique_id) from None
        except Fault:
            raise
        except OCPPError as error:
            raise Fault(error.code, str(error.description), "field_violation", unique_id) from None
        except RecursionError:
            raise Fault(
                _format_code(version), "payload is nested too deeply", "malformed_frame", unique_id
            ) from None
        except Exception:
            logger.exception("%s: %s handler failed", self.id, action)
            raise Fault(
                "InternalError", f"{action} could not be processed", "internal_error", unique_id
            ) from None
        result = dict(snake_to_camel_case(remove_nones(serialize_as_dict(response))))
        try:
            validate_against_schema(CALLRESULT, action, result, version)
        except SchemaError as error:  # our own answer is wrong: a bug here, not the peer's fault
            logger.error("%s: our answer to %s breaks its schema: %s", self.id, action, error.message)
            raise Fault(
                "InternalError", f"{action} could not be answered", "internal_error", unique_id
            ) from None
        return result

    def _run_after(self, frame: Frame) -> None:
        handler = (self.route_map.get(frame.action or "") or {}).get("_after_action")
        if handler is None:
            return
        try:
            outcome = handler(**camel_to_snake_case(frame.payload))
        except Exception:
            logger.exception("%s: after-%s hook failed", self.id, frame.action)
            return
        if inspect.isawaitable(outcome):
            task = asyncio.ensure_future(outcome)
            self._after_tasks.add(task)
            task.add_done_callback(self._after_tasks.discard)

    async def _refuse(self, fault: Fault) -> None:
        self.faults += 1
        logger.warning("%s: refused a frame (%s): %s %s", self.id, fault.kind, fault.code, fault.description)
        await self._send_frame([CALLERROR, fault.unique_id, fault.code, fault.description, {}])
        if fault.kind == "internal_error":
            return  # our own failure (e.g. the database down), not an invalid message of the peer
        try:
            await self._on_fault(fault.kind, f"{fault.code}: {fault.description}"[:500])
        except Exception:
            # Logging the fault must never take the link down (issue 15: a database outage made
            # this raise, and the connection closed with 1011).
            logger.exception("%s: the fault could not be recorded", self.id)

    # ---- sending --------------------------------------------------------------------------

    async def _send_frame(self, message: list[Any]) -> None:
        text = _dump(message)
        frame_logger.debug("%s: send %s", self.id, text[:2000])
        await self._connection.send(text)
        if self.tap is not None:  # after the send: a frame the tap reports has left
            self.tap(self.id, "sent", text)

    async def _round_trip(
        self,
        action: str,
        payload: dict[str, Any],
        unique_id: str | None = None,
        timeout_s: float | None = None,
    ) -> dict[str, Any]:
        """Send one CALL and wait for its answer (one in flight); a CALLERROR is raised.
        ``timeout_s`` (default: the link's response timeout) covers the wait for the lock too."""
        unique_id = unique_id or str(uuid.uuid4())
        timeout = self._response_timeout if timeout_s is None else timeout_s
        async with asyncio.timeout(timeout), self._call_lock:
            future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
            self._pending = (unique_id, future)
            try:
                await self._send_frame([CALL, unique_id, action, payload])
                answer = await future
            except TimeoutError:
                raise TimeoutError(f"no answer to {action} within {timeout} s") from None
            finally:
                self._pending = None
        if answer.type_id == CALLERROR:
            raise CallErrorReply(answer.error_code or "GenericError", answer.error_description)
        payload_in = answer.payload
        try:
            validate_against_schema(CALLRESULT, action, payload_in, self._ocpp_version)
        except SchemaError as error:
            raise Fault(
                "PropertyConstraintViolation", f"answer to {action}: {error.message}", "schema_violation"
            ) from None
        return dict(payload_in)

    async def call_prepared(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL whose camelCase payload we built ourselves from a validated domain object,
        and return the CALLRESULT payload (snake_case). Not validated on the way out: the payloads
        are checked against the official schemas in the tests (``tests/ocpp/test_schemas.py``)."""
        return dict(camel_to_snake_case(await self._round_trip(action, payload)))

    async def call(self, payload: Any, suppress: bool = True) -> Any:
        """Send one ``ocpp.v*.call`` dataclass, validated against its schema; returns the
        version's ``call_result`` dataclass (None on a CALLERROR when ``suppress``)."""
        action = type(payload).__name__
        wire = dict(snake_to_camel_case(remove_nones(serialize_as_dict(payload))))
        try:
            validate_against_schema(CALL, action, wire, self._ocpp_version)
        except SchemaError as error:
            where = ".".join(str(p) for p in error.absolute_path) or "(payload)"
            raise ValidationError(f"{action}.{where}", error.instance, error.message) from None
        try:
            answer = await self._round_trip(action, wire)
        except CallErrorReply as error:
            if suppress:
                return None
            # As the library's own ``call`` does: the exception class of the peer's error code
            # (e.g. ``ocpp.exceptions.SecurityError``), so callers can tell the codes apart.
            reply = CallError("", error.code, str(error.description), error.details or {})
            raise reply.to_exception() from None
        return getattr(self._call_result, action)(**camel_to_snake_case(answer))


__all__ = [
    "MAX_MESSAGE_ID_CHARS",
    "CallErrorReply",
    "Fault",
    "FaultCallback",
    "FaultTolerantChargePoint",
    "Frame",
    "FrameTap",
    "as_ocpp_error",
    "parse_frame",
    "validate_against_schema",
]
