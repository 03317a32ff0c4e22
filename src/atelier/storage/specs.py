"""What an endpoint is (:class:`EndpointSpec`), where its definition comes from, and how its
backend is built.

Definitions come from two places:
- the settings: the single backend (``storage.backend``, ``local_root``, ``s3``) is the primary
  endpoint ``default``, and ``storage.endpoints`` adds more (an entry with the id ``default``
  replaces it). These are written to the table at start-up; their connection details (and
  credentials) are always taken from the settings of the process that uses them, never from
  the table.
- the admin API and CLI: such an endpoint's connection details live in the table, and its
  secret key is a *reference*, ``env:NAME`` (an environment variable of every API and worker
  process) or ``file:/path`` (a mounted secret file), resolved each time the backend is built.
  Secrets are never stored in the database.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from atelier.config import S3Settings, Settings, StorageEndpointSettings
from atelier.storage.base import StorageBackend, StorageError
from atelier.storage.models import StorageEndpoint

DEFAULT_ID = "default"
SETTINGS = "settings"
ADMIN = "admin"
SETTINGS_SECRET = "settings"  # the ``secret_access_key_ref`` of an endpoint from the settings
S3_CONNECTION_FIELDS = (
    "endpoint_url",
    "bucket",
    "region",
    "access_key_id",
    "prefix",
    "create_bucket",
    "addressing_style",
    "connect_timeout",
    "read_timeout",
    "max_attempts",
)


class SecretUnavailable(StorageError):
    """A secret reference that this process cannot resolve."""


@dataclass(frozen=True)
class EndpointSpec:
    id: str
    name: str
    type: str
    role: str
    state: str
    read_priority: int
    read_weight: float
    source: str
    config: dict[str, Any]
    needs_scan: bool = False
    planned_at: datetime | None = None

    @property
    def fingerprint(self) -> str:
        """Changes exactly when the backend must be built again."""
        return json.dumps([self.type, self.source, self.config], sort_keys=True, default=str)

    @property
    def location(self) -> str:
        if self.type == "local":
            return str(self.config.get("root", ""))
        url = self.config.get("endpoint_url") or "aws"
        prefix = self.config.get("prefix") or ""
        return f"{url}/{self.config.get('bucket', '')}" + (f"/{prefix}" if prefix else "")

    @classmethod
    def from_row(cls, row: StorageEndpoint) -> EndpointSpec:
        return cls(
            id=row.id,
            name=row.name,
            type=row.type,
            role=row.role,
            state=row.state,
            read_priority=row.read_priority,
            read_weight=row.read_weight,
            source=row.source,
            config=dict(row.config or {}),
            needs_scan=row.needs_scan,
            planned_at=row.planned_at,
        )


def configured_endpoints(settings: Settings) -> list[StorageEndpointSettings]:
    """The endpoints the settings define: ``default`` (the single backend) and the extras."""
    storage = settings.storage
    extras = list(storage.endpoints)
    ids = [e.id for e in extras]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"storage endpoint ids must be unique: {', '.join(duplicates)}")
    if DEFAULT_ID in ids:
        endpoints = extras
    else:
        default = StorageEndpointSettings(
            id=DEFAULT_ID,
            name=DEFAULT_ID,
            type=storage.backend,
            role="primary",
            read_priority=0,
            root=settings.storage_root,
            s3=storage.s3,
        )
        endpoints = [default, *extras]
    for endpoint in endpoints:
        if endpoint.type == "local" and endpoint.root is None:
            raise ValueError(f"storage endpoint {endpoint.id!r} is local and needs a `root`")
    return endpoints


def public_config(endpoint: StorageEndpointSettings) -> dict[str, Any]:
    """The connection details written to the table: everything but secrets."""
    if endpoint.type == "local":
        assert endpoint.root is not None
        return {"root": str(Path(endpoint.root).resolve())}
    s3 = endpoint.s3
    config: dict[str, Any] = {name: getattr(s3, name) for name in S3_CONNECTION_FIELDS}
    config["secret_access_key_ref"] = SETTINGS_SECRET
    return config


def spec_from_settings(endpoint: StorageEndpointSettings) -> EndpointSpec:
    return EndpointSpec(
        id=endpoint.id,
        name=endpoint.name or endpoint.id,
        type=endpoint.type,
        role=endpoint.role,
        state=endpoint.state,
        read_priority=endpoint.read_priority,
        read_weight=endpoint.read_weight,
        source=SETTINGS,
        config=public_config(endpoint),
        needs_scan=True,
    )


def resolve_secret(ref: str) -> str:
    """The value behind ``env:NAME`` or ``file:/path``; an empty reference is no secret."""
    if not ref:
        return ""
    kind, _, target = ref.partition(":")
    if kind == "env" and target:
        value = os.environ.get(target)
        if value is None:
            raise SecretUnavailable(f"environment variable {target!r} is not set")
        return value
    if kind == "file" and target:
        try:
            return Path(target).read_text().strip()
        except OSError as exc:
            raise SecretUnavailable(f"cannot read secret file {target!r}: {exc}") from None
    raise SecretUnavailable(f"unknown secret reference {ref!r}: use env:NAME or file:/path")


def build_backend(
    spec: EndpointSpec, configured: dict[str, StorageEndpointSettings]
) -> StorageBackend:
    """The backend of ``spec``. Raises :class:`StorageError` when it cannot be built (an
    unreachable endpoint with ``create_bucket``, a secret that cannot be resolved)."""
    from_settings = configured.get(spec.id) if spec.source == SETTINGS else None
    if spec.type == "local":
        from atelier.storage.local import LocalStorage

        root = from_settings.root if from_settings is not None else spec.config.get("root")
        if not root:
            raise StorageError(f"local endpoint {spec.id!r} has no root")
        return LocalStorage(Path(root))
    if spec.type == "s3":
        from atelier.storage.s3 import S3Storage

        if from_settings is not None:
            settings = from_settings.s3
        else:
            fields = {k: spec.config[k] for k in S3_CONNECTION_FIELDS if k in spec.config}
            ref = str(spec.config.get("secret_access_key_ref", ""))
            secret = "" if ref == SETTINGS_SECRET else resolve_secret(ref)
            settings = S3Settings(**fields, secret_access_key=SecretStr(secret))
        try:
            return S3Storage(settings)
        except ValueError as exc:  # a prefix that is not a valid key
            raise StorageError(f"endpoint {spec.id!r} is misconfigured: {exc}") from exc
    raise StorageError(f"endpoint {spec.id!r} has an unknown type {spec.type!r}")
