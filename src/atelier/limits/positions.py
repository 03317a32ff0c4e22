"""Queue positions under fair dispatch: how many tasks will start before a waiting one.

A task in the broker (``dispatch_at`` set) starts after every task sent before it: its
position is a count. A held task starts later than that: it is sent only when its owner's
earlier tasks start, and then waits behind whatever is in the broker at that moment. Its
position comes from replaying the policy over the queue's waiting tasks: take the head of
the broker; if its owner has held tasks, the oldest joins the tail. The replay reads every
waiting task of the queue, so it is kept per queue and read again only when the queue has
changed (an aggregate over the queue's index tells), or, on the submission path, at most
every :data:`MIN_REFRESH` seconds (longer for a long queue, :data:`REFRESH_PER_ROW`, so a
burst into a deep queue does not spend its time re-reading it): meanwhile a newly held task
is placed where its owner's next task would go (the replay with phantom tasks added to the
owner's backlog; every owner's found in one replay).
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from atelier.limits.fairness import WAITING
from atelier.tasks.models import Task

MIN_REFRESH = 0.2  # on the submission path, a replay younger than this is extended instead
REFRESH_PER_ROW = 4e-4  # ... longer for a long queue (2 s at 5,000 waiting): a flat cost
FAR = datetime(9000, 1, 1, tzinfo=UTC)  # after every real task: where phantom tasks go

Row = tuple[str, str, datetime | None, datetime]  # id, owner, dispatch_at, created_at


def replay(rows: list[Row], cap: int) -> dict[str, int]:
    """Play fair dispatch forward over a queue's waiting tasks (``rows``): the position of
    each, i.e. how many of them start before it."""
    sent = sorted((r for r in rows if r[2] is not None), key=lambda r: (r[2] or r[3], r[3], r[0]))
    broker: deque[Row] = deque(sent)
    held: dict[str, deque[Row]] = defaultdict(deque)
    for r in sorted((r for r in rows if r[2] is None), key=lambda r: (r[3], r[0])):
        held[r[1]].append(r)
    in_broker: dict[str, int] = defaultdict(int)
    for r in sent:
        in_broker[r[1]] += 1
    for owner, backlog in held.items():  # room not taken yet (a release still to come)
        while backlog and (cap <= 0 or in_broker[owner] < cap):
            broker.append(backlog.popleft())
            in_broker[owner] += 1
    positions: dict[str, int] = {}
    i = 0
    while broker:
        task_id, owner, _, _ = broker.popleft()
        positions[task_id] = i
        more = held.get(owner)
        if more:
            broker.append(more.popleft())
        i += 1
    return positions


Mark = tuple[int, int, datetime | None, datetime | None]


def mark_of(rows: list[Row]) -> Mark:
    """What changes whenever a queue's waiting set does: how many wait, how many of them
    were sent, the newest creation and the newest sending."""
    sent = [r[2] for r in rows if r[2] is not None]
    return (len(rows), len(sent), max((r[3] for r in rows), default=None), max(sent, default=None))


@dataclass
class Replay:
    """One queue, replayed: the position of every waiting task; tasks held after it are
    placed as their owner's next ones."""

    taken: float
    rows: list[Row]
    cap: int
    positions: dict[str, int]
    mark: Mark
    future: dict[str, list[int]] = field(default_factory=dict)
    extra: dict[str, int] = field(default_factory=dict)
    extra_count: dict[str, int] = field(default_factory=dict)
    _next: dict[str, list[int]] | None = None  # every owner's next slots, found together

    def place(self, task_id: str, owner: str) -> int:
        """The position of a waiting task; one newer than the replay is its owner's n-th
        such, placed where the owner's n-th next task would be."""
        hit = self.positions.get(task_id)
        if hit is None:
            hit = self.extra.get(task_id)
        if hit is not None:
            return hit
        n = self.extra_count.get(owner, 0)
        self.extra_count[owner] = n + 1
        slots = self.future.get(owner)
        if slots is None:
            slots = self.future[owner] = self._next_of(owner)
        if n < len(slots):
            position = slots[n]
        else:  # beyond the replayed ones: at the pace of the last two
            position = slots[-1] + max(1, slots[-1] - slots[-2]) * (n - len(slots) + 1)
        self.extra[task_id] = position
        return position

    def _next_of(self, owner: str) -> list[int]:
        """Where the owner's next tasks would land: the replay again, with phantom tasks
        added to the owner's backlog. Every owner's are found in one replay with phantoms
        for all of them: another owner's phantoms only ever join the tail and release
        nothing but their own, so removing them shifts what follows without reordering
        it — a phantom's position is its position there less the others' phantoms ahead."""
        if self._next is None:
            self._next = self._all_next([r[1] for r in self.rows])
        hit = self._next.get(owner)
        if hit is None:  # an owner the replay has not seen: its own replay
            hit = self._all_next([owner])[owner]
        return hit

    def _all_next(self, owners: list[str]) -> dict[str, list[int]]:
        count = 2 * max(2, self.cap)
        unique = list(dict.fromkeys(owners))
        phantoms: dict[str, list[str]] = {}
        rows = list(self.rows)
        for n, who in enumerate(unique):
            ids = [f"\0{n}:{k}" for k in range(count)]
            phantoms[who] = ids
            rows += [(i, who, None, FAR + timedelta(microseconds=k)) for k, i in enumerate(ids)]
        placed = replay(rows, self.cap)
        every = sorted(placed[i] for ids in phantoms.values() for i in ids)
        out: dict[str, list[int]] = {}
        for who, ids in phantoms.items():
            out[who] = [placed[i] - (bisect_left(every, placed[i]) - j) for j, i in enumerate(ids)]
        return out


class Positions:
    """Queue positions of waiting tasks, for one process."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._replays: dict[str, Replay] = {}
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()

    def position(self, session: Session, task: Task, *, exact: bool = True) -> int | None:
        """``exact``: as the queue is now; else possibly from a replay up to
        :data:`MIN_REFRESH` seconds old (the submission path, where a burst of one owner's
        tasks would replay the queue once per task)."""
        if task.status not in WAITING:
            return None
        if task.dispatch_at is not None:
            return self.sent_ahead(session, task)
        return self.held_position(session, task, exact)

    @staticmethod
    def sent_ahead(session: Session, task: Task) -> int:
        """Tasks in the broker ahead of ``task``, which is in it too."""
        d, c = task.dispatch_at, task.created_at
        ahead = session.execute(
            select(func.count())
            .select_from(Task)
            .where(
                Task.queue == task.queue,
                Task.status.in_(WAITING),
                Task.dispatch_at.is_not(None),
                or_(
                    Task.dispatch_at < d,
                    and_(
                        Task.dispatch_at == d,
                        or_(Task.created_at < c, and_(Task.created_at == c, Task.id < task.id)),
                    ),
                ),
            )
        ).scalar_one()
        return int(ahead)

    def held_position(self, session: Session, task: Task, exact: bool) -> int:
        with self._lock:
            current = self._replays.get(task.queue)
        if exact:
            if current is None or current.mark != self._mark(session, task.queue):
                current = self._refresh(session, task.queue)
        elif current is None or (
            task.id not in current.positions
            and task.id not in current.extra
            and time.monotonic() - current.taken
            >= max(MIN_REFRESH, REFRESH_PER_ROW * len(current.rows))
        ):
            current = self._refresh(session, task.queue)
        with self._lock:
            return current.place(task.id, task.owner)

    def cached_place(self, task: Task) -> tuple[int, bool] | None:
        """A held task's position from its queue's replay in memory, without the database
        (the submission path): ``None`` when there is no replay yet; else the position and
        whether the replay is due a refresh (see :meth:`refresh`, run off the request)."""
        with self._lock:
            current = self._replays.get(task.queue)
            if current is None:
                return None
            known = task.id in current.positions or task.id in current.extra
            due = not known and time.monotonic() - current.taken >= max(
                MIN_REFRESH, REFRESH_PER_ROW * len(current.rows)
            )
            return current.place(task.id, task.owner), due

    def refresh(self, session: Session, queue: str) -> None:
        """Replay ``queue`` again from the database."""
        self._refresh(session, queue)

    @staticmethod
    def _mark(session: Session, queue: str) -> Mark:
        count, sent, newest, last_sent = session.execute(
            select(
                func.count(),
                func.count(Task.dispatch_at),
                func.max(Task.created_at),
                func.max(Task.dispatch_at),
            ).where(Task.queue == queue, Task.status.in_(WAITING))
        ).one()
        return (int(count), int(sent), _aware(newest), _aware(last_sent))

    def _refresh(self, session: Session, queue: str) -> Replay:
        asked = time.monotonic()
        with self._refresh_lock:  # one replay at a time; whoever waited for it reads it
            with self._lock:
                latest = self._replays.get(queue)
            if latest is not None and latest.taken >= asked:
                return latest
            taken = time.monotonic()
            rows: list[Row] = [
                (r[0], r[1], r[2], r[3])
                for r in session.execute(
                    select(Task.id, Task.owner, Task.dispatch_at, Task.created_at).where(
                        Task.queue == queue, Task.status.in_(WAITING)
                    )
                )
            ]
            fresh = Replay(taken, rows, self.cap, replay(rows, self.cap), mark_of(rows))
            with self._lock:
                self._replays[queue] = fresh
            return fresh


def _aware(value: datetime | str | None) -> datetime | None:
    """An aggregate of a datetime column, as the column reads (SQLite hands back text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
