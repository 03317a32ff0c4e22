"""Anonymous sessions: a short-lived signed JWT names the owner of everything a caller makes.

A caller without credentials gets a new session on first use: a cookie and the
``X-Atelier-Session`` response header. It is accepted back from the cookie or from
``Authorization: Bearer``. An invalid bearer token is an error (the caller meant to be someone);
an invalid or expired cookie silently starts a new session.
"""

from __future__ import annotations

import time
import uuid
from functools import lru_cache

import jwt
from fastapi import Request, Response

from atelier.config import Settings
from atelier.errors import Unauthorized

ALGORITHM = "HS256"
HEADER = "X-Atelier-Session"
ANON_PREFIX = "anon:"


class SessionSigner:
    def __init__(self, settings: Settings) -> None:
        self._key = settings.secret_key.get_secret_value()
        self.ttl = settings.auth.session_ttl_seconds
        self._verify_cached = lru_cache(maxsize=4096)(self._verify_uncached)

    def mint(self) -> tuple[str, str]:
        owner = f"{ANON_PREFIX}{uuid.uuid4()}"
        now = int(time.time())
        token = jwt.encode(
            {"sub": owner, "iat": now, "exp": now + self.ttl, "typ": "anon"},
            self._key,
            algorithm=ALGORITHM,
        )
        return token, owner

    def _verify_uncached(self, token: str) -> tuple[str, int] | None:
        try:
            claims = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
            )
        except jwt.PyJWTError:
            return None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 64:
            return None
        return sub, int(claims["exp"])

    def verify(self, token: str) -> str | None:
        if len(token) > 4096:
            return None
        hit = self._verify_cached(token)
        if hit is None or hit[1] <= time.time():
            return None
        return hit[0]


async def resolve_owner(request: Request, response: Response) -> str:
    """FastAPI dependency: the caller's owner id (creating an anonymous session if needed).
    Async because it never blocks: it runs on the event loop, not in the thread pool."""
    return owner_of(request, response)


def owner_of(request: Request, response: Response) -> str:
    """The caller's owner id (creating an anonymous session if needed)."""
    signer: SessionSigner = request.app.state.signer
    settings: Settings = request.app.state.settings
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <session token>'")
        owner = signer.verify(token.strip())
        if owner is None:
            raise Unauthorized("invalid or expired session token")
        return owner
    cookie = request.cookies.get(settings.auth.cookie_name)
    if cookie:
        owner = signer.verify(cookie)
        if owner is not None:
            return owner
    token, owner = signer.mint()
    response.headers[HEADER] = token
    response.set_cookie(
        settings.auth.cookie_name,
        token,
        max_age=settings.auth.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.auth.cookie_secure,
    )
    return owner
