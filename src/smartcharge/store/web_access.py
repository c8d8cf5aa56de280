"""People, bearer tokens and browser sessions of the web API (SEC-D-2: only argon2id hashes).

Plain storage: the rules (roles, password lengths, hashing, expiry) live in ``smartcharge.web.auth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.core.errors import ValidationError
from smartcharge.store.models import ApiToken, LoginSession, WebUser


@dataclass(frozen=True, slots=True)
class UserRecord:
    user_id: int
    username: str
    role: str
    password_hash: str
    disabled: bool


@dataclass(frozen=True, slots=True)
class TokenRecord:
    token_id: str
    role: str
    label: str
    secret_hash: str
    created_at: datetime
    revoked: bool


@dataclass(frozen=True, slots=True)
class SessionRecord:
    session_id: str
    secret_hash: str
    expires_at: datetime
    user: UserRecord


def _user(row: WebUser) -> UserRecord:
    return UserRecord(row.id, row.username, row.role, row.password_hash, row.disabled)


class WebAccessRepository:
    """Create and look up users, API tokens and login sessions."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # ---- users ---------------------------------------------------------------------------------

    def count_users(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(WebUser)) or 0)

    def add_user(self, username: str, role: str, password_hash: str, now: datetime) -> int:
        """A new user; a name already taken is refused, never overwritten."""
        with self._sessions.begin() as session:
            if session.scalar(select(WebUser.id).where(WebUser.username == username)) is not None:
                raise ValidationError("username", username, "a user with this name already exists")
            row = WebUser(username=username, role=role, password_hash=password_hash, created_at=now)
            session.add(row)
            session.flush()
            return int(row.id)

    def user_by_name(self, username: str) -> UserRecord | None:
        with self._sessions() as session:
            row = session.scalar(select(WebUser).where(WebUser.username == username))
            return None if row is None else _user(row)

    def users(self) -> list[UserRecord]:
        with self._sessions() as session:
            return [_user(r) for r in session.scalars(select(WebUser).order_by(WebUser.username))]

    # ---- API tokens ----------------------------------------------------------------------------

    def add_token(self, token_id: str, role: str, label: str, secret_hash: str, now: datetime) -> None:
        with self._sessions.begin() as session:
            session.add(
                ApiToken(id=token_id, role=role, label=label, secret_hash=secret_hash, created_at=now)
            )

    def token(self, token_id: str) -> TokenRecord | None:
        with self._sessions() as session:
            row = session.get(ApiToken, token_id)
            if row is None:
                return None
            return TokenRecord(
                row.id, row.role, row.label, row.secret_hash, row.created_at, row.revoked_at is not None
            )

    def tokens(self) -> list[TokenRecord]:
        with self._sessions() as session:
            return [
                TokenRecord(r.id, r.role, r.label, r.secret_hash, r.created_at, r.revoked_at is not None)
                for r in session.scalars(select(ApiToken).order_by(ApiToken.created_at))
            ]

    def revoke_token(self, token_id: str, now: datetime) -> bool:
        with self._sessions.begin() as session:
            row = session.get(ApiToken, token_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = now
            return True

    # ---- login sessions ------------------------------------------------------------------------

    def add_session(
        self, session_id: str, user_id: int, secret_hash: str, now: datetime, expires_at: datetime
    ) -> None:
        with self._sessions.begin() as session:
            # Ended sessions go when new ones come, so the table never grows with old logins.
            session.execute(delete(LoginSession).where(LoginSession.expires_at < now))
            session.add(
                LoginSession(
                    id=session_id,
                    user_id=user_id,
                    secret_hash=secret_hash,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    def session(self, session_id: str) -> SessionRecord | None:
        with self._sessions() as session:
            row = session.get(LoginSession, session_id)
            if row is None:
                return None
            user = session.get(WebUser, row.user_id)
            if user is None:
                return None
            return SessionRecord(row.id, row.secret_hash, row.expires_at, _user(user))

    def delete_session(self, session_id: str) -> bool:
        with self._sessions.begin() as session:
            result = session.execute(delete(LoginSession).where(LoginSession.id == session_id))
            return bool(getattr(result, "rowcount", 0))


__all__ = ["SessionRecord", "TokenRecord", "UserRecord", "WebAccessRepository"]
