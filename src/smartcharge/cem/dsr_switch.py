"""Switching DSR service provider with no new hardware and no visit (report 5.2-5.6, INT-6).

The owner's decision is two ledger entries (revoke the old DSRSP, grant the new one, made by
:func:`switch_provider`). The protocol steps follow from the ledger and are idempotent, so the
running VEN (or the next start) carries them out:

1. :func:`retire_provider`: oadrCancelPartyRegistration at the old VTN (best effort: a provider
   that is gone cannot block the switch), then erase its credentials and every record kept for it;
2. :func:`enrol_provider`: oadrCreatePartyRegistration at the new VTN, keep the credentials.

Between the two the DSR limits are cleared, so the charge points run on their local defaults
(reg 10 default hours, reg 11 delay): smart function never lapses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smartcharge.cem.consent import ALL_READS, ConsentLedger
from smartcharge.core.errors import ValidationError
from smartcharge.openadr.model import SecurityNotice
from smartcharge.policy.consent import ConsentEntry, ReadScope
from smartcharge.store.consent import ConsentStore, ProviderCredential

if TYPE_CHECKING:
    # The VEN (openleadr, lxml, aiohttp) loads only when a provider is contacted, not for the
    # ledger-only switch that the command line records.
    from smartcharge.openadr.ven import VenAdapter

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VenIdentity:
    """The CEM's own certificate and name; the same for every provider."""

    ven_name: str
    cert: Path
    key: Path
    ca_file: Path


def switch_provider(
    ledger: ConsentLedger,
    new_dsrsp_id: str,
    vtn_url: str,
    vtn_fingerprint: str,
    reads: frozenset[ReadScope] = ALL_READS,
    actor: str = "owner",
) -> tuple[ConsentEntry | None, ConsentEntry]:
    """Record the switch: revoke whoever controls now, grant ``new_dsrsp_id`` (INT-6)."""
    current = ledger.controlling()
    if current is not None and current.dsrsp_id == new_dsrsp_id:
        raise ValidationError("dsrsp_id", new_dsrsp_id, "already the controlling provider")
    revoked = None
    if current is not None:
        revoked = ledger.revoke(current.dsrsp_id, actor=actor, reason=f"switching to {new_dsrsp_id}")
    granted = ledger.grant(new_dsrsp_id, vtn_url, vtn_fingerprint, True, reads, actor=actor, reason="switch")
    return revoked, granted


def adapter_for(
    identity: VenIdentity,
    vtn_url: str,
    vtn_fingerprint: str,
    store: ConsentStore,
    cred: ProviderCredential | None = None,
) -> VenAdapter:
    """A VEN adapter for one provider whose refusals go to the security log."""
    from smartcharge.openadr.ven import VenAdapter, VenConfig

    def record(notice: SecurityNotice) -> None:
        store.record_security(notice.at_s, notice.side, notice.kind, notice.code, notice.peer, notice.detail)

    config = VenConfig(
        ven_name=identity.ven_name,
        vtn_url=vtn_url,
        vtn_fingerprint=vtn_fingerprint,
        cert=identity.cert,
        key=identity.key,
        ca_file=identity.ca_file,
        ven_id=cred.ven_id if cred else None,
        registration_id=cred.registration_id if cred else None,
    )
    return VenAdapter(config, on_security=record)


async def retire_provider(identity: VenIdentity, store: ConsentStore, dsrsp_id: str) -> int:
    """Cancel the registration at ``dsrsp_id``'s VTN (best effort), then erase what we hold for it."""
    from smartcharge.openadr.ven import VenError

    cred = store.credentials().get(dsrsp_id)
    if cred is not None:
        adapter = adapter_for(identity, cred.vtn_url, cred.vtn_fingerprint, store, cred)
        try:
            await adapter.cancel_registration()
            logger.info("cancelled registration %s at %s", cred.registration_id, dsrsp_id)
        except VenError as exc:
            logger.warning(
                "could not cancel the registration at %s (%s); erasing our side anyway", dsrsp_id, exc
            )
        finally:
            await adapter.close()
    erased = store.erase(dsrsp_id)
    logger.info("erased %d records held for %s", erased, dsrsp_id)
    return erased


async def enrol_provider(
    identity: VenIdentity, store: ConsentStore, grant: ConsentEntry, now_s: int
) -> ProviderCredential:
    """Register at the granted provider's VTN and keep the credentials (oadrCreatePartyRegistration)."""
    adapter = adapter_for(identity, grant.vtn_url, grant.vtn_fingerprint, store)
    try:
        registration = await adapter.register()
    finally:
        await adapter.close()
    if registration.vtn_id and registration.vtn_id != grant.dsrsp_id:
        raise ValidationError(
            "vtn_id", registration.vtn_id, f"the VTN at {grant.vtn_url} is not {grant.dsrsp_id}"
        )
    cred = ProviderCredential(
        grant.dsrsp_id,
        registration.ven_id,
        registration.registration_id,
        grant.vtn_url,
        grant.vtn_fingerprint,
        now_s,
    )
    store.save_credential(cred)
    return cred


__all__ = ["VenIdentity", "adapter_for", "enrol_provider", "retire_provider", "switch_provider"]
