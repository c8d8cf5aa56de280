"""Consent per DSR service provider (PRIV-3, ETSI EN 303 645 6-2/6-3, ARB-7, SCP-SF-6).

The owner's consent is an append-only ledger of timestamped entries. Each entry either grants a
DSRSP some rights from ``valid_from_s`` until ``valid_until_s`` (None: until revoked), or revokes
them. What a DSRSP may do at a moment is decided by its latest entry recorded at or before that
moment. Only one DSRSP may control the charge points at a time (ARB-7): granting control to a
second one while the first still holds it is refused; the owner switches by revoking first.

Pure: the time is an argument; no clock, no I/O.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass

from smartcharge.core.errors import ValidationError


class ConsentAction(enum.Enum):
    GRANT = "grant"
    REVOKE = "revoke"


class ReadScope(enum.Enum):
    """What a DSRSP may read from the CEM (PRIV-5: data by purpose)."""

    TELEMETRY = "telemetry"  # power and status (TELEMETRY_USAGE / TELEMETRY_STATUS)
    OFFERS = "offers"  # PAS 1878 flexibility offers (DSR-1)
    POWER_REPORTS = "power_reports"  # power during and after an event, for verification (DSR-4)


MAX_DSRSP_ID_LEN = 64


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    """One ledger entry. ``recorded_s`` is when it was written; the ledger never changes it."""

    dsrsp_id: str
    action: ConsentAction
    recorded_s: int
    may_control: bool = False
    may_read: frozenset[ReadScope] = frozenset()
    valid_from_s: int = 0
    valid_until_s: int | None = None
    vtn_url: str = ""
    vtn_fingerprint: str = ""
    actor: str = "owner"
    reason: str = ""

    def __post_init__(self) -> None:
        if (
            not self.dsrsp_id
            or len(self.dsrsp_id) > MAX_DSRSP_ID_LEN
            or self.dsrsp_id != self.dsrsp_id.upper()
        ):
            raise ValidationError(
                "dsrsp_id", self.dsrsp_id, f"an upper-case VTN id of 1..{MAX_DSRSP_ID_LEN} chars"
            )
        if self.valid_until_s is not None and self.valid_until_s <= self.valid_from_s:
            raise ValidationError("valid_until_s", self.valid_until_s, "consent must end after it starts")
        if self.action is ConsentAction.GRANT:
            if not (self.may_control or self.may_read):
                raise ValidationError("may_control", False, "a grant must allow control or some reading")
            if self.may_control and not self.vtn_url.startswith("https://"):
                raise ValidationError(
                    "vtn_url", self.vtn_url, "a controlling DSRSP needs an https:// VTN URL"
                )
            if self.may_control and not self.vtn_fingerprint:
                raise ValidationError(
                    "vtn_fingerprint", "", "the VTN fingerprint is exchanged out of band first"
                )

    def is_in_force(self, now_s: int) -> bool:
        """Whether this (grant) entry allows anything at ``now_s``."""
        if self.action is not ConsentAction.GRANT or now_s < self.recorded_s:
            return False
        return self.valid_from_s <= now_s and (self.valid_until_s is None or now_s < self.valid_until_s)

    def canonical(self) -> str:
        """The entry as JSON with sorted keys and no spaces: one text per entry and one entry per
        text, whatever its fields hold (a ``|`` or a newline in a reason cannot shift a field)."""
        record = {
            "action": self.action.value,
            "actor": self.actor,
            "dsrsp_id": self.dsrsp_id,
            "may_control": self.may_control,
            "may_read": sorted(s.value for s in self.may_read),
            "reason": self.reason,
            "recorded_s": self.recorded_s,
            "valid_from_s": self.valid_from_s,
            "valid_until_s": self.valid_until_s,
            "vtn_fingerprint": self.vtn_fingerprint,
            "vtn_url": self.vtn_url,
        }
        return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def legacy_canonical(self) -> str:
        """The ``|``-joined form of the first ledgers (chain scheme 1), kept only to check rows
        written before the ledger was keyed: it is ambiguous (actor ``a|b`` with reason ``c``
        joins like actor ``a`` with reason ``b|c``), so nothing new is written with it."""
        reads = ",".join(sorted(s.value for s in self.may_read))
        return "|".join(
            str(x)
            for x in (
                self.dsrsp_id,
                self.action.value,
                self.recorded_s,
                int(self.may_control),
                reads,
                self.valid_from_s,
                self.valid_until_s,
                self.vtn_url,
                self.vtn_fingerprint,
                self.actor,
                self.reason,
            )
        )


#: Chain schemes: 1, SHA-256 over the ``|``-joined form (first ledgers, read only); 2, HMAC-SHA256
#: under the CEM's ledger key over the canonical JSON (every entry written now).
LEGACY_SCHEME = 1
KEYED_SCHEME = 2


def chain_hash(previous_hash: str, entry: ConsentEntry, key: bytes) -> str:
    """HMAC-SHA256 under ``key`` over the previous entry's hash and this entry's canonical JSON.

    Editing, inserting or removing any entry breaks the chain; and since the key is kept outside
    the database, someone who can only write the database cannot rebuild a valid chain (SEC-D-9).
    """
    if not key:
        raise ValidationError("key", "", "the consent ledger chain needs a secret key")
    message = f"{previous_hash}\n{entry.canonical()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def legacy_chain_hash(previous_hash: str, entry: ConsentEntry) -> str:
    """Scheme 1: the unkeyed SHA-256 of the first ledgers, for checking their old rows only."""
    return hashlib.sha256(f"{previous_hash}\n{entry.legacy_canonical()}".encode()).hexdigest()


def latest_entries(entries: Iterable[ConsentEntry], now_s: int) -> dict[str, ConsentEntry]:
    """The latest entry per DSRSP recorded at or before ``now_s`` (ledger order breaks ties)."""
    latest: dict[str, ConsentEntry] = {}
    for entry in entries:
        if entry.recorded_s <= now_s:
            latest[entry.dsrsp_id] = entry
    return latest


def in_force(entries: Iterable[ConsentEntry], now_s: int) -> dict[str, ConsentEntry]:
    """The grants in force at ``now_s``, by DSRSP."""
    return {k: e for k, e in latest_entries(entries, now_s).items() if e.is_in_force(now_s)}


def controlling_dsrsp(entries: Iterable[ConsentEntry], now_s: int) -> ConsentEntry | None:
    """The one grant that may control the charge points at ``now_s`` (ARB-7), if any."""
    controlling = [e for e in in_force(entries, now_s).values() if e.may_control]
    return controlling[0] if controlling else None


def may_read(entries: Iterable[ConsentEntry], dsrsp_id: str, scope: ReadScope, now_s: int) -> bool:
    """Whether ``dsrsp_id`` may read ``scope`` at ``now_s`` (PRIV-3, PRIV-5)."""
    entry = in_force(entries, now_s).get(dsrsp_id)
    return entry is not None and scope in entry.may_read


def check_new_entry(entries: Iterable[ConsentEntry], new: ConsentEntry) -> None:
    """Refuse an entry that would break the ledger's rules; the ledger stays as it was.

    Entries are appended in time order; a second controlling DSRSP is refused (ARB-7); revoking
    needs something to revoke.
    """
    history = list(entries)
    if history and new.recorded_s < history[-1].recorded_s:
        raise ValidationError("recorded_s", new.recorded_s, "the ledger is append-only in time order")
    current = in_force(history, new.recorded_s)
    if new.action is ConsentAction.REVOKE:
        last = latest_entries(history, new.recorded_s).get(new.dsrsp_id)
        if last is None or last.action is ConsentAction.REVOKE:
            raise ValidationError("dsrsp_id", new.dsrsp_id, "no consent to revoke for this DSRSP")
        return
    if new.may_control:
        others = [e.dsrsp_id for e in current.values() if e.may_control and e.dsrsp_id != new.dsrsp_id]
        if others:
            raise ValidationError(
                "may_control",
                new.dsrsp_id,
                f"{others[0]} already controls these charge points; switch provider instead (ARB-7)",
            )


__all__ = [
    "KEYED_SCHEME",
    "LEGACY_SCHEME",
    "MAX_DSRSP_ID_LEN",
    "ConsentAction",
    "ConsentEntry",
    "ReadScope",
    "chain_hash",
    "check_new_entry",
    "controlling_dsrsp",
    "in_force",
    "latest_entries",
    "legacy_chain_hash",
    "may_read",
]
