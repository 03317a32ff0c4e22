"""The state machine, enforced in the database on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from atelier.db.base import utcnow
from atelier.runtime import Runtime
from atelier.tasks import lifecycle
from atelier.tasks.lifecycle import TERMINAL, TRANSITIONS, IllegalTransition, TaskStatus
from atelier.tasks.models import Task, TaskEvent


def new_task(rt: Runtime, status: TaskStatus = TaskStatus.PENDING, owner: str = "o1") -> str:
    task_id = str(uuid.uuid4())
    with rt.db.session() as s:
        s.add(
            Task(
                id=task_id,
                kind="generate",
                owner=owner,
                params={"prompt": "x"},
                status=status.value,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    return task_id


def test_terminal_states_have_no_exit() -> None:
    for status in TERMINAL:
        assert TRANSITIONS[status] == frozenset()
        for target in TaskStatus:
            with pytest.raises(IllegalTransition):
                lifecycle.check(status, target)


def test_pending_cannot_complete_without_running() -> None:
    with pytest.raises(IllegalTransition):
        lifecycle.check("pending", TaskStatus.COMPLETED)
    lifecycle.check("pending", TaskStatus.PROCESSING)


@pytest.mark.parametrize("src", list(TaskStatus))
@pytest.mark.parametrize("dst", list(TaskStatus))
def test_database_refuses_illegal_transitions(
    runtime: Runtime, src: TaskStatus, dst: TaskStatus
) -> None:
    task_id = new_task(runtime, src)
    with runtime.db.session() as s:
        moved = lifecycle.transition(s, task_id, dst)
    with runtime.db.read() as s:
        status = s.get(Task, task_id).status  # type: ignore[union-attr]
    if dst in TRANSITIONS[src]:
        assert moved is not None and status == dst.value
    else:
        assert moved is None and status == src.value


def test_events_have_consecutive_sequence_numbers(runtime: Runtime) -> None:
    task_id = new_task(runtime)
    token = "t1"
    with runtime.db.session() as s:
        assert lifecycle.claim(s, task_id, token, 30) is not None
    for i in range(1, 4):
        with runtime.db.session() as s:
            assert lifecycle.report_progress(
                s, task_id, token, progress=i * 20, stage="gen", current=i, total=3
            )
    with runtime.db.session() as s:
        assert lifecycle.transition(s, task_id, TaskStatus.COMPLETED, holder=token)
    with runtime.db.read() as s:
        events = s.scalars(
            select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.seq)
        ).all()
        task = s.get(Task, task_id)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert [e.type for e in events] == ["started", "progress", "progress", "progress", "completed"]
    assert task is not None and task.last_seq == 5 and task.progress == 100


def test_progress_never_goes_backwards(runtime: Runtime) -> None:
    task_id = new_task(runtime)
    with runtime.db.session() as s:
        lifecycle.claim(s, task_id, "tok", 30)
    seen = []
    for pct in (10, 50, 30, 60, 5):
        with runtime.db.session() as s:
            moved = lifecycle.report_progress(
                s, task_id, "tok", progress=pct, stage="x", current=1, total=1
            )
            assert moved is not None
            seen.append(moved[0].progress)
    assert seen == [10, 50, 50, 60, 60]


def test_only_the_claim_holder_may_report_or_finish(runtime: Runtime) -> None:
    task_id = new_task(runtime)
    with runtime.db.session() as s:
        assert lifecycle.claim(s, task_id, "first", 30) is not None
    with runtime.db.session() as s:
        # a duplicate delivery cannot take a task whose lease is alive
        assert lifecycle.claim(s, task_id, "second", 30) is None
        assert (
            lifecycle.report_progress(
                s, task_id, "second", progress=50, stage="x", current=1, total=2
            )
            is None
        )
        assert lifecycle.transition(s, task_id, TaskStatus.COMPLETED, holder="second") is None
        assert lifecycle.transition(s, task_id, TaskStatus.COMPLETED, holder="first")


def test_lapsed_lease_can_be_taken_over(runtime: Runtime) -> None:
    task_id = new_task(runtime)
    with runtime.db.session() as s:
        assert lifecycle.claim(s, task_id, "dead", lease_seconds=-1) is not None
    with runtime.db.session() as s:
        taken = lifecycle.claim(s, task_id, "alive", 30)
    assert taken is not None
    task, event = taken
    assert task.attempts == 2 and task.claim_token == "alive" and event.type == "started"
    with runtime.db.session() as s:
        assert lifecycle.renew_lease(s, task_id, "dead", 30) is False
        assert lifecycle.renew_lease(s, task_id, "alive", 30) is True


def test_cancel_stops_a_running_attempt(runtime: Runtime) -> None:
    task_id = new_task(runtime)
    with runtime.db.session() as s:
        lifecycle.claim(s, task_id, "tok", 30)
    with runtime.db.session() as s:
        assert lifecycle.transition(s, task_id, TaskStatus.CANCELLED)
    with runtime.db.session() as s:
        assert (
            lifecycle.report_progress(s, task_id, "tok", progress=90, stage="x", current=1, total=1)
            is None
        )
        assert lifecycle.transition(s, task_id, TaskStatus.COMPLETED, holder="tok") is None
