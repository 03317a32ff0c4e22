"""Application errors. Each carries its HTTP status and a stable code; one handler renders
them as the envelope ``{"error": code, "message": ..., "details": ...}``."""

from __future__ import annotations

from typing import Any


class AtelierError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}


class ValidationFailed(AtelierError):
    status_code = 422
    code = "validation_error"


class BadRequest(AtelierError):
    status_code = 400
    code = "validation_error"


class Unauthorized(AtelierError):
    status_code = 401
    code = "unauthorized"


class NotFound(AtelierError):
    status_code = 404
    code = "not_found"


class Conflict(AtelierError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(AtelierError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AtelierError):
    status_code = 415
    code = "unsupported_media_type"


class RateLimitExceeded(AtelierError):
    status_code = 429
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float) -> None:
        seconds = max(1, int(retry_after + 0.999))
        super().__init__(
            message,
            details={"retry_after": seconds},
            headers={"Retry-After": str(seconds)},
        )
        self.retry_after = seconds


class ServiceUnavailable(AtelierError):
    status_code = 503
    code = "service_unavailable"
