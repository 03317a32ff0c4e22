"""The runner's retry policy and the recovery sweep, against the real database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from atelier.db.base import utcnow
from atelier.images.models import ImageRecord
from atelier.providers.base import ModelInfo, ProgressCallback, TextToImageRequest
from atelier.providers.base import TextToImageResult as Result
from atelier.providers.errors import ContentRejected, ProviderError, RateLimited, Upstream5xx
from atelier.providers.procedural import ProceduralProvider
from atelier.runtime import Runtime, build_runtime
from atelier.storage.base import StoredObject
from atelier.storage.local import LocalStorage
from atelier.tasks import lifecycle
from atelier.tasks.models import Task, TaskEvent
from atelier.tasks.schemas import TaskCreate
from atelier.tasks.service import TaskService
from atelier.worker.recovery import sweep
from atelier.worker.runner import backoff, execute
from support.profiles import Profile


@dataclass
class ScriptedBackend:
    """A provider whose backend fails as scripted, then draws procedurally: stands in for a
    remote API misbehaving (issue 3 brings real emulators)."""

    failures: list[ProviderError] = field(default_factory=list)
    name: str = "scripted"
    calls: int = 0
    before_return: Callable[[], None] | None = None

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(id="scripted", provider="scripted", kind="remote")]

    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> Result:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        result = ProceduralProvider().text_to_image(request, on_progress)
        if self.before_return is not None:
            self.before_return()
        return result


@pytest.fixture
def rt(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """Task-level retries in isolation: the provider policy does not retry in-call here."""
    from atelier.config import Settings
    from atelier.db.migrate import upgrade

    monkeypatch.setenv("ATELIER_POLICY__RETRIES", "0")
    monkeypatch.setenv("ATELIER_POLICY__BREAKER_FAILURES", "100")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    upgrade(settings)
    runtime = build_runtime(settings, worker=True)
    yield runtime
    runtime.close()


def submit(rt: Runtime, backend: ScriptedBackend) -> str:
    rt.providers.register(backend)
    params = {"prompt": "sea", "width": 64, "height": 64, "steps": 2, "model": "scripted"}
    task, _ = TaskService(rt).create("owner", TaskCreate(kind="generate", params=params))
    return task.id


def state(rt: Runtime, task_id: str) -> tuple[Task, list[str]]:
    with rt.db.read() as s:
        task = s.get(Task, task_id)
        types = s.scalars(
            select(TaskEvent.type).where(TaskEvent.task_id == task_id).order_by(TaskEvent.seq)
        ).all()
    assert task is not None
    return task, list(types)


def test_transient_failures_retry_then_succeed(rt: Runtime) -> None:
    backend = ScriptedBackend(
        [Upstream5xx("502 from upstream"), RateLimited("slow down", retry_after=2.5)]
    )
    task_id = submit(rt, backend)
    execute(rt, task_id)
    task, _ = state(rt, task_id)
    assert task.status == "retrying" and task.error_code == "provider_upstream_error"
    assert task.dispatch_at is not None and task.dispatch_at >= task.updated_at
    execute(rt, task_id)
    task, _ = state(rt, task_id)
    assert task.error_code == "provider_rate_limited"
    assert task.dispatch_at is not None
    assert (task.dispatch_at - task.updated_at).total_seconds() >= 2.4  # Retry-After honoured
    execute(rt, task_id)
    task, types = state(rt, task_id)
    assert task.status == "completed" and task.attempts == 3 and task.error_code is None
    status_events = [t for t in types if t != "progress"]
    assert status_events == [
        "created",
        "started",
        "retrying",
        "started",
        "retrying",
        "started",
        "completed",
    ]
    assert backend.calls == 3


def test_transient_failures_stop_at_max_attempts(rt: Runtime) -> None:
    attempts = rt.settings.queue.max_attempts
    backend = ScriptedBackend([Upstream5xx("boom") for _ in range(attempts)])
    task_id = submit(rt, backend)
    for _ in range(attempts):
        execute(rt, task_id)
    task, types = state(rt, task_id)
    assert task.status == "failed" and task.attempts == attempts
    assert task.error_code == "provider_upstream_error"
    assert types.count("retrying") == attempts - 1 and types[-1] == "failed"
    execute(rt, task_id)  # a late duplicate delivery changes nothing
    assert state(rt, task_id)[0].attempts == attempts


def test_permanent_failure_is_not_retried(rt: Runtime) -> None:
    backend = ScriptedBackend([ContentRejected("unsafe prompt")])
    task_id = submit(rt, backend)
    execute(rt, task_id)
    task, types = state(rt, task_id)
    assert task.status == "failed" and task.attempts == 1
    assert task.error_code == "content_rejected" and task.error_message == "unsafe prompt"
    assert [t for t in types if t != "progress"] == ["created", "started", "failed"]


def test_backoff_is_capped_exponential_with_jitter() -> None:
    for attempt in range(1, 10):
        delays = [backoff(1.0, 60.0, attempt) for _ in range(200)]
        cap = min(60.0, 2 ** (attempt - 1))
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > cap / 2  # jittered over the whole window, not a constant


def test_sweep_redelivers_a_lost_task_then_gives_up(rt: Runtime) -> None:
    backend = ScriptedBackend()
    task_id = submit(rt, backend)
    limit = rt.settings.queue.max_worker_losses
    for loss in range(1, limit + 1):
        with rt.db.session() as s:  # a worker takes it, then dies: its lease lapses
            assert lifecycle.claim(s, task_id, str(uuid.uuid4()), lease_seconds=-1)
        assert sweep(rt) >= 1
        task, _ = state(rt, task_id)
        assert task.worker_losses == loss and task.error_code == "worker_lost"
        assert task.status == ("failed" if loss == limit else "retrying")
    assert sweep(rt) == 0
    assert backend.calls == 0


def test_sweep_resends_tasks_waiting_past_their_due_time(rt: Runtime) -> None:
    task_id = submit(rt, ScriptedBackend())
    assert sweep(rt) == 0  # just submitted: not stale
    from datetime import timedelta

    from sqlalchemy import update

    old = utcnow() - timedelta(seconds=rt.settings.queue.redispatch_after + 1)
    with rt.db.session() as s:
        s.execute(update(Task).where(Task.id == task_id).values(dispatch_at=old))
    assert sweep(rt) == 1
    assert sweep(rt) == 0  # bumped: not resent again at once
    execute(rt, task_id)
    assert state(rt, task_id)[0].status == "completed"


class ObservedStorage(LocalStorage):
    """The real local backend, calling back after each stored object."""

    def __init__(self, root: Path, after_put: Callable[[int], None]) -> None:
        super().__init__(root)
        self.after_put = after_put
        self.puts = 0

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        stored = super().put(key, data, content_type)
        self.puts += 1
        self.after_put(self.puts)
        return stored


def test_a_task_deleted_after_its_bytes_were_stored_leaves_none(rt: Runtime) -> None:
    """Bytes stored, then the completion cannot be written (the row is gone): they go too."""
    task_id = submit(rt, ScriptedBackend())

    def delete_when_all_stored(puts: int) -> None:
        if puts == 2:  # the image and its thumbnail
            TaskService(rt).delete("owner", task_id)

    rt.images.storage = ObservedStorage(rt.settings.storage_root, delete_when_all_stored)
    execute(rt, task_id)
    with rt.db.read() as s:
        assert s.get(Task, task_id) is None
        assert s.scalars(select(ImageRecord)).all() == []
    assert files(rt) == []


def files(rt: Runtime) -> list[Path]:
    """The task images' bytes (the provider result cache under ``cache/`` is kept apart)."""
    return [p for p in (rt.settings.storage_root / "images").rglob("*") if p.is_file()]


def test_a_task_cancelled_while_running_stops_and_keeps_no_bytes(rt: Runtime) -> None:
    backend = ScriptedBackend()
    task_id = submit(rt, backend)
    backend.before_return = lambda: TaskService(rt).cancel("owner", task_id) and None
    execute(rt, task_id)
    task, types = state(rt, task_id)
    assert task.status == "cancelled" and types[-1] == "cancelled"
    assert "completed" not in types
    assert files(rt) == []
