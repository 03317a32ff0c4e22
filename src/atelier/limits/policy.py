"""Who is limited how: owner classes and their rates and quotas, whether limits are on, where
the counters live, and which address a request comes from."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

from atelier.config import (
    AdminLimitSettings,
    AnonLimitSettings,
    LimitSettings,
    Settings,
    UserLimitSettings,
)

OwnerClass = Literal["anon", "user", "admin"]
Scope = Literal["ip", "session", "user"]
ANON_PREFIX = "anon:"
USER_PREFIX = "user:"
LOCAL_PREFIX = "local:"  # the operator's own work at the command line (``atelier run``)


@dataclass(frozen=True)
class Rate:
    """``per_minute`` on average, ``burst`` at once (0 per minute: unlimited)."""

    per_minute: int
    burst: int

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    @property
    def interval_us(self) -> int:
        """Microseconds between two requests at the steady rate."""
        return max(1, round(60_000_000 / self.per_minute))


@dataclass(frozen=True)
class ClassPolicy:
    name: OwnerClass
    requests: Rate
    submits: Rate
    ip_requests: Rate
    ip_submits: Rate
    concurrent_tasks: int
    daily_tasks: int


def policy_for(limits: LimitSettings, name: OwnerClass) -> ClassPolicy:
    c: AnonLimitSettings | UserLimitSettings | AdminLimitSettings = getattr(limits, name)
    return ClassPolicy(
        name=name,
        requests=Rate(c.requests_per_minute, c.request_burst),
        submits=Rate(c.submits_per_minute, c.submit_burst),
        ip_requests=Rate(c.ip_requests_per_minute, c.ip_request_burst),
        ip_submits=Rate(c.ip_submits_per_minute, c.ip_submit_burst),
        concurrent_tasks=c.concurrent_tasks,
        daily_tasks=c.daily_tasks,
    )


def limits_active(settings: Settings) -> bool:
    """Rate limits and quotas apply (``limits.enabled``; ``auto``: in production mode)."""
    mode = settings.limits.enabled
    return mode == "on" or (mode == "auto" and settings.mode == "production")


def redis_url_for(settings: Settings) -> str:
    """The Redis holding the rate-limit counters, or "" for in-process counters."""
    limits = settings.limits
    if limits.backend == "memory":
        return ""
    url = limits.redis_url
    if not url and settings.broker_url.startswith(("redis://", "rediss://")):
        url = settings.broker_url
    if limits.backend == "redis" and not url:
        raise ValueError("ATELIER_LIMITS__BACKEND=redis needs ATELIER_LIMITS__REDIS_URL")
    return url


def class_of(owner: str, role: str | None) -> OwnerClass:
    """An owner's class: ``admin`` for a user with that role (and the operator's command-line
    work), ``user`` for other accounts, ``anon`` for anonymous sessions and anything else."""
    if owner.startswith(USER_PREFIX):
        return "admin" if role == "admin" else "user"
    return "admin" if owner.startswith(LOCAL_PREFIX) else "anon"


class TrustedProxies:
    """The client address of a request: the peer, or, when the peer is a trusted proxy, the
    right-most address of ``X-Forwarded-For`` that is not itself a trusted proxy."""

    def __init__(self, entries: list[str]) -> None:
        self.networks = [ipaddress.ip_network(e.strip(), strict=False) for e in entries if e]

    def trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip.version == n.version and ip in n for n in self.networks)

    def client(self, peer: str | None, forwarded_for: list[str]) -> str:
        address = peer or "unknown"
        if not self.networks or not self.trusted(address):
            return address
        hops = [h.strip() for value in forwarded_for for h in value.split(",")]
        for hop in reversed([h for h in hops if h]):
            host = _strip_port(hop)
            try:
                ipaddress.ip_address(host)
            except ValueError:
                return address  # garbage from here on: the last good hop is the client
            address = host
            if not self.trusted(host):
                return host
        return address


def _strip_port(hop: str) -> str:
    if hop.startswith("["):  # [v6]:port
        return hop[1 : hop.find("]")] if "]" in hop else hop
    if hop.count(":") == 1:  # v4:port
        return hop.split(":", 1)[0]
    return hop


def ip_bucket(address: str) -> str:
    """The rate-limit bucket of an address: IPv4 itself, IPv6 its /64 (one host's usual
    allocation; counting single v6 addresses would be trivially dodged)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
