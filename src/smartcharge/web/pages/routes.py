"""The pages: login, home (live), first-use wizard, settings, sessions, consent and data, security
log. Each handler asks the owner services, exactly like the API routes do."""

from __future__ import annotations

import asyncio
import hmac
import json
from datetime import datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from smartcharge.cem.owner import ActionRefusedError, NotYoursError, OwnerService
from smartcharge.cem.owner_data import OwnerData
from smartcharge.cem.owner_sessions import sessions_csv_chunks
from smartcharge.cem.owner_sessions import sessions_page as sessions_page_of
from smartcharge.core.errors import ValidationError
from smartcharge.core.tariff import load_tariffs
from smartcharge.web.auth import CSRF_COOKIE, SESSION_COOKIE, LoginRefused, LoginThrottled, Role, get_services
from smartcharge.web.errors import refusal
from smartcharge.web.pages import plans_site
from smartcharge.web.pages.common import (
    LOGIN_CSRF_COOKIE,
    STATIC_DIR,
    LoginNeeded,
    PageForbidden,
    PageUser,
    login_redirect,
    new_login_csrf,
    page_user,
    read_form,
    render,
    safe_next,
    see_other,
)

router = APIRouter(include_in_schema=False)


def _owner(request: Request) -> tuple[OwnerService, OwnerData]:
    services = get_services(request)
    assert services.owners is not None and services.owner_data is not None
    return services.owners, services.owner_data


def _errors(error: ValidationError | ActionRefusedError) -> dict[str, str]:
    return {error.field: error.rule}


# ---- login ----------------------------------------------------------------------------------------


def _login_page(request: Request, status: int = 200, **context: object) -> HTMLResponse:
    token = new_login_csrf()
    response = render(
        request,
        "login.html",
        None,
        status,
        title="Log in",
        login_csrf=token,
        next_path=safe_next(request.query_params.get("next")),
        **context,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=1800,
        httponly=True,
        samesite="strict",
        path="/login",
        secure=get_services(request).tls,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request) -> Response:
    """Log in with the API's users; rate-limited; refusals go to the security log (SEC-D-9)."""
    services = get_services(request)
    form = await read_form(request, None)
    sent, expected = form.get("csrf_token", ""), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    values = {"username": form.get("username", "")[:64]}
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(
            request, 403, values=values, form_error="The login form had expired; please try again."
        )
    username, password = form.get("username", ""), form.get("password", "")
    errors = {}
    if not username:
        errors["username"] = "enter your user name"
    if not password:
        errors["password"] = "enter your password"
    if errors:
        return _login_page(request, 422, values=values, errors=errors)
    address = request.client.host if request.client else "?"
    try:
        result = await asyncio.to_thread(services.auth.login, username[:64], password[:128], address)
    except LoginThrottled as throttled:
        await services.gateway.recorder.security_event(
            None, "LoginThrottled", f"user {username[:64]!r} (page)", remote_address=address
        )
        return _login_page(request, 429, values=values, errors={"password": str(throttled)})
    except LoginRefused:
        await services.gateway.recorder.security_event(
            None, "LoginFailed", f"user {username[:64]!r} (page)", remote_address=address
        )
        return _login_page(request, 401, values=values, errors={"password": "wrong user name or password"})
    response = see_other(safe_next(form.get("next")))
    max_age = int((result.expires_at - datetime.now(result.expires_at.tzinfo)).total_seconds())
    for name, value, http_only in (
        (SESSION_COOKIE, result.cookie, True),
        (CSRF_COOKIE, result.csrf_token, False),
    ):
        response.set_cookie(
            name, value, max_age=max_age, path="/", secure=services.tls, httponly=http_only, samesite="strict"
        )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    user = await page_user(request)
    await read_form(request, user)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    await asyncio.to_thread(get_services(request).auth.logout, cookie)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


# ---- home -----------------------------------------------------------------------------------------


def _landing(user: PageUser) -> str:
    if user.principal.role is Role.SITE_MANAGER:
        return "/site"
    if user.principal.role in (Role.OPERATOR, Role.VIEWER):
        return "/security"
    return "/"


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    """Each charge point's live power, mode, limit in words and delay countdown; a charge point
    whose first-use choice is still open sends the owner to the wizard first (SCP-OP-2)."""
    user = await page_user(request)
    if user.principal.role is not Role.OWNER:
        target = _landing(user)
        return see_other(target)
    owners, _ = _owner(request)
    views = await owners.charge_points(user.principal.name)
    pending = [v for v in views if v.hours.first_use_pending]
    if pending:
        return see_other(f"/cp/{pending[0].station_id}/first-use")
    return render(request, "home.html", user, title="Home", nav="home", charge_points=views)


@router.get("/cp/{station_id}/live", response_class=HTMLResponse)
async def live_card(request: Request, station_id: str) -> Response:
    """The live card alone (htmx polls it every second)."""
    user = await page_user(request, Role.OWNER)
    owners, _ = _owner(request)
    view = await owners.charge_point(user.principal.name, station_id)
    return render(request, "_cp_live.html", user, cp=view)


@router.post("/cp/{station_id}/start-now", response_class=HTMLResponse)
async def start_now(request: Request, station_id: str) -> Response:
    """Cancel the running randomised delay (reg 11, SCP-RD-6)."""
    user = await page_user(request, Role.OWNER)
    await read_form(request, user)
    owners, _ = _owner(request)
    htmx = request.headers.get("HX-Request") == "true"
    try:
        view = await owners.start_now(user.principal.name, station_id)
    except ActionRefusedError as refused:
        view = await owners.charge_point(user.principal.name, station_id)
        if htmx:
            return render(request, "_cp_live.html", user, 200, cp=view, card_error=refused.rule)
        return render(
            request,
            "home.html",
            user,
            409,
            title="Home",
            nav="home",
            charge_points=[view],
            form_error=refused.rule,
        )
    if htmx:
        return render(request, "_cp_live.html", user, cp=view)
    return see_other("/")


# ---- first use and settings -------------------------------------------------------------------------


@router.get("/cp/{station_id}/first-use", response_class=HTMLResponse)
async def first_use(request: Request, station_id: str) -> Response:
    user = await page_user(request, Role.OWNER)
    owners, _ = _owner(request)
    view = await owners.charge_point(user.principal.name, station_id)
    return render(request, "first_use.html", user, title="First use", nav="home", cp=view)


async def _choose_hours(request: Request, station_id: str, template: str) -> Response:
    user = await page_user(request, Role.OWNER)
    form = await read_form(request, user)
    owners, _ = _owner(request)
    choice, schedule = form.get("choice", ""), form.get("schedule", "")
    values = {"choice": choice, "schedule": schedule}
    try:
        if not choice:
            raise ValidationError("choice", "", "choose one: accept, change or remove the default hours")
        await owners.choose_default_hours(user.principal.name, station_id, choice, schedule or None)
    except (ValidationError, ActionRefusedError) as error:
        if isinstance(error, NotYoursError):
            raise
        view = await owners.charge_point(user.principal.name, station_id)
        status = 409 if isinstance(error, ActionRefusedError) else 422
        if template == "first_use.html":
            return render(
                request,
                template,
                user,
                status,
                title="First use",
                cp=view,
                errors=_errors(error),
                values=values,
            )
        return await _settings(
            request, user, station_id, status, hours_errors=_errors(error), hours_values=values
        )
    return see_other("/" if template == "first_use.html" else f"/cp/{station_id}/settings?saved=hours")


@router.post("/cp/{station_id}/first-use", response_class=HTMLResponse)
async def first_use_submit(request: Request, station_id: str) -> Response:
    """The reg 10 choice at first use (SCP-OP-2)."""
    return await _choose_hours(request, station_id, "first_use.html")


@router.post("/cp/{station_id}/hours", response_class=HTMLResponse)
async def hours_submit(request: Request, station_id: str) -> Response:
    """The same choice later (SCP-OP-3)."""
    return await _choose_hours(request, station_id, "settings.html")


async def _settings(
    request: Request, user: PageUser, station_id: str, status: int = 200, **context: object
) -> Response:
    owners, _ = _owner(request)
    view = await owners.charge_point(user.principal.name, station_id)
    saved = request.query_params.get("saved")
    defaults: dict[str, object] = {
        "hours_errors": {},
        "hours_values": {
            "choice": {"Accepted": "accept", "Changed": "change", "Removed": "remove"}.get(
                view.hours.choice, ""
            ),
            "schedule": view.hours.schedule if view.hours.choice == "Changed" else "",
        },
        "delay_errors": {},
        "delay_values": {
            "max_delay_s": "" if view.delay.max_delay_s is None else str(view.delay.max_delay_s)
        },
        "tariff_errors": {},
        "override_error": None,
        "flash": f"Saved: {saved}." if saved and status == 200 else None,
    }
    defaults.update(context)
    tariffs = sorted(load_tariffs().values(), key=lambda t: t.name)
    return render(
        request,
        "settings.html",
        user,
        status,
        title=f"Settings {station_id}",
        nav="home",
        cp=view,
        tariffs=tariffs,
        **defaults,
    )


@router.get("/cp/{station_id}/settings", response_class=HTMLResponse)
async def settings(request: Request, station_id: str) -> Response:
    user = await page_user(request, Role.OWNER)
    return await _settings(request, user, station_id)


@router.post("/cp/{station_id}/override", response_class=HTMLResponse)
async def override_submit(request: Request, station_id: str) -> Response:
    """Override once for this session, or end it (SCP-OP-3)."""
    user = await page_user(request, Role.OWNER)
    form = await read_form(request, user)
    owners, _ = _owner(request)
    try:
        await owners.set_override(user.principal.name, station_id, form.get("active") == "true")
    except ActionRefusedError as refused:
        return await _settings(request, user, station_id, 409, override_error=refused.rule)
    return see_other(f"/cp/{station_id}/settings?saved=override")


@router.post("/cp/{station_id}/delay", response_class=HTMLResponse)
async def delay_submit(request: Request, station_id: str) -> Response:
    """The reg 11 maximum, 0-1800 s (SCP-RD-3)."""
    user = await page_user(request, Role.OWNER)
    form = await read_form(request, user)
    owners, _ = _owner(request)
    raw = form.get("max_delay_s", "").strip()
    try:
        if not raw.lstrip("-").isdigit():
            raise ValidationError("max_delay_s", raw, "a whole number of seconds, 0-1800")
        await owners.set_max_delay(user.principal.name, station_id, int(raw))
    except (ValidationError, ActionRefusedError) as error:
        if isinstance(error, NotYoursError):
            raise
        status = 409 if isinstance(error, ActionRefusedError) else 422
        return await _settings(
            request, user, station_id, status, delay_errors=_errors(error), delay_values={"max_delay_s": raw}
        )
    return see_other(f"/cp/{station_id}/settings?saved=delay")


@router.post("/cp/{station_id}/tariff", response_class=HTMLResponse)
async def tariff_submit(request: Request, station_id: str) -> Response:
    user = await page_user(request, Role.OWNER)
    form = await read_form(request, user)
    owners, _ = _owner(request)
    try:
        await asyncio.to_thread(owners.set_tariff, user.principal.name, station_id, form.get("tariff_id", ""))
    except ValidationError as error:
        if isinstance(error, NotYoursError):
            raise
        return await _settings(request, user, station_id, 422, tariff_errors=_errors(error))
    return see_other(f"/cp/{station_id}/settings?saved=tariff")


# ---- sessions -------------------------------------------------------------------------------------


@router.get("/sessions", response_class=HTMLResponse)
async def sessions_page(request: Request) -> Response:
    """12 months of sessions, totals per month, one month's sessions listed (reg 9); the totals
    and the month's rows are read in SQL, not by loading the year (cem.owner_sessions)."""
    user = await page_user(request, Role.OWNER)
    owners, _ = _owner(request)
    asked = request.query_params.get("month")
    try:
        page = await asyncio.to_thread(sessions_page_of, owners, user.principal.name, asked or None)
    except ValidationError as error:
        page = await asyncio.to_thread(sessions_page_of, owners, user.principal.name, None)
        return render(
            request,
            "sessions.html",
            user,
            422,
            title="Sessions",
            nav="sessions",
            report=page,
            month=None,
            form_error=f"{error.field}: {error.rule}",
        )
    return render(
        request, "sessions.html", user, title="Sessions", nav="sessions", report=page, month=page.month
    )


@router.get("/sessions.csv")
async def sessions_download(request: Request) -> Response:
    user = await page_user(request, Role.OWNER)
    owners, _ = _owner(request)
    # Priced before the response starts; then written as read, a chunk of rows at a time.
    chunks = await asyncio.to_thread(sessions_csv_chunks, owners, user.principal.name)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="sessions.csv"', "Cache-Control": "no-store"},
    )


# ---- consent and data -----------------------------------------------------------------------------


async def _data_page(request: Request, user: PageUser, status: int = 200, **context: object) -> Response:
    _, data = _owner(request)
    consents = await asyncio.to_thread(data.consents)
    return render(
        request, "data.html", user, status, title="Consent & data", nav="data", consents=consents, **context
    )


@router.get("/data", response_class=HTMLResponse)
async def data_page(request: Request) -> Response:
    user = await page_user(request, Role.OWNER)
    return await _data_page(request, user)


@router.post("/data/revoke", response_class=HTMLResponse)
async def revoke_submit(request: Request) -> Response:
    user = await page_user(request, Role.OWNER)
    form = await read_form(request, user)
    _, data = _owner(request)
    dsrsp_id = form.get("dsrsp_id", "")
    try:
        await asyncio.to_thread(data.revoke, user.principal.name, dsrsp_id)
    except (ValidationError, ActionRefusedError) as error:
        return await _data_page(request, user, 409, errors={"dsrsp_id": f"{dsrsp_id}: {error.rule}"})
    return await _data_page(request, user, flash=f"Consent for {dsrsp_id} revoked.")


@router.get("/data/export.json")
async def export_download(request: Request) -> Response:
    user = await page_user(request, Role.OWNER)
    _, data = _owner(request)
    exported = await data.export_all(user.principal.name)
    return JSONResponse(
        json.loads(json.dumps(exported, default=str)),
        headers={"Content-Disposition": 'attachment; filename="my-data.json"', "Cache-Control": "no-store"},
    )


@router.post("/data/erase", response_class=HTMLResponse)
async def erase_submit(request: Request) -> Response:
    user = await page_user(request, Role.OWNER)
    form = await read_form(request, user)
    _, data = _owner(request)
    if form.get("confirm") != "yes":
        return await _data_page(
            request, user, 422, errors={"confirm": "tick the box to confirm: erasure cannot be undone"}
        )
    counts, _ = await data.erase_all(user.principal.name)  # stations clear the tokens too
    return await _data_page(
        request, user, flash=f"Erased {sum(counts.values())} stored rows of your sessions."
    )


# ---- security log ---------------------------------------------------------------------------------


@router.get("/security", response_class=HTMLResponse)
async def security_page(request: Request) -> Response:
    """The security log (SEC-D-9), for operators and site managers."""
    user = await page_user(request, Role.OPERATOR, Role.SITE_MANAGER)
    _, data = _owner(request)
    items = await asyncio.to_thread(data.security_log, 200)
    return render(request, "security.html", user, title="Security log", nav="security", items=items)


# ---- wiring ---------------------------------------------------------------------------------------


async def _login_needed(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginNeeded)
    return login_redirect(error.next_path)


async def _forbidden(request: Request, error: Exception) -> Response:
    assert isinstance(error, PageForbidden)
    return render(request, "error.html", None, 403, title="Not allowed", message=error.message)


async def _not_yours(request: Request, error: Exception) -> Response:
    assert isinstance(error, NotYoursError)
    if request.url.path.startswith("/api/"):
        return refusal(404, [{"field": error.field, "rule": error.rule}])
    return render(
        request, "error.html", None, 404, title="Not found", message=f"{error.field}: {error.rule}."
    )


def install(app: FastAPI) -> None:
    """Serve the pages at ``/`` and the packaged scripts and styles at ``/static``; a charge point
    that is not yours is a 404 page here and the API's JSON refusal under ``/api/``."""
    app.add_exception_handler(LoginNeeded, _login_needed)
    app.add_exception_handler(PageForbidden, _forbidden)
    app.add_exception_handler(NotYoursError, _not_yours)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(router)
    app.include_router(plans_site.router)


__all__ = ["install", "router"]
