"""Anonymous sessions: a short-lived signed JWT names the owner of everything a caller makes.

A caller without credentials gets a new session on first use: a cookie and the
``X-Atelier-Session`` response header. It is accepted back from the cookie or from
``Authorization: Bearer``. An invalid bearer token is an error (the caller meant to be someone);
an invalid or expired cookie silently starts a new session.

Accounts (access tokens, API keys) are resolved in :mod:`atelier.accounts.auth`; the helpers
here delegate to it, so every owner-scoped endpoint serves users and sessions alike.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import lru_cache

import jwt
from fastapi import Request, Response
from starlette.requests import HTTPConnection

from atelier.config import Settings

ALGORITHM = "HS256"
HEADER = "X-Atelier-Session"
ANON_PREFIX = "anon:"
USER_PREFIX = "user:"


class SessionSigner:
    def __init__(self, settings: Settings) -> None:
        self._key = settings.secret_key.get_secret_value()
        self.ttl = settings.auth.session_ttl_seconds
        self._verify_cached = lru_cache(maxsize=4096)(self._verify_uncached)
        #: set by the account service: whether a user may still act (not disabled, exists)
        self.active_user: Callable[[str], bool] | None = None

    def mint(self) -> tuple[str, str]:
        owner = f"{ANON_PREFIX}{uuid.uuid4()}"
        now = int(time.time())
        token = jwt.encode(
            {"sub": owner, "iat": now, "exp": now + self.ttl, "typ": "anon"},
            self._key,
            algorithm=ALGORITHM,
        )
        return token, owner

    def _verify_uncached(self, token: str) -> tuple[str, int, str] | None:
        try:
            claims = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
            )
        except jwt.PyJWTError:
            return None
        sub, typ = claims.get("sub"), claims.get("typ")
        if not isinstance(sub, str) or not sub or len(sub) > 64 or typ not in ("anon", "access"):
            return None
        return sub, int(claims["exp"]), str(typ)

    def verify(self, token: str) -> str | None:
        """The owner id a session token (``anon:<uuid>``) or an access token (``user:<uuid>``,
        while the user may act) names; ``None`` when invalid or expired."""
        if len(token) > 4096:
            return None
        hit = self._verify_cached(token)
        if hit is None or hit[1] <= time.time():
            return None
        sub, _, typ = hit
        if typ == "anon":
            return sub
        if self.active_user is None or not self.active_user(sub):
            return None
        return f"{USER_PREFIX}{sub}"


async def resolve_owner(request: Request, response: Response) -> str:
    """FastAPI dependency: the caller's owner id (creating an anonymous session if needed)."""
    from atelier.accounts.auth import resolve_owner as resolve

    return await resolve(request, response)


def owner_of(request: Request, response: Response) -> str:
    """The caller's owner id (creating an anonymous session if needed). Blocking."""
    from atelier.accounts.auth import caller_of

    caller = caller_of(request, response)
    assert caller is not None
    return caller.owner


def start_session(conn: HTTPConnection, response: Response) -> str:
    """A new anonymous session: its token goes out as a cookie and a response header."""
    signer: SessionSigner = conn.app.state.signer
    settings: Settings = conn.app.state.settings
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
