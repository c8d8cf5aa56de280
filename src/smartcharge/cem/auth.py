"""Who may connect, and how (SEC-S-1..3, SEC-D-2, SEC-D-9).

A station must be registered. It must meet at least the security profile it was registered
with (no downgrade: a profile 3 station cannot come in over profile 2 or 1); profiles 1 and 2
need its password; a client certificate, when presented, must name the station (subject CN) and
is required at profile 3. Every refusal is written to the security log, through the CEM's store
writer (:class:`~smartcharge.cem.recorder.Recorder`): one writer thread on SQLite, so a storm of
refusals queues behind the session writes instead of contending for the database lock.

The handshake does not need the database each time (issue 15: while the database was down every
handshake got HTTP 500 with a traceback logged, and a reconnect storm paid one query and one
argon2 verification per handshake):

* Each handshake reads the station's row (one primary-key lookup), so a station registered,
  re-keyed, upgraded or removed meanwhile is judged by what the database holds now, and the row
  is kept in memory. While the database cannot be reached the row last read answers for at most
  :data:`OUTAGE_TTL_S` (nothing can be registered, re-keyed or removed in the database
  meanwhile); a station not read before gets HTTP 503 with Retry-After
  (:class:`~smartcharge.ocpp.server.AuthUnavailable`).
* A password verified against a hash is remembered for :data:`VERIFIED_TTL_S` as a keyed
  BLAKE2b digest under a key random per process (the password itself is not kept), tied to that
  hash: a new password or hash verifies again. The passwords have ~190 bits of entropy
  (credentials.py), so a fast digest in memory gives no dictionary attack a foothold.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from smartcharge.cem.credentials import verify_password
from smartcharge.cem.recorder import Recorder
from smartcharge.cem.store_writer import UNREACHABLE
from smartcharge.ocpp.server import AuthUnavailable, Credentials
from smartcharge.store.station_repo import StationRepository

logger = logging.getLogger(__name__)

#: How long a row read before answers while the database cannot be reached (bounded staleness).
OUTAGE_TTL_S = 6 * 3600.0
#: How long a verified (station, password, hash) skips argon2 (RFC 9106 hashes cost CPU by design).
VERIFIED_TTL_S = 3600.0
#: Retry-After of the HTTP 503 answered while the database is down and the station is not known.
RETRY_AFTER_S = 10


def refusal_reason(
    credentials: Credentials,
    profile: int | None,
    password_hash: str | None,
    verify: Callable[[str, str], bool] = verify_password,
) -> str | None:
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
        if password_hash is None or not verify(password_hash, credentials.password):
            return "wrong password"
    return None


@dataclass(frozen=True, slots=True)
class _Known:
    profile: int
    password_hash: str | None
    read_at: float  # monotonic


class StationAuthenticator:
    """The CEM's :class:`smartcharge.ocpp.server.Authenticator`, backed by the store."""

    def __init__(self, stations: StationRepository, recorder: Recorder) -> None:
        self._stations = stations
        self._recorder = recorder
        self._known: dict[str, _Known] = {}
        self._unreachable_logged = False
        self._digest_key = secrets.token_bytes(32)
        self._verified: dict[str, tuple[bytes, str, float]] = {}
        #: Handshakes decided without argon2 (verified before) and from memory (database down).
        self.verify_skipped = 0
        self.from_memory = 0

    # ---- the station's row -------------------------------------------------------------------

    def _read(self, station_id: str) -> _Known | None:
        record = self._stations.get(station_id)
        if record is None:
            return None
        return _Known(record.security_profile, record.password_hash, time.monotonic())

    async def _entry(self, station_id: str) -> _Known | None:
        """The station's row as the database holds it now, or as last read while it is down."""
        try:
            entry = await asyncio.to_thread(self._read, station_id)
        except UNREACHABLE as error:
            known = self._known.get(station_id)
            if known is None or time.monotonic() - known.read_at > OUTAGE_TTL_S:
                raise AuthUnavailable(
                    f"station store unreachable ({type(error).__name__}) and the station not read before",
                    RETRY_AFTER_S,
                ) from None
            if not self._unreachable_logged:
                self._unreachable_logged = True
                logger.warning(
                    "station store unreachable (%s): known stations are checked against their last row read",
                    type(error).__name__,
                )
            self.from_memory += 1
            return known
        self._unreachable_logged = False
        if entry is None:
            self._known.pop(station_id, None)
            self._verified.pop(station_id, None)
        else:
            self._known[station_id] = entry
        return entry

    # ---- verification -------------------------------------------------------------------------

    def _digest(self, password: str) -> bytes:
        return hashlib.blake2b(password.encode("utf-8"), key=self._digest_key, digest_size=32).digest()

    def _verified_before(self, station_id: str, password_hash: str, password: str) -> bool:
        entry = self._verified.get(station_id)
        return (
            entry is not None
            and entry[1] == password_hash
            and time.monotonic() - entry[2] < VERIFIED_TTL_S
            and secrets.compare_digest(entry[0], self._digest(password))
        )

    def _verify(self, station_id: str, password_hash: str, password: str) -> bool:
        if self._verified_before(station_id, password_hash, password):
            self.verify_skipped += 1
            return True
        if not verify_password(password_hash, password):
            return False
        self._verified[station_id] = (self._digest(password), password_hash, time.monotonic())
        return True

    async def _decide(self, credentials: Credentials, entry: _Known | None) -> str | None:
        if entry is None:
            return refusal_reason(credentials, None, None)
        station_id, password = credentials.station_id, credentials.password

        def verify(password_hash: str, given: str) -> bool:
            return self._verify(station_id, password_hash, given)

        if (
            password is not None
            and entry.password_hash is not None
            and not self._verified_before(station_id, entry.password_hash, password)
        ):
            # argon2 costs CPU by design: off the event loop (it releases the GIL).
            return await asyncio.to_thread(
                refusal_reason, credentials, entry.profile, entry.password_hash, verify
            )
        return refusal_reason(credentials, entry.profile, entry.password_hash, verify)

    async def check(self, credentials: Credentials) -> str | None:
        return await self._decide(credentials, await self._entry(credentials.station_id))

    async def refused(self, station_id: str | None, reason: str, remote_address: str) -> None:
        await self._recorder.security_event(
            station_id, "StationRefused", reason, remote_address=remote_address
        )


__all__ = ["OUTAGE_TTL_S", "RETRY_AFTER_S", "VERIFIED_TTL_S", "StationAuthenticator", "refusal_reason"]
