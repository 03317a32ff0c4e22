"""All SQL of multi-endpoint storage. Every function takes the caller's session; changes that
race with other processes are compare-and-set, so any number of API processes and workers may
run them at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from atelier.db.base import UTCDateTime
from atelier.storage.models import (
    ACTIVE,
    DELETING,
    FAILED,
    PENDING,
    PRESENT,
    REMOVED,
    StorageEndpoint,
    StorageReplica,
)
from atelier.storage.specs import SETTINGS, EndpointSpec

REPLICA_COLUMNS = ("key", "endpoint_id", "status", "attempts", "next_attempt_at", "updated_at")


def _insert(session: Session, table: Any) -> Any:
    """A dialect's INSERT, which knows ``ON CONFLICT`` (PostgreSQL and SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _error(text: str | None) -> str | None:
    return None if text is None else text[:1000]


# -- endpoints ------------------------------------------------------------------------------
def seed_endpoint(session: Session, spec: EndpointSpec, now: datetime) -> None:
    """Add an endpoint defined by the settings unless the table has it (removed ones too);
    keep the connection details of a settings endpoint in step with the settings."""
    values = {
        "id": spec.id,
        "name": spec.name,
        "type": spec.type,
        "role": spec.role,
        "state": spec.state,
        "read_priority": spec.read_priority,
        "read_weight": spec.read_weight,
        "source": SETTINGS,
        "config": spec.config,
        "needs_scan": True,
        "planned_at": None,
        "created_at": now,
        "updated_at": now,
    }
    session.execute(_insert(session, StorageEndpoint).values(values).on_conflict_do_nothing())
    row = session.get(StorageEndpoint, spec.id)
    if (
        row is not None
        and row.source == SETTINGS
        and row.state != REMOVED
        and (row.config != spec.config or row.type != spec.type)
    ):
        row.config = spec.config
        row.type = spec.type
        row.needs_scan = True  # a new location may hold other objects
        row.updated_at = now


def load_endpoints(session: Session) -> list[EndpointSpec]:
    rows = session.scalars(
        select(StorageEndpoint)
        .where(StorageEndpoint.state != REMOVED)
        .order_by(StorageEndpoint.read_priority, StorageEndpoint.id)
    ).all()
    return [EndpointSpec.from_row(r) for r in rows]


def get_endpoint(session: Session, endpoint_id: str) -> StorageEndpoint | None:
    return session.get(StorageEndpoint, endpoint_id)


def set_endpoint(session: Session, endpoint_id: str, now: datetime, **values: Any) -> bool:
    result = session.execute(
        update(StorageEndpoint)
        .where(StorageEndpoint.id == endpoint_id, StorageEndpoint.state != REMOVED)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def replan_all(session: Session) -> None:
    """Make the next replication pass check every endpoint against every object."""
    session.execute(
        update(StorageEndpoint)
        .where(StorageEndpoint.state != REMOVED)
        .values(planned_at=None)
        .execution_options(synchronize_session=False)
    )


# -- writes and reads -----------------------------------------------------------------------
def record_put(
    session: Session, key: str, writer: str, others: Iterable[str], now: datetime
) -> bool:
    """``key`` was written to ``writer``: present there, pending on ``others``. False (and
    nothing recorded) when ``writer`` was removed meanwhile."""
    wanted = {writer, *others}
    states = dict(
        session.execute(
            select(StorageEndpoint.id, StorageEndpoint.state).where(StorageEndpoint.id.in_(wanted))
        ).all()
    )
    if states.get(writer, REMOVED) == REMOVED:
        return False
    rows = [
        {
            "key": key,
            "endpoint_id": endpoint_id,
            "status": PRESENT if endpoint_id == writer else PENDING,
            "attempts": 0,
            "last_error": None,
            "next_attempt_at": now,
            "updated_at": now,
        }
        for endpoint_id in sorted(wanted)
        if states.get(endpoint_id, REMOVED) != REMOVED
    ]
    stmt = _insert(session, StorageReplica).values(rows)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key", "endpoint_id"],
            set_={
                "status": stmt.excluded.status,
                "attempts": 0,
                "last_error": None,
                "next_attempt_at": now,
                "updated_at": now,
            },
        )
    )
    return True


def holders(session: Session, key: str) -> dict[str, str]:
    """Endpoint id → status of every replica row of ``key``."""
    rows = session.execute(
        select(StorageReplica.endpoint_id, StorageReplica.status).where(StorageReplica.key == key)
    ).all()
    return {endpoint_id: status for endpoint_id, status in rows}


def mark_lost(session: Session, key: str, endpoint_ids: Sequence[str], now: datetime) -> None:
    """Read repair: an endpoint said it does not have an object it should hold."""
    session.execute(
        update(StorageReplica)
        .where(
            StorageReplica.key == key,
            StorageReplica.endpoint_id.in_(endpoint_ids),
            StorageReplica.status == PRESENT,
        )
        .values(status=PENDING, next_attempt_at=now, updated_at=now, last_error="object missing")
        .execution_options(synchronize_session=False)
    )


def record_delete(
    session: Session, key: str, done: Sequence[str], failed: dict[str, str], now: datetime
) -> None:
    """After a delete: rows of endpoints that deleted are gone, the others are ``deleting``."""
    if done:
        session.execute(
            delete(StorageReplica)
            .where(StorageReplica.key == key, StorageReplica.endpoint_id.in_(done))
            .execution_options(synchronize_session=False)
        )
    if not failed:
        return
    known = set(
        session.scalars(
            select(StorageEndpoint.id).where(
                StorageEndpoint.id.in_(list(failed)), StorageEndpoint.state != REMOVED
            )
        ).all()
    )
    rows = [
        {
            "key": key,
            "endpoint_id": endpoint_id,
            "status": DELETING,
            "attempts": 0,
            "last_error": _error(error),
            "next_attempt_at": now,
            "updated_at": now,
        }
        for endpoint_id, error in sorted(failed.items())
        if endpoint_id in known
    ]
    if not rows:
        return
    stmt = _insert(session, StorageReplica).values(rows)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key", "endpoint_id"],
            set_={
                "status": DELETING,
                "attempts": 0,
                "last_error": stmt.excluded.last_error,
                "next_attempt_at": now,
                "updated_at": now,
            },
        )
    )


# -- replication ----------------------------------------------------------------------------
def insert_present(session: Session, endpoint_id: str, keys: Sequence[str], now: datetime) -> int:
    """A scan found ``keys`` on the endpoint: record them where nothing is recorded yet;
    returns how many were new."""
    if not keys:
        return 0
    rows = [
        {
            "key": key,
            "endpoint_id": endpoint_id,
            "status": PRESENT,
            "attempts": 0,
            "next_attempt_at": now,
            "updated_at": now,
        }
        for key in keys
    ]
    stmt = (
        _insert(session, StorageReplica)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(StorageReplica.key)
    )
    return len(session.connection().execute(stmt).all())


def plan(session: Session, target: str, now: datetime, limit: int) -> int:
    """Add ``pending`` rows on ``target`` for objects present elsewhere and unknown there;
    returns how many (at most ``limit``)."""
    other = aliased(StorageReplica)
    missing = (
        select(StorageReplica.key)
        .where(
            StorageReplica.status == PRESENT,
            StorageReplica.endpoint_id != target,
            ~exists().where(other.key == StorageReplica.key, other.endpoint_id == target),
        )
        .distinct()
        .limit(limit)
        .subquery()
    )
    source = select(
        missing.c.key,
        literal(target),
        literal(PENDING),
        literal(0),
        literal(now, UTCDateTime()),
        literal(now, UTCDateTime()),
    ).where(text("1 = 1"))  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
    stmt = (
        _insert(session, StorageReplica)
        .from_select(list(REPLICA_COLUMNS), source)
        .on_conflict_do_nothing()
        .returning(StorageReplica.key)  # rowcount is not reported for INSERT ... SELECT
    )
    return len(session.connection().execute(stmt).all())


@dataclass(frozen=True)
class Due:
    key: str
    endpoint_id: str
    attempts: int
    next_attempt_at: datetime


def due(
    session: Session, statuses: Sequence[str], endpoint_ids: Sequence[str], now: datetime, n: int
) -> list[Due]:
    if not endpoint_ids:
        return []
    rows = session.execute(
        select(
            StorageReplica.key,
            StorageReplica.endpoint_id,
            StorageReplica.attempts,
            StorageReplica.next_attempt_at,
        )
        .where(
            StorageReplica.status.in_(statuses),
            StorageReplica.endpoint_id.in_(endpoint_ids),
            StorageReplica.next_attempt_at <= now,
        )
        .order_by(StorageReplica.next_attempt_at)
        .limit(n)
    ).all()
    return [Due(*row) for row in rows]


def claim(session: Session, item: Due, statuses: Sequence[str], until: datetime) -> bool:
    """Take a due row for ``until`` (nobody else will take it before)."""
    result = session.execute(
        update(StorageReplica)
        .where(
            StorageReplica.key == item.key,
            StorageReplica.endpoint_id == item.endpoint_id,
            StorageReplica.status.in_(statuses),
            StorageReplica.next_attempt_at == item.next_attempt_at,
        )
        .values(next_attempt_at=until, attempts=StorageReplica.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def _claimed(item: Due, statuses: Sequence[str], until: datetime) -> Any:
    return (
        (StorageReplica.key == item.key)
        & (StorageReplica.endpoint_id == item.endpoint_id)
        & StorageReplica.status.in_(statuses)
        & (StorageReplica.next_attempt_at == until)
    )


def copied(session: Session, item: Due, until: datetime, now: datetime) -> bool:
    """The claimed copy succeeded. False when the row changed meanwhile (deleted, rewritten)."""
    result = session.execute(
        update(StorageReplica)
        .where(_claimed(item, (PENDING, FAILED), until))
        .values(status=PRESENT, last_error=None, next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def deleted(session: Session, item: Due, until: datetime) -> None:
    session.execute(
        delete(StorageReplica)
        .where(_claimed(item, (DELETING,), until))
        .execution_options(synchronize_session=False)
    )


def retry_later(
    session: Session,
    item: Due,
    statuses: Sequence[str],
    until: datetime,
    error: str,
    at: datetime,
    now: datetime,
) -> None:
    status = DELETING if DELETING in statuses else FAILED
    session.execute(
        update(StorageReplica)
        .where(_claimed(item, statuses, until))
        .values(status=status, last_error=_error(error), next_attempt_at=at, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def replica_status(session: Session, key: str, endpoint_id: str) -> str | None:
    return session.scalar(
        select(StorageReplica.status).where(
            StorageReplica.key == key, StorageReplica.endpoint_id == endpoint_id
        )
    )


# -- admin ----------------------------------------------------------------------------------
def counts(session: Session) -> dict[str, dict[str, int]]:
    """Endpoint id → status → number of replica rows."""
    out: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(StorageReplica.endpoint_id, StorageReplica.status, func.count()).group_by(
            StorageReplica.endpoint_id, StorageReplica.status
        )
    ).all()
    for endpoint_id, status, n in rows:
        out.setdefault(endpoint_id, {})[status] = int(n)
    return out


def only_copies(session: Session, endpoint_id: str, sample: int = 5) -> tuple[int, list[str]]:
    """Objects whose only copy is on ``endpoint_id``: how many, and a few of their keys."""
    other = aliased(StorageReplica)
    condition = (
        (StorageReplica.endpoint_id == endpoint_id)
        & (StorageReplica.status == PRESENT)
        & ~exists().where(
            other.key == StorageReplica.key,
            other.endpoint_id != endpoint_id,
            other.status == PRESENT,
        )
    )
    n = session.scalar(select(func.count()).select_from(StorageReplica).where(condition)) or 0
    keys = session.scalars(
        select(StorageReplica.key).where(condition).order_by(StorageReplica.key).limit(sample)
    ).all()
    return int(n), list(keys)


def remove_endpoint(session: Session, endpoint_id: str, now: datetime) -> None:
    """Tombstone the endpoint (the settings will not add it again) and forget its replicas."""
    session.execute(
        delete(StorageReplica)
        .where(StorageReplica.endpoint_id == endpoint_id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(StorageEndpoint)
        .where(StorageEndpoint.id == endpoint_id)
        .values(state=REMOVED, updated_at=now, needs_scan=False, planned_at=None)
        .execution_options(synchronize_session=False)
    )


def add_endpoint(session: Session, spec: EndpointSpec, now: datetime) -> StorageEndpoint:
    """Insert an endpoint, or bring a removed one back under the same id."""
    row = session.get(StorageEndpoint, spec.id)
    if row is None:
        row = StorageEndpoint(id=spec.id, created_at=now)
        session.add(row)
    row.name = spec.name
    row.type = spec.type
    row.role = spec.role
    row.state = spec.state
    row.read_priority = spec.read_priority
    row.read_weight = spec.read_weight
    row.source = spec.source
    row.config = spec.config
    row.needs_scan = spec.needs_scan
    row.planned_at = None
    row.updated_at = now
    return row


def writable_count(session: Session, excluding: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(StorageEndpoint)
            .where(StorageEndpoint.state == ACTIVE, StorageEndpoint.id != excluding)
        )
        or 0
    )
