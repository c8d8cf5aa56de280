"""The audit log of the web API, for operators (``GET /api/v1/audit``)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from smartcharge.web.auth import Role, get_services, require_role

router = APIRouter(prefix="/api/v1", tags=["audit"], dependencies=[Depends(require_role(Role.OPERATOR))])


class AuditEntryOut(BaseModel):
    occurred_at: datetime
    actor: str
    role: str | None
    method: str
    path: str
    status_code: int
    detail: str
    client_address: str | None


@router.get("/audit", response_model=list[AuditEntryOut])
async def audit_log(
    request: Request,
    limit: int = Query(100, ge=1, le=1000, description="How many of the newest entries"),
    actor: str | None = Query(None, max_length=100, description="Only this caller, e.g. user:alice"),
) -> list[AuditEntryOut]:
    """Every changing call: who (``user:NAME``, ``token:ID`` or ``login:NAME``), what, when, answer."""
    records = await asyncio.to_thread(get_services(request).audit_log.recent, limit, actor)
    return [AuditEntryOut.model_validate(r, from_attributes=True) for r in records]
