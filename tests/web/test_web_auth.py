"""Access to the web API: no credential no access, tokens and logins with roles, CSRF on cookie
sessions, rate-limited logins in the security log, the audit log, and the first owner
(issue 10 item 2, issue 12 item 4; SEC-D-2, SEC-D-9)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from smartcharge.store.base import make_engine
from smartcharge.store.models import ApiToken, LoginSession, WebUser
from smartcharge.web.auth import ACTS_AS, CSRF_HEADER, SESSION_COOKIE, LoginThrottle, Role

from .support import WebCem, login, start_web_cem


async def test_no_credential_no_access_and_no_default_token(web: WebCem) -> None:
    """Every route but login refuses a caller without a credential, or with a made-up or revoked
    token (401); the store holds no token until one is created."""
    async with web.client() as client:
        assert (await client.get("/api/v1/audit")).status_code == 401
        assert (await client.get("/api/v1/auth/me")).status_code == 401
    for bogus in ("sct_", "sct_000000000000_" + "x" * 43, "Basic abc", "sct_zz_" + "y" * 43):
        async with web.client(bogus) as client:
            assert (await client.get("/api/v1/auth/me")).status_code == 401, bogus
    assert await asyncio.to_thread(web.services.auth.repo.tokens) == []
    token_id, token = await asyncio.to_thread(web.services.auth.create_token, Role.OPERATOR, "t")
    async with web.client(token) as client:
        assert (await client.get("/api/v1/auth/me")).json()["role"] == "operator"
        assert await asyncio.to_thread(web.services.auth.revoke_token, token_id)
        assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_tokens_are_stored_as_argon2_hashes_only(web: WebCem) -> None:
    token = await web.token("viewer")
    secret = token.rsplit("_", 1)[-1]
    engine = make_engine(web.database_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(select(ApiToken.secret_hash)).scalars().all()
    finally:
        engine.dispose()
    assert len(stored) == 1 and stored[0].startswith("$argon2id$") and secret not in stored[0]


@pytest.mark.parametrize(
    ("role", "audit_status"),
    [("operator", 200), ("viewer", 403), ("owner", 403), ("site-manager", 403)],
)
async def test_role_gates_follow_the_acts_as_table(web: WebCem, role: str, audit_status: int) -> None:
    """``require_role("operator")`` on the audit log admits only roles that act as operator."""
    assert (Role.OPERATOR in ACTS_AS[Role(role)]) == (audit_status == 200)
    async with web.client(await web.token(role)) as client:
        answer = await client.get("/api/v1/audit")
        assert answer.status_code == audit_status
        if audit_status == 403:
            assert "needs operator" in answer.json()["detail"]


async def test_first_owner_is_created_once_with_a_random_password(sqlite_url: str) -> None:
    """No default password: the first start on an empty database creates 'owner' with a random
    password (handed over once); a second start creates nobody; the password logs in."""
    first = await start_web_cem(sqlite_url)
    try:
        assert first.owner_password is not None and len(first.owner_password) >= 20
        async with first.client() as client:
            answer = await login(client, "owner", first.owner_password)
            assert answer.status_code == 200 and answer.json()["role"] == "owner"
    finally:
        await first.close()
    second = await start_web_cem(sqlite_url)
    try:
        assert second.owner_password is None
        assert len(await asyncio.to_thread(second.services.auth.repo.users)) == 1
    finally:
        await second.close()
    other = await start_web_cem(sqlite_url.replace("smartcharge.db", "other.db"))
    try:
        assert other.owner_password not in (None, first.owner_password)
    finally:
        await other.close()


async def test_login_cookie_csrf_and_logout(web_db: WebCem) -> None:
    """Login sets an HttpOnly, SameSite=Strict cookie; a changing request with the cookie needs the
    CSRF token (403 without, also audited); logout ends the session at once (401 after)."""
    web = web_db
    assert web.owner_password is not None
    async with web.client() as client:
        answer = await login(client, "owner", web.owner_password)
        assert answer.status_code == 200
        csrf = answer.json()["csrf_token"]
        cookie_header = next(v for k, v in answer.headers.multi_items() if v.startswith(SESSION_COOKIE))
        assert "HttpOnly" in cookie_header and "SameSite=strict" in cookie_header
        assert (await client.get("/api/v1/auth/me")).json() == {
            "kind": "user",
            "name": "owner",
            "role": "owner",
            "csrf_token": csrf,
            "expires_at": None,
        }
        refused = await client.post("/api/v1/auth/logout")
        assert refused.status_code == 403 and CSRF_HEADER in refused.json()["detail"]
        wrong = await client.post("/api/v1/auth/logout", headers={CSRF_HEADER: "0" * 64})
        assert wrong.status_code == 403
        cookie = client.cookies[SESSION_COOKIE]
        assert (await client.post("/api/v1/auth/logout", headers={CSRF_HEADER: csrf})).status_code == 204
    async with web.client(cookies={SESSION_COOKIE: cookie}) as client:
        assert (await client.get("/api/v1/auth/me")).status_code == 401
    engine = make_engine(web.database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(LoginSession)).all() == []
            hashes = conn.execute(select(WebUser.password_hash)).scalars().all()
            assert all(h.startswith("$argon2id$") for h in hashes)
    finally:
        engine.dispose()
    entries = await asyncio.to_thread(web.services.audit_log.recent, 10)
    seen = [(e.actor, e.method, e.path, e.status_code) for e in reversed(entries)]
    assert seen == [
        ("user:owner", "POST", "/api/v1/auth/login", 200),
        ("user:owner", "POST", "/api/v1/auth/logout", 403),
        ("user:owner", "POST", "/api/v1/auth/logout", 403),
        ("user:owner", "POST", "/api/v1/auth/logout", 204),
    ]


async def test_failed_logins_are_rate_limited_and_logged(web: WebCem) -> None:
    """Five wrong passwords for one user name block the sixth attempt, even with the right
    password (429 with Retry-After); each failure is a LoginFailed security event; an unknown
    user name gets the same answer as a wrong password."""
    assert web.owner_password is not None
    async with web.client() as client:
        unknown = await login(client, "nobody", "wrong-password-1")
        assert unknown.status_code == 401 and unknown.json()["detail"] == "wrong user name or password"
        for _ in range(5):
            assert (await login(client, "owner", "wrong-password-1")).status_code == 401
        blocked = await login(client, "owner", web.owner_password)
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    security = web.services.store.security
    assert await asyncio.to_thread(security.count, "LoginFailed") == 6
    assert await asyncio.to_thread(security.count, "LoginThrottled") == 1


async def test_bad_login_bodies_get_one_line_naming_the_field(web: WebCem) -> None:
    async with web.client() as client:
        answer = await client.post("/api/v1/auth/login", json={"username": "owner"})
        assert answer.status_code == 422
        assert answer.json()["detail"] == "body.password: Field required"
        answer = await client.post(
            "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert answer.status_code == 422 and "body" in answer.json()["detail"]


def test_login_throttle_window_per_user_and_per_address() -> None:
    """The limits, with a fake clock: per user name 5 in 15 min, per address 20; the window slides."""
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(5):
        throttle.failed("alice", "10.0.0.1")
    assert throttle.retry_after_s("alice", "10.0.0.2") == pytest.approx(900.0)
    assert throttle.retry_after_s("bob", "10.0.0.1") == 0.0
    now[0] = 900.5
    assert throttle.retry_after_s("alice", "10.0.0.1") == 0.0
    for i in range(20):
        throttle.failed(f"user{i}", "10.0.0.9")
    assert throttle.retry_after_s("carol", "10.0.0.9") > 0
    throttle.succeeded("alice")
    small = LoginThrottle(max_keys=10, clock=lambda: now[0])
    for i in range(100):
        small.failed(f"u{i}", f"a{i}")
    assert len(small._failures) <= 10


async def test_tls_api_speaks_tls_12_or_newer_only(sqlite_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With --api-cert/--api-key the API is HTTPS with TLS >= 1.2; a TLS 1.1 client is refused."""
    import ssl
    import warnings

    from smartcharge.ocpp.tls import make_pki
    from smartcharge.web.serve import ApiConfig

    pki = make_pki(tmp_path / "pki", [])
    web = await start_web_cem(sqlite_url, api=ApiConfig(0, cert=pki.server_cert, key=pki.server_key))
    try:
        context = ssl.create_default_context(cafile=str(pki.ca_cert))
        async with web.client(verify=context) as client:
            assert (await client.get("/api/v1/auth/me")).status_code == 401
        old = ssl.create_default_context(cafile=str(pki.ca_cert))
        with warnings.catch_warnings():  # setting TLS 1.0/1.1 is deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
        async with web.client(verify=old) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get("/api/v1/auth/me")
    finally:
        await web.close()
