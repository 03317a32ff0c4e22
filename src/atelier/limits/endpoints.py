"""``GET /api/v1/limits``: the caller's rate limits and quotas, and how much is used."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from atelier.accounts.auth import Caller, resolve_caller
from atelier.db.base import utcnow
from atelier.limits.buckets import Outcome
from atelier.limits.policy import OwnerClass, Rate
from atelier.limits.quotas import WINDOW, Quotas, Usage, usage
from atelier.limits.rates import Identity, RateLimiter
from atelier.tasks.service import TaskService

router = APIRouter(prefix="/api/v1", tags=["limits"])


class RateOut(BaseModel):
    kind: Literal["requests", "submissions"]
    scope: Literal["ip", "session", "user"]
    per_minute: int | None = Field(description="Steady rate; null: unlimited.")
    burst: int | None = Field(description="How many may come at once; null: unlimited.")
    remaining: int | None = Field(description="How many may be made now.")
    reset: float | None = Field(description="Seconds until the full burst is available again.")


class QuotaOut(BaseModel):
    limit: int | None = Field(description="Null: no quota.")
    used: int
    remaining: int | None


class DailyQuotaOut(QuotaOut):
    window_seconds: int = Field(description="The quota counts tasks created in this window.")
    next_free_in: float | None = Field(
        description="Seconds until the oldest task counted leaves the window."
    )


class QuotasOut(BaseModel):
    concurrent: QuotaOut
    daily: DailyQuotaOut


class LimitsOut(BaseModel):
    owner: str
    owner_class: OwnerClass = Field(description="`anon`, `user` or `admin`.")
    enabled: bool = Field(description="Whether rate limits and quotas apply on this server.")
    rates: list[RateOut]
    quotas: QuotasOut
    dispatch_per_owner: int = Field(
        description="Fair dispatch: most of one owner's tasks queued ahead of others' per "
        "queue; 0: first come, first served."
    )


def _quota(limit: int, used: int, active: bool) -> tuple[int | None, int | None]:
    if not active or limit <= 0:
        return None, None
    return limit, max(0, limit - used)


@router.get("/limits", response_model=LimitsOut)
async def my_limits(
    request: Request, caller: Annotated[Caller, Depends(resolve_caller)]
) -> LimitsOut:
    """The caller's class, its rate limits (what is left now) and its task quotas (what is
    used); see docs/limits.md. Reading them spends one request like any other call."""
    limiter: RateLimiter = request.app.state.limiter
    tasks: TaskService = request.app.state.tasks
    quotas: Quotas = tasks.quotas
    cls: OwnerClass = "anon" if caller.user is None else ("admin" if caller.is_admin else "user")
    who = Identity(cls, caller.owner)
    address = limiter.proxies.client(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
    )
    policy = limiter.policies[cls]
    looked = {o.check.key: o for o in (await limiter.peek(who, address)).outcomes}
    rates: list[RateOut] = []
    for kind, ip_rate, own_rate in (
        ("requests", policy.ip_requests, policy.requests),
        ("submissions", policy.ip_submits, policy.submits),
    ):
        for scope, rate in (("ip", ip_rate), (who.scope, own_rate)):
            rates.append(_rate_out(kind, scope, rate, limiter, looked))
    used: Usage = await run_in_threadpool(_usage, quotas, caller.owner)
    active = limiter.active
    limit, left = _quota(policy.concurrent_tasks, used.concurrent, active)
    concurrent = QuotaOut(limit=limit, used=used.concurrent, remaining=left)
    limit, left = _quota(policy.daily_tasks, used.daily, active)
    frees = (used.oldest + WINDOW - utcnow()).total_seconds() if used.oldest else None
    daily = DailyQuotaOut(
        limit=limit,
        used=used.daily,
        remaining=left,
        window_seconds=int(WINDOW.total_seconds()),
        next_free_in=round(max(0.0, frees), 1) if frees is not None else None,
    )
    return LimitsOut(
        owner=caller.owner,
        owner_class=cls,
        enabled=active,
        rates=rates,
        quotas=QuotasOut(concurrent=concurrent, daily=daily),
        dispatch_per_owner=request.app.state.settings.limits.dispatch_per_owner,
    )


def _rate_out(
    kind: str, scope: str, rate: Rate, limiter: RateLimiter, looked: dict[str, Outcome]
) -> RateOut:
    if not limiter.active or not rate.enabled:
        return RateOut.model_validate(
            {
                "kind": kind,
                "scope": scope,
                "per_minute": None,
                "burst": None,
                "remaining": None,
                "reset": None,
            }
        )
    outcome = next((o for o in looked.values() if _matches(o, kind, scope)), None)
    return RateOut.model_validate(
        {
            "kind": kind,
            "scope": scope,
            "per_minute": rate.per_minute,
            "burst": rate.burst,
            "remaining": outcome.remaining if outcome else None,
            "reset": round(outcome.reset_after, 3) if outcome else None,
        }
    )


def _matches(outcome: Outcome, kind: str, scope: str) -> bool:
    prefix = "req" if kind == "requests" else "sub"
    return outcome.check.key.startswith(f"{prefix}:{scope}:")


def _usage(quotas: Quotas, owner: str) -> Usage:
    with quotas.db.read() as s:
        return usage(s, owner)
