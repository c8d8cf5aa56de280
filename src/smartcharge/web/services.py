"""What the web app's routes may use: the CEM's store, gateway and OCPP server, and the web's own
auth, audit and event services. Built once per CEM process by :meth:`WebServices.build`.

Routes reach it through the dependency :func:`smartcharge.web.auth.get_services`. A helper who
needs another service adds a field here with a default (so every existing caller keeps working)
and fills it in :meth:`WebServices.build`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from smartcharge.cem.consent import ConsentLedger
from smartcharge.cem.gateway import CemGateway
from smartcharge.cem.owner import OwnerService
from smartcharge.cem.owner_data import OwnerData
from smartcharge.cem.plans import PlanService, TariffPrices
from smartcharge.cem.service import Store
from smartcharge.cem.site import SiteService
from smartcharge.ocpp.server import OcppServer
from smartcharge.store.audit_log import AuditLogRepository
from smartcharge.store.consent import ConsentStore
from smartcharge.store.owner_repo import OwnerRepository
from smartcharge.store.plan_repo import PlanRepository
from smartcharge.store.station_admin import StationAdmin
from smartcharge.store.web_access import WebAccessRepository
from smartcharge.web.audit import AuditWriter
from smartcharge.web.auth import AuthService
from smartcharge.web.events import EventBus

#: How long an operator's OCPP call waits for the station's answer unless the call says otherwise.
DEFAULT_CALL_TIMEOUT_S = 30.0


@dataclass
class WebServices:
    store: Store
    gateway: CemGateway
    ocpp: OcppServer
    auth: AuthService
    audit: AuditWriter
    audit_log: AuditLogRepository
    events: EventBus
    stations: StationAdmin
    #: Served over TLS: cookies get the ``Secure`` attribute.
    tls: bool = False
    default_call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S
    #: The owner's services (issue 12 item 4, issue 13), shared by the owner API and the pages.
    owners: OwnerService | None = None
    owner_data: OwnerData | None = None
    #: Ready-by plans (issue 12): built over the gateway; ``site`` when the CEM manages a site.
    plans: PlanService | None = None
    site: SiteService | None = None
    #: Set once the sessions stored without a price have been priced at start (web/serve.py).
    prices_warm: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, store: Store, gateway: CemGateway, ocpp: OcppServer, tls: bool = False) -> WebServices:
        """Services over a CEM's store, gateway and OCPP server; taps the server's frames."""
        audit_log = AuditLogRepository(store.engine)
        events = EventBus()
        ocpp.tap = events.on_frame
        owners = OwnerService(OwnerRepository(store.engine), gateway)
        owner_data = OwnerData(
            owners, store.sessions, store.security, ConsentLedger(ConsentStore(store.engine))
        )
        return cls(
            store=store,
            gateway=gateway,
            ocpp=ocpp,
            auth=AuthService(WebAccessRepository(store.engine)),
            audit=AuditWriter(audit_log),
            audit_log=audit_log,
            events=events,
            stations=StationAdmin(store.engine),
            tls=tls,
            owners=owners,
            owner_data=owner_data,
            plans=PlanService(
                gateway,
                owners,
                prices=TariffPrices(owners.tariff_of),
                repository=PlanRepository(store.engine),
            ),
        )

    def close(self) -> None:
        if self.ocpp.tap == self.events.on_frame:
            self.ocpp.tap = None
        self.events.close()
        self.audit.close()


__all__ = ["DEFAULT_CALL_TIMEOUT_S", "WebServices"]
