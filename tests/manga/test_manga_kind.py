"""The ``manga`` task through the real runner, on SQLite and PostgreSQL: the parent writes
the scenes and parks, one child per panel draws, the parent lays out and stores the page;
failed panels end the parent ``partial`` with placeholders; a parent that runs again finds
its script and children."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select, update

from atelier.db.base import utcnow
from atelier.errors import ValidationFailed
from atelier.images.models import ImageRecord
from atelier.manga.cli import drive
from atelier.manga.prompts import panel_seed
from atelier.manga.store import MangaJob, MangaPanel
from atelier.providers.base import ModelInfo
from atelier.providers.errors import Upstream5xx
from atelier.providers.procedural import ProceduralProvider
from atelier.runtime import Runtime
from atelier.tasks import children
from atelier.tasks.models import Task, TaskEvent
from atelier.tasks.schemas import TaskCreate
from atelier.tasks.service import TaskService
from atelier.worker.recovery import sweep
from atelier.worker.runner import execute
from conftest import EN_STORY, ZH_STORY, PickyBackend, placeholder_share


def submit(rt: Runtime, **params: Any) -> str:
    task, _ = TaskService(rt).create(
        "owner", TaskCreate(kind="manga", params=params), dispatch=False
    )
    return task.id


def row(rt: Runtime, task_id: str) -> Task:
    with rt.db.read() as s:
        task = s.get(Task, task_id)
    assert task is not None
    return task


def kids(rt: Runtime, parent_id: str) -> list[Task]:
    with rt.db.read() as s:
        found = children.children_of(s, parent_id)
    return sorted(found, key=lambda k: (k.params["panel_number"], k.params["version"]))


def events(rt: Runtime, task_id: str) -> list[TaskEvent]:
    with rt.db.read() as s:
        return list(
            s.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.seq))
        )


def images_of(rt: Runtime, task_id: str) -> list[ImageRecord]:
    with rt.db.read() as s:
        return list(s.scalars(select(ImageRecord).where(ImageRecord.task_id == task_id)))


def page_of(rt: Runtime, task_id: str) -> tuple[ImageRecord, Image.Image]:
    [record] = images_of(rt, task_id)
    data = rt.storage.get(record.storage_key)
    return record, Image.open(io.BytesIO(data))


def test_a_full_job_runs_panel_by_panel(manga_rt: Runtime) -> None:
    rt = manga_rt
    task_id = submit(rt, story=ZH_STORY, panels=4, page_format="webp")
    execute(rt, task_id)  # phase 1: the scenes, the job, one child per panel; then it parks
    parent = row(rt, task_id)
    assert (parent.status, parent.waiting_children, parent.claim_token) == (
        "processing",
        True,
        None,
    )
    assert (parent.stage, parent.stage_current, parent.stage_total) == ("panel_processing", 0, 4)
    panels = kids(rt, task_id)
    assert [(k.kind, k.params["panel_number"], k.params["version"]) for k in panels] == [
        ("manga_panel", n, 1) for n in range(1, 5)
    ]
    assert all(k.status == "pending" and k.owner == "owner" for k in panels)
    with rt.db.read() as s:
        job = s.get(MangaJob, task_id)
        versions = s.scalars(select(MangaPanel).where(MangaPanel.task_id == task_id)).all()
    assert job is not None and job.script["title"] == "灯塔" and job.model == "procedural"
    assert {(v.panel_number, v.version, v.selected, v.child_task_id) for v in versions} == {
        (k.params["panel_number"], 1, True, k.id) for k in panels
    }
    # the same character sheet in every prompt, a seed per panel from the job's base seed
    prompts = [k.params["prompt"] for k in panels]
    assert len({p["character_sheet"] for p in prompts}) == 1 and prompts[0]["character_sheet"]
    assert [p["seed"] for p in prompts] == [panel_seed(job.base_seed, n, 1) for n in range(1, 5)]

    for kid in panels:
        execute(rt, kid.id)
        assert row(rt, task_id).stage_current == kid.params["panel_number"]
    execute(rt, task_id)  # phase 2: the wake-up the last child sent
    parent = row(rt, task_id)
    assert parent.status == "completed", (parent.error_code, parent.error_message)
    assert parent.attempts == 1 and parent.progress == 100

    history = events(rt, task_id)
    stages = [e.data["stage"] for e in history if e.data.get("stage")]
    order = [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]]
    assert order == ["scene_generation", "panel_processing", "layout", "uploading", "done"]
    progress = [e.data["progress"] for e in history]
    assert progress == sorted(progress) and progress[-1] == 100
    counted = [
        e.data["stage_progress"]["current"]
        for e in history
        if e.data.get("stage") == "panel_processing"
    ]
    assert counted == sorted(counted) and counted[-1] == 4
    assert [e.type for e in history].count("completed") == 1

    result = parent.result
    assert result is not None and result["failures"] == []
    record, page = page_of(rt, task_id)
    assert record.format == "webp" and page.format == "WEBP" and page.size == (400, 566)
    assert record.storage_key.startswith(f"manga/{task_id}/")  # one folder per job
    assert result["page"]["image_id"] == record.id and result["images"] == [result["page"]]
    assert result["title"] == "灯塔" and len(result["script"]["panels"]) == 4
    assert result["layout"]["size"] == [400, 566] and len(result["layout"]["panels"]) == 4
    assert any(t["kind"] == "balloon" for t in result["layout"]["texts"])
    assert set(result["exports"]) == {"png", "webp", "pdf", "cbz"}
    assert result["selected"] == {str(n): 1 for n in range(1, 5)}
    for kid, panel in zip(kids(rt, task_id), result["panels"], strict=True):
        [version] = panel["versions"]
        assert (kid.status, kid.attempts) == ("completed", 1)
        assert version["status"] == "completed" and version["task_id"] == kid.id
        [image] = images_of(rt, kid.id)  # each panel stored once, as WebP
        assert image.format == "webp" and version["image"]["image_id"] == image.id
        assert rt.storage.get(image.storage_key)[8:12] == b"WEBP"
        assert image.storage_key.startswith(f"manga/{task_id}/panels/")
        assert (image.width, image.height) == (
            kid.params["prompt"]["width"],
            kid.params["prompt"]["height"],
        )


def test_panels_the_provider_refuses_end_the_job_partial(manga_rt: Runtime) -> None:
    rt = manga_rt
    backend = PickyBackend(refuse={panel_seed(7, 2, 1), panel_seed(7, 4, 1)})
    rt.providers.register(backend)
    task_id = submit(rt, story=EN_STORY, panels=4, seed=7, model="picky", page_format="png")
    execute(rt, task_id)
    for kid in kids(rt, task_id):
        execute(rt, kid.id)
    execute(rt, task_id)
    parent = row(rt, task_id)
    assert parent.status == "partial" and parent.error_code == "partial"
    panels = {k.params["panel_number"]: k for k in kids(rt, task_id)}
    for number in (2, 4):  # permanent: failed at once, not retried
        assert (panels[number].status, panels[number].attempts) == ("failed", 1)
        assert panels[number].error_code == "content_rejected"
    assert result_failures(parent) == [
        (2, 1, panels[2].id, "content_rejected"),
        (4, 1, panels[4].id, "content_rejected"),
    ]
    assert sorted(backend.seeds) == sorted(panel_seed(7, n, 1) for n in range(1, 5))
    _, page = page_of(rt, task_id)
    assert parent.result is not None
    cells = {p["panel_number"]: p["box"] for p in parent.result["layout"]["panels"]}
    for number, cell in cells.items():
        share = placeholder_share(page, cell)
        if number in (2, 4):
            assert share > 0.5, (number, share)  # the placeholder, under the lettering
        else:
            assert share < 0.05, (number, share)  # the panel as drawn
    versions = {p["panel_number"]: p["versions"][0] for p in parent.result["panels"]}
    assert versions[2]["image"] is None and versions[2]["error"]["code"] == "content_rejected"
    assert versions[1]["image"] is not None and versions[1]["status"] == "completed"


def result_failures(task: Task) -> list[tuple[int, int, str, str]]:
    assert task.result is not None
    return [
        (f["panel_number"], f["version"], f["task_id"], f["code"]) for f in task.result["failures"]
    ]


def test_a_parent_that_runs_again_finds_its_script_and_children(manga_rt: Runtime) -> None:
    rt = manga_rt
    task_id = submit(rt, story=EN_STORY, panels=3)
    execute(rt, task_id)
    with rt.db.read() as s:
        job = s.get(MangaJob, task_id)
    assert job is not None
    first = [k.id for k in kids(rt, task_id)]

    def lose_the_worker() -> None:
        """As if the attempt holding the parent died: a held lease that has lapsed."""
        with rt.db.session() as s:
            s.execute(
                update(Task)
                .where(Task.id == task_id)
                .values(
                    waiting_children=False,
                    claim_token="lost",
                    lease_expires_at=utcnow() - timedelta(seconds=1),
                )
            )
        assert sweep(rt) >= 1 and row(rt, task_id).status == "retrying"

    lose_the_worker()  # after spawning, before parking
    execute(rt, task_id)
    parent = row(rt, task_id)
    assert (parent.status, parent.waiting_children, parent.attempts) == ("processing", True, 2)
    assert [k.id for k in kids(rt, task_id)] == first  # no new children
    with rt.db.read() as s:
        again = s.get(MangaJob, task_id)
        rows = s.scalars(select(MangaPanel).where(MangaPanel.task_id == task_id)).all()
    assert again is not None and (again.created_at, again.script) == (job.created_at, job.script)
    assert len(rows) == 3

    for kid in kids(rt, task_id):
        execute(rt, kid.id)
    lose_the_worker()  # its children all finished while it was lost: straight to the page
    execute(rt, task_id)
    parent = row(rt, task_id)
    assert parent.status == "completed" and parent.attempts == 3
    assert [(k.status, k.attempts) for k in kids(rt, task_id)] == [("completed", 1)] * 3
    assert len(images_of(rt, task_id)) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"story": ""}, "story"),
        ({"story": "x" * 20001}, "story"),
        ({"story": "A story.", "panels": 9}, "panels"),
        ({"story": "A story.", "panels": "many"}, "panels"),
        ({"story": "A story.", "model": "nope"}, "model"),
        ({"story": "A story.", "writer": "poet"}, "writer"),
        ({"story": "A story.", "style": "nope"}, "style"),
        ({"story": "A story.", "layout": "grid"}, "layout"),
        ({"story": "A story.", "panels": 4, "layout": "rows-9"}, "layout"),
        ({"story": "A story.", "page_format": "gif"}, "page_format"),
        ({"story": "A story.", "colour": "red"}, "colour"),
    ],
)
def test_bad_params_are_refused_at_submission(
    manga_rt: Runtime, params: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        TaskService(manga_rt).create("owner", TaskCreate(kind="manga", params=params))
    details = caught.value.details
    if isinstance(details, dict):
        assert details["field"] == field
    else:
        assert any(field in map(str, d["loc"]) for d in details), details
    with manga_rt.db.read() as s:
        assert s.scalars(select(Task)).first() is None


def test_panel_tasks_cannot_be_submitted(manga_rt: Runtime) -> None:
    with pytest.raises(ValidationFailed):
        TaskService(manga_rt).create(
            "owner", TaskCreate(kind="manga_panel", params={"panel_number": 1})
        )


class Hiccups:
    """A provider whose first ``failures`` calls answer 502, then draws procedurally."""

    name = "hiccups"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.lock = threading.Lock()

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(id="hiccups", provider="hiccups", kind="remote")]

    def text_to_image(self, request: Any, on_progress: Any = None) -> Any:
        with self.lock:
            fail, self.failures = self.failures > 0, max(0, self.failures - 1)
        if fail:
            raise Upstream5xx("502 from upstream")
        return ProceduralProvider().text_to_image(request, on_progress)


def test_the_local_driver_retries_panels_that_failed_for_a_while(manga_rt: Runtime) -> None:
    rt = manga_rt
    rt.providers.register(Hiccups(failures=2))
    task_id = submit(rt, story=EN_STORY, panels=3, model="hiccups")
    seen: list[tuple[str, int]] = []
    done = drive(
        rt, task_id, on_tick=lambda parent, _: seen.append((parent.status, parent.progress))
    )
    assert done.status == "completed", (done.error_code, done.error_message)
    panels = kids(rt, task_id)
    assert [k.status for k in panels] == ["completed"] * 3
    assert sum(k.attempts for k in panels) == 5  # the two failed attempts were run again
    retried = [k for k in panels if k.attempts > 1]
    assert retried and all("retrying" in [e.type for e in events(rt, k.id)] for k in retried)
    progress = [p for _, p in seen]
    assert progress == sorted(progress) and progress[-1] == 100
