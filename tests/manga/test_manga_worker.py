"""A manga job on real worker processes: SIGKILL the worker mid-job; another one finishes it
without redrawing the panels that were already drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from atelier.db.migrate import upgrade
from atelier.images.models import ImageRecord
from atelier.runtime import build_runtime
from atelier.tasks import children
from atelier.tasks.models import Task, TaskEvent
from atelier.tasks.schemas import TaskCreate
from atelier.tasks.service import TaskService
from conftest import ZH_STORY
from support.live import WorkerProcess, wait_until
from support.profiles import Profile, make_env

#: Big panels (about 1.5 s each to draw): the worker is killed while it draws one.
SLOW = {"ATELIER_MANGA__PAGE_WIDTH": "600", "ATELIER_MANGA__PANEL_LONG_SIDE": "2048"}


@pytest.fixture(params=["embedded", "postgres-redis-s3"])
def mode(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Profile:
    env = {**make_env(request.param, tmp_path, request), **SLOW}
    return Profile(request.param, env, monkeypatch)


def images(rt: Any, task_id: str) -> list[tuple[str, str, str]]:
    with rt.db.read() as s:
        rows = s.scalars(select(ImageRecord).where(ImageRecord.task_id == task_id)).all()
    return sorted((r.id, r.storage_key, r.etag) for r in rows)


def test_a_worker_killed_mid_job_resumes_without_redrawing_panels(
    mode: Profile, tmp_path: Path
) -> None:
    upgrade(mode.settings)
    rt = build_runtime(mode.settings, worker=True)
    try:
        task, _ = TaskService(rt).create(
            "owner", TaskCreate(kind="manga", params={"story": ZH_STORY, "panels": 6})
        )
        parent_id = task.id

        def kids() -> list[Task]:
            with rt.db.read() as s:
                return children.children_of(s, parent_id)

        def parent() -> Task:
            with rt.db.read() as s:
                row = s.get(Task, parent_id)
            assert row is not None
            return row

        def mid_job() -> bool:
            found = kids()
            drawing = [
                k
                for k in found
                if k.status == "processing"
                and k.stage == "image_generation"
                and 1 <= k.stage_current <= 4
            ]
            return bool(drawing) and any(k.status == "completed" for k in found)

        first = WorkerProcess(mode.process_env(), tmp_path / "w1.log")
        try:
            wait_until(mid_job, 120, "a panel drawn and another being drawn")
        finally:
            first.kill()
        at_kill = {k.id: k for k in kids()}
        drawn = {i: images(rt, i) for i, k in at_kill.items() if k.status == "completed"}
        cut_short = [i for i, k in at_kill.items() if k.status == "processing"]
        assert drawn and cut_short, {k.params["panel_number"]: k.status for k in at_kill.values()}
        assert all(len(found) == 1 for found in drawn.values())
        assert parent().status == "processing"

        with WorkerProcess(mode.process_env(), tmp_path / "w2.log") as second:
            done = wait_until(
                lambda: parent().status not in ("pending", "processing", "retrying") and parent(),
                180,
                "the job to finish",
            )
            assert done.status == "completed", (done.error_code, second.output()[-3000:])

        after = {k.id: k for k in kids()}
        assert len(after) == 6 and {k.status for k in after.values()} == {"completed"}
        for kid_id, before in drawn.items():  # finished panels were not drawn again
            assert after[kid_id].attempts == 1
            assert images(rt, kid_id) == before
        for kid_id in cut_short:  # the interrupted one was drawn again, once
            assert after[kid_id].attempts == 2 and after[kid_id].worker_losses == 1
        for kid_id in after:
            [(_, key, _)] = images(rt, kid_id)
            assert rt.storage.exists(key)
        [(_, page_key, _)] = images(rt, parent_id)
        assert rt.storage.exists(page_key)
        assert done.result is not None and done.result["failures"] == []
        with rt.db.read() as s:
            completed = s.execute(
                select(func.count())
                .select_from(TaskEvent)
                .where(TaskEvent.task_id == parent_id, TaskEvent.type == "completed")
            ).scalar_one()
        assert completed == 1
    finally:
        rt.close()


def test_a_fresh_worker_knows_the_panel_kind_from_its_first_tasks() -> None:
    """Two tasks starting at once in a fresh process both find their kinds (the built-in
    kinds load once, and a second thread waits for them rather than seeing half of them)."""
    import subprocess
    import sys

    code = (
        "import threading\n"
        "from atelier.tasks.kinds import get_kind\n"
        "barrier = threading.Barrier(4)\n"
        "found, errors = [], []\n"
        "def ask(name):\n"
        "    barrier.wait()\n"
        "    try:\n"
        "        found.append(get_kind(name).name)\n"
        "    except Exception as exc:\n"
        "        errors.append(repr(exc))\n"
        "names = ['generate', 'manga_panel', 'manga', 'manga_panel']\n"
        "threads = [threading.Thread(target=ask, args=(n,)) for n in names]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "assert not errors and sorted(found) == sorted(names), (errors, found)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
