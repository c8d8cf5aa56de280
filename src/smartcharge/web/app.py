"""The CEM's one web app, for operators, owners and site managers (issues 10, 12, 13).

Composition only: :func:`create_app` wires the error shape, the audit log and the routers. Each
router lives in ``smartcharge/web/api/<name>.py`` and exposes ``router`` (a FastAPI ``APIRouter``
with its own ``/api/v1/...`` prefix and its role dependencies); adding one is one import and one
``include_router`` line below. Routes get the CEM's services with ``Depends(get_services)`` and
callers with ``Depends(require_role(...))`` (see :mod:`smartcharge.web.auth`).
"""

from __future__ import annotations

from fastapi import FastAPI

from smartcharge.web import errors, pages
from smartcharge.web.api import audit as audit_api
from smartcharge.web.api import auth as auth_api
from smartcharge.web.api import events as events_api
from smartcharge.web.api import ocpp_calls, stations
from smartcharge.web.api import ocpp_core as ocpp_core_api
from smartcharge.web.api import owner as owner_api
from smartcharge.web.api import plans as plans_api
from smartcharge.web.api import site as site_api
from smartcharge.web.audit import AuditMiddleware
from smartcharge.web.services import WebServices

API_VERSION = "1.0.0"


def create_app(services: WebServices | None) -> FastAPI:
    """The app over ``services``; ``None`` builds it for the OpenAPI document only."""
    app = FastAPI(
        title="smartcharge CEM API",
        version=API_VERSION,
        description="Operator, owner and site-manager API of the smartcharge customer energy manager.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # the interactive pages load scripts from a CDN: not served
        redoc_url=None,
    )
    app.state.services = services
    errors.install(app)
    app.add_middleware(AuditMiddleware, writer=lambda: None if services is None else services.audit)
    # ---- routers: one line each ----------------------------------------------------------------
    app.include_router(auth_api.router)
    app.include_router(audit_api.router)
    app.include_router(stations.router)
    app.include_router(ocpp_calls.router)
    app.include_router(events_api.router)
    app.include_router(ocpp_core_api.router)
    app.include_router(plans_api.router)
    app.include_router(site_api.router)
    owner_api.install(app)
    pages.install(app)  # last: the pages answer at "/"
    return app


__all__ = ["API_VERSION", "create_app"]
