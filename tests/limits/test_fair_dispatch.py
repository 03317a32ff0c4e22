"""Fair dispatch: one owner's backlog waits in the database, not ahead of everyone in the
broker; a real worker runs another owner's later task before most of that backlog, in the
order the queue positions said; nothing is lost or run twice; releases survive a cancel, a
lost release (the sweep) and turning fair dispatch off."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from limits_support import TASK, client_at, new_session
from sqlalchemy import select

from atelier.config import Settings
from atelier.limits.positions import replay
from atelier.runtime import Runtime, build_runtime
from atelier.tasks import lifecycle
from atelier.tasks.lifecycle import TaskStatus
from atelier.tasks.models import Task, TaskEvent
from atelier.worker.recovery import sweep
from support.live import WorkerProcess, wait_until
from support.profiles import Profile, make_env

CAP = 3


def fair(monkeypatch: pytest.MonkeyPatch, cap: int = CAP) -> Settings:
    monkeypatch.setenv("ATELIER_LIMITS__DISPATCH_PER_OWNER", str(cap))
    return Settings(_env_file=None)  # type: ignore[call-arg]


def submit_many(client: TestClient, headers: dict[str, str], n: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        r = client.post("/api/v1/tasks", json=TASK, headers=headers)
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


def rows(rt: Runtime, ids: list[str]) -> dict[str, Task]:
    with rt.db.read() as s:
        return {t.id: t for t in s.scalars(select(Task).where(Task.id.in_(ids)))}


def positions(client: TestClient, headers: dict[str, str], ids: list[str]) -> list[int]:
    return [client.get(f"/api/v1/tasks/{i}", headers=headers).json()["queue_position"] for i in ids]


def test_a_backlog_waits_in_the_database(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = fair(monkeypatch)
    with client_at(settings) as client:
        a, b = new_session(client), new_session(client)
        created = submit_many(client, a, 8)
        a_ids = [c["task_id"] for c in created]
        # one owner alone: first come, first served, and the positions say so
        assert [c["queue_position"] for c in created] == list(range(8))
        rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        held = [rows(rt, a_ids)[i].dispatch_at is None for i in a_ids]
        assert held == [False] * CAP + [True] * (8 - CAP)
        # another owner's task goes to the broker at once, behind only CAP of the backlog
        theirs = client.post("/api/v1/tasks", json=TASK, headers=b).json()
        assert theirs["queue_position"] == CAP
        assert rows(rt, [theirs["task_id"]])[theirs["task_id"]].dispatch_at is not None
        assert positions(client, b, [theirs["task_id"]]) == [CAP]
        # the backlog comes after it: each held task enters as an earlier one starts
        assert positions(client, a, a_ids) == [*range(CAP), *range(CAP + 1, 9)]


def test_releases_after_a_cancel_a_lost_release_and_when_turned_off(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = fair(monkeypatch, cap=2)
    with client_at(settings) as client:
        a = new_session(client)
        ids = [c["task_id"] for c in submit_many(client, a, 6)]
        rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]

        def sent() -> list[bool]:
            now = rows(rt, ids)
            return [now[i].dispatch_at is not None for i in ids]

        assert sent() == [True, True, False, False, False, False]
        # cancelling a task in the broker lets the next one in
        assert client.post(f"/api/v1/tasks/{ids[0]}/cancel", headers=a).status_code == 200
        assert sent() == [False, True, True, False, False, False]  # a finished task: no due
        # a place freed without a release (a worker died between the two): the sweep sends
        with rt.db.session() as s:
            assert lifecycle.transition(s, ids[1], TaskStatus.CANCELLED) is not None
        assert sent()[3] is False
        assert sweep(rt) >= 1
        assert sent() == [False, False, True, True, False, False]
        assert sweep(rt) == 0  # nothing more has room
    # fair dispatch turned off with tasks still held: the sweep sends them all
    off = build_runtime(fair(monkeypatch, cap=0))
    try:
        assert sweep(off) == 2
        assert sent() == [False, False, True, True, True, True]
    finally:
        off.close()


def test_replay_matches_round_robin_between_backlogs() -> None:
    """Two owners with backlogs and one with a single task: their tasks alternate."""
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    rows_: list[tuple[str, str, datetime | None, datetime]] = []
    for n in range(5):
        at = t0 + timedelta(seconds=n)
        rows_.append((f"a{n}", "A", at if n < 2 else None, at))
    for n in range(4):
        at = t0 + timedelta(seconds=10 + n)
        rows_.append((f"b{n}", "B", at if n < 2 else None, at))
    rows_.append(("c0", "C", t0 + timedelta(seconds=20), t0 + timedelta(seconds=20)))
    placed = replay(rows_, 2)
    order = sorted(placed, key=placed.__getitem__)
    assert order == ["a0", "a1", "b0", "b1", "c0", "a2", "a3", "b2", "b3", "a4"]


MODES = ["embedded", "postgres-redis-s3"]


@pytest.fixture(params=MODES)
def mode(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Profile:
    return Profile(request.param, make_env(request.param, tmp_path, request), monkeypatch)


def test_a_later_owner_runs_before_a_backlog_and_nothing_is_lost(
    mode: Profile, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = fair(monkeypatch)
    backlog = 12
    with client_at(settings) as client:
        a, b = new_session(client), new_session(client)
        a_ids = [c["task_id"] for c in submit_many(client, a, backlog)]
        b_created = client.post("/api/v1/tasks", json=TASK, headers=b).json()
        b_id = b_created["task_id"]
        assert b_created["queue_position"] == CAP
        # what the API says will start first, before any worker runs
        said = dict(
            zip(
                [*a_ids, b_id],
                [*positions(client, a, a_ids), *positions(client, b, [b_id])],
                strict=True,
            )
        )
        assert said[b_id] == CAP and sorted(said.values()) == list(range(backlog + 1))
        rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        env = mode.process_env(
            ATELIER_LIMITS__DISPATCH_PER_OWNER=str(CAP),
            # the order is the point here: a slow worker start must not have the sweep
            # resend the first tasks (a resent task joins the tail of the broker)
            ATELIER_QUEUE__REDISPATCH_AFTER="300",
        )
        with WorkerProcess(env, tmp_path / "worker.log", concurrency=1) as worker:

            def all_done() -> bool:
                done = rows(rt, [*a_ids, b_id]).values()
                return all(t.status == "completed" for t in done)

            try:
                wait_until(all_done, 180, "every task to complete")
            except AssertionError:
                raise AssertionError(worker.output()[-4000:]) from None
        with rt.db.read() as s:
            events = s.execute(
                select(TaskEvent.task_id, TaskEvent.type)
                .where(TaskEvent.task_id.in_([*a_ids, b_id]))
                .order_by(TaskEvent.id)
            ).all()
        started = [task_id for task_id, kind in events if kind == "started"]
        # B's task started before most of A's backlog: after only the CAP sent before it ...
        assert started.index(b_id) == CAP
        # ... and every task started exactly where its queue position said
        assert started == sorted(said, key=said.__getitem__)
        # nothing lost, nothing run twice
        counts = Counter((task_id, kind) for task_id, kind in events)
        for task_id in [*a_ids, b_id]:
            assert counts[(task_id, "started")] == 1 and counts[(task_id, "completed")] == 1
        assert all(t.attempts == 1 for t in rows(rt, [*a_ids, b_id]).values())
