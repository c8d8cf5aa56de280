"""Who may use the web API, and as what (issue 10 item 2, issue 12 item 4; SEC-D-2, SEC-D-9).

Two kinds of credential, one rule each:

* **API tokens** for scripts and the CLI: ``Authorization: Bearer sct_<id>_<secret>``. Created
  with ``smartcharge cem add-token --role R``, printed once; only the argon2id hash of the secret
  is stored.
* **Login sessions** for people: ``POST /api/v1/auth/login`` with user name and password sets an
  HttpOnly, SameSite=Strict cookie (``sc_session``) and returns a CSRF token, which every
  state-changing request authenticated by that cookie must carry in the ``X-CSRF-Token`` header.
  Login attempts are rate-limited per user name and per client address; refusals go to the
  security log.

There is no default user, password or token: the first ``cem serve`` with the API on an empty
database creates one ``owner`` user with a random password and prints it once.

Roles, and what each may act as (``require_role(R)`` admits every role whose set contains R):

============== ==================================== ==========================================
role           acts as                              meant for
============== ==================================== ==========================================
operator       operator, viewer                     the CSMS operator: sends OCPP, registers
viewer         viewer                               read-only operator views
site-manager   site-manager, viewer                 a workplace's circuits and priorities
owner          owner                                a home charge point's owner
============== ==================================== ==========================================
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from smartcharge.core.errors import ValidationError
from smartcharge.store.web_access import UserRecord, WebAccessRepository

if TYPE_CHECKING:
    from smartcharge.web.services import WebServices


class Role(StrEnum):
    OWNER = "owner"
    SITE_MANAGER = "site-manager"
    OPERATOR = "operator"
    VIEWER = "viewer"


#: What each role may act as: ``require_role(r)`` admits a caller whose role's set contains ``r``.
ACTS_AS: dict[Role, frozenset[Role]] = {
    Role.OPERATOR: frozenset({Role.OPERATOR, Role.VIEWER}),
    Role.VIEWER: frozenset({Role.VIEWER}),
    Role.SITE_MANAGER: frozenset({Role.SITE_MANAGER, Role.VIEWER}),
    Role.OWNER: frozenset({Role.OWNER}),
}

SESSION_COOKIE = "sc_session"
CSRF_COOKIE = "sc_csrf"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_PREFIX = "sct_"
#: Browser sessions end 12 h after login (a working day), or at logout.
SESSION_LIFETIME = timedelta(hours=12)
#: User names: what a person can type and a log can show unambiguously.
USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
#: People's passwords: at least 12 characters (NIST SP 800-63B allows 8; we ask more), at most 128.
MIN_USER_PASSWORD, MAX_USER_PASSWORD = 12, 128
#: Methods that change nothing: no CSRF token and no audit entry needed.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# People choose passwords: argon2-cffi's defaults (RFC 9106 second recommendation) slow guessing.
_PEOPLE_HASHER = PasswordHasher()
# Tokens and session secrets carry 256 random bits: the hash guards a leaked database by being
# one-way, not slow, so light parameters keep the CEM's CPU free (as for station passwords).
_SECRET_HASHER = PasswordHasher(time_cost=1, memory_cost=2 * 1024, parallelism=1)
# Verified against when the user name is unknown, so a refusal takes as long either way.
_DUMMY_HASH = _PEOPLE_HASHER.hash(secrets.token_urlsafe(16))


def _verify(hasher: PasswordHasher, password_hash: str, secret: str) -> bool:
    try:
        return bool(hasher.verify(password_hash, secret))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def parse_role(value: str, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationError(field, value, f"one of {', '.join(r.value for r in Role)}") from None


def check_username(username: str) -> str:
    if not USERNAME.match(username):
        raise ValidationError("username", username, "1-64 characters of a-z A-Z 0-9 . _ @ -")
    return username


def check_user_password(password: str) -> str:
    if not MIN_USER_PASSWORD <= len(password) <= MAX_USER_PASSWORD:
        raise ValidationError(
            "password", "<hidden>", f"must be {MIN_USER_PASSWORD}-{MAX_USER_PASSWORD} characters"
        )
    return password


def csrf_for(session_secret: str) -> str:
    """The CSRF token of a session: derived from its secret, so it needs no storage and cannot be
    forged without the (HttpOnly) cookie."""
    return hmac.new(session_secret.encode(), b"smartcharge-csrf", hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a person (``kind="user"``) or a token (``kind="token"``)."""

    kind: str
    name: str
    role: Role
    user_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller, e.g. ``user:alice`` or ``token:3f2a9c01d4e5``."""
        return f"{self.kind}:{self.name}"

    def acts_as(self, role: Role) -> bool:
        return role in ACTS_AS[self.role]


class LoginThrottle:
    """Failed logins per user name and per client address in a sliding window (SEC-D-9).

    5 failures per user name or 20 per address within 15 minutes block further attempts until the
    oldest failure leaves the window. Keys are bounded (oldest forgotten first), so a flood of
    made-up names cannot grow memory without bound.
    """

    def __init__(
        self,
        per_user: int = 5,
        per_address: int = 20,
        window_s: float = 900.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"user": per_user, "address": per_address}
        self._window_s = window_s
        self._max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self._window_s:
            times.popleft()
        return times

    def retry_after_s(self, username: str, address: str) -> float:
        """0 if an attempt may be made now, else how long until one may."""
        now = self._clock()
        wait = 0.0
        for kind, value in (("user", username), ("address", address)):
            times = self._recent((kind, value), now)
            if len(times) >= self._limits[kind]:
                wait = max(wait, times[0] + self._window_s - now)
        return wait

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        for key in (("user", username), ("address", address)):
            times = self._failures.setdefault(key, deque())
            self._failures.move_to_end(key)
            times.append(now)
            while len(times) > max(self._limits.values()):
                times.popleft()
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, username: str) -> None:
        self._failures.pop(("user", username), None)


class LoginRefused(Exception):
    """Wrong user name or password (one message for both: no user enumeration)."""


class LoginThrottled(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class LoginResult:
    cookie: str
    csrf_token: str
    principal: Principal
    expires_at: datetime


class _VerifiedSecrets:
    """Secrets already checked against their argon2 hash, by credential id, as a SHA-256 digest,
    for a minute: a busy script then costs one argon2 verification a minute, not one per call.
    Bounded; revocation and logout drop the entry at once."""

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 10_000) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[bytes, float, Principal, datetime | None]] = OrderedDict()

    def get(self, credential_id: str, secret: str) -> Principal | None:
        entry = self._entries.get(credential_id)
        if entry is None:
            return None
        digest, until, principal, expires_at = entry
        if time.monotonic() > until or (expires_at is not None and datetime.now(UTC) >= expires_at):
            self._entries.pop(credential_id, None)
            return None
        if not hmac.compare_digest(digest, hashlib.sha256(secret.encode()).digest()):
            return None
        return principal

    def put(self, credential_id: str, secret: str, principal: Principal, expires_at: datetime | None) -> None:
        digest = hashlib.sha256(secret.encode()).digest()
        self._entries[credential_id] = (digest, time.monotonic() + self._ttl_s, principal, expires_at)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def drop(self, credential_id: str) -> None:
        self._entries.pop(credential_id, None)


def _split(credential: str) -> tuple[str, str] | None:
    credential_id, sep, secret = credential.partition("_")
    if not sep or not re.fullmatch(r"[0-9a-f]{12}", credential_id) or not 20 <= len(secret) <= 100:
        return None
    return credential_id, secret


class AuthService:
    """Users, tokens and sessions over the store; every method is blocking (call it in a thread)."""

    def __init__(self, repo: WebAccessRepository, throttle: LoginThrottle | None = None) -> None:
        self.repo = repo
        self.throttle = throttle or LoginThrottle()
        self._verified = _VerifiedSecrets()

    # ---- users ---------------------------------------------------------------------------------

    def create_user(self, username: str, role: Role, password: str | None = None) -> str:
        """Add a user; returns the password (a random one when none is given), to show once."""
        check_username(username)
        password = check_user_password(password) if password is not None else secrets.token_urlsafe(18)
        self.repo.add_user(username, role.value, _PEOPLE_HASHER.hash(password), datetime.now(UTC))
        return password

    def ensure_first_owner(self, username: str = "owner") -> str | None:
        """On an empty database, the first owner with a random password (returned, to print once);
        None when any user exists. There is never a default password."""
        if self.repo.count_users() > 0:
            return None
        return self.create_user(username, Role.OWNER)

    # ---- tokens --------------------------------------------------------------------------------

    def create_token(self, role: Role, label: str = "") -> tuple[str, str]:
        """A new API token: (token id, the full token to show once)."""
        if len(label) > 100:
            raise ValidationError("label", label[:20] + "...", "at most 100 characters")
        token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        self.repo.add_token(token_id, role.value, label, _SECRET_HASHER.hash(secret), datetime.now(UTC))
        return token_id, f"{TOKEN_PREFIX}{token_id}_{secret}"

    def revoke_token(self, token_id: str) -> bool:
        self._verified.drop(token_id)
        return self.repo.revoke_token(token_id, datetime.now(UTC))

    def bearer_principal(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        parts = _split(token[len(TOKEN_PREFIX) :])
        if parts is None:
            return None
        token_id, secret = parts
        cached = self._verified.get(token_id, secret)
        if cached is not None:
            return cached
        record = self.repo.token(token_id)
        if record is None or record.revoked or not _verify(_SECRET_HASHER, record.secret_hash, secret):
            return None
        principal = Principal("token", token_id, Role(record.role))
        self._verified.put(token_id, secret, principal, None)
        return principal

    # ---- login sessions ------------------------------------------------------------------------

    def login(self, username: str, password: str, address: str) -> LoginResult:
        wait = self.throttle.retry_after_s(username, address)
        if wait > 0:
            raise LoginThrottled(wait)
        user = self.repo.user_by_name(username)
        ok = _verify(_PEOPLE_HASHER, user.password_hash if user else _DUMMY_HASH, password)
        if user is None or not ok or user.disabled:
            self.throttle.failed(username, address)
            raise LoginRefused()
        self.throttle.succeeded(username)
        session_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires_at = now + SESSION_LIFETIME
        self.repo.add_session(session_id, user.user_id, _SECRET_HASHER.hash(secret), now, expires_at)
        principal = _user_principal(user)
        self._verified.put(session_id, secret, principal, expires_at)
        return LoginResult(f"{session_id}_{secret}", csrf_for(secret), principal, expires_at)

    def session_principal(self, cookie: str) -> tuple[Principal, str] | None:
        """(who, the session secret) for a session cookie still valid, else None."""
        parts = _split(cookie)
        if parts is None:
            return None
        session_id, secret = parts
        cached = self._verified.get(session_id, secret)
        if cached is not None:
            return cached, secret
        record = self.repo.session(session_id)
        if (
            record is None
            or record.user.disabled
            or _aware(record.expires_at) <= datetime.now(UTC)
            or not _verify(_SECRET_HASHER, record.secret_hash, secret)
        ):
            return None
        principal = _user_principal(record.user)
        self._verified.put(session_id, secret, principal, _aware(record.expires_at))
        return principal, secret

    def logout(self, cookie: str) -> bool:
        parts = _split(cookie)
        if parts is None or self.session_principal(cookie) is None:
            return False
        self._verified.drop(parts[0])
        return self.repo.delete_session(parts[0])


def _aware(at: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _user_principal(user: UserRecord) -> Principal:
    return Principal("user", user.username, Role(user.role), user.user_id)


# ---- FastAPI dependencies ------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="An API token from `smartcharge cem add-token`.")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="The session cookie set by /api/v1/auth/login."
)


def get_services(request: Request) -> WebServices:
    """The CEM's services behind the app (see :class:`smartcharge.web.services.WebServices`)."""
    services: WebServices | None = request.app.state.services
    if services is None:
        raise HTTPException(503, "this app was built without services (OpenAPI generation only)")
    return services


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    cookie: Annotated[str | None, Security(_cookie)],
) -> Principal:
    """The authenticated caller, or 401. A cookie-authenticated request that changes something
    must carry the session's CSRF token in ``X-CSRF-Token`` (403 otherwise)."""
    services = get_services(request)
    principal: Principal | None
    if bearer is not None:
        principal = await asyncio.to_thread(services.auth.bearer_principal, bearer.credentials)
        if principal is None:
            raise _unauthorised("invalid or revoked API token")
    elif cookie is not None:
        found = await asyncio.to_thread(services.auth.session_principal, cookie)
        if found is None:
            raise _unauthorised("session expired or logged out; log in again")
        principal, secret = found
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), csrf_for(secret).encode()):
                request.state.principal = principal
                raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header (CSRF protection)")
    else:
        raise _unauthorised("no credentials: send 'Authorization: Bearer <token>' or log in")
    request.state.principal = principal
    return principal


def require_role(*roles: Role | str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting a caller who may act as any of ``roles`` (see :data:`ACTS_AS`); 403
    otherwise. Use as ``Depends(require_role("operator"))`` or in a router's ``dependencies``."""
    wanted = tuple(Role(r) for r in roles)
    if not wanted:
        raise ValueError("require_role needs at least one role")

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not any(principal.acts_as(role) for role in wanted):
            names = " or ".join(r.value for r in wanted)
            raise HTTPException(403, f"role {principal.role.value!r} may not do this; needs {names}")
        return principal

    return dependency


def csrf_token_for(request: Request) -> str | None:
    """The CSRF token of the request's session cookie (for server-rendered forms), if any."""
    cookie = request.cookies.get(SESSION_COOKIE)
    parts = None if cookie is None else _split(cookie)
    return None if parts is None else csrf_for(parts[1])


__all__ = [
    "ACTS_AS",
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "AuthService",
    "LoginRefused",
    "LoginResult",
    "LoginThrottle",
    "LoginThrottled",
    "Principal",
    "Role",
    "check_user_password",
    "check_username",
    "csrf_for",
    "csrf_token_for",
    "current_principal",
    "get_services",
    "parse_role",
    "require_role",
]
