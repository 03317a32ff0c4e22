"""``/api/v1/auth``: accounts, tokens, API keys; ``/api/v1/admin/users``: administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from atelier.accounts.auth import (
    Caller,
    CurrentUser,
    account_service,
    anonymous_owner,
    require_role,
    signed_in_user,
)
from atelier.accounts.models import ApiKey, User
from atelier.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    ApiKeyPage,
    LoginIn,
    MeOut,
    RefreshIn,
    RegisterIn,
    TokenOut,
    UserOut,
    UserPage,
    UserPatch,
)
from atelier.accounts.service import SignIn
from atelier.api.deps import JsonBody
from atelier.config import Settings

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
admin_router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

SignedIn = Annotated[Caller, Depends(signed_in_user)]
Admin = Annotated[Caller, Depends(require_role("admin"))]
NO_STORE = {"Cache-Control": "no-store"}


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role="admin" if user.role == "admin" else "user",
        disabled=user.disabled,
        owner=user.owner,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def key_out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=["read", "write"] if "write" in row.scope_set else ["read"],
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


def _signed_in(request: Request, response: Response, signin: SignIn) -> TokenOut:
    response.headers.update(NO_STORE)
    if signin.upgraded is not None:
        # the session's work is the account's now: the browser stops presenting the session
        settings: Settings = request.app.state.settings
        response.delete_cookie(settings.auth.cookie_name)
    return TokenOut(
        access_token=signin.access_token,
        refresh_token=signin.refresh_token,
        expires_in=signin.expires_in,
        user=user_out(signin.user),
        upgraded=signin.upgraded,
    )


@router.post("/register", status_code=201, response_model=TokenOut, dependencies=[JsonBody])
def register(body: RegisterIn, request: Request, response: Response) -> TokenOut:
    """Create an account and sign in. What the caller's anonymous session made (session
    cookie or `Authorization: Bearer <session token>`) becomes the account's."""
    service = account_service(request.app)
    signin = service.register(
        body.email, body.password, body.display_name, anonymous_owner(request)
    )
    return _signed_in(request, response, signin)


@router.post("/login", response_model=TokenOut, dependencies=[JsonBody])
def login(body: LoginIn, request: Request, response: Response) -> TokenOut:
    """Sign in: an access token (JWT) and a refresh token. Wrong email and wrong password
    get the same 401 `invalid_credentials`. The anonymous session is merged as on register."""
    service = account_service(request.app)
    address = request.client.host if request.client else ""
    signin = service.login(body.email, body.password, address, anonymous_owner(request))
    return _signed_in(request, response, signin)


@router.post("/refresh", response_model=TokenOut, dependencies=[JsonBody])
def refresh(body: RefreshIn, request: Request, response: Response) -> TokenOut:
    """Exchange a refresh token for new tokens. The refresh token is spent: presenting it
    again revokes every token of its sign-in (401 `refresh_token_reused`)."""
    signin = account_service(request.app).refresh(body.refresh_token)
    return _signed_in(request, response, signin)


@router.post("/logout", status_code=204, dependencies=[JsonBody])
def logout(body: RefreshIn, request: Request) -> Response:
    """End the sign-in the refresh token belongs to. Its access tokens lapse on their own
    (`expires_in`)."""
    account_service(request.app).logout(body.refresh_token)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
def me(caller: CurrentUser) -> MeOut:
    assert caller.user is not None
    return MeOut(
        **user_out(caller.user).model_dump(),
        auth="api_key" if caller.kind == "api_key" else "token",
        scopes=sorted(caller.scopes),  # type: ignore[arg-type]
    )


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated, dependencies=[JsonBody])
def create_api_key(
    body: ApiKeyCreate, caller: SignedIn, request: Request, response: Response
) -> ApiKeyCreated:
    """A new API key for the signed-in user. The key is in this answer only."""
    assert caller.user is not None
    row, key = account_service(request.app).create_api_key(
        caller.user, body.name, list(body.scopes), body.expires_in_days
    )
    response.headers.update(NO_STORE)
    return ApiKeyCreated(**key_out(row).model_dump(), key=key)


@router.get("/api-keys", response_model=ApiKeyPage)
def list_api_keys(caller: SignedIn, request: Request) -> ApiKeyPage:
    """The user's keys that are not revoked (never the keys themselves)."""
    assert caller.user is not None
    rows = account_service(request.app).list_api_keys(caller.user.id)
    return ApiKeyPage(items=[key_out(r) for r in rows])


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_api_key(key_id: str, caller: SignedIn, request: Request) -> Response:
    """Revoke a key: it is refused (401 `invalid_api_key`) from the next request."""
    assert caller.user is not None
    account_service(request.app).revoke_api_key(caller.user.id, key_id)
    return Response(status_code=204)


@admin_router.get("/users", response_model=UserPage)
def list_users(
    _: Admin,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,  # past it: 422, not 500
) -> UserPage:
    users, total = account_service(request.app).list_users(limit, offset)
    return UserPage(items=[user_out(u) for u in users], total=total)


@admin_router.patch("/users/{user_id}", response_model=UserOut, dependencies=[JsonBody])
def update_user(user_id: str, body: UserPatch, _: Admin, request: Request) -> UserOut:
    """Change a user's role or disable them (their tokens and keys stop working at once).
    The last enabled admin cannot be demoted or disabled (409 `last_admin`)."""
    user = account_service(request.app).update_user(user_id, body.role, body.disabled)
    return user_out(user)
