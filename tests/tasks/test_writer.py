"""Group commit of new tasks: batching, the idempotency race inside a batch, failures."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from atelier.runtime import Runtime
from atelier.tasks.models import Task, TaskEvent
from atelier.tasks.schemas import TaskCreate
from atelier.tasks.service import TaskService
from atelier.tasks.writer import NewTask
from support.api import GEN
from support.live import wait_until

BODY = TaskCreate(kind="generate", params={**GEN, "steps": 1})


def _count(rt: Runtime, *where: object) -> int:
    with rt.db.read() as s:
        return int(s.execute(select(func.count()).select_from(Task).where(*where)).scalar_one())


def test_tasks_submitted_during_a_commit_share_the_next_one(runtime: Runtime) -> None:
    """While the writer waits on the database, submissions queue up; they are then written
    together, and every submitter gets its own task and ``created`` event."""
    service = TaskService(runtime)
    blocker = threading.Lock()
    original = runtime.writer._insert
    sizes: list[int] = []

    def observed(batch: list[NewTask]) -> object:
        sizes.append(len(batch))
        with blocker:
            return original(batch)

    runtime.writer._insert = observed  # type: ignore[method-assign]
    with blocker, ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(service.create, "owner-a", BODY)]
        # the first submission is in the writer, held at the lock; the rest queue behind it
        wait_until(lambda: sizes == [1], 10, "the first submission in the writer")
        futures += [pool.submit(service.create, "owner-a", BODY) for _ in range(7)]
        wait_until(lambda: runtime.writer._queue.qsize() == 7, 10, "seven queued submissions")
        blocker.release()
        results = [f.result(timeout=30) for f in futures]
        blocker.acquire()
    assert sizes == [1, 7]
    ids = [task.id for task, created in results if created]
    assert len(set(ids)) == 8
    with runtime.db.read() as s:
        events = s.execute(
            select(TaskEvent.task_id, TaskEvent.seq, TaskEvent.type).where(
                TaskEvent.task_id.in_(ids)
            )
        ).all()
    assert sorted(events) == sorted((i, 1, "created") for i in ids)


def test_a_repeated_key_inside_one_batch_fails_only_its_submission(runtime: Runtime) -> None:
    """Two submissions with the same Idempotency-Key in the same group commit: the batch is
    rewritten one task at a time, one of them wins, the other replays it, and a third,
    unrelated task of the batch is still created."""
    service = TaskService(runtime)
    blocker = threading.Lock()
    original = runtime.writer._insert

    sizes: list[int] = []

    def held(batch: list[NewTask]) -> object:
        sizes.append(len(batch))
        with blocker:
            return original(batch)

    runtime.writer._insert = held  # type: ignore[method-assign]
    with blocker, ThreadPoolExecutor(4) as pool:
        first = pool.submit(service.create, "owner-b", BODY)
        wait_until(lambda: sizes == [1], 10, "the first submission in the writer")
        same = [pool.submit(service.create, "owner-b", BODY, "key-1") for _ in range(2)]
        other = pool.submit(service.create, "owner-b", BODY, "key-2")
        wait_until(lambda: runtime.writer._queue.qsize() == 3, 10, "three queued submissions")
        blocker.release()
        outcomes = [f.result(timeout=30) for f in same]
        assert first.result(timeout=30)[1] and other.result(timeout=30)[1]
        blocker.acquire()
    assert sorted(created for _, created in outcomes) == [False, True]
    assert outcomes[0][0].id == outcomes[1][0].id
    assert _count(runtime, Task.owner == "owner-b") == 3
    assert _count(runtime, Task.idempotency_key == "key-1") == 1


def test_a_failed_write_reaches_its_submitter_and_the_writer_goes_on(runtime: Runtime) -> None:
    service = TaskService(runtime)
    _, good = service._new_task(
        "owner-c", BODY, *service._validate("owner-c", BODY, None)[:2], "h", None
    )
    bad = NewTask(row={**good.row, "params": {"unserialisable": object()}}, event=good.event)
    with pytest.raises(Exception, match="not JSON serializable"):
        runtime.writer.write(bad)
    assert _count(runtime, Task.id == good.row["id"]) == 0
    task, created = service.create("owner-c", BODY)
    assert created and _count(runtime, Task.id == task.id) == 1
