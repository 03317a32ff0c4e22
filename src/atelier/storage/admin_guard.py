"""Who may use the storage admin API.

An admin account (access token or API key of a user with role ``admin``), or the operator
token ``ATELIER_ADMIN_TOKEN`` sent as ``Authorization: Bearer``, compared in constant time
(for scripts and first setup, before any account exists). With no token configured and no
admin signed in the answer is 403 ``admin_disabled``; a wrong token is 401.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from atelier.accounts.auth import is_admin
from atelier.accounts.errors import Forbidden
from atelier.config import Settings
from atelier.errors import AtelierError, Unauthorized


class AdminDisabled(AtelierError):
    status_code = 403
    code = "admin_disabled"


async def require_admin(request: Request) -> None:
    """FastAPI dependency of every admin route."""
    settings: Settings = request.app.state.settings
    token = settings.admin_token.get_secret_value() if settings.admin_token else ""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    given = given.strip()
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode()):
        return
    if await run_in_threadpool(is_admin, request):
        return
    if not token:
        if given or request.headers.get("x-api-key"):
            raise Forbidden("the storage admin API needs an admin account")
        raise AdminDisabled(
            "the admin API is off: sign in as an admin or set ATELIER_ADMIN_TOKEN to turn it on"
        )
    raise Unauthorized(
        "the admin API needs an admin account or 'Authorization: Bearer <ATELIER_ADMIN_TOKEN>'",
        headers={"WWW-Authenticate": "Bearer"},
    )
