"""The CEM's id-token store and its verdicts (OCPP 2.0.1 C01 Authorize, C05 expiry, C09 group id
token, E01.FR.11/12 idTokenInfo in TransactionEventResponse; 1.6 Authorize and StartTransaction).

A token is *Unknown* when it is not in the store: an expired, blocked or unknown token never gets
``Accepted``, so it never starts charging. A token whose group token is known and not accepted
gets the group's verdict (blocking a group blocks its members).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime

from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.domain import IdTokenInfo
from smartcharge.store.id_token_repo import IdTokenRecord, IdTokenRepository

#: IdTokenEnumType of OCPP 2.0.1.
TOKEN_TYPES = (
    "Central",
    "eMAID",
    "ISO14443",
    "ISO15693",
    "KeyCode",
    "Local",
    "MacAddress",
    "NoAuthorization",
)
#: Statuses an operator may give a stored token; "Unknown" is what a token not stored gets.
STORED_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")
#: OCPP 2.0.1 IdTokenType.idToken: a string of at most 36 characters (1.6 idTag: 20).
ID_TOKEN_MAX = 36
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")


def validate_id_token(value: str, field: str = "id_token") -> str:
    if not 1 <= len(value) <= ID_TOKEN_MAX:
        raise ValidationError(field, value, f"an id token is 1..{ID_TOKEN_MAX} characters (OCPP IdTokenType)")
    if not _PRINTABLE.match(value):
        raise ValidationError(field, value, "an id token is printable ASCII without spaces")
    return value


def _validate(record: IdTokenRecord) -> IdTokenRecord:
    validate_id_token(record.id_token)
    if record.token_type not in TOKEN_TYPES:
        raise ValidationError("token_type", record.token_type, f"one of {', '.join(TOKEN_TYPES)}")
    if record.status not in STORED_STATUSES:
        raise ValidationError("status", record.status, f"one of {', '.join(STORED_STATUSES)}")
    if record.expires_at is not None and record.expires_at.tzinfo is None:
        raise ValidationError("expires_at", record.expires_at, "must carry a UTC offset")
    if record.group_id_token is not None:
        validate_id_token(record.group_id_token, "group_id_token")
        if record.group_id_token == record.id_token:
            raise ValidationError("group_id_token", record.group_id_token, "a token is not its own group")
    return record


def verdict(record: IdTokenRecord | None, group: IdTokenRecord | None, now: datetime) -> IdTokenInfo:
    """The IdTokenInfo for a token (``record``) and its group token's record, at ``now``."""
    if record is None:
        return IdTokenInfo("Unknown")
    if record.status != "Accepted":
        return IdTokenInfo(record.status, group_id_token=record.group_id_token)
    if record.expires_at is not None and record.expires_at <= now:
        return IdTokenInfo("Expired", group_id_token=record.group_id_token)
    if group is not None:
        group_verdict = verdict(group, None, now)
        if not group_verdict.accepted:
            return IdTokenInfo(group_verdict.status, group_id_token=record.group_id_token)
    return IdTokenInfo("Accepted", record.expires_at, record.group_id_token)


class IdTokenService:
    """Manage tokens (CLI, operator API) and answer Authorize from the store."""

    def __init__(self, repo: IdTokenRepository, clock: Callable[[], datetime] | None = None) -> None:
        self._repo = repo
        self._clock = clock or (lambda: datetime.now(UTC))

    def add(
        self,
        id_token: str,
        status: str = "Accepted",
        token_type: str = "ISO14443",
        expires_at: datetime | None = None,
        group_id_token: str | None = None,
    ) -> IdTokenRecord:
        record = _validate(IdTokenRecord(id_token, token_type, status, expires_at, group_id_token))
        self._repo.add(record, self._clock())
        return record

    def update(
        self,
        id_token: str,
        status: str | None = None,
        expires_at: datetime | None = None,
        group_id_token: str | None = None,
        clear_expiry: bool = False,
    ) -> IdTokenRecord:
        old = self.get(id_token)
        record = _validate(
            IdTokenRecord(
                id_token,
                old.token_type,
                status or old.status,
                None if clear_expiry else expires_at or old.expires_at,
                group_id_token or old.group_id_token,
            )
        )
        self._repo.update(record)
        return record

    def block(self, id_token: str) -> IdTokenRecord:
        return self.update(id_token, status="Blocked")

    def get(self, id_token: str) -> IdTokenRecord:
        record = self._repo.get(id_token)
        if record is None:
            raise ValidationError("id_token", id_token, "no such id token")
        return record

    def all(self) -> list[IdTokenRecord]:
        return self._repo.all()

    def remove(self, id_token: str) -> None:
        if not self._repo.remove(id_token):
            raise ValidationError("id_token", id_token, "no such id token")

    def check(self, id_token: str) -> IdTokenInfo:
        record = self._repo.get(id_token)
        group = None
        if record is not None and record.group_id_token is not None:
            group = self._repo.get(record.group_id_token)
        return verdict(record, group, self._clock())

    async def authorize(self, id_token: str) -> IdTokenInfo:
        """The verdict, read off the event loop (a read: it need not queue behind the writer)."""
        return await asyncio.to_thread(self.check, id_token)


__all__ = [
    "ID_TOKEN_MAX",
    "STORED_STATUSES",
    "TOKEN_TYPES",
    "IdTokenService",
    "validate_id_token",
    "verdict",
]
