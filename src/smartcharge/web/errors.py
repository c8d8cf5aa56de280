"""One shape for every refusal of the web API: ``{"detail": "<one line>", "errors": [{field, rule}]}``.

A :class:`smartcharge.core.errors.ValidationError` raised anywhere in a route becomes 422 naming
the field and the rule; FastAPI's own request validation errors get the same shape. ``detail`` is
always one line a person can read; ``errors`` lists each field for programs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from smartcharge.core.errors import ValidationError


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts) if parts else "(request)"


def refusal(status: int, errors: list[dict[str, str]]) -> JSONResponse:
    detail = "; ".join(f"{e['field']}: {e['rule']}" for e in errors)
    return JSONResponse({"detail": detail, "errors": errors}, status_code=status)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ValidationError)
    return refusal(422, [{"field": error.field, "rule": error.rule}])


async def _request_validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [{"field": _loc(e.get("loc", ())), "rule": str(e.get("msg", "invalid"))} for e in error.errors()]
    return refusal(422, errors)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ValidationError, _validation_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)


__all__ = ["install", "refusal"]
