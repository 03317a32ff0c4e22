"""Policy above all providers (DESIGN.md section 4): per-call timeout, retries of transient
failures with backoff and jitter, fallback chains, circuit breaking, weighted A/B routing and
the result cache. Provider modules only speak to their backends; everything here is shared.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from PIL import Image

from atelier.config import PolicySettings
from atelier.db.base import utcnow
from atelier.providers.base import (
    GeneratedImage,
    ImageToImageRequest,
    ProgressCallback,
    TextToImageRequest,
    TextToImageResult,
)
from atelier.providers.errors import (
    ContentRejected,
    InvalidRequest,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    TransientProviderError,
)
from atelier.providers.models import CachedResult, ProviderCall
from atelier.providers.registry import ModelEntry, ProviderRegistry

if TYPE_CHECKING:
    from atelier.db.engine import Database
    from atelier.storage.base import StorageBackend

log = logging.getLogger(__name__)
Request = TextToImageRequest | ImageToImageRequest

#: The request itself is at fault: another provider would refuse it too.
NO_FALLBACK = (InvalidRequest, ContentRejected)


class Abandoned(Exception):
    """Raised inside a provider call that timed out, at its next progress report."""


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; after ``cooldown`` one trial call is let
    through (half-open) and its outcome closes or re-opens the circuit."""

    def __init__(self, threshold: int, cooldown: float) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "open" if time.monotonic() - self.opened_at < self.cooldown else "half_open"

    def allow(self) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            if time.monotonic() - self.opened_at >= self.cooldown:
                self.opened_at = time.monotonic()  # one trial; others wait another cool-down
                return True
            return False

    def success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = time.monotonic()


@dataclass
class Outcome:
    result: TextToImageResult
    provider: str
    model: str
    cache_hit: bool = False
    fallbacks: list[str] = field(default_factory=list)


def normalise_prompt(text: str) -> str:
    return " ".join(text.lower().split())


def fingerprint(image: Image.Image) -> str:
    """Perceptual hash (DCT pHash, 64 bits) of an input image: robust to re-encoding."""
    import numpy as np

    grey = image.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    n = 32
    k = np.arange(n)
    basis = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n))
    dct = basis @ pixels @ basis.T
    low = dct[:8, :8].flatten()
    bits = low[1:] > np.median(low[1:])
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def cache_key(entry: ModelEntry, request: Request) -> str:
    fields: dict[str, Any] = {
        "provider": entry.info.provider,
        "model": entry.info.id,
        "prompt": normalise_prompt(request.prompt),
        "negative": normalise_prompt(request.negative_prompt),
        "size": [request.width, request.height],
        "n": request.num_images,
        "steps": request.steps,
        "scale": request.guidance_scale,
        "seed": request.seed,
    }
    if isinstance(request, ImageToImageRequest):
        fields["image"] = fingerprint(request.image)
        fields["mask"] = fingerprint(request.mask) if request.mask is not None else None
        fields["strength"] = request.strength
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


class ProviderPolicy:
    def __init__(
        self,
        settings: PolicySettings,
        registry: ProviderRegistry,
        db: Database,
        storage: StorageBackend,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.db = db
        self.storage = storage
        self.sleep = sleep
        self.breakers: dict[str, CircuitBreaker] = {}
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="provider-call")

    # -- routing -----------------------------------------------------------------------------
    def chain(self, name: str, pick: random.Random) -> list[str]:
        """The models to try for ``name``: a route's weighted first choice then its fallbacks,
        or the single model named."""
        route = self.settings.routes.get(name)
        if route is None:
            return [name]
        models = list(route.candidates)
        weights = [max(0.0, w) for w in route.candidates.values()]
        first = pick.choices(models, weights=weights)[0] if sum(weights) > 0 else models[0]
        rest = [m for m in route.fallback if m != first]
        return [first, *rest]

    def breaker(self, provider: str) -> CircuitBreaker:
        if provider not in self.breakers:
            self.breakers[provider] = CircuitBreaker(
                self.settings.breaker_failures, self.settings.breaker_cooldown
            )
        return self.breakers[provider]

    # -- calls ---------------------------------------------------------------------------------
    def run(
        self,
        name: str,
        request: Request,
        on_progress: ProgressCallback | None = None,
        *,
        task_id: str | None = None,
    ) -> Outcome:
        pick = random.Random(task_id)  # the same task always takes the same A/B branch
        chain = self.chain(name, pick)
        last: ProviderError | None = None
        tried: list[str] = []
        for model in chain:
            entry = self.registry.resolve(model)
            provider = entry.info.provider
            fallback = bool(tried)
            cached = self._cached(entry, request)
            if cached is not None:
                self._record(entry, "cached", None, 0, 1, fallback, task_id)
                return Outcome(cached, provider, entry.info.id, True, tried)
            breaker = self.breaker(provider)
            if not breaker.allow():
                self._record(entry, "skipped", "circuit_open", 0, 0, fallback, task_id)
                tried.append(model)
                continue
            try:
                result = self._with_retries(entry, request, on_progress, fallback, task_id)
            except NO_FALLBACK:
                breaker.success()  # the provider answered; the request was at fault
                raise
            except ProviderError as exc:
                breaker.failure()
                last = exc
                tried.append(model)
                log.warning(
                    "provider %s failed (%s); %s",
                    provider,
                    exc.code,
                    "falling back" if model != chain[-1] else "no fallback left",
                )
                continue
            breaker.success()
            self._store(entry, request, result)
            return Outcome(result, provider, entry.info.id, False, tried)
        if last is None:
            raise TransientProviderError(
                f"every provider for {name!r} is unavailable (open circuit)"
            )
        raise last

    def _with_retries(
        self,
        entry: ModelEntry,
        request: Request,
        on_progress: ProgressCallback | None,
        fallback: bool,
        task_id: str | None,
    ) -> TextToImageResult:
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            began = time.monotonic()
            try:
                result = self._call(entry, request, on_progress)
            except ProviderError as exc:
                ms = int((time.monotonic() - began) * 1000)
                outcome = (
                    "timeout"
                    if isinstance(exc, ProviderTimeout)
                    else "transient"
                    if exc.transient
                    else "permanent"
                )
                self._record(entry, outcome, exc.code, ms, attempt, fallback, task_id)
                if not exc.transient or attempt == attempts:
                    raise
                delay = random.uniform(
                    0,
                    min(
                        self.settings.retry_max_delay,
                        self.settings.retry_base_delay * 2 ** (attempt - 1),
                    ),
                )
                if isinstance(exc, RateLimited) and exc.retry_after is not None:
                    if exc.retry_after > self.settings.retry_max_delay:
                        raise  # too long to wait inside a call: fall back or retry the task
                    delay = max(delay, exc.retry_after)
                self.sleep(delay)
                continue
            ms = int((time.monotonic() - began) * 1000)
            self._record(entry, "ok", None, ms, attempt, fallback, task_id)
            return result
        raise AssertionError("unreachable")

    def _call(
        self, entry: ModelEntry, request: Request, on_progress: ProgressCallback | None
    ) -> TextToImageResult:
        abandoned = threading.Event()

        def guarded(done: int, total: int) -> None:
            if abandoned.is_set():
                raise Abandoned()
            if on_progress is not None:
                on_progress(done, total)

        provider: Any = entry.provider
        if isinstance(request, ImageToImageRequest):
            target = provider.image_to_image
        else:
            target = provider.text_to_image
        req = replace(request, model=entry.info.id)
        future = self._pool.submit(target, req, guarded)
        try:
            result: TextToImageResult = future.result(timeout=self.settings.timeout)
        except FutureTimeout:
            abandoned.set()
            raise ProviderTimeout(
                f"{entry.info.provider} did not answer within {self.settings.timeout:g}s",
                provider=entry.info.provider,
            ) from None
        return result

    # -- cache and metrics ------------------------------------------------------------------
    def _cached(self, entry: ModelEntry, request: Request) -> TextToImageResult | None:
        if self.settings.cache_ttl <= 0:
            return None
        key = cache_key(entry, request)
        with self.db.read() as s:
            row = s.get(CachedResult, key)
        if row is None or row.created_at < utcnow() - timedelta(seconds=self.settings.cache_ttl):
            return None
        try:
            images = tuple(
                GeneratedImage(Image.open(io.BytesIO(self.storage.get(k))).convert("RGB"), seed)
                for k, seed in zip(row.storage_keys, row.seeds, strict=True)
            )
        except Exception:
            log.warning("cached result %s is unreadable; calling the provider", key)
            return None
        return TextToImageResult(images, row.provider, row.model, {"cache": "hit"})

    def _store(self, entry: ModelEntry, request: Request, result: TextToImageResult) -> None:
        if self.settings.cache_ttl <= 0 or entry.info.kind in ("noop", "procedural"):
            return  # cheap and deterministic: nothing to save
        key = cache_key(entry, request)
        keys = []
        try:
            for i, image in enumerate(result.images):
                buf = io.BytesIO()
                image.image.save(buf, format="PNG")
                storage_key = f"cache/{key[:2]}/{key}-{i}.png"
                self.storage.put(storage_key, buf.getvalue(), "image/png")
                keys.append(storage_key)
            with self.db.session() as s:
                s.merge(
                    CachedResult(
                        key=key,
                        provider=entry.info.provider,
                        model=entry.info.id,
                        storage_keys=keys,
                        seeds=[i.seed for i in result.images],
                        created_at=utcnow(),
                    )
                )
        except Exception:
            log.exception("could not cache a provider result")

    def _record(
        self,
        entry: ModelEntry,
        outcome: str,
        code: str | None,
        latency_ms: int,
        attempt: int,
        fallback: bool,
        task_id: str | None,
    ) -> None:
        try:
            with self.db.session() as s:
                s.add(
                    ProviderCall(
                        provider=entry.info.provider,
                        model=entry.info.id,
                        task_id=task_id,
                        outcome=outcome,
                        error_code=code,
                        latency_ms=latency_ms,
                        attempt=attempt,
                        fallback=fallback,
                        created_at=utcnow(),
                    )
                )
        except Exception:
            log.exception("could not record a provider call")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
