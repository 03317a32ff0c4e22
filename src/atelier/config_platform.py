"""Settings of the platform around the work: webhooks, limits, content safety, retention
(re-exported by :mod:`atelier.config`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr


class WebhookSettings(BaseModel):
    secret: SecretStr = Field(
        default=SecretStr(""),
        description="Signing secret (`whsec_<base64>`, Standard Webhooks). Empty: derived from "
        "`ATELIER_SECRET_KEY`.",
    )
    timeout: float = Field(default=10.0, gt=0, description="Seconds per delivery attempt.")
    max_attempts: int = Field(default=6, ge=1, description="Delivery attempts per event.")
    retry_base_delay: float = Field(
        default=2.0, ge=0, description="Base of the exponential delivery backoff, seconds."
    )
    retry_max_delay: float = Field(
        default=600.0, ge=0, description="Cap of the delivery backoff, seconds."
    )
    allow_private: bool = Field(
        default=False,
        description="Allow webhooks to loopback, private and link-local addresses.",
    )


def _per_minute(default: int, what: str) -> Any:
    return Field(default=default, ge=0, description=f"{what} per minute; 0: no limit.")


def _burst(default: int, what: str) -> Any:
    return Field(default=default, ge=1, description=f"{what} allowed at once (the burst).")


def _quota(default: int, what: str) -> Any:
    return Field(default=default, ge=0, description=f"{what}; 0: no quota.")


_CONCURRENT = "Tasks of one owner pending, processing or retrying at once"
_DAILY = "Tasks one owner may create in any 24 hours (rolling window)"


class AnonLimitSettings(BaseModel):
    """Anonymous sessions (`anon:<uuid>` owners); requests without credentials count per IP."""

    requests_per_minute: int = _per_minute(240, "API requests of one session")
    request_burst: int = _burst(60, "API requests of one session")
    submits_per_minute: int = _per_minute(20, "Task submissions of one session")
    submit_burst: int = _burst(5, "Task submissions of one session")
    ip_requests_per_minute: int = _per_minute(600, "Anonymous API requests from one IP address")
    ip_request_burst: int = _burst(120, "Anonymous API requests from one IP address")
    ip_submits_per_minute: int = _per_minute(40, "Anonymous submissions from one IP address")
    ip_submit_burst: int = _burst(10, "Anonymous submissions from one IP address")
    concurrent_tasks: int = _quota(2, _CONCURRENT)
    daily_tasks: int = _quota(100, _DAILY)


class UserLimitSettings(BaseModel):
    """Signed-in users (`user:<uuid>` owners), by access token or API key."""

    requests_per_minute: int = _per_minute(1200, "API requests of one user")
    request_burst: int = _burst(200, "API requests of one user")
    submits_per_minute: int = _per_minute(60, "Task submissions of one user")
    submit_burst: int = _burst(20, "Task submissions of one user")
    ip_requests_per_minute: int = _per_minute(2400, "Users' API requests from one IP address")
    ip_request_burst: int = _burst(400, "Users' API requests from one IP address")
    ip_submits_per_minute: int = _per_minute(240, "Users' submissions from one IP address")
    ip_submit_burst: int = _burst(60, "Users' submissions from one IP address")
    concurrent_tasks: int = _quota(8, _CONCURRENT)
    daily_tasks: int = _quota(1000, _DAILY)


class AdminLimitSettings(BaseModel):
    """Users with the admin role: unlimited unless set."""

    requests_per_minute: int = _per_minute(0, "API requests of one admin")
    request_burst: int = _burst(1, "API requests of one admin")
    submits_per_minute: int = _per_minute(0, "Task submissions of one admin")
    submit_burst: int = _burst(1, "Task submissions of one admin")
    ip_requests_per_minute: int = _per_minute(0, "Admins' API requests from one IP address")
    ip_request_burst: int = _burst(1, "Admins' API requests from one IP address")
    ip_submits_per_minute: int = _per_minute(0, "Admins' submissions from one IP address")
    ip_submit_burst: int = _burst(1, "Admins' submissions from one IP address")
    concurrent_tasks: int = _quota(0, _CONCURRENT)
    daily_tasks: int = _quota(0, _DAILY)


class LimitSettings(BaseModel):
    enabled: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Rate limits and quotas (docs/limits.md). `auto`: on in `production` mode, "
        "off in `local` mode. Fair dispatch (`dispatch_per_owner`) is separate.",
    )
    backend: Literal["auto", "memory", "redis"] = Field(
        default="auto",
        description="Where rate-limit counters live. `memory`: in each API process. `redis`: "
        "shared by every API process. `auto`: `redis` when `redis_url` is set or the broker is "
        "Redis, else `memory`.",
    )
    redis_url: str = Field(
        default="", description="Redis for the counters; empty: the broker's, when it is Redis."
    )
    redis_timeout: float = Field(
        default=0.25,
        gt=0,
        description="Seconds a rate-limit check waits for Redis; past it (or Redis down) the "
        "request is let through and a warning logged (fail open).",
    )
    trusted_proxies: list[str] = Field(
        default=["127.0.0.1", "::1"],
        description='Addresses or networks (JSON list, e.g. `["10.0.0.0/8"]`) of reverse '
        "proxies whose `X-Forwarded-For` names the client; anyone else's is ignored.",
    )
    dispatch_per_owner: int = Field(
        default=4,
        ge=0,
        description="Fair dispatch: most tasks of one owner waiting in the broker per queue; "
        "the rest wait in the database and are sent as the owner's earlier ones start, so "
        "one owner's backlog does not delay everyone else. 0: send every task at once (FIFO).",
    )
    anon: AnonLimitSettings = Field(default_factory=AnonLimitSettings)
    user: UserLimitSettings = Field(default_factory=UserLimitSettings)
    admin: AdminLimitSettings = Field(default_factory=AdminLimitSettings)


ContentAction = Literal["reject", "blur", "flag", "off"]


class SafetySettings(BaseModel):
    """Content safety (docs/safety.md): open_nsfw scores of uploads and of task outputs, and
    the prompt filter."""

    upload_action: ContentAction = Field(
        default="flag",
        description="Uploads scoring at least `upload_threshold`: `reject` (422 "
        "`content_rejected`), `blur` (a heavily blurred copy is stored), `flag` (stored as is, "
        "logged with its score) or `off` (not scored).",
    )
    upload_threshold: float = Field(
        default=0.8, ge=0, le=1, description="open_nsfw score (0 to 1) at which uploads count."
    )
    output_action: ContentAction = Field(
        default="blur",
        description="Generated, stylized, erased and manga images scoring at least "
        "`output_threshold`: `reject` (the task fails with `content_rejected`), `blur`, `flag` "
        "or `off`. The task result says what happened (`result.safety`).",
    )
    output_threshold: float = Field(
        default=0.8, ge=0, le=1, description="open_nsfw score at which outputs are acted on."
    )
    prompt_filter: bool = Field(
        default=True,
        description="Refuse task submissions whose prompt, text or story matches a term list "
        "(422 `prompt_rejected`).",
    )
    default_terms: bool = Field(
        default=True, description="Use the small term list shipped with Atelier."
    )
    terms_file: Path | None = Field(
        default=None,
        description="The operator's term list (`.toml` with categories, or one term per line); "
        "re-read when it changes, no restart needed.",
    )
    terms_reload_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How often, at most, the term file's modification time is checked.",
    )


class RetentionSettings(BaseModel):
    """The retention clean-up run by every worker's sweep (`atelier admin purge` by hand)."""

    anonymous_hours: float = Field(
        default=24.0,
        ge=0,
        description="Tasks of anonymous sessions are deleted this many hours after they "
        "finished (uploads: after they were made), with their images; 0 keeps them.",
    )
    user_days: float = Field(
        default=0.0,
        ge=0,
        description="The same for registered users, in days; 0 (default) keeps their work "
        "for ever.",
    )
    event_days: float = Field(
        default=30.0,
        ge=0,
        description="Progress events of tasks finished this many days ago are deleted (the "
        "final event stays); 0 keeps them.",
    )
    interval: float = Field(
        default=3600.0, gt=0, description="Seconds between clean-up runs in each worker."
    )
    batch: int = Field(default=200, ge=1, description="Tasks or images deleted per transaction.")
