"""The owner's consent per DSR provider, his data (export, erase) and the security log
(PRIV-3, PRIV-6, SEC-D-7, SEC-D-9, SEC-S-6).

Consent lives in the CEM's append-only ledger (:mod:`smartcharge.cem.consent`); revoking makes
the VEN de-register from that provider and delete what the CEM kept for it. "Export my data"
gathers everything the CEM holds about the owner's charge points; "erase my data" deletes their
sessions, meter values and rate changes (the records that are personal data, PRIV-1) and the
CEM's copy of his settings stays, since without it he could not use his charge points. The
security log keeps no personal data beyond station ids and addresses and is never erased here.

Charge points hold data about the owner too (OCPP 2.0.1 N09/N10): the id tokens his sessions
were started with sit in their authorization caches, local lists, reservations and queued
session messages. :meth:`OwnerData.export_all` adds what every connected 2.0.1 station reports
for those tokens (CustomerInformation report=true, the NotifyCustomerInformation parts
assembled); :meth:`OwnerData.erase_all` has every connected 2.0.1 station clear them
(clear=true), the tokens read before the sessions are erased. A station that is offline then is
named in the answer, not retried.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from smartcharge.cem.consent import ConsentLedger
from smartcharge.cem.owner import ActionRefusedError, OwnerService
from smartcharge.core.errors import ValidationError
from smartcharge.policy.consent import in_force, latest_entries
from smartcharge.store.security_log import SecurityEventRecord, SecurityLog
from smartcharge.store.session_repo import SessionRepository


@dataclass(frozen=True, slots=True)
class ConsentView:
    """Who may control or read what, per DSR provider, right now (PRIV-3, PRIV-5)."""

    dsrsp_id: str
    in_force: bool
    may_control: bool
    may_read: tuple[str, ...]
    since: datetime
    valid_until: datetime | None
    vtn_url: str
    last_action: str


@dataclass(frozen=True, slots=True)
class SecurityLogItem:
    occurred_at: datetime
    interface: str  # "ocpp" (Interface B), "openadr" (Interface A) or "web"
    station_id: str | None
    event_type: str
    detail: str
    remote_address: str | None


def _at(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


class OwnerData:
    """Consent, export, erasure and the security log, over the owner service's ownership checks."""

    def __init__(
        self,
        owners: OwnerService,
        sessions: SessionRepository,
        security: SecurityLog,
        consent: ConsentLedger | None,
    ) -> None:
        self.owners = owners
        self.sessions = sessions
        self.security = security
        self.consent = consent

    # ---- consent ------------------------------------------------------------------------------

    def consents(self) -> list[ConsentView]:
        """Each DSR provider the ledger names, with what it may do now."""
        if self.consent is None:
            return []
        history = self.consent.history()
        now_s = self.consent.now_s()
        current = in_force(history, now_s)
        views = []
        for dsrsp_id, last in sorted(latest_entries(history, now_s).items()):
            live = current.get(dsrsp_id)
            views.append(
                ConsentView(
                    dsrsp_id,
                    live is not None,
                    live is not None and live.may_control,
                    tuple(sorted(r.value for r in live.may_read)) if live else (),
                    _at(last.recorded_s),
                    None if live is None or live.valid_until_s is None else _at(live.valid_until_s),
                    last.vtn_url,
                    last.action.value,
                )
            )
        return views

    def revoke(self, owner: str, dsrsp_id: str, reason: str = "") -> ConsentView:
        """End consent for ``dsrsp_id`` (PRIV-3): the VEN de-registers and erases what it kept."""
        if self.consent is None:
            raise ActionRefusedError("dsrsp_id", "this CEM has no DSR provider (no consent ledger)")
        if not self.owners.owned(owner):
            raise ActionRefusedError("dsrsp_id", "only the owner of a charge point here may revoke consent")
        entry = self.consent.revoke(dsrsp_id, actor=owner[:64], reason=reason[:500])
        self.security.record(
            SecurityEventRecord(_at(entry.recorded_s), None, "ConsentRevoked", f"{dsrsp_id} by {owner}", None)
        )
        return next(v for v in self.consents() if v.dsrsp_id == dsrsp_id)

    # ---- the owner's data ---------------------------------------------------------------------

    def export(self, owner: str) -> dict[str, Any]:
        """Everything the CEM holds about the owner's charge points, JSON-ready (PRIV-6 access)."""
        records = self.owners.owned(owner)
        data: dict[str, Any] = {
            "owner": owner,
            "exported_at": self.owners.now().isoformat(),
            "charge_points": [],
            "consent": [],
        }
        for r in records:
            data["charge_points"].append(
                {
                    "station_id": r.station_id,
                    "tariff_id": r.tariff_id,
                    "default_hours_choice": r.hours_choice,
                    "default_hours": r.hours_schedule,
                    "max_delay_s": r.max_delay_s,
                    "settings_updated_at": r.updated_at.isoformat(),
                    **{k: v for k, v in self.sessions.export(r.station_id).items() if k != "station_id"},
                }
            )
        if self.consent is not None and records:
            for dsrsp_id in sorted({e.dsrsp_id for e in self.consent.history()}):
                data["consent"].append(self.consent.export(dsrsp_id))
        return data

    def erase(self, owner: str) -> dict[str, int]:
        """Erase the sessions, meter values and rate changes of the owner's charge points (PRIV-6)."""
        records = self.owners.owned(owner)
        counts = {r.station_id: self.sessions.erase(r.station_id) for r in records}
        self.security.record(
            SecurityEventRecord(
                self.owners.now(),
                None,
                "PersonalDataErased",
                f"sessions of {len(records)} charge point(s) erased at the owner's request",
                None,
            )
        )
        return counts

    def id_tokens(self, owner: str) -> list[str]:
        """The id tokens of the sessions stored for the owner's charge points."""
        tokens = {t for r in self.owners.owned(owner) for t in self.sessions.id_tokens(r.station_id)}
        return sorted(tokens)

    def _station_security(self) -> Any:
        gateway = self.owners.gateway
        return None if gateway is None else getattr(gateway, "security", None)

    async def export_all(self, owner: str) -> dict[str, Any]:
        """:meth:`export` plus ``stations``: what each connected 2.0.1 station holds about the
        owner's id tokens (N09)."""
        data = await asyncio.to_thread(self.export, owner)
        tokens = await asyncio.to_thread(self.id_tokens, owner)
        security = self._station_security()
        answers = (
            []
            if security is None or not tokens
            else await security.customer_information_everywhere(tokens, report=True, clear=False)
        )
        data["stations"] = [asdict(a) for a in answers]
        return data

    async def erase_all(self, owner: str) -> tuple[dict[str, int], list[dict[str, Any]]]:
        """:meth:`erase`, then every connected 2.0.1 station clears what it holds about the
        owner's id tokens (N10); returns the rows deleted and each station's answer."""
        tokens = await asyncio.to_thread(self.id_tokens, owner)  # before the sessions go
        counts = await asyncio.to_thread(self.erase, owner)
        security = self._station_security()
        answers = (
            []
            if security is None or not tokens
            else await security.customer_information_everywhere(tokens, report=False, clear=True)
        )
        return counts, [
            {"station_id": a.station_id, "id_token": a.id_token, "status": a.status} for a in answers
        ]

    # ---- security log ---------------------------------------------------------------------------

    def security_log(self, limit: int = 200, station_id: str | None = None) -> list[SecurityLogItem]:
        """The newest security events of Interfaces A and B together, newest first (SEC-D-9)."""
        if not 1 <= limit <= 1000:
            raise ValidationError("limit", limit, "must be 1..1000")
        items = [
            SecurityLogItem(
                e.occurred_at if e.occurred_at.tzinfo else e.occurred_at.replace(tzinfo=UTC),
                "ocpp",
                e.station_id,
                e.event_type,
                e.detail,
                e.remote_address,
            )
            for e in self.security.recent(limit, station_id)
        ]
        if self.consent is not None and station_id is None:
            items += [
                SecurityLogItem(_at(r.at_s), "openadr", None, r.kind, r.detail, r.peer or None)
                for r in self.consent.store.security_events()[-limit:]
            ]
        items.sort(key=lambda i: i.occurred_at, reverse=True)
        return items[:limit]


__all__ = ["ConsentView", "OwnerData", "SecurityLogItem"]
