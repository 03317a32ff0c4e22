"""Parent and child tasks through the real runner: park, count, resume, partial, cancel,
and a parent that runs twice finds its children instead of making more."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import select

from atelier.errors import ValidationFailed
from atelier.runtime import Runtime
from atelier.tasks import children
from atelier.tasks.kinds import AwaitChildren, RunContext, TaskKind, register
from atelier.tasks.models import Task, TaskEvent
from atelier.tasks.schemas import TaskCreate
from atelier.tasks.service import TaskService
from atelier.worker.runner import execute


class SplitParams(BaseModel):
    parts: int
    fail: list[int] = []


class PartParams(BaseModel):
    index: int
    fail: bool = False


class Split(TaskKind):
    """A parent that splits into ``parts`` children, then sums what they returned."""

    name = "test_split"
    params_model = SplitParams
    runs: list[str] = []

    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, SplitParams)
        with ctx.runtime.db.read() as s:
            parent = s.get(Task, ctx.task_id)
            kids = children.children_of(s, ctx.task_id)
        assert parent is not None
        if not kids or any(k.status not in ("completed", "failed", "cancelled") for k in kids):
            self.runs.append("split")
            ctx.progress("splitting", 0, 1, 0.05)
            specs = [
                children.ChildSpec(
                    id=children.child_id(ctx.task_id, i),
                    kind="test_part",
                    params={"index": i, "fail": i in params.fail},
                )
                for i in range(params.parts)
            ]
            children.spawn(ctx.runtime, parent, specs)
            raise AwaitChildren("parts", params.parts)
        self.runs.append("join")
        done = [k.result["value"] for k in kids if k.status == "completed" and k.result]
        failed = [k.id for k in kids if k.status != "completed"]
        return {"sum": sum(done), "failures": failed}


class Part(TaskKind):
    name = "test_part"
    params_model = PartParams
    internal = True

    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, PartParams)
        if params.fail:
            raise ValidationFailed("this part cannot be drawn")
        return {"value": params.index * 10}


register(Split())
register(Part())


def _task(rt: Runtime, task_id: str) -> Task:
    with rt.db.read() as s:
        task = s.get(Task, task_id)
    assert task is not None
    return task


def _kids(rt: Runtime, parent_id: str) -> list[Task]:
    with rt.db.read() as s:
        return children.children_of(s, parent_id)


def _submit(rt: Runtime, **params: Any) -> str:
    task, _ = TaskService(rt).create(
        "owner", TaskCreate(kind="test_split", params=params), dispatch=False
    )
    return task.id


def test_a_parent_waits_for_its_children_then_joins(runtime: Runtime) -> None:
    Split.runs = []
    parent_id = _submit(runtime, parts=3)
    execute(runtime, parent_id)
    parent = _task(runtime, parent_id)
    assert (parent.status, parent.waiting_children, parent.claim_token) == (
        "processing",
        True,
        None,
    )
    assert (parent.stage, parent.stage_current, parent.stage_total) == ("parts", 0, 3)
    kids = _kids(runtime, parent_id)
    assert [k.params["index"] for k in sorted(kids, key=lambda k: k.params["index"])] == [0, 1, 2]
    assert all(k.parent_id == parent_id and k.owner == "owner" for k in kids)
    progress = [parent.progress]
    for kid in kids:
        execute(runtime, kid.id)
        parent = _task(runtime, parent_id)
        progress.append(parent.progress)
    assert parent.stage_current == 3 and progress == sorted(progress) and progress[-1] == 90
    execute(runtime, parent_id)  # the wake-up the last child sent
    parent = _task(runtime, parent_id)
    assert parent.status == "completed" and parent.result == {"sum": 30, "failures": []}
    assert parent.progress == 100
    assert parent.attempts == 1 and Split.runs == ["split", "join"]
    with runtime.db.read() as s:
        types = s.scalars(
            select(TaskEvent.type).where(TaskEvent.task_id == parent_id).order_by(TaskEvent.seq)
        ).all()
    assert types[:2] == ["created", "started"] and types[-1] == "completed"
    assert "started" not in types[2:]  # the resume is not a new attempt


def test_a_parent_that_runs_again_reuses_its_children(runtime: Runtime) -> None:
    parent_id = _submit(runtime, parts=2)
    parent = _task(runtime, parent_id)
    specs = [
        children.ChildSpec(
            id=children.child_id(parent_id, i), kind="test_part", params={"index": i}
        )
        for i in range(2)
    ]
    assert len(children.spawn(runtime, parent, specs)) == 2
    # as if a first attempt died after spawning: the next one spawns nothing new
    assert children.spawn(runtime, parent, specs) == []
    execute(runtime, parent_id)
    assert len(_kids(runtime, parent_id)) == 2


def test_a_child_that_fails_leaves_a_partial_parent(runtime: Runtime) -> None:
    from atelier.tasks.lifecycle import TaskStatus

    parent_id = _submit(runtime, parts=2, fail=[1])
    execute(runtime, parent_id)
    for kid in _kids(runtime, parent_id):
        execute(runtime, kid.id)
    kids = {k.params["index"]: k for k in _kids(runtime, parent_id)}
    assert kids[1].status == "failed" and kids[1].error_code == "validation_error"
    execute(runtime, parent_id)
    parent = _task(runtime, parent_id)
    assert parent.status == TaskStatus.PARTIAL.value and parent.error_code == "partial"
    assert parent.result == {"sum": 0, "failures": [kids[1].id]}
    out = TaskService(runtime).describe(parent)
    assert out.status == "partial" and out.result == parent.result and out.progress == 100


def test_the_sweep_wakes_a_parent_whose_wake_up_was_lost(runtime: Runtime) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from atelier.db.base import utcnow
    from atelier.worker.recovery import sweep

    parent_id = _submit(runtime, parts=1)
    execute(runtime, parent_id)
    assert sweep(runtime) == 0  # a child still runs: nothing to wake
    with runtime.db.session() as s:  # as if long ago
        s.execute(
            update(Task)
            .where(Task.id == parent_id)
            .values(dispatch_at=utcnow() - timedelta(hours=1))
        )
    assert sweep(runtime) == 0  # still: its child has not run
    for kid in _kids(runtime, parent_id):
        execute(runtime, kid.id)
    with runtime.db.session() as s:
        s.execute(
            update(Task)
            .where(Task.id == parent_id)
            .values(dispatch_at=utcnow() - timedelta(hours=1))
        )
    assert sweep(runtime) == 1
    execute(runtime, parent_id)
    assert _task(runtime, parent_id).status == "completed"


def test_cancelling_a_parent_cancels_its_children(runtime: Runtime) -> None:
    parent_id = _submit(runtime, parts=2)
    execute(runtime, parent_id)
    TaskService(runtime).cancel("owner", parent_id)
    assert _task(runtime, parent_id).status == "cancelled"
    assert {k.status for k in _kids(runtime, parent_id)} == {"cancelled"}


def test_child_kinds_cannot_be_submitted() -> None:
    from atelier.tasks.kinds import get_kind, kinds

    assert "test_part" not in kinds()
    with pytest.raises(ValidationFailed):
        get_kind("test_part", internal=False)
