"""The rate limiter of one API process: which buckets a request spends from, and where they
live. Every API request spends from its caller's request buckets (the IP's, and the
session's or user's); a task submission also from the stricter submission buckets."""

from __future__ import annotations

from dataclasses import dataclass

from atelier.config import Settings
from atelier.limits.buckets import Backend, Check, MemoryBackend, RedisBackend, Verdict
from atelier.limits.policy import (
    ClassPolicy,
    OwnerClass,
    Rate,
    Scope,
    TrustedProxies,
    ip_bucket,
    limits_active,
    policy_for,
    redis_url_for,
)


@dataclass(frozen=True)
class Identity:
    """Who a request is from, as far as limits go: a class, and the owner id when the
    request carries a session or an account (``None``: only its IP is known)."""

    cls: OwnerClass
    owner: str | None

    @property
    def scope(self) -> Scope:
        return "session" if self.cls == "anon" else "user"


ANONYMOUS = Identity("anon", None)


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.active = limits_active(settings)
        self.proxies = TrustedProxies(settings.limits.trusted_proxies)
        url = redis_url_for(settings) if self.active else ""
        self.backend: Backend = (
            RedisBackend(url, settings.limits.redis_timeout) if url else MemoryBackend()
        )
        self.policies: dict[OwnerClass, ClassPolicy] = {
            name: policy_for(settings.limits, name) for name in ("anon", "user", "admin")
        }

    def checks(
        self, who: Identity, address: str, *, submission: bool, requests: bool = True
    ) -> list[Check]:
        """The buckets a request spends from (none for a class without limits): the request
        buckets, and with ``submission`` the submission ones."""
        p = self.policies[who.cls]
        ip = ip_bucket(address)
        wanted: list[tuple[str, Scope, Rate, str | None]] = []
        if requests:
            wanted += [
                ("req", "ip", p.ip_requests, f"{who.cls}:{ip}"),
                ("req", who.scope, p.requests, who.owner),
            ]
        if submission:
            wanted += [
                ("sub", "ip", p.ip_submits, f"{who.cls}:{ip}"),
                ("sub", who.scope, p.submits, who.owner),
            ]
        return [
            Check(f"{kind}:{scope}:{key}", scope, rate)
            for kind, scope, rate, key in wanted
            if rate.enabled and key is not None
        ]

    async def hit(
        self, who: Identity, address: str, *, submission: bool, requests: bool = True
    ) -> Verdict:
        checks = self.checks(who, address, submission=submission, requests=requests)
        return await self.backend.hit(checks)

    async def peek(self, who: Identity, address: str) -> Verdict:
        return await self.backend.peek(self.checks(who, address, submission=True))

    async def aclose(self) -> None:
        await self.backend.aclose()
