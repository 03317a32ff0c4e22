"""One error envelope for every failure: ``{"error", "message", "details"}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from atelier.errors import AtelierError, RateLimitExceeded

log = logging.getLogger(__name__)

STATUS_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limit_exceeded",
}


def envelope(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        {"error": code, "message": message, "details": details, **extra},
        status_code=status,
        headers=headers,
    )


def openai_shape(
    status: int, code: str, message: str, details: Any, headers: dict[str, str] | None
) -> JSONResponse:
    """OpenAI's error body, for the /v1 compatibility routes (the SDK reads it)."""
    param = details.get("field") if isinstance(details, dict) else None
    if isinstance(details, list) and details:
        loc = details[0].get("loc") or []
        param = str(loc[-1]) if loc else None
    return JSONResponse(
        {"error": {"message": message, "type": code, "param": param, "code": code}},
        status_code=status,
        headers=headers,
    )


def respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    if request.url.path.startswith("/v1/"):
        # OpenAI answers every invalid request with 400
        return openai_shape(400 if status == 422 else status, code, message, details, headers)
    return envelope(status, code, message, details, headers, **extra)


def _clean(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        item = {
            "loc": list(err.get("loc", ())),
            "msg": str(err.get("msg", "")),
            "type": err.get("type"),
        }
        out.append(item)
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(AtelierError)
    async def _atelier(request: Request, exc: AtelierError) -> JSONResponse:
        extra = {"retry_after": exc.retry_after} if isinstance(exc, RateLimitExceeded) else {}
        return respond(
            request, exc.status_code, exc.code, exc.message, exc.details, exc.headers, **extra
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _clean(exc.errors())
        status = 400 if request.url.path.startswith("/v1/") else 422
        return respond(request, status, "validation_error", "the request is not valid", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "http_error")
        return respond(
            request, exc.status_code, code, str(exc.detail), None, dict(exc.headers or {})
        )

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # the database refused a value the validation let through (PostgreSQL text cannot
        # hold a NUL character; a number past a column's range): the input's fault
        log.warning(
            "database refused a value on %s %s: %s", request.method, request.url.path, exc.orig
        )
        status = 400 if request.url.path.startswith("/v1/") else 422
        return respond(
            request,
            status,
            "validation_error",
            "a value cannot be stored (for example a NUL character in text)",
            None,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return respond(
            request, 500, "internal_error", "internal error; the server log has the details"
        )
