"""The local authorization list the CEM sends a station from its id-token store (OCPP 2.0.1 D01
SendLocalList, D02 GetLocalListVersion; 1.6 Local Auth List Management, sections 5.15 and 5.10).

The same store that answers Authorize gives each entry its verdict (``id_tokens.verdict``): a
station authorizing offline from the list decides as the CEM would have. The payload is built
for the station's version and sent through ``CsmsBase.call_action``, the generic send behind
the operator API (checked against the official schema before it is sent):

* ``Full``: every stored token; the list's version is the station's version + 1.
* ``Differential``: the tokens named; one still in the store is added or updated, one no longer
  in it is removed (an entry without idTokenInfo / idTagInfo).

1.6 idTag is at most 20 characters (CiString20Type): a longer stored token cannot be in a 1.6
list and is left out (named in the result), never cut to a different token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from smartcharge.cem.id_tokens import IdTokenService
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.csms_base import CallOutcome
from smartcharge.ocpp.domain import IdTokenInfo, format_time

UPDATE_TYPES = ("Full", "Differential")
#: 1.6 IdToken is CiString20Type.
ID_TAG_MAX_16 = 20
#: One SendLocalList carries at most this many entries (the station's SendLocalListMaxLength /
#: LocalAuthListCtrlr.ItemsPerMessage; the emulated station's bound, station/authorization.py).
ITEMS_PER_MESSAGE = 250


class Caller(Protocol):
    station_id: str
    _ocpp_version: str

    async def call_action(
        self, action: str, payload: dict[str, Any], timeout_s: float, *, checked: bool = False
    ) -> CallOutcome: ...


@dataclass
class LocalListResult:
    version: int
    update_type: str
    status: str  # the SendLocalList answer, or the CALLERROR code
    entries: int
    left_out: list[str] = field(default_factory=list)


def _info_201(info: IdTokenInfo) -> dict[str, Any]:
    wire: dict[str, Any] = {"status": info.status}
    if info.cache_expiry_at is not None:
        wire["cacheExpiryDateTime"] = format_time(info.cache_expiry_at)
    if info.group_id_token is not None:
        wire["groupIdToken"] = {"idToken": info.group_id_token, "type": "Central"}
    return wire


def _info_16(info: IdTokenInfo) -> dict[str, Any]:
    from smartcharge.ocpp.v16 import id_tag_info_to_wire

    return id_tag_info_to_wire(info)


def entries_for(
    version: str, tokens: IdTokenService, names: list[str] | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The list entries for ``names`` (None: every stored token), and the tokens left out."""
    stored = {r.id_token: r for r in tokens.all()}
    chosen = sorted(stored) if names is None else list(dict.fromkeys(names))
    entries, left_out = [], []
    for name in chosen:
        info = tokens.check(name) if name in stored else None
        if version == "1.6":
            if len(name) > ID_TAG_MAX_16:
                left_out.append(name)
                continue
            entry: dict[str, Any] = {"idTag": name}
            if info is not None:
                entry["idTagInfo"] = _info_16(info)
        else:
            record = stored.get(name)
            entry = {"idToken": {"idToken": name, "type": "Central" if record is None else record.token_type}}
            if info is not None:
                entry["idTokenInfo"] = _info_201(info)
        entries.append(entry)
    return entries, left_out


async def list_version(link: Caller, timeout_s: float) -> int:
    outcome = await link.call_action("GetLocalListVersion", {}, timeout_s)
    if outcome.result is None:
        raise ValidationError("GetLocalListVersion", outcome.error_code, "the station refused it")
    key = "listVersion" if link._ocpp_version == "1.6" else "versionNumber"
    return int(outcome.result[key])


async def send_from_store(
    link: Caller,
    tokens: IdTokenService,
    update_type: str,
    names: list[str] | None = None,
    timeout_s: float = 30.0,
) -> LocalListResult:
    """GetLocalListVersion, then SendLocalList with the next version, built from the store."""
    if update_type not in UPDATE_TYPES:
        raise ValidationError("update_type", update_type, "Full or Differential")
    if update_type == "Differential" and not names:
        raise ValidationError("id_tokens", names, "a differential update names the tokens to send")
    if update_type == "Full" and names is not None:
        raise ValidationError("id_tokens", names, "a full update sends every stored token; name none")
    version_16 = link._ocpp_version == "1.6"
    entries, left_out = entries_for(link._ocpp_version, tokens, names)
    if len(entries) > ITEMS_PER_MESSAGE:
        raise ValidationError(
            "id_tokens", len(entries), f"at most {ITEMS_PER_MESSAGE} entries in one SendLocalList"
        )
    current = await list_version(link, timeout_s)
    if current < 0:  # 1.6: the station has Local Auth List Management disabled
        return LocalListResult(current, update_type, "NotSupported", 0, left_out)
    new_version = current + 1
    payload: dict[str, Any] = {
        "listVersion" if version_16 else "versionNumber": new_version,
        "updateType": update_type,
    }
    if entries:
        payload["localAuthorizationList"] = entries
    outcome = await link.call_action("SendLocalList", payload, timeout_s)
    status = str(outcome.result["status"]) if outcome.result is not None else str(outcome.error_code)
    return LocalListResult(new_version, update_type, status, len(entries), left_out)


__all__ = [
    "ID_TAG_MAX_16",
    "UPDATE_TYPES",
    "LocalListResult",
    "entries_for",
    "list_version",
    "send_from_store",
]
