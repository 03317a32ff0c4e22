"""Retention clean-up on SQLite and PostgreSQL: expired work of anonymous sessions (and users,
when configured) goes, rows first and then their stored objects; recent work and other
classes stay; old events are thinned; a dry run changes nothing; the periodic job is due-timed
and, on PostgreSQL, runs in one worker at a time."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select, text, update

from atelier.config import RetentionSettings, Settings
from atelier.db.base import utcnow
from atelier.db.migrate import upgrade
from atelier.images.models import ImageRecord
from atelier.runtime import Runtime, build_runtime
from atelier.system.retention import (
    ADVISORY_KEY,
    Policy,
    RetentionJob,
    parse_duration,
    purge,
)
from atelier.tasks.models import Task, TaskEvent
from atelier.tasks.schemas import TaskCreate
from atelier.tasks.service import TaskService
from atelier.worker.runner import execute
from support.api import GEN
from support.profiles import Profile, make_env

ANON_OLD = f"anon:{uuid.uuid4()}"
ANON_NEW = f"anon:{uuid.uuid4()}"
USER = f"user:{uuid.uuid4()}"
LOCAL = "local:cli"
DAY = timedelta(days=1)


def photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 80, 40)).save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class Made:
    tasks: dict[str, str] = field(default_factory=dict)  # name -> task id
    uploads: dict[str, str] = field(default_factory=dict)  # name -> image id
    keys: dict[str, list[str]] = field(default_factory=dict)  # name -> storage keys


def _age(rt: Runtime, *, task: str | None = None, image: str | None = None, by: timedelta) -> None:
    then = utcnow() - by
    with rt.db.session() as s:
        if task is not None:
            s.execute(
                update(Task)
                .where(Task.id == task)
                .values(created_at=then, completed_at=then, updated_at=then)
            )
            s.execute(
                update(ImageRecord).where(ImageRecord.task_id == task).values(created_at=then)
            )
        if image is not None:
            s.execute(update(ImageRecord).where(ImageRecord.id == image).values(created_at=then))


def _task(rt: Runtime, owner: str) -> str:
    task, _ = TaskService(rt).create(owner, TaskCreate(kind="generate", params=GEN), dispatch=False)
    execute(rt, task.id)
    return task.id


def _keys(rt: Runtime, *, task: str | None = None, image: str | None = None) -> list[str]:
    with rt.db.read() as s:
        where = ImageRecord.task_id == task if task is not None else ImageRecord.id == image
        rows = s.execute(select(ImageRecord.storage_key, ImageRecord.thumbnail_key).where(where))
        return [k for row in rows for k in row if k]


def _world(rt: Runtime) -> Made:
    """Finished tasks and uploads of each owner class, old (3 days or 40 days) and new."""
    made = Made()
    for name, owner, age in (
        ("anon_old", ANON_OLD, 3 * DAY),
        ("anon_new", ANON_NEW, timedelta(hours=1)),
        ("user_old", USER, 40 * DAY),
        ("local_old", LOCAL, 40 * DAY),
    ):
        task_id = _task(rt, owner)
        upload = rt.images.ingest(rt.db.session, owner, photo()).id
        _age(rt, task=task_id, image=upload, by=age)
        made.tasks[name] = task_id
        made.uploads[name] = upload
        made.keys[name] = _keys(rt, task=task_id) + _keys(rt, image=upload)
        assert len(made.keys[name]) == 4  # a generated image and an upload, each + thumbnail
    return made


def _present(rt: Runtime, made: Made, name: str) -> bool:
    with rt.db.read() as s:
        task = s.get(Task, made.tasks[name]) is not None
        upload = s.get(ImageRecord, made.uploads[name]) is not None
    objects = [rt.storage.exists(k) for k in made.keys[name]]
    assert task == upload == all(objects) == any(objects), (name, task, upload, objects)
    return task


ANON_ONLY = Policy(anonymous=DAY, users=None, events=None)


def test_expired_anonymous_work_goes_and_everything_else_stays(runtime: Runtime) -> None:
    made = _world(runtime)
    report = purge(runtime, ANON_ONLY)
    assert report.complete and not report.dry_run
    assert (report.tasks, report.uploads, report.images, report.objects) == (1, 1, 2, 4)
    assert report.objects_failed == 0
    assert not _present(runtime, made, "anon_old")
    with runtime.db.read() as s:  # its events went with it
        assert (
            s.scalars(select(TaskEvent.id).where(TaskEvent.task_id == made.tasks["anon_old"])).all()
            == []
        )
    for name in ("anon_new", "user_old", "local_old"):
        assert _present(runtime, made, name)
    # a second run finds nothing more
    again = purge(runtime, ANON_ONLY)
    assert (again.tasks, again.images, again.objects) == (0, 0, 0)


def test_users_work_goes_only_when_configured(runtime: Runtime) -> None:
    made = _world(runtime)
    report = purge(runtime, Policy(anonymous=None, users=30 * DAY, events=None))
    assert (report.tasks, report.uploads) == (1, 1)
    assert not _present(runtime, made, "user_old")
    for name in ("anon_old", "anon_new", "local_old"):
        assert _present(runtime, made, name)


def test_a_dry_run_counts_and_changes_nothing(runtime: Runtime) -> None:
    made = _world(runtime)
    with runtime.db.read() as s:
        events_before = len(s.scalars(select(TaskEvent.id)).all())
    policy = Policy(anonymous=DAY, users=30 * DAY, events=DAY)
    dry = purge(runtime, policy, dry_run=True)
    assert dry.dry_run and (dry.tasks, dry.uploads, dry.images, dry.objects) == (2, 2, 4, 8)
    assert dry.events > 0
    for name in made.tasks:
        assert _present(runtime, made, name)
    with runtime.db.read() as s:
        assert len(s.scalars(select(TaskEvent.id)).all()) == events_before
    real = purge(runtime, policy)
    assert (real.tasks, real.uploads, real.images, real.objects) == (2, 2, 4, 8)


def test_old_events_are_thinned_to_the_final_one(runtime: Runtime) -> None:
    made = _world(runtime)
    old = made.tasks["local_old"]
    new = made.tasks["anon_new"]
    with runtime.db.read() as s:
        before_new = len(s.scalars(select(TaskEvent.id).where(TaskEvent.task_id == new)).all())
    report = purge(runtime, Policy(anonymous=None, users=None, events=30 * DAY))
    assert report.events > 0 and report.tasks == 0
    service = TaskService(runtime)
    left = service.events_after(LOCAL, old, 0)
    assert len(left) == 1 and left[0].terminal  # a stream of it still ends at once
    assert len(service.events_after(ANON_NEW, new, 0)) == before_new
    assert _present(runtime, made, "local_old")


def test_work_is_done_in_bounded_batches(runtime: Runtime) -> None:
    ids = [_task(runtime, ANON_OLD) for _ in range(3)]
    for task_id in ids:
        _age(runtime, task=task_id, by=3 * DAY)
    small = Policy(anonymous=DAY, users=None, events=None, batch=1)
    first = purge(runtime, small, max_batches=2)
    assert not first.complete and first.tasks == 2
    rest = purge(runtime, small)
    assert rest.complete and rest.tasks == 1
    with runtime.db.read() as s:
        assert s.scalars(select(Task.id).where(Task.id.in_(ids))).all() == []


def test_the_library_change_log_keeps_a_day_and_its_newest_entry(runtime: Runtime) -> None:
    from atelier.library import store
    from atelier.library.models import LibraryChange

    with runtime.db.read() as s:  # the database may hold other tests' (recent) entries
        before = store.last_change(s)

    def log() -> list[int]:
        with runtime.db.read() as s:
            ids = select(LibraryChange.id).where(LibraryChange.id > before)
            return list(s.scalars(ids.order_by(LibraryChange.id)))

    with runtime.db.session() as s:
        store.changed(s, ["a", "b", "c"])
        s.flush()
        s.execute(
            update(LibraryChange)
            .where(LibraryChange.id > before)
            .values(created_at=utcnow() - 2 * DAY)
        )
    old = log()
    assert len(old) == 3
    keep_all = Policy(anonymous=None, users=None, events=None)
    dry = purge(runtime, keep_all, dry_run=True)
    assert dry.library_changes == 2 and log() == old
    # all old: the newest stays, so ids never start over
    assert purge(runtime, keep_all).library_changes == 2
    assert log() == old[-1:]
    with runtime.db.session() as s:
        store.changed(s, ["d"])
    fresh = log()[-1]
    assert purge(runtime, keep_all).library_changes == 1
    assert log() == [fresh]  # a recent entry stays
    assert purge(runtime, keep_all).library_changes == 0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_periodic_job_runs_when_due(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(
        update={"retention": RetentionSettings(anonymous_hours=24, interval=600)}
    )
    runtime.settings = settings
    clock = Clock()
    job = RetentionJob(runtime, clock=clock)
    first = _task(runtime, ANON_OLD)
    _age(runtime, task=first, by=3 * DAY)
    report = job.tick()
    assert report is not None and report.tasks == 1
    second = _task(runtime, ANON_OLD)
    _age(runtime, task=second, by=3 * DAY)
    clock.now += 599
    assert job.tick() is None  # not due yet
    with runtime.db.read() as s:
        assert s.get(Task, second) is not None
    clock.now += 1
    later = job.tick()
    assert later is not None and later.tasks == 1
    runtime.settings = settings.model_copy(
        update={"retention": RetentionSettings(anonymous_hours=0, event_days=0)}
    )
    off = RetentionJob(runtime, clock=clock)
    assert not off.enabled and off.tick() is None


@pytest.fixture
def pg_runtime(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    profile = Profile("postgres", make_env("postgres", tmp_path, request), monkeypatch)
    upgrade(profile.settings)
    rt = build_runtime(profile.settings, worker=True)
    yield rt
    rt.close()


def test_one_worker_at_a_time_on_postgresql(pg_runtime: Runtime) -> None:
    rt = pg_runtime
    task_id = _task(rt, ANON_OLD)
    _age(rt, task=task_id, by=3 * DAY)
    clock = Clock()
    job = RetentionJob(rt, clock=clock)
    with rt.db.engine.connect() as other:  # another worker holds the job's lock
        assert other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        assert job.tick() is None
        with rt.db.read() as s:
            assert s.get(Task, task_id) is not None
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
        other.commit()
    clock.now += rt.settings.retention.interval
    report = job.tick()
    assert report is not None and report.tasks == 1


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("7d") == parse_duration("7") == timedelta(days=7)
    assert parse_duration(" 2W ") == timedelta(weeks=2)
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_admin_purge_command(tmp_path: Path) -> None:
    env = {**os.environ, "ATELIER_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "120"}
    env = {k: v for k, v in env.items() if not k.startswith("ATELIER_") or k == "ATELIER_DATA_DIR"}
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    upgrade(settings)
    rt = build_runtime(settings, worker=True)
    try:
        old = rt.images.ingest(rt.db.session, ANON_OLD, photo()).id
        _age(rt, image=old, by=10 * DAY)
        keys = _keys(rt, image=old)
    finally:
        rt.close()

    def atelier(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "atelier", "admin", "purge", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    dry = atelier("--older-than", "7d", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout.strip().splitlines()[-1])["uploads"] == 1
    kept = atelier("--older-than", "30d", "--json")
    assert json.loads(kept.stdout.strip().splitlines()[-1])["uploads"] == 0
    done = atelier("--older-than", "7d")
    assert done.returncode == 0, done.stderr
    assert "deleted: 0 tasks, 1 uploads, 1 images, 2 stored objects" in done.stdout
    rt = build_runtime(settings, worker=True)
    try:
        with rt.db.read() as s:
            assert s.get(ImageRecord, old) is None
        assert not any(rt.storage.exists(k) for k in keys)
    finally:
        rt.close()
