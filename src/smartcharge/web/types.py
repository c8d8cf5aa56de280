"""Field types the web API's models share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def _as_utc(at: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC): without an offset they are not RFC 3339.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


#: A time with its offset, always (OpenAPI ``date-time`` is RFC 3339, which requires one).
UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]

__all__ = ["UtcDateTime"]
