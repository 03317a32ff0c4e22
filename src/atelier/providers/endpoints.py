"""``GET /api/v1/providers``: configured providers, their health and call figures.

Figures come from the ``provider_calls`` log that every worker writes, so any API process
shows the whole installation's numbers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from atelier.api.deps import RuntimeDep
from atelier.db.base import utcnow
from atelier.providers.models import ProviderCall
from atelier.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["providers"])
HEALTH_WINDOW = 20


def percentile(values: list[int], q: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(calls: list[ProviderCall]) -> dict[str, Any]:
    ok = [c.latency_ms for c in calls if c.outcome == "ok"]
    failures: dict[str, int] = defaultdict(int)
    for c in calls:
        if c.outcome in ("transient", "permanent", "timeout"):
            failures[c.outcome] += 1
    answered = [c for c in calls if c.outcome not in ("cached", "skipped")][-HEALTH_WINDOW:]
    rate = sum(c.outcome == "ok" for c in answered) / len(answered) if answered else None
    health = (
        "idle"
        if rate is None
        else "healthy"
        if rate >= 0.9
        else "degraded"
        if rate >= 0.5
        else "down"
    )
    return {
        "health": health,
        "recent_success_rate": None if rate is None else round(rate, 3),
        "calls": len([c for c in calls if c.outcome != "skipped"]),
        "succeeded": len(ok),
        "latency_ms": {"p50": percentile(ok, 0.5), "p95": percentile(ok, 0.95)},
        "failures": dict(failures),
        "retries": sum(1 for c in calls if c.attempt > 1),
        "fallbacks": sum(1 for c in calls if c.fallback and c.outcome in ("ok", "cached")),
        "cache_hits": sum(1 for c in calls if c.outcome == "cached"),
        "circuit_skips": sum(1 for c in calls if c.outcome == "skipped"),
    }


def report(runtime: Runtime, hours: float) -> dict[str, Any]:
    since = utcnow() - timedelta(hours=hours)
    with runtime.db.read() as s:
        rows = s.scalars(
            select(ProviderCall)
            .where(ProviderCall.created_at >= since)
            .order_by(ProviderCall.id)
            .limit(100_000)
        ).all()
    by_provider: dict[str, list[ProviderCall]] = defaultdict(list)
    for row in rows:
        by_provider[row.provider].append(row)
    models: dict[str, list[str]] = defaultdict(list)
    for info in runtime.providers.models():
        models[info.provider].append(info.id)
    out = []
    for name in sorted(set(models) | set(by_provider)):
        out.append(
            {
                "name": name,
                "configured": name in models,
                "models": models.get(name, []),
                **summarise(by_provider.get(name, [])),
            }
        )
    routes = {
        name: {"candidates": r.candidates, "fallback": r.fallback}
        for name, r in runtime.settings.policy.routes.items()
    }
    return {"window_hours": hours, "providers": out, "routes": routes}


@router.get("/providers")
async def list_providers(
    runtime: RuntimeDep, hours: Annotated[float, Query(gt=0, le=24 * 30)] = 24.0
) -> dict[str, Any]:
    """Configured providers and routes, with health (success rate of the last calls) and, over
    the window: calls, latency p50/p95, failures by class, retries, fallbacks, cache hits."""
    return await run_in_threadpool(report, runtime, hours)
