"""Accounts: registration, login, token rotation, API keys and user administration.

Password hashing (tens of milliseconds of CPU) never runs inside a database transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atelier.accounts.errors import (
    AccountDisabled,
    EmailTaken,
    InvalidApiKey,
    InvalidCredentials,
    InvalidRefreshToken,
    LastAdmin,
    RefreshTokenReused,
    RegistrationClosed,
    TooManyApiKeys,
)
from atelier.accounts.models import ApiKey, OwnerUpgrade, RefreshToken, User
from atelier.accounts.passwords import Passwords
from atelier.accounts.schemas import normalize_email
from atelier.accounts.throttle import LoginThrottle
from atelier.accounts.tokens import (
    DISPLAY_PREFIX_LENGTH,
    AccessClaims,
    AccessTokens,
    digest,
    looks_like_api_key,
    new_api_key,
    new_secret,
)
from atelier.accounts.upgrade import move_owner
from atelier.config import Settings
from atelier.db.base import utcnow
from atelier.db.engine import Database
from atelier.errors import AtelierError, NotFound, Unauthorized

#: ``last_used_at`` of an API key is written at most this often
LAST_USED_EVERY = timedelta(seconds=60)


#: the PostgreSQL advisory lock that serializes deciding who is the first user
FIRST_USER_LOCK = 0x61746C5F61646D  # "atl_adm"


@dataclass(frozen=True)
class SignIn:
    """What a login, a registration or a refresh hands back."""

    user: User
    access_token: str
    refresh_token: str
    expires_in: int
    upgraded: dict[str, int] | None = None


class AccountService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.auth = settings.auth
        self.passwords = Passwords(settings.auth)
        self.access = AccessTokens(settings)
        self.throttle = LoginThrottle(
            settings.auth.login_max_failures, settings.auth.login_window_seconds
        )

    # -- users ---------------------------------------------------------------------------------
    def create_user(
        self,
        email: str,
        password: str,
        *,
        display_name: str = "",
        admin: bool | None = None,
    ) -> User:
        """A new user (``atelier admin create-user``); ``admin=None``: an admin when it is the
        first user and ``first_user_admin`` is on."""
        return self._create(email, password, display_name, admin, None, refresh=False)[0]

    def register(
        self, email: str, password: str, display_name: str, anon_owner: str | None
    ) -> SignIn:
        """A new user, signed in, who keeps what ``anon_owner`` made (one transaction)."""
        if not self.auth.registration_open:
            raise RegistrationClosed("registration is closed; ask an administrator")
        user, upgraded, refresh = self._create(
            email, password, display_name, None, anon_owner, refresh=True
        )
        assert refresh is not None
        return self._session(user, refresh, upgraded)

    def _create(
        self,
        email: str,
        password: str,
        display_name: str,
        admin: bool | None,
        anon_owner: str | None,
        *,
        refresh: bool,
    ) -> tuple[User, dict[str, int] | None, str | None]:
        email = normalize_email(email)
        password_hash = self.passwords.hash(password)
        try:
            with self.db.session() as s:
                if s.scalar(select(User.id).where(User.email == email)) is not None:
                    raise EmailTaken("an account with this email exists")
                if admin is None:
                    first = s.scalar(select(User.id).limit(1)) is None
                    if first and s.get_bind().dialect.name == "postgresql":
                        # two first registrations at once would both see no user: the one
                        # that waits here looks again after the other commits (SQLite's
                        # write transaction already serializes them)
                        s.execute(select(func.pg_advisory_xact_lock(FIRST_USER_LOCK)))
                        first = s.scalar(select(User.id).limit(1)) is None
                    admin = self.auth.first_user_admin and first
                user = User(
                    id=str(uuid.uuid4()),
                    email=email,
                    password_hash=password_hash,
                    display_name=display_name.strip(),
                    role="admin" if admin else "user",
                    disabled=False,
                    created_at=utcnow(),
                )
                s.add(user)
                s.flush()
                secret = self._new_refresh(s, user.id, str(uuid.uuid4())) if refresh else None
                upgraded = self._upgrade(s, user, anon_owner)
        except IntegrityError:
            raise EmailTaken("an account with this email exists") from None
        return user, upgraded, secret

    def login(self, email: str, password: str, address: str, anon_owner: str | None) -> SignIn:
        email = normalize_email(email)
        self.throttle.check(email, address)
        with self.db.read() as s:
            user = s.scalar(select(User).where(User.email == email))
        if not self.passwords.verify(user.password_hash if user else None, password):
            self.throttle.failed(email, address)
            raise InvalidCredentials("wrong email or password")
        assert user is not None
        self.throttle.succeeded(email, address)
        if user.disabled:
            raise AccountDisabled("this account is disabled")
        rehash = None
        if self.passwords.needs_rehash(user.password_hash):
            rehash = self.passwords.hash(password)
        with self.db.session() as s:
            values: dict[str, object] = {"last_login_at": utcnow()}
            if rehash is not None:
                values["password_hash"] = rehash
            s.execute(update(User).where(User.id == user.id).values(values))
            refresh = self._new_refresh(s, user.id, str(uuid.uuid4()))
            upgraded = self._upgrade(s, user, anon_owner)
            self._sweep_upgrades(s, user)
            fresh = s.get(User, user.id)
            assert fresh is not None
        return self._session(fresh, refresh, upgraded)

    def get_user(self, user_id: str) -> User | None:
        with self.db.read() as s:
            return s.get(User, user_id)

    def is_active(self, user_id: str) -> bool:
        user = self.get_user(user_id)
        return user is not None and not user.disabled

    def user_for_access(self, claims: AccessClaims) -> User:
        user = self.get_user(claims.user_id)
        if user is None:
            raise Unauthorized("invalid token")
        if user.disabled:
            raise AccountDisabled("this account is disabled")
        return user

    # -- refresh tokens ------------------------------------------------------------------------
    def _new_refresh(self, s: Session, user_id: str, family_id: str, token_id: str = "") -> str:
        secret = new_secret()
        now = utcnow()
        s.add(
            RefreshToken(
                id=token_id or str(uuid.uuid4()),
                user_id=user_id,
                family_id=family_id,
                token_hash=digest(secret),
                created_at=now,
                expires_at=now + timedelta(seconds=self.auth.refresh_ttl_seconds),
            )
        )
        return secret

    def _session(self, user: User, refresh: str, upgraded: dict[str, int] | None = None) -> SignIn:
        return SignIn(
            user=user,
            access_token=self.access.mint(user.id, user.role),
            refresh_token=refresh,
            expires_in=self.access.ttl,
            upgraded=upgraded,
        )

    def refresh(self, token: str) -> SignIn:
        """Rotate: the token is spent and the next of its family is returned. A spent or
        revoked token presented again revokes its whole family."""
        error: AtelierError | None = None
        with self.db.session() as s:
            row = s.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))
            now = utcnow()
            if row is None:
                raise InvalidRefreshToken("invalid refresh token")
            user = s.get(User, row.user_id)
            next_id = str(uuid.uuid4())
            if user is None:
                raise InvalidRefreshToken("invalid refresh token")
            if user.disabled:
                raise AccountDisabled("this account is disabled")
            if row.revoked_at is not None and row.replaced_by is None:
                raise InvalidRefreshToken("this sign-in has ended; sign in again")
            if row.revoked_at is not None:
                error = RefreshTokenReused("this refresh token was already used; sign in again")
            elif row.expires_at <= now:
                raise InvalidRefreshToken("the refresh token has expired; sign in again")
            else:
                spent = s.execute(
                    update(RefreshToken)
                    .where(RefreshToken.id == row.id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now, replaced_by=next_id)
                )
                if getattr(spent, "rowcount", 0) != 1:  # spent meanwhile by another request
                    error = RefreshTokenReused("this refresh token was already used; sign in again")
            if error is not None:
                self._revoke_family(s, row.family_id, now)
            else:
                secret = self._new_refresh(s, user.id, row.family_id, next_id)
                self._sweep_upgrades(s, user)
        if error is not None:
            raise error
        return self._session(user, secret)

    def _revoke_family(self, s: Session, family_id: str, now: datetime) -> None:
        s.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def logout(self, token: str) -> None:
        """Revoke the refresh token's family (this sign-in on every tab). Unknown: nothing."""
        with self.db.session() as s:
            family = s.scalar(
                select(RefreshToken.family_id).where(RefreshToken.token_hash == digest(token))
            )
            if family is not None:
                self._revoke_family(s, family, utcnow())

    # -- anonymous upgrade ---------------------------------------------------------------------
    def _upgrade(self, s: Session, user: User, anon_owner: str | None) -> dict[str, int] | None:
        if not anon_owner:
            return None
        since = utcnow() - timedelta(seconds=self.auth.session_ttl_seconds + 60)
        moved = move_owner(s, anon_owner, user.owner, since=since)
        s.execute(delete(OwnerUpgrade).where(OwnerUpgrade.anon_owner == anon_owner))
        s.add(OwnerUpgrade(anon_owner=anon_owner, user_id=user.id, created_at=utcnow()))
        return moved

    def _sweep_upgrades(self, s: Session, user: User) -> None:
        """Move again what the user's merged sessions wrote after the move (a task that was
        running then); forget merges older than a session can live."""
        ttl = timedelta(seconds=self.auth.session_ttl_seconds + 60)
        now = utcnow()
        s.execute(
            delete(OwnerUpgrade).where(
                OwnerUpgrade.user_id == user.id, OwnerUpgrade.created_at < now - 2 * ttl
            )
        )
        for link in s.scalars(select(OwnerUpgrade).where(OwnerUpgrade.user_id == user.id)):
            move_owner(s, link.anon_owner, user.owner, since=link.created_at - ttl)

    # -- API keys ------------------------------------------------------------------------------
    def create_api_key(
        self, user: User, name: str, scopes: list[str], expires_in_days: int | None
    ) -> tuple[ApiKey, str]:
        key = new_api_key()
        now = utcnow()
        row = ApiKey(
            id=str(uuid.uuid4()),
            user_id=user.id,
            name=name.strip() or "key",
            prefix=key[:DISPLAY_PREFIX_LENGTH],
            key_hash=digest(key),
            scopes=",".join(scopes),
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        with self.db.session() as s:
            held = s.scalar(
                select(func.count())
                .select_from(ApiKey)
                .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
            )
            if (held or 0) >= self.auth.api_keys_per_user:
                raise TooManyApiKeys(
                    "too many API keys; revoke one first",
                    details={"limit": self.auth.api_keys_per_user},
                )
            s.add(row)
        return row, key

    def list_api_keys(self, user_id: str) -> list[ApiKey]:
        with self.db.read() as s:
            return list(
                s.scalars(
                    select(ApiKey)
                    .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
                    .order_by(ApiKey.created_at.desc(), ApiKey.id)
                )
            )

    def revoke_api_key(self, user_id: str, key_id: str) -> None:
        with self.db.session() as s:
            done = s.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id, ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            if getattr(done, "rowcount", 0) != 1:
                raise NotFound("API key not found", details={"id": key_id})

    def api_key_user(self, key: str) -> tuple[ApiKey, User]:
        """The key's row and user, or :class:`InvalidApiKey` / :class:`AccountDisabled`."""
        if not looks_like_api_key(key) or len(key) > 128:
            raise InvalidApiKey("invalid API key")
        with self.db.read() as s:
            found = s.execute(
                select(ApiKey, User)
                .join(User, User.id == ApiKey.user_id)
                .where(ApiKey.key_hash == digest(key))
            ).first()
        now = utcnow()
        if found is None:
            raise InvalidApiKey("invalid API key")
        row, user = found[0], found[1]
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            raise InvalidApiKey("this API key was revoked or has expired")
        if user.disabled:
            raise AccountDisabled("this account is disabled")
        if row.last_used_at is None or row.last_used_at <= now - LAST_USED_EVERY:
            with self.db.session() as s:
                s.execute(
                    update(ApiKey)
                    .where(
                        ApiKey.id == row.id,
                        or_(
                            ApiKey.last_used_at.is_(None),
                            ApiKey.last_used_at <= now - LAST_USED_EVERY,
                        ),
                    )
                    .values(last_used_at=now)
                )
        return row, user

    # -- administration ------------------------------------------------------------------------
    def list_users(self, limit: int, offset: int) -> tuple[list[User], int]:
        with self.db.read() as s:
            total = int(s.scalar(select(func.count()).select_from(User)) or 0)
            users = list(
                s.scalars(
                    select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
                )
            )
        return users, total

    def update_user(self, user_id: str, role: str | None, disabled: bool | None) -> User:
        """Change a user's role or disabled flag. Disabling ends their sign-ins (refresh
        tokens); their access tokens and API keys are refused from the next request. The
        last enabled admin can be neither demoted nor disabled."""
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("user not found", details={"id": user_id})
            if role is not None:
                user.role = role
            if disabled is not None:
                user.disabled = disabled
            s.flush()
            admins = s.scalar(
                select(func.count())
                .select_from(User)
                .where(User.role == "admin", User.disabled.is_(False))
            )
            if not admins:
                raise LastAdmin("this would leave no enabled admin")
            if user.disabled:
                s.execute(
                    update(RefreshToken)
                    .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow())
                )
        return user
