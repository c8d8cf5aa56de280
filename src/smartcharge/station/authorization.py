"""The station's own authorization store: the local authorization list the CSMS sends (D01
SendLocalList, D02 GetLocalListVersion) and the cache of CSMS verdicts (C10, C11 ClearCache).

While the link is down the station authorizes from them (C12 cache, C13 local list;
LocalAuthorizeOffline): the local list first, then the cache; an entry past its expiry, or
unknown to both, is not accepted, so an unknown token never starts charging offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from smartcharge.ocpp.domain import IdTokenInfo


def _valid(info: IdTokenInfo, now: datetime) -> IdTokenInfo:
    if info.accepted and info.cache_expiry_at is not None and info.cache_expiry_at <= now:
        return IdTokenInfo("Expired", info.cache_expiry_at, info.group_id_token)
    return info


@dataclass
class LocalAuthorization:
    local_list: dict[str, IdTokenInfo] = field(default_factory=dict)
    version: int = 0
    cache: dict[str, IdTokenInfo] = field(default_factory=dict)

    def verdict(self, id_token: str, now: datetime) -> IdTokenInfo | None:
        key = id_token.lower()  # idToken is case insensitive (IdTokenType)
        if key in self.local_list:
            return _valid(self.local_list[key], now)
        if key in self.cache:
            return _valid(self.cache[key], now)
        return None

    def remember(self, id_token: str, info: IdTokenInfo) -> None:
        self.cache[id_token.lower()] = info

    def clear_cache(self) -> bool:
        self.cache.clear()
        return True

    def send_local_list(
        self, version: int, update_type: str, entries: list[tuple[str, IdTokenInfo | None]]
    ) -> str:
        """D01: Full replaces the list; Differential adds, updates, or (no idTokenInfo) removes.
        A differential update not newer than the list held is a VersionMismatch (D01)."""
        if update_type == "Full":
            self.local_list = {t.lower(): i for t, i in entries if i is not None}
        else:
            if version <= self.version:
                return "VersionMismatch"
            for token, info in entries:
                if info is None:
                    self.local_list.pop(token.lower(), None)
                else:
                    self.local_list[token.lower()] = info
        self.version = version
        return "Accepted"


__all__ = ["LocalAuthorization"]
