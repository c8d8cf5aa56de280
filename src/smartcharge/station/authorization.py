"""The station's own authorization store: the local authorization list the CSMS sends (2.0.1 D01
SendLocalList, D02 GetLocalListVersion; 1.6 Local Auth List Management profile, sections 5.15
and 5.10) and the cache of CSMS verdicts (C10, C11 ClearCache; 1.6 section 5.4).

While the link is down the station authorizes from them (C12 cache, C13 local list;
LocalAuthorizeOffline): the local list first, then the cache; an entry past its expiry, or
unknown to both, is not accepted, so an unknown token never starts charging offline.

Device-model variables (2.0.1 names; a 1.6 configuration key is ``Component.Variable``):
``LocalAuthListCtrlr.Enabled`` (read-write; disabled: SendLocalList is NotSupported and
GetLocalListVersion answers -1 in 1.6), ``LocalAuthListCtrlr.Entries`` (read-only), and the two
bounds below (read-only); a 1.6 CSMS may use the standard keys ``LocalAuthListEnabled``,
``LocalAuthListMaxLength`` and ``SendLocalListMaxLength`` for the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from smartcharge.ocpp.domain import IdTokenInfo, VariableRef, VariableResult

#: LocalAuthListCtrlr.EntriesMax / 1.6 LocalAuthListMaxLength: entries the list may hold.
ENTRIES_MAX = 1000
#: LocalAuthListCtrlr.ItemsPerMessage / 1.6 SendLocalListMaxLength: entries in one SendLocalList.
ITEMS_PER_MESSAGE = 250
ENABLED = VariableRef("LocalAuthListCtrlr", "Enabled")
ENTRIES = VariableRef("LocalAuthListCtrlr", "Entries")
ENTRIES_MAX_REF = VariableRef("LocalAuthListCtrlr", "EntriesMax")
ITEMS_REF = VariableRef("LocalAuthListCtrlr", "ItemsPerMessage")
_READ_ONLY = (ENTRIES, ENTRIES_MAX_REF, ITEMS_REF)
#: The 1.6 standard configuration keys (section 9.2), which have no component: a 1.6 key reaches
#: the device as ``VariableRef(key, "")``.
_KEYS_16 = {
    VariableRef("LocalAuthListEnabled", ""): ENABLED,
    VariableRef("LocalAuthListMaxLength", ""): ENTRIES_MAX_REF,
    VariableRef("SendLocalListMaxLength", ""): ITEMS_REF,
}


def _valid(info: IdTokenInfo, now: datetime) -> IdTokenInfo:
    if info.accepted and info.cache_expiry_at is not None and info.cache_expiry_at <= now:
        return IdTokenInfo("Expired", info.cache_expiry_at, info.group_id_token)
    return info


@dataclass
class LocalAuthorization:
    local_list: dict[str, IdTokenInfo] = field(default_factory=dict)
    version: int = 0
    cache: dict[str, IdTokenInfo] = field(default_factory=dict)
    enabled: bool = True

    def verdict(self, id_token: str, now: datetime) -> IdTokenInfo | None:
        key = id_token.lower()  # idToken is case insensitive (IdTokenType)
        if self.enabled and key in self.local_list:
            return _valid(self.local_list[key], now)
        if key in self.cache:
            return _valid(self.cache[key], now)
        return None

    def remember(self, id_token: str, info: IdTokenInfo) -> None:
        self.cache[id_token.lower()] = info

    def clear_cache(self) -> bool:
        self.cache.clear()
        return True

    def list_version(self) -> int:
        """GetLocalListVersion: 0 for no list; -1 when the list is disabled (1.6 section 5.10)."""
        return self.version if self.enabled else -1

    def send_local_list(
        self, version: int, update_type: str, entries: list[tuple[str, IdTokenInfo | None]]
    ) -> str:
        """D01 / 1.6 section 5.15: Full replaces the list; Differential adds, updates, or (no
        idTokenInfo) removes. Answers:

        * NotSupported: the list is disabled (``LocalAuthListCtrlr.Enabled`` false);
        * VersionMismatch: a differential update not newer than the list held (D01.FR.?; 1.6);
        * Failed: more entries than one message or the list may hold, a token twice, a version
          below 1, or a Full entry without idTokenInfo; nothing is changed."""
        if not self.enabled:
            return "NotSupported"
        keys = [t.lower() for t, _ in entries]
        if version < 1 or len(entries) > ITEMS_PER_MESSAGE or len(set(keys)) != len(keys):
            return "Failed"
        if update_type == "Full":
            if any(info is None for _, info in entries):
                return "Failed"
            new = {t.lower(): i for t, i in entries if i is not None}
        else:
            if version <= self.version:
                return "VersionMismatch"
            new = dict(self.local_list)
            for token, info in entries:
                if info is None:
                    new.pop(token.lower(), None)
                else:
                    new[token.lower()] = info
        if len(new) > ENTRIES_MAX:
            return "Failed"
        self.local_list, self.version = new, version
        return "Accepted"

    # ---- what the station holds about one customer (N09/N10, PRIV-6) ----------------------

    def held_for(self, id_token: str) -> list[str]:
        key = id_token.lower()
        lines = []
        if key in self.local_list:
            lines.append(f"local list: {id_token} {self.local_list[key].status}")
        if key in self.cache:
            lines.append(f"authorization cache: {id_token} {self.cache[key].status}")
        return lines

    def forget(self, id_token: str) -> int:
        key = id_token.lower()
        return int(self.local_list.pop(key, None) is not None) + int(self.cache.pop(key, None) is not None)

    # ---- device-model variables ---------------------------------------------------------------

    def owns_variable(self, ref: VariableRef) -> bool:
        return ref == ENABLED or ref in _READ_ONLY or ref in _KEYS_16

    def get_variable(self, ref: VariableRef) -> VariableResult:
        asked, ref = ref, _KEYS_16.get(ref, ref)
        values = {
            ENABLED: "true" if self.enabled else "false",
            ENTRIES: str(len(self.local_list)),
            ENTRIES_MAX_REF: str(ENTRIES_MAX),
            ITEMS_REF: str(ITEMS_PER_MESSAGE),
        }
        return VariableResult(asked, "Accepted", values[ref])

    def set_variable(self, ref: VariableRef, value: str) -> VariableResult:
        if _KEYS_16.get(ref, ref) != ENABLED or value not in ("true", "false"):
            return VariableResult(ref, "Rejected")
        self.enabled = value == "true"
        return VariableResult(ref, "Accepted")


__all__ = ["ENABLED", "ENTRIES_MAX", "ITEMS_PER_MESSAGE", "LocalAuthorization"]
