"""The owner's consent ledger per DSR service provider (PRIV-3, ETSI 6-2/6-3, ARB-7, SCP-SF-6).

Every change is a new timestamped record (append-only, hash-chained, see
:mod:`smartcharge.store.consent`); the rules live in :mod:`smartcharge.policy.consent`. Revoking
makes the VEN de-register from that DSRSP and delete what the CEM kept for it; the VEN's
supervisor does this within one reconcile interval (see :mod:`smartcharge.cem.ven`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from smartcharge.policy.consent import (
    ConsentAction,
    ConsentEntry,
    ReadScope,
    controlling_dsrsp,
    in_force,
    may_read,
)
from smartcharge.store.consent import ConsentStore

logger = logging.getLogger(__name__)

ALL_READS = frozenset(ReadScope)


class ConsentLedger:
    """Grant, revoke and query consent; the clock is injected so tests can move time."""

    def __init__(self, store: ConsentStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock

    def now_s(self) -> int:
        return int(self._clock())

    def grant(
        self,
        dsrsp_id: str,
        vtn_url: str,
        vtn_fingerprint: str,
        may_control: bool = True,
        reads: frozenset[ReadScope] = ALL_READS,
        valid_until_s: int | None = None,
        actor: str = "owner",
        reason: str = "",
    ) -> ConsentEntry:
        """Record that the owner lets ``dsrsp_id`` control and/or read from now on."""
        now = self.now_s()
        entry = ConsentEntry(
            dsrsp_id=dsrsp_id,
            action=ConsentAction.GRANT,
            recorded_s=now,
            may_control=may_control,
            may_read=reads,
            valid_from_s=now,
            valid_until_s=valid_until_s,
            vtn_url=vtn_url,
            vtn_fingerprint=vtn_fingerprint,
            actor=actor,
            reason=reason,
        )
        self.store.append(entry)
        logger.info(
            "consent granted to %s (control=%s, read=%s)",
            dsrsp_id,
            may_control,
            sorted(r.value for r in reads),
        )
        return entry

    def revoke(self, dsrsp_id: str, actor: str = "owner", reason: str = "") -> ConsentEntry:
        """Record the end of consent for ``dsrsp_id``; the VEN then de-registers and erases."""
        entry = ConsentEntry(
            dsrsp_id=dsrsp_id,
            action=ConsentAction.REVOKE,
            recorded_s=self.now_s(),
            actor=actor,
            reason=reason,
        )
        self.store.append(entry)
        logger.info("consent revoked for %s: %s", dsrsp_id, reason or "no reason given")
        return entry

    def history(self) -> list[ConsentEntry]:
        return self.store.ledger()

    def controlling(self) -> ConsentEntry | None:
        """The DSRSP that may control the charge points now, if any (ARB-7)."""
        return controlling_dsrsp(self.history(), self.now_s())

    def may_control(self, dsrsp_id: str) -> bool:
        entry = in_force(self.history(), self.now_s()).get(dsrsp_id)
        return entry is not None and entry.may_control

    def may_read(self, dsrsp_id: str, scope: ReadScope) -> bool:
        return may_read(self.history(), dsrsp_id, scope, self.now_s())

    def export(self, dsrsp_id: str) -> dict[str, Any]:
        """The ledger entries and the data kept for one DSRSP, for the owner (PRIV-6)."""
        entries = [e for e in self.history() if e.dsrsp_id == dsrsp_id]
        return {
            "dsrsp_id": dsrsp_id,
            "consent": [
                {
                    "action": e.action.value,
                    "recorded_s": e.recorded_s,
                    "may_control": e.may_control,
                    "may_read": sorted(r.value for r in e.may_read),
                    "valid_from_s": e.valid_from_s,
                    "valid_until_s": e.valid_until_s,
                    "vtn_url": e.vtn_url,
                    "actor": e.actor,
                    "reason": e.reason,
                }
                for e in entries
            ],
            "data": self.store.export(dsrsp_id),
        }


def open_ledger(storage_url: str) -> ConsentLedger:
    """The consent ledger in the CEM's database, migrated to the newest schema."""
    from smartcharge.store.base import make_engine
    from smartcharge.store.migrate import upgrade

    engine = make_engine(storage_url)
    upgrade(engine)
    return ConsentLedger(ConsentStore(engine))


__all__ = ["ALL_READS", "ConsentLedger", "open_ledger"]
