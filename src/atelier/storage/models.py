"""Tables of multi-endpoint storage: the endpoints, and which endpoint holds which object.

``storage_endpoints`` is seeded from the settings and then owned by the admin API and CLI.
Secrets are never stored: an endpoint from the settings takes its credentials from the
settings of each process, and an endpoint added at run time names where to find them
(``env:NAME`` or ``file:/path``), see :mod:`atelier.storage.specs`.

``storage_replicas`` has one row per (object key, endpoint): ``present`` (the endpoint holds
the bytes), ``pending`` (a copy is due), ``failed`` (the last copy failed; retried at
``next_attempt_at`` with exponential backoff) or ``deleting`` (the object was deleted but this
endpoint could not be reached; retried the same way).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from atelier.db.base import Base, utcnow

# endpoint states (``removed`` rows are tombstones: kept so the settings do not add them again)
ACTIVE = "active"
DRAINING = "draining"
DOWN = "down"
REMOVED = "removed"
STATES = (ACTIVE, DRAINING, DOWN)

PRIMARY = "primary"
BACKUP = "backup"

# replica statuses
PRESENT = "present"
PENDING = "pending"
FAILED = "failed"
DELETING = "deleting"


class StorageEndpoint(Base):
    __tablename__ = "storage_endpoints"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    read_priority: Mapped[int] = mapped_column(Integer)
    read_weight: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))  # settings | admin
    config: Mapped[dict[str, Any]] = mapped_column(JSON)  # no secrets, see the module doc
    needs_scan: Mapped[bool] = mapped_column(Boolean)
    planned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StorageReplica(Base):
    __tablename__ = "storage_replicas"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("storage_endpoints.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_storage_replicas_endpoint_status", "endpoint_id", "status"),
        Index("ix_storage_replicas_due", "status", "next_attempt_at"),
    )
