"""Who may connect, and how (SEC-S-1..3, SEC-D-2, SEC-D-9).

A station must be registered. It must meet at least the security profile it was registered
with (no downgrade: a profile 3 station cannot come in over profile 2 or 1); profiles 1 and 2
need its password; a client certificate, when presented, must name the station (subject CN) and
is required at profile 3. Every refusal is written to the security log, through the CEM's store
writer (:class:`~smartcharge.cem.recorder.Recorder`): one writer thread on SQLite, so a storm of
refusals queues behind the session writes instead of contending for the database lock.
"""

from __future__ import annotations

import asyncio
import logging

from smartcharge.cem.credentials import verify_password
from smartcharge.cem.recorder import Recorder
from smartcharge.ocpp.server import Credentials
from smartcharge.store.station_repo import StationRepository

logger = logging.getLogger(__name__)


def refusal_reason(credentials: Credentials, profile: int | None, password_hash: str | None) -> str | None:
    """Why this handshake must be refused, or None. Pure, so every rule is unit-tested."""
    if profile is None:
        return "unknown station"
    presented = credentials.presented_profile
    if presented < profile:
        return f"station is registered at security profile {profile} but connected at profile {presented}"
    if credentials.certificate_cn is not None and credentials.certificate_cn != credentials.station_id:
        return "client certificate subject does not name this station"
    if profile in (1, 2) and presented < 3:
        if credentials.password is None:
            return "no basic-auth password"
        if password_hash is None or not verify_password(password_hash, credentials.password):
            return "wrong password"
    return None


class StationAuthenticator:
    """The CEM's :class:`smartcharge.ocpp.server.Authenticator`, backed by the store."""

    def __init__(self, stations: StationRepository, recorder: Recorder) -> None:
        self._stations = stations
        self._recorder = recorder

    def _check(self, credentials: Credentials) -> str | None:
        record = self._stations.get(credentials.station_id)
        if record is None:
            return refusal_reason(credentials, None, None)
        return refusal_reason(credentials, record.security_profile, record.password_hash)

    async def check(self, credentials: Credentials) -> str | None:
        return await asyncio.to_thread(self._check, credentials)

    async def refused(self, station_id: str | None, reason: str, remote_address: str) -> None:
        await self._recorder.security_event(
            station_id, "StationRefused", reason, remote_address=remote_address
        )


__all__ = ["StationAuthenticator", "refusal_reason"]
