"""A small client for OpenAI-compatible JSON APIs (embeddings, chat), shared by the embedding
API client and the vision-language analyser.

``POST {base_url}{path}`` with ``Authorization: Bearer <key>`` (none when the key is empty, as
Ollama and vLLM accept), answers decoded as JSON. Failures land on the provider error tree
the way OpenAI documents its errors (``{"error": {"message", "type", "param", "code"}}``):

- ``insufficient_quota``/``billing_hard_limit_reached`` -> QuotaExhausted (even on HTTP 429);
- ``content_filter``/``content_policy_violation`` -> ContentRejected;
- ``invalid_api_key``, 401, 403 -> AuthFailed; 429 -> RateLimited (``retry-after-ms`` or
  ``retry-after``); 408 -> ProviderTimeout; 5xx -> Upstream5xx; other 4xx -> InvalidRequest;
- a body that is not a JSON object -> Upstream5xx ("bad response").

Transient failures, malformed answers included, are retried ``retries`` times with
exponential backoff and jitter; a ``Retry-After`` longer than ``retry_max_delay`` fails the
call at once (the caller's task retry will come back later). The key is never logged nor
put in messages (:func:`clean`).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from atelier.providers.errors import (
    AuthFailed,
    ContentRejected,
    InvalidRequest,
    ProviderError,
    ProviderTimeout,
    QuotaExhausted,
    RateLimited,
    TransientProviderError,
    Upstream5xx,
)
from atelier.providers.remote_http import clean, json_or_none, new_client, retry_after, send

log = logging.getLogger(__name__)

CONTENT = frozenset({"content_filter", "content_policy_violation", "moderation_blocked"})
QUOTA = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
AUTH = frozenset({"invalid_api_key", "invalid_organization"})
T = TypeVar("T")


def _identity(payload: dict[str, Any]) -> dict[str, Any]:
    return payload


class CompatClient:
    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        api_key: SecretStr,
        timeout: float,
        retries: int,
        retry_base_delay: float,
        retry_max_delay: float,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.retries = retries
        self.retry_base_delay = retry_base_delay
        self.retry_max_delay = retry_max_delay
        self._sleep = sleep
        self._random = random.Random()
        self._client = (
            new_client(timeout)
            if transport is None
            else httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0), transport=transport)
        )

    def __repr__(self) -> str:
        return f"CompatClient(provider={self.provider!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def post(
        self,
        path: str,
        body: dict[str, Any],
        parse: Callable[[dict[str, Any]], T] = _identity,  # type: ignore[assignment]
    ) -> T:
        """``parse`` of the JSON object answered to ``POST path``. Transient failures are
        retried, malformed answers (``parse`` raising a transient error) included."""
        attempt = 0
        while True:
            try:
                return parse(self._post_once(path, body))
            except TransientProviderError as exc:
                if attempt >= self.retries:
                    raise
                wait = self._delay(attempt, exc)
                if wait is None:
                    raise
                log.info(
                    "%s: %s on %s, retry %d/%d in %.2fs",
                    self.provider,
                    exc.code,
                    path,
                    attempt + 1,
                    self.retries,
                    wait,
                )
                self._sleep(wait)
                attempt += 1

    def _delay(self, attempt: int, exc: TransientProviderError) -> float | None:
        """Seconds before the next attempt; None when the server asks for longer than we wait."""
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= self.retry_max_delay else None
        backoff = min(self.retry_max_delay, self.retry_base_delay * 2.0**attempt)
        return backoff * (0.5 + self._random.random() / 2)

    def _post_once(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        key = self._key.get_secret_value()
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = send(
            self._client,
            "POST",
            self.base_url + path,
            what=path,
            provider=self.provider,
            secret=key,
            headers=headers,
            json=body,
        )
        if response.status_code >= 400:
            raise self.error(response, key)
        payload = json_or_none(response)
        if not isinstance(payload, dict):
            raise Upstream5xx(
                f"{self.provider}: bad response from {path}: not a JSON object",
                provider=self.provider,
            )
        return payload

    def error(self, response: httpx.Response, key: str) -> ProviderError:
        status = response.status_code
        payload = json_or_none(response)
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, str):
            error = {"message": error}
        if not isinstance(error, dict):
            error = {"message": response.text}
        code, kind = str(error.get("code") or ""), str(error.get("type") or "")
        tags = {code, kind}
        message = (
            f"{self.provider} HTTP {status} {code or kind or ''}: "
            f"{clean(str(error.get('message')), key)}"
        )
        name = self.provider
        if tags & CONTENT:
            return ContentRejected(message, provider=name)
        if tags & QUOTA:
            return QuotaExhausted(message, provider=name)
        if tags & AUTH or status in (401, 403):
            return AuthFailed(message, provider=name)
        if status == 429:
            return RateLimited(
                message, retry_after=retry_after(response.headers, ms=True), provider=name
            )
        if status == 408:
            return ProviderTimeout(message, provider=name)
        if status >= 500:
            return Upstream5xx(message, provider=name)
        return InvalidRequest(message, provider=name)
