"""The provider error tree (DESIGN.md section 4).

Transient errors may succeed when retried; permanent ones fail the task at once with their code.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of every error a provider raises."""

    code = "provider_error"
    transient = False

    def __init__(self, message: str, *, provider: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider


class TransientProviderError(ProviderError):
    code = "provider_unavailable"
    transient = True


class ProviderTimeout(TransientProviderError):
    code = "provider_timeout"


class ProviderNetworkError(TransientProviderError):
    code = "provider_network_error"


class RateLimited(TransientProviderError):
    code = "provider_rate_limited"

    def __init__(
        self, message: str, *, retry_after: float | None = None, provider: str | None = None
    ) -> None:
        super().__init__(message, provider=provider)
        self.retry_after = retry_after


class Upstream5xx(TransientProviderError):
    code = "provider_upstream_error"


class PermanentProviderError(ProviderError):
    code = "provider_failed"


class InvalidRequest(PermanentProviderError):
    code = "invalid_request"


class ContentRejected(PermanentProviderError):
    code = "content_rejected"


class QuotaExhausted(PermanentProviderError):
    code = "quota_exhausted"


class AuthFailed(PermanentProviderError):
    code = "provider_auth_failed"


class NotConfigured(PermanentProviderError):
    code = "provider_not_configured"
