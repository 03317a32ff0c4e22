"""Who is calling. Credentials, first match wins:

1. ``X-API-Key: atl_...`` (or ``Authorization: Bearer atl_...``, for OpenAI SDKs): the key's
   user, limited to the key's scopes (``read``; ``write`` for any other method than
   GET/HEAD/OPTIONS);
2. ``Authorization: Bearer <access token>``: the user;
3. ``Authorization: Bearer <session token>`` or the session cookie: an anonymous session;
4. nothing: a new anonymous session where the endpoint accepts one.

Credentials are never taken from the URL: an API key or an access token in the query string
is refused with 400 ``credentials_in_url`` (URLs end up in logs, histories and referrers).

A user's owner id is ``user:<uuid>``, an anonymous one ``anon:<uuid>``; every owner-scoped
endpoint works for both unchanged.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Literal

import jwt
from fastapi import Depends, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from atelier.accounts.errors import (
    AuthenticationRequired,
    CredentialsInUrl,
    Forbidden,
    InsufficientScope,
)
from atelier.accounts.models import User
from atelier.accounts.service import AccountService
from atelier.accounts.sessions import ANON_PREFIX, SessionSigner, start_session
from atelier.accounts.tokens import ACCESS, looks_like_api_key
from atelier.config import Settings
from atelier.errors import AtelierError, Unauthorized

API_KEY_HEADER = "x-api-key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
URL_CREDENTIALS = frozenset(
    {"api_key", "apikey", "api-key", "x-api-key", "x_api_key", "access_token"}
)
KEY_IN_URL = re.compile(r"^atl_[A-Za-z0-9_-]{32,}$")
FULL_SCOPES = frozenset({"read", "write"})
_STATE = "atelier_caller"
_lock = threading.Lock()


@dataclass(frozen=True)
class Caller:
    owner: str
    kind: Literal["anonymous", "user", "api_key"]
    user: User | None = None
    scopes: frozenset[str] = field(default=FULL_SCOPES)
    api_key_id: str | None = None

    @property
    def user_id(self) -> str | None:
        return self.user.id if self.user is not None else None

    @property
    def role(self) -> str | None:
        return self.user.role if self.user is not None else None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def account_service(app: FastAPI) -> AccountService:
    """The app's account service, made on first use (it needs the runtime's database)."""
    service: AccountService | None = getattr(app.state, "accounts", None)
    if service is None:
        with _lock:
            service = getattr(app.state, "accounts", None)
            if service is None:
                service = AccountService(app.state.runtime.db, app.state.settings)
                signer: SessionSigner = app.state.signer
                signer.active_user = service.is_active
                app.state.accounts = service
    return service


# -- reading the credentials -------------------------------------------------------------------
def _refuse_url_credentials(conn: HTTPConnection) -> None:
    for name, value in conn.query_params.multi_items():
        if name.lower() in URL_CREDENTIALS or KEY_IN_URL.match(value):
            raise CredentialsInUrl(
                "credentials are never accepted in the URL; send an API key in the "
                "X-API-Key header and a token in the Authorization header",
                details={"parameter": name},
            )


def _bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("use 'Authorization: Bearer <token>'")
    return token


def _api_key(conn: HTTPConnection) -> str | None:
    key = conn.headers.get(API_KEY_HEADER)
    if key is not None:
        return key.strip()
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and looks_like_api_key(token):
        return token
    return None


@lru_cache(maxsize=4096)  # asked twice per request (which path, then which check)
def _token_type(token: str) -> str | None:
    if len(token) > 4096:
        return None
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    typ = claims.get("typ")
    return typ if isinstance(typ, str) else None


def _method(conn: HTTPConnection) -> str:
    return str(conn.scope.get("method") or "GET").upper()


def _needs_database(conn: HTTPConnection) -> bool:
    if _api_key(conn) is not None:
        return True
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and _token_type(token.strip()) == ACCESS


# -- resolution --------------------------------------------------------------------------------
def caller_of(conn: HTTPConnection, response: Response | None) -> Caller | None:
    """The caller (blocking: may read the database). With ``response``, a caller without
    credentials gets a new anonymous session set on it; without, it is ``None``."""
    cached: Caller | None = getattr(conn.state, _STATE, None)
    if cached is not None:
        return cached
    _refuse_url_credentials(conn)
    caller = _identify(conn)
    if caller is None and response is not None:
        caller = Caller(owner=start_session(conn, response), kind="anonymous")
    if caller is not None:
        writes = _method(conn) not in SAFE_METHODS
        if caller.kind == "api_key" and writes and not caller.has_scope("write"):
            raise InsufficientScope(
                "this API key is read-only", details={"required_scope": "write"}
            )
        setattr(conn.state, _STATE, caller)
    return caller


def _identify(conn: HTTPConnection) -> Caller | None:
    key = _api_key(conn)
    if key is not None:
        row, user = account_service(conn.app).api_key_user(key)
        return Caller(
            owner=user.owner, kind="api_key", user=user, scopes=row.scope_set, api_key_id=row.id
        )
    signer: SessionSigner = conn.app.state.signer
    token = _bearer(conn)
    if token is not None:
        if _token_type(token) == ACCESS:
            service = account_service(conn.app)
            user = service.user_for_access(service.access.decode(token))
            return Caller(owner=user.owner, kind="user", user=user)
        owner = signer.verify(token)
        if owner is None or not owner.startswith(ANON_PREFIX):
            raise Unauthorized("invalid or expired session token")
        return Caller(owner=owner, kind="anonymous")
    settings: Settings = conn.app.state.settings
    cookie = conn.cookies.get(settings.auth.cookie_name)
    if cookie:
        owner = signer.verify(cookie)
        if owner is not None and owner.startswith(ANON_PREFIX):
            return Caller(owner=owner, kind="anonymous")
    return None


async def _caller(conn: HTTPConnection, response: Response | None) -> Caller | None:
    cached: Caller | None = getattr(conn.state, _STATE, None)
    if cached is not None:
        return cached
    if _needs_database(conn):
        return await run_in_threadpool(caller_of, conn, response)
    return caller_of(conn, response)


async def resolve_caller(request: Request, response: Response) -> Caller:
    """Dependency: the caller, starting an anonymous session when there are no credentials."""
    caller = await _caller(request, response)
    assert caller is not None
    return caller


async def resolve_owner(request: Request, response: Response) -> str:
    """Dependency: the caller's owner id (the ``Owner`` of every owner-scoped endpoint)."""
    return (await resolve_caller(request, response)).owner


async def current_user(request: Request) -> Caller:
    """Dependency: a signed-in user (access token or API key); else 401
    ``authentication_required``."""
    caller = await _caller(request, None)
    if caller is None or caller.user is None:
        raise AuthenticationRequired("sign in, or send an API key")
    return caller


CurrentUser = Annotated[Caller, Depends(current_user)]


async def signed_in_user(caller: CurrentUser) -> Caller:
    """Dependency: a user signed in with an access token (not an API key)."""
    if caller.kind != "user":
        raise Forbidden("this needs a signed-in user, not an API key")
    return caller


def require_role(role: str) -> Callable[..., Awaitable[Caller]]:
    """Dependency factory: the caller is a user with ``role`` (admins pass every role);
    else 401 ``authentication_required`` or 403 ``forbidden``."""

    async def dependency(caller: CurrentUser) -> Caller:
        if caller.role != role and not caller.is_admin:
            raise Forbidden(f"this needs the {role} role")
        return caller

    return dependency


def require_scope(scope: str) -> Callable[..., Awaitable[Caller | None]]:
    """Dependency factory: an API-key caller must hold ``scope`` (403 ``insufficient_scope``).
    Other callers, who act with all of their rights, pass."""

    async def dependency(request: Request) -> Caller | None:
        caller = await _caller(request, None)
        if caller is not None and caller.kind == "api_key" and not caller.has_scope(scope):
            raise InsufficientScope(
                f"this API key lacks the {scope} scope", details={"required_scope": scope}
            )
        return caller

    return dependency


async def credentials_guard(conn: HTTPConnection) -> None:
    """App-wide dependency: no credentials in URLs, and an API key is checked (validity,
    scope for the method) on every route, whether or not the route looks at the caller."""
    if conn.scope["type"] != "http":
        account_service(conn.app)  # the WebSocket checks access tokens through the signer
        return
    _refuse_url_credentials(conn)
    if _api_key(conn) is not None:
        await run_in_threadpool(caller_of, conn, None)


def is_admin(conn: HTTPConnection) -> bool:
    """Whether the request is an admin's (access token or API key of an admin user). Never
    raises; blocking (may read the database): call it from a sync function or a thread."""
    try:
        caller = caller_of(conn, None)
    except AtelierError:
        return False
    return caller is not None and caller.is_admin


def anonymous_owner(conn: HTTPConnection) -> str | None:
    """The anonymous session the request carries (bearer token or cookie), if any: the work
    that moves to the account on registration or login."""
    signer: SessionSigner = conn.app.state.signer
    settings: Settings = conn.app.state.settings
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    candidates = [token.strip()] if scheme.lower() == "bearer" else []
    candidates.append(conn.cookies.get(settings.auth.cookie_name) or "")
    for candidate in candidates:
        owner = signer.verify(candidate) if candidate else None
        if owner is not None and owner.startswith(ANON_PREFIX):
            return owner
    return None
