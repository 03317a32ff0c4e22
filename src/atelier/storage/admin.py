"""Managing storage endpoints at run time: list, add, change, drain, remove.

Shared by the admin API (:mod:`atelier.storage.admin_api`) and the CLI
(:mod:`atelier.storage.cli`). Changes are written to the ``storage_endpoints`` table; every
process sees them within ``storage.refresh_interval`` seconds.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.exc import IntegrityError

from atelier.config import Settings
from atelier.db.base import utcnow
from atelier.db.engine import Database
from atelier.errors import AtelierError, Conflict, NotFound, ValidationFailed
from atelier.storage import repository as repo
from atelier.storage.base import StorageBackend, StorageError, validate_key
from atelier.storage.health import PROBE_KEY
from atelier.storage.models import (
    ACTIVE,
    DELETING,
    FAILED,
    PENDING,
    PRESENT,
    REMOVED,
)
from atelier.storage.multi import MultiStorage
from atelier.storage.specs import (
    ADMIN,
    DEFAULT_ID,
    SETTINGS,
    EndpointSpec,
    SecretUnavailable,
    build_backend,
    configured_endpoints,
    spec_from_settings,
)

ENDPOINT_ID = r"^[a-z0-9][a-z0-9_-]{0,62}$"
SECRET_REF = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]{0,127}|file:/[^\x00]{1,1023})$")


# -- errors ---------------------------------------------------------------------------------
class MultiStorageOff(AtelierError):
    status_code = 409
    code = "multi_storage_off"


class EndpointNotFound(NotFound):
    code = "endpoint_not_found"


class EndpointExists(Conflict):
    code = "endpoint_exists"


class EndpointNotDrained(Conflict):
    code = "endpoint_not_drained"


class EndpointHoldsOnlyCopy(Conflict):
    code = "endpoint_holds_only_copy"


class EndpointScanPending(Conflict):
    code = "endpoint_scan_pending"


class LastActiveEndpoint(Conflict):
    code = "last_active_endpoint"


class EndpointUnreachable(ValidationFailed):
    code = "endpoint_unreachable"


class SecretRefUnavailable(ValidationFailed):
    code = "secret_unavailable"


# -- schemas --------------------------------------------------------------------------------
class S3EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    endpoint_url: str = Field(default="", max_length=512, description="Empty for AWS.")
    region: str = Field(default="us-east-1", max_length=64)
    access_key_id: str = Field(default="", max_length=256)
    secret_access_key_ref: str = Field(
        default="",
        max_length=1100,
        description="Where the secret key is: `env:NAME` or `file:/path` (never the key).",
    )
    secret_access_key: str | None = Field(
        default=None, description="Refused: secrets are not stored; use secret_access_key_ref."
    )
    prefix: str = Field(default="", max_length=256)
    create_bucket: bool = False
    addressing_style: Literal["auto", "path", "virtual"] = "path"
    connect_timeout: float = Field(default=5.0, gt=0, le=300, allow_inf_nan=False)
    read_timeout: float = Field(default=30.0, gt=0, le=3600, allow_inf_nan=False)
    max_attempts: int = Field(default=3, ge=1, le=10)

    @field_validator("endpoint_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            raise ValueError("endpoint_url must be an http:// or https:// URL")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.strip("/")
        if value:
            validate_key(value)
        return value

    @field_validator("secret_access_key_ref")
    @classmethod
    def _ref(cls, value: str) -> str:
        if value and not SECRET_REF.match(value):
            raise ValueError("secret_access_key_ref must be env:NAME or file:/path")
        return value

    @model_validator(mode="after")
    def _no_plain_secret(self) -> S3EndpointIn:
        if self.secret_access_key is not None:
            raise ValueError(
                "secrets are not stored in the database: put the key in an environment "
                "variable or a file on every API and worker machine and pass "
                "secret_access_key_ref (env:NAME or file:/path)"
            )
        return self


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ENDPOINT_ID, description="Lower-case letters, digits, - and _.")
    name: str = Field(default="", max_length=128)
    type: Literal["local", "s3"]
    role: Literal["primary", "backup"] = "backup"
    read_priority: int = Field(default=100, ge=0, le=1_000_000)
    read_weight: float = Field(default=1.0, ge=0, le=1_000_000, allow_inf_nan=False)
    root: str | None = Field(default=None, max_length=1024, description="`local`: directory.")
    s3: S3EndpointIn | None = Field(default=None, description="`s3`: the bucket.")

    @model_validator(mode="after")
    def _by_type(self) -> EndpointIn:
        if self.type == "local":
            if not self.root or "\x00" in self.root or not self.root.startswith("/"):
                raise ValueError("a local endpoint needs an absolute `root` directory")
            if self.s3 is not None:
                raise ValueError("a local endpoint takes no `s3` settings")
        else:
            if self.s3 is None:
                raise ValueError("an s3 endpoint needs `s3` settings (at least the bucket)")
            if self.root is not None:
                raise ValueError("an s3 endpoint takes no `root`")
        return self

    def spec(self) -> EndpointSpec:
        if self.type == "local":
            assert self.root is not None
            config: dict[str, Any] = {"root": self.root}
        else:
            assert self.s3 is not None
            config = self.s3.model_dump(exclude={"secret_access_key"})
        return EndpointSpec(
            id=self.id,
            name=self.name or self.id,
            type=self.type,
            role=self.role,
            state=ACTIVE,
            read_priority=self.read_priority,
            read_weight=self.read_weight,
            source=ADMIN,
            config=config,
        )


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=128)
    role: Literal["primary", "backup"] | None = None
    state: Literal["active", "draining", "down"] | None = None
    read_priority: int | None = Field(default=None, ge=0, le=1_000_000)
    read_weight: float | None = Field(default=None, ge=0, le=1_000_000, allow_inf_nan=False)


class EndpointView(BaseModel):
    id: str
    name: str
    type: str
    role: str
    state: str
    read_priority: int
    read_weight: float
    source: str = Field(description="`settings` or `admin`.")
    location: str = Field(description="Directory, or endpoint URL / bucket / prefix.")
    healthy: bool | None = Field(description="Last probe or operation; null: never checked.")
    health_error: str | None = None
    checked_at: datetime | None = None
    probe_ms: float | None = None
    objects: int | None = Field(description="Objects held (null without multi storage).")
    pending: int | None = Field(description="Copies due here (pending or failed).")
    failed: int | None = Field(description="Of those, copies whose last attempt failed.")
    deleting: int | None = Field(description="Deletions to retry here.")
    needs_scan: bool = False


class EndpointList(BaseModel):
    multi: bool = Field(description="Multi-endpoint storage is on.")
    endpoints: list[EndpointView]
    pending_replicas: int | None = Field(description="Copies due on all endpoints.")


# -- the service ----------------------------------------------------------------------------
class StorageAdmin:
    def __init__(self, settings: Settings, db: Database, storage: StorageBackend) -> None:
        self.settings = settings
        self.db = db
        self.storage = storage

    @property
    def multi(self) -> MultiStorage:
        if not isinstance(self.storage, MultiStorage):
            raise MultiStorageOff(
                "multi-endpoint storage is off: set ATELIER_STORAGE__MULTI=true or "
                "ATELIER_STORAGE__ENDPOINTS and restart",
            )
        return self.storage

    def list(self, max_age: float | None = None) -> EndpointList:
        """Every endpoint with its health (probed when older than ``max_age`` seconds;
        default the health interval) and replica counts."""
        age = self.settings.storage.health_interval if max_age is None else max_age
        if not isinstance(self.storage, MultiStorage):
            return EndpointList(multi=False, endpoints=[self._single()], pending_replicas=None)
        health = self.storage.check_health(age)
        with self.db.read() as s:
            counts = repo.counts(s)
        views = [
            self._view(spec, counts.get(spec.id, {}), health.get(spec.id))
            for spec in self.storage.endpoints()
        ]
        pending = sum(v.pending or 0 for v in views)
        return EndpointList(multi=True, endpoints=views, pending_replicas=pending)

    def get(self, endpoint_id: str) -> EndpointView:
        for view in self.list().endpoints:
            if view.id == endpoint_id:
                return view
        raise EndpointNotFound(
            f"no storage endpoint {endpoint_id!r}", details={"endpoint_id": endpoint_id}
        )

    def add(self, body: EndpointIn) -> EndpointView:
        multi = self.multi
        spec = body.spec()
        with self.db.read() as s:
            row = repo.get_endpoint(s, spec.id)
        if row is not None and row.state != REMOVED:
            raise EndpointExists(
                f"storage endpoint {spec.id!r} exists", details={"endpoint_id": spec.id}
            )
        self._verify(spec)
        try:
            with self.db.session() as s:
                repo.add_endpoint(s, spec, utcnow())
        except IntegrityError:  # added by someone else meanwhile
            raise EndpointExists(
                f"storage endpoint {spec.id!r} exists", details={"endpoint_id": spec.id}
            ) from None
        multi.refresh(force=True)
        return self.get(spec.id)

    def _verify(self, spec: EndpointSpec) -> None:
        """Build the endpoint's backend here and write and read the probe key."""
        try:
            backend = build_backend(spec, {})
        except SecretUnavailable as exc:
            raise SecretRefUnavailable(str(exc), details={"endpoint_id": spec.id}) from None
        except StorageError as exc:
            raise EndpointUnreachable(
                f"storage endpoint {spec.id!r} is not usable: {exc}",
                details={"endpoint_id": spec.id},
            ) from None
        try:
            backend.put(PROBE_KEY, b"probe", "text/plain")
            backend.stat(PROBE_KEY)
        except StorageError as exc:
            raise EndpointUnreachable(
                f"storage endpoint {spec.id!r} is not usable: {exc}",
                details={"endpoint_id": spec.id},
            ) from None
        finally:
            backend.close()

    def update(self, endpoint_id: str, patch: EndpointPatch) -> EndpointView:
        multi = self.multi
        values = patch.model_dump(exclude_none=True)
        with self.db.session() as s:
            row = repo.get_endpoint(s, endpoint_id)
            if row is None or row.state == REMOVED:
                raise EndpointNotFound(
                    f"no storage endpoint {endpoint_id!r}", details={"endpoint_id": endpoint_id}
                )
            state = values.get("state")
            leaving = state is not None and state != ACTIVE and row.state == ACTIVE
            if leaving and repo.writable_count(s, excluding=endpoint_id) == 0:
                raise LastActiveEndpoint(
                    f"{endpoint_id!r} is the only active endpoint: add another first",
                    details={"endpoint_id": endpoint_id},
                )
            if state == ACTIVE and row.state != ACTIVE:
                values["planned_at"] = None  # catch up with what it missed
            if values:
                repo.set_endpoint(s, endpoint_id, utcnow(), **values)
        multi.refresh(force=True)
        return self.get(endpoint_id)

    def drain(self, endpoint_id: str) -> EndpointView:
        """No new objects or copies go to the endpoint; the replication job copies what it
        holds to the active endpoints, after which it can be removed."""
        return self.update(endpoint_id, EndpointPatch(state="draining"))

    def remove(self, endpoint_id: str) -> None:
        multi = self.multi
        with self.db.session() as s:
            row = repo.get_endpoint(s, endpoint_id)
            if row is None or row.state == REMOVED:
                raise EndpointNotFound(
                    f"no storage endpoint {endpoint_id!r}", details={"endpoint_id": endpoint_id}
                )
            details: dict[str, Any] = {"endpoint_id": endpoint_id}
            if row.state == ACTIVE:
                raise EndpointNotDrained(
                    f"drain {endpoint_id!r} before removing it", details=details
                )
            n, sample = repo.only_copies(s, endpoint_id)
            if n:
                raise EndpointHoldsOnlyCopy(
                    f"{endpoint_id!r} holds the only copy of {n} object(s); "
                    "wait for the replication job to copy them",
                    details={**details, "objects": n, "sample": sample},
                )
            if row.needs_scan:
                raise EndpointScanPending(
                    f"{endpoint_id!r} has not been scanned yet; wait for the replication job",
                    details=details,
                )
            repo.remove_endpoint(s, endpoint_id, utcnow())
        multi.refresh(force=True)

    # -- views -------------------------------------------------------------------------------
    def _view(self, spec: EndpointSpec, counts: dict[str, int], health: Any) -> EndpointView:
        failed = counts.get(FAILED, 0)
        return EndpointView(
            id=spec.id,
            name=spec.name,
            type=spec.type,
            role=spec.role,
            state=spec.state,
            read_priority=spec.read_priority,
            read_weight=spec.read_weight,
            source=spec.source,
            location=spec.location,
            healthy=None if health is None or not health.checked else health.healthy,
            health_error=None if health is None else health.error,
            checked_at=None if health is None else health.checked_at,
            probe_ms=None if health is None else health.probe_ms,
            objects=counts.get(PRESENT, 0),
            pending=counts.get(PENDING, 0) + failed,
            failed=failed,
            deleting=counts.get(DELETING, 0),
            needs_scan=spec.needs_scan,
        )

    def _single(self) -> EndpointView:
        endpoint = next(e for e in configured_endpoints(self.settings) if e.id == DEFAULT_ID)
        spec = spec_from_settings(endpoint)
        error = None
        try:
            self.storage.put(PROBE_KEY, b"probe", "text/plain")
            self.storage.stat(PROBE_KEY)
        except StorageError as exc:
            error = f"{type(exc).__name__}: {exc}"
        return EndpointView(
            id=spec.id,
            name=spec.name,
            type=spec.type,
            role=spec.role,
            state=spec.state,
            read_priority=spec.read_priority,
            read_weight=spec.read_weight,
            source=SETTINGS,
            location=spec.location,
            healthy=error is None,
            health_error=error,
            checked_at=utcnow(),
            objects=None,
            pending=None,
            failed=None,
            deleting=None,
        )
