"""Task quotas per owner class, counted from the tasks table: tasks active at once
(pending, processing or retrying) and tasks created in the last 24 hours (a rolling window).

Only the tasks a caller submits count: child tasks (a manga's panels) and internal kinds (the
library's automatic tagging) do not, their parent does. One owner's submissions pass the
check one at a time in a process (count, then commit), so concurrent requests can neither slip
past a quota together nor be refused for a task still being written; across API processes a
burst can overshoot by the submissions in flight elsewhere (bounded by the submission rate
limit).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from atelier.db.base import utcnow
from atelier.errors import AtelierError
from atelier.limits.policy import (
    USER_PREFIX,
    ClassPolicy,
    OwnerClass,
    class_of,
    limits_active,
    policy_for,
)
from atelier.tasks.kinds import kinds
from atelier.tasks.lifecycle import ACTIVE
from atelier.tasks.models import Task

if TYPE_CHECKING:
    from atelier.db.engine import Database
    from atelier.runtime import Runtime

log = logging.getLogger(__name__)
WINDOW = timedelta(hours=24)
ROLE_TTL = 30.0
ACTIVE_STATES = [s.value for s in ACTIVE]


class QuotaExceeded(AtelierError):
    status_code = 429
    code = "quota_exceeded"

    def __init__(self, message: str, *, quota: str, limit: int, retry_after: float | None) -> None:
        details: dict[str, Any] = {"quota": quota, "limit": limit}
        headers: dict[str, str] = {}
        if retry_after is not None:
            seconds = max(1, int(retry_after + 0.999))
            details["retry_after"] = seconds
            headers["Retry-After"] = str(seconds)
        super().__init__(message, details=details, headers=headers)


@dataclass(frozen=True)
class Usage:
    concurrent: int
    daily: int
    oldest: datetime | None  # the oldest task inside the daily window


class Roles:
    """Account roles by owner id, cached for :data:`ROLE_TTL` seconds."""

    def __init__(self, db: Database, max_entries: int = 10_000) -> None:
        self.db = db
        self.max_entries = max_entries
        self._cache: OrderedDict[str, tuple[str | None, float]] = OrderedDict()
        self._lock = threading.Lock()

    def role_of(self, owner: str) -> str | None:
        if not owner.startswith(USER_PREFIX):
            return None
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(owner)
            if hit is not None and now - hit[1] < ROLE_TTL:
                return hit[0]
        from atelier.accounts.models import User

        try:
            with self.db.read() as s:
                role = s.scalar(select(User.role).where(User.id == owner[len(USER_PREFIX) :]))
        except SQLAlchemyError:
            log.warning("could not read the role of %s; counting it as a user", owner)
            return None
        with self._lock:
            self._cache[owner] = (role, now)
            self._cache.move_to_end(owner)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return role


def usage(session: Session, owner: str, now: datetime | None = None) -> Usage:
    """The owner's active tasks and tasks created within the daily window."""
    since = (now or utcnow()) - WINDOW
    recent = Task.created_at >= since
    concurrent, daily, oldest = session.execute(
        select(
            func.coalesce(func.sum(case((Task.status.in_(ACTIVE_STATES), 1), else_=0)), 0),
            func.coalesce(func.sum(case((recent, 1), else_=0)), 0),
            func.min(case((recent, Task.created_at), else_=None)),
        ).where(
            Task.owner == owner,
            Task.parent_id.is_(None),
            Task.kind.in_(kinds()),
            or_(Task.status.in_(ACTIVE_STATES), recent),
        )
    ).one()
    if isinstance(oldest, str):  # SQLite hands an aggregate of a datetime back as text
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=since.tzinfo)
    return Usage(int(concurrent), int(daily), oldest)


def frees_at(session: Session, owner: str, nth: int, now: datetime) -> datetime | None:
    """When the ``nth`` oldest task (1-based) of the daily window leaves it."""
    created = session.scalar(
        select(Task.created_at)
        .where(
            Task.owner == owner,
            Task.parent_id.is_(None),
            Task.kind.in_(kinds()),
            Task.created_at >= now - WINDOW,
        )
        .order_by(Task.created_at)
        .offset(max(0, nth - 1))
        .limit(1)
    )
    return None if created is None else created + WINDOW


class Quotas:
    """The quota check of one process (see the module docstring)."""

    def __init__(self, runtime: Runtime) -> None:
        self.db = runtime.db
        self.active = limits_active(runtime.settings)
        self.policies: dict[OwnerClass, ClassPolicy] = {
            name: policy_for(runtime.settings.limits, name) for name in ("anon", "user", "admin")
        }
        self.roles = Roles(runtime.db)
        self._gates: dict[str, tuple[threading.Lock, int]] = {}  # per owner, with its users
        self._lock = threading.Lock()

    def class_of(self, owner: str) -> OwnerClass:
        return class_of(owner, self.roles.role_of(owner))

    def might_apply(self, owner: str) -> bool:
        """Whether a quota may apply to the owner, known without I/O."""
        if not self.active:
            return False
        if owner.startswith(USER_PREFIX):
            classes: tuple[OwnerClass, ...] = ("user", "admin")
        else:
            classes = (class_of(owner, None),)
        return any(self._limited(self.policies[c]) for c in classes)

    @staticmethod
    def _limited(policy: ClassPolicy) -> bool:
        return policy.concurrent_tasks > 0 or policy.daily_tasks > 0

    @contextmanager
    def admit(self, owner: str) -> Iterator[None]:
        """Around the creation of one task: raise :class:`QuotaExceeded` when the owner has
        no room left. The owner's other submissions in this process wait their turn."""
        if not self.might_apply(owner):
            yield
            return
        policy = self.policies[self.class_of(owner)]
        if not self._limited(policy):
            yield
            return
        # one submission of an owner at a time in this process, from the count to the
        # commit: a count taken beside another's uncommitted task would be off by one
        with self._lock:
            gate, waiting = self._gates.get(owner, (threading.Lock(), 0))
            self._gates[owner] = (gate, waiting + 1)
        try:
            with gate:
                self._check(owner, policy)
                yield
        finally:
            with self._lock:
                gate, waiting = self._gates[owner]
                if waiting > 1:
                    self._gates[owner] = (gate, waiting - 1)
                else:
                    del self._gates[owner]

    def _check(self, owner: str, policy: ClassPolicy) -> None:
        now = utcnow()
        with self.db.read() as s:
            used = usage(s, owner, now)
            limit = policy.concurrent_tasks
            if limit and used.concurrent >= limit:
                raise QuotaExceeded(
                    f"{limit} task(s) at once is the most for this account class; wait for "
                    "one to finish or cancel one",
                    quota="concurrent",
                    limit=limit,
                    retry_after=None,
                )
            limit = policy.daily_tasks
            if limit and used.daily >= limit:
                # room comes back when enough of the oldest tasks leave the window
                frees = frees_at(s, owner, used.daily - limit + 1, now)
                raise QuotaExceeded(
                    f"{limit} tasks per 24 hours is the most for this account class",
                    quota="daily",
                    limit=limit,
                    retry_after=(frees - now).total_seconds() if frees else None,
                )
