"""Request and response bodies of the account API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from atelier.accounts.passwords import MAX_LENGTH, MIN_LENGTH

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$")
Role = Literal["user", "admin"]
Scope = Literal["read", "write"]


def normalize_email(value: str) -> str:
    return value.strip().lower()


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254, description="Unique, compared without regard to case.")
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)
    display_name: str = Field(default="", max_length=100)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = normalize_email(value)
        if not EMAIL.match(value):
            raise ValueError("not an email address")
        return value


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=256)


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str
    role: Role
    disabled: bool
    owner: str = Field(description="The owner id of the user's tasks and images.")
    created_at: datetime
    last_login_at: datetime | None


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token is valid.")
    user: UserOut
    upgraded: dict[str, int] | None = Field(
        default=None,
        description="Rows moved from the caller's anonymous session, per table "
        "(null when there was none).",
    )


class MeOut(UserOut):
    auth: Literal["token", "api_key"]
    scopes: list[Scope]


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(description='`["read"]` or `["read", "write"]`.')
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[Scope]) -> list[Scope]:
        wanted = set(value)
        if wanted == {"read"}:
            return ["read"]
        if wanted == {"read", "write"}:
            return ["read", "write"]
        raise ValueError('scopes must be ["read"] or ["read", "write"]')


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="The first characters of the key.")
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself; shown this once, never again.")


class ApiKeyPage(BaseModel):
    items: list[ApiKeyOut]


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: bool | None = None


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
