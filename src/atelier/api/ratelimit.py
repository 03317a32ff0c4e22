"""Rate limits at the API's edge (docs/limits.md): one pure ASGI middleware.

Every API request (``/api/…`` and ``/v1/…``, but not health and readiness) spends from its
caller's request buckets, before routing: its IP address's, and its session's or user's. A
task submission (any route taking the ``Submitter`` dependency) also spends from the
submission buckets, in :func:`spend_submission`. Over a limit: 429
``rate_limit_exceeded`` with ``details {retry_after, scope}`` and ``Retry-After``; every
limited answer carries ``X-RateLimit-Limit/Remaining/Reset`` (of its tightest bucket).
"""

from __future__ import annotations

import logging
import math

from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atelier.errors import RateLimitExceeded
from atelier.limits.buckets import Outcome, Verdict
from atelier.limits.rates import ANONYMOUS, Identity, RateLimiter

log = logging.getLogger(__name__)
LIMITED_PREFIXES = ("/api/", "/v1/")
EXEMPT = frozenset({"/api/v1/health", "/api/v1/ready"})
MESSAGES = {
    "ip": "too many requests from this address",
    "session": "too many requests from this session",
    "user": "too many requests from this account",
}
SUBMIT_MESSAGES = {
    "ip": "too many task submissions from this address",
    "session": "too many task submissions from this session",
    "user": "too many task submissions from this account",
}


async def identify(conn: HTTPConnection) -> Identity:
    """The caller's class and owner, from its credentials (the account's role for users;
    an API key counts as its user). The caller is kept on the request, so the route does
    not look it up again. Bad credentials count as none here: the route refuses them."""
    from atelier.accounts import auth

    try:
        caller = await auth._caller(conn, None)
    except Exception as exc:  # the route answers for bad credentials (or a database down)
        log.debug("no caller for the rate limits: %s: %s", type(exc).__name__, exc)
        return ANONYMOUS
    if caller is None:
        return ANONYMOUS
    if caller.user is None:
        return Identity("anon", caller.owner)
    return Identity("admin" if caller.is_admin else "user", caller.owner)


_VERDICT = "atelier_submit_verdict"


class SubmissionRateLimited(RateLimitExceeded):
    def __init__(self, refusal: Outcome) -> None:
        super().__init__(
            f"{SUBMIT_MESSAGES[refusal.check.scope]}; retry later",
            retry_after=refusal.retry_after,
        )
        self.details = {"retry_after": self.retry_after, "scope": refusal.check.scope}
        self.headers.update({k.decode(): v.decode() for k, v in headers_for(refusal)})


async def spend_submission(conn: HTTPConnection) -> None:
    """A task submission spends from the caller's submission buckets too (called by the
    ``Submitter`` dependency, so only routes that submit pay it)."""
    if conn.scope["type"] != "http":
        return
    limiter: RateLimiter = conn.app.state.limiter
    if not limiter.active:
        return
    verdict = await limiter.hit(
        await identify(conn), client_address(limiter, conn), submission=True, requests=False
    )
    refusal = verdict.refusal
    if refusal is not None:
        raise SubmissionRateLimited(refusal)
    conn.scope.setdefault("state", {})[_VERDICT] = verdict


def client_address(limiter: RateLimiter, conn: HTTPConnection) -> str:
    client = conn.scope.get("client")
    return limiter.proxies.client(
        client[0] if client else None, conn.headers.getlist("x-forwarded-for")
    )


def headers_for(outcome: Outcome | None) -> list[tuple[bytes, bytes]]:
    if outcome is None:
        return []
    return [
        (b"x-ratelimit-limit", str(outcome.check.rate.burst).encode()),
        (b"x-ratelimit-remaining", str(outcome.remaining).encode()),
        (b"x-ratelimit-reset", str(math.ceil(outcome.reset_after)).encode()),
    ]


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not self.limiter.active
            or not path.startswith(LIMITED_PREFIXES)
            or path in EXEMPT
        ):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        who = await identify(conn)
        verdict = await self.limiter.hit(who, client_address(self.limiter, conn), submission=False)
        refusal = verdict.refusal
        if refusal is not None:
            await self._refuse(scope, receive, send, refusal)
            return
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcomes = list(verdict.outcomes)
                submitted: Verdict | None = state.get(_VERDICT)
                if submitted is not None:  # a submission: its buckets count too
                    outcomes += submitted.outcomes
                tightest = Verdict(tuple(outcomes)).tightest
                names = {k for k, _ in message.get("headers", [])}
                if tightest is not None and b"x-ratelimit-limit" not in names:
                    message["headers"] = [*message.get("headers", []), *headers_for(tightest)]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, refusal: Outcome) -> None:
        from atelier.api.errors import respond

        error = RateLimitExceeded(
            f"{MESSAGES[refusal.check.scope]}; retry later", retry_after=refusal.retry_after
        )
        seconds = error.retry_after
        headers = {
            "Retry-After": str(seconds),
            **{k.decode(): v.decode() for k, v in headers_for(refusal)},
        }
        response = respond(
            Request(scope),
            429,
            error.code,
            error.message,
            {"retry_after": seconds, "scope": refusal.check.scope},
            headers,
            retry_after=seconds,
        )
        await response(scope, receive, send)
