"""What every page needs: templates with their helpers, who is logged in, CSRF checks, forms.

Forms are read as ``application/x-www-form-urlencoded`` with the standard library (no multipart
dependency); a refused form is rendered again with the API's message next to the field it names
and every value the user typed.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from smartcharge.core.localtime import GB_TZ
from smartcharge.web.auth import CSRF_HEADER, SESSION_COOKIE, Principal, Role, csrf_for, get_services

HERE = Path(__file__).parent
STATIC_DIR = HERE.parent / "static"
LOGIN_CSRF_COOKIE = "sc_login_csrf"
#: The largest form body a page accepts (the longest field is a default-hours schedule).
MAX_FORM_BYTES = 16 * 1024


def _local(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(GB_TZ).strftime("%a %d %b %Y %H:%M")


def _local_date(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(GB_TZ).strftime("%d %b %Y")


def _local_time(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(GB_TZ).strftime("%H:%M")


templates = Jinja2Templates(directory=str(HERE / "templates"))


def _local_epoch(epoch_s: float | None) -> str:
    return "" if epoch_s is None else _local(datetime.fromtimestamp(epoch_s, GB_TZ))


templates.env.globals.update(
    local=_local, local_date=_local_date, local_time=_local_time, local_epoch=_local_epoch
)
templates.env.globals["static"] = lambda path: f"/static/{path}"


#: (key, label, href, roles that see it)
NAV = (
    ("home", "Home", "/", {Role.OWNER}),
    ("plans", "Plans", "/plans", {Role.OWNER}),
    ("sessions", "Sessions", "/sessions", {Role.OWNER}),
    ("data", "Consent & data", "/data", {Role.OWNER}),
    ("site", "Site", "/site", {Role.SITE_MANAGER}),
    ("security", "Security log", "/security", {Role.OPERATOR, Role.SITE_MANAGER}),
)


@dataclass(frozen=True, slots=True)
class PageUser:
    principal: Principal
    csrf: str


class LoginNeeded(Exception):
    """No valid session: the page answers with a redirect to the login form."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PageForbidden(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


async def page_user(request: Request, *roles: Role) -> PageUser:
    """The logged-in person behind this request, or :class:`LoginNeeded`; with ``roles``, one of
    them (:class:`PageForbidden` otherwise)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    services = get_services(request)
    found = None if cookie is None else await asyncio.to_thread(services.auth.session_principal, cookie)
    if found is None:
        raise LoginNeeded(request.url.path)
    principal, secret = found
    if roles and not any(principal.acts_as(r) for r in roles):
        raise PageForbidden(f"This page is for the {' or '.join(r.value for r in roles)} role.")
    return PageUser(principal, csrf_for(secret))


async def read_form(request: Request, user: PageUser | None) -> dict[str, str]:
    """The posted form's fields (last value wins); checks the CSRF token against the session."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise PageForbidden("The form was too large.")
    fields = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    if user is not None:
        sent = fields.get("csrf_token") or request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), user.csrf.encode()):
            raise PageForbidden("This form is out of date or did not come from this site (CSRF check).")
    return fields


def nav_links(principal: Principal) -> list[tuple[str, str, str]]:
    return [(k, label, href) for k, label, href, roles in NAV if principal.role in roles]


def render(
    request: Request, name: str, user: PageUser | None, status: int = 200, **context: Any
) -> HTMLResponse:
    base: dict[str, Any] = {
        "principal": None if user is None else user.principal,
        "csrf": "" if user is None else user.csrf,
        "nav_links": [] if user is None else nav_links(user.principal),
        "errors": {},
        "values": {},
        "title": "smartcharge",
    }
    base.update(context)
    response = templates.TemplateResponse(request, name, base, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def login_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_path)}", status_code=303)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def safe_next(path: str | None) -> str:
    """Only a local path may follow a login (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def see_other(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


__all__ = [
    "LOGIN_CSRF_COOKIE",
    "STATIC_DIR",
    "LoginNeeded",
    "PageForbidden",
    "PageUser",
    "login_redirect",
    "new_login_csrf",
    "page_user",
    "read_form",
    "render",
    "safe_next",
    "see_other",
    "templates",
]
