"""Credentials as strings: access tokens (JWT), refresh tokens and API keys (opaque).

- An **access token** is a short-lived HS256 JWT: ``typ`` ``access``, ``sub`` the user id,
  ``role``; the user row is still checked on every use (a disabled user is refused).
- A **refresh token** is 256 random bits, URL-safe; only its SHA-256 is stored.
- An **API key** is ``atl_`` and 256 random bits; only its SHA-256 and its first characters
  (to tell keys apart in a listing) are stored.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from atelier.accounts.errors import TokenExpired
from atelier.config import Settings
from atelier.errors import Unauthorized

ALGORITHM = "HS256"
ACCESS = "access"
API_KEY_PREFIX = "atl_"
DISPLAY_PREFIX_LENGTH = 12
MAX_TOKEN_LENGTH = 4096


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def looks_like_api_key(value: str) -> bool:
    return value.startswith(API_KEY_PREFIX)


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    role: str
    expires_at: int


class AccessTokens:
    """Mints and checks access tokens. ``clock`` (epoch seconds) is injectable for tests."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self._key = settings.secret_key.get_secret_value()
        self.ttl = settings.auth.access_ttl_seconds
        self._clock = clock

    def mint(self, user_id: str, role: str) -> str:
        now = int(self._clock())
        claims = {
            "sub": user_id,
            "typ": ACCESS,
            "role": role,
            "iat": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def decode(self, token: str) -> AccessClaims:
        """The claims of a valid access token, else :class:`TokenExpired` or
        :class:`Unauthorized`."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized("invalid token")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "exp", "typ"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            raise Unauthorized("invalid token") from None
        sub, role, exp = claims.get("sub"), claims.get("role"), claims.get("exp")
        if claims.get("typ") != ACCESS or not isinstance(sub, str) or not 0 < len(sub) <= 36:
            raise Unauthorized("invalid token")
        if not isinstance(exp, int) or exp <= self._clock():
            raise TokenExpired("the access token has expired; refresh it")
        return AccessClaims(user_id=sub, role=str(role or "user"), expires_at=exp)
