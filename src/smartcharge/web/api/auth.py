"""Log in, log out, and who am I (``/api/v1/auth``)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from smartcharge.web.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    LoginRefused,
    LoginThrottled,
    Principal,
    csrf_token_for,
    current_principal,
    get_services,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class Me(BaseModel):
    kind: str = Field(description="'user' (logged in) or 'token'")
    name: str
    role: str
    csrf_token: str | None = Field(None, description="Send as X-CSRF-Token on changing requests")
    expires_at: datetime | None = None


@router.post(
    "/login",
    response_model=Me,
    responses={
        401: {"description": "Wrong user name or password"},
        429: {"description": "Too many failures"},
    },
)
async def login(body: LoginRequest, request: Request, response: Response) -> Me:
    """Log a person in: sets the HttpOnly, SameSite=Strict session cookie and returns the CSRF token.
    Failures are rate-limited per user name and per client address and written to the security log."""
    services = get_services(request)
    address = request.client.host if request.client else "?"
    request.state.audit_actor = f"login:{body.username[:64]}"
    try:
        result = await asyncio.to_thread(services.auth.login, body.username, body.password, address)
    except LoginThrottled as throttled:
        await services.gateway.recorder.security_event(
            None, "LoginThrottled", f"user {body.username[:64]!r}", remote_address=address
        )
        raise HTTPException(
            429, str(throttled), headers={"Retry-After": str(int(throttled.retry_after_s) + 1)}
        ) from None
    except LoginRefused:
        await services.gateway.recorder.security_event(
            None, "LoginFailed", f"user {body.username[:64]!r}", remote_address=address
        )
        raise HTTPException(401, "wrong user name or password") from None
    request.state.principal = result.principal
    max_age = int((result.expires_at - datetime.now(result.expires_at.tzinfo)).total_seconds())
    for name, value, http_only in (
        (SESSION_COOKIE, result.cookie, True),
        (CSRF_COOKIE, result.csrf_token, False),  # readable by the page's own script, for the header
    ):
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=services.tls,
            httponly=http_only,
            samesite="strict",
        )
    return Me(
        kind="user",
        name=result.principal.name,
        role=result.principal.role.value,
        csrf_token=result.csrf_token,
        expires_at=result.expires_at,
    )


@router.post("/logout", status_code=204, responses={401: {"description": "Not logged in"}})
async def logout(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Response:
    """End this browser session (the cookie stops working at once)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if principal.kind != "user" or cookie is None:
        raise HTTPException(400, "logout ends a browser session; API tokens are revoked with the CLI")
    await asyncio.to_thread(get_services(request).auth.logout, cookie)
    out = Response(status_code=204)
    out.delete_cookie(SESSION_COOKIE, path="/")
    out.delete_cookie(CSRF_COOKIE, path="/")
    return out


@router.get("/me", response_model=Me)
async def me(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Me:
    """Who the credential belongs to, and (for a browser session) its CSRF token."""
    csrf = csrf_token_for(request) if principal.kind == "user" else None
    return Me(kind=principal.kind, name=principal.name, role=principal.role.value, csrf_token=csrf)
