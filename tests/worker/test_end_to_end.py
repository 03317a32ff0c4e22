"""Submit over HTTP, a real worker process runs it, events stream live: in every mode."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from support.api import GEN
from support.live import LiveServer, WorkerProcess, read_sse, wait_until
from support.profiles import Profile, make_env

MODES = ["embedded", "postgres-redis-s3", "postgres-rabbitmq"]


@pytest.fixture(params=MODES)
def mode(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Profile:
    return Profile(request.param, make_env(request.param, tmp_path, request), monkeypatch)


def test_generate_end_to_end_with_live_events(mode: Profile, tmp_path: Path) -> None:
    with (
        LiveServer(mode.settings) as server,
        WorkerProcess(mode.process_env(), tmp_path / "worker.log") as worker,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        created = client.post(
            "/api/v1/tasks", json={"kind": "generate", "params": {**GEN, "num_images": 2}}
        )
        assert created.status_code == 201
        client.headers["Authorization"] = f"Bearer {created.headers['X-Atelier-Session']}"
        task_id = created.json()["task_id"]
        events = []
        with client.stream("GET", f"/api/v1/tasks/{task_id}/stream") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for event_id, event in read_sse(stream):
                assert event_id == str(event["seq"])
                events.append(event)
        types = [e["type"] for e in events]
        assert types[0] == "created" and types[1] == "started" and types[-1] == "completed", (
            types,
            worker.output()[-3000:],
        )
        assert "progress" in types
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        progress = [e["progress"] for e in events]
        assert progress == sorted(progress) and progress[-1] == 100
        result = events[-1]["result"]
        assert len(result["images"]) == 2
        png = client.get(result["images"][1]["url"])
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")

        # a reconnect resumes after Last-Event-ID and loses nothing
        with client.stream(
            "GET", f"/api/v1/tasks/{task_id}/stream", headers={"Last-Event-ID": "2"}
        ) as stream:
            resumed = [e for _, e in read_sse(stream)]
        assert resumed == events[2:]


def test_events_reach_a_websocket_client(mode: Profile, tmp_path: Path) -> None:
    from websockets.sync.client import connect

    with (
        LiveServer(mode.settings) as server,
        WorkerProcess(mode.process_env(), tmp_path / "worker.log"),
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        token = client.get("/api/v1/tasks").headers["X-Atelier-Session"]
        client.headers["Authorization"] = f"Bearer {token}"
        ws_url = server.url.replace("http", "ws") + f"/api/v1/ws?token={token}"
        with connect(ws_url, open_timeout=10) as ws:
            ws.send('{"action": "subscribe", "all": true}')
            assert '"subscribed"' in str(ws.recv(timeout=10))
            task_id = client.post("/api/v1/tasks", json={"kind": "generate", "params": GEN}).json()[
                "task_id"
            ]
            import json

            seen = []
            while not seen or seen[-1]["type"] not in ("completed", "failed"):
                message = json.loads(ws.recv(timeout=30))
                if message.get("type") == "ping":
                    continue
                assert message["task_id"] == task_id
                seen.append(message)
        assert [m["seq"] for m in seen] == list(range(1, len(seen) + 1))
        assert seen[-1]["type"] == "completed"


def test_a_worker_killed_mid_task_loses_nothing(mode: Profile, tmp_path: Path) -> None:
    """SIGKILL the worker while it renders; another worker finishes the task exactly once."""
    from sqlalchemy import func, select

    from atelier.images.models import ImageRecord
    from atelier.runtime import build_runtime
    from atelier.tasks.models import Task, TaskEvent

    slow = {**GEN, "width": 2048, "height": 2048, "num_images": 4, "steps": 8}
    rt = build_runtime(mode.settings, worker=True)
    try:
        with (
            LiveServer(mode.settings) as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            first = WorkerProcess(mode.process_env(), tmp_path / "w1.log")
            created = client.post("/api/v1/tasks", json={"kind": "generate", "params": slow})
            task_id = created.json()["task_id"]

            def task() -> Task:
                with rt.db.read() as s:
                    row = s.get(Task, task_id)
                    assert row is not None
                    return row

            wait_until(lambda: task().stage_current >= 1, 60, "the first progress step")
            first.kill()
            assert task().status == "processing"
            with WorkerProcess(mode.process_env(), tmp_path / "w2.log") as second:
                done = wait_until(
                    lambda: task().status in ("completed", "failed") and task(), 120, "completion"
                )
                assert done.status == "completed", second.output()[-3000:]
            assert done.attempts == 2 and done.worker_losses == 1
            with rt.db.read() as s:
                completed = s.execute(
                    select(func.count())
                    .select_from(TaskEvent)
                    .where(TaskEvent.task_id == task_id, TaskEvent.type == "completed")
                ).scalar_one()
                images = s.scalars(select(ImageRecord).where(ImageRecord.task_id == task_id)).all()
                types = s.scalars(
                    select(TaskEvent.type)
                    .where(TaskEvent.task_id == task_id)
                    .order_by(TaskEvent.seq)
                ).all()
            assert completed == 1, types
            assert "retrying" in types
            assert sorted(i.position for i in images) == [0, 1, 2, 3]
            assert [i.seed for i in sorted(images, key=lambda i: i.position)] == [7, 8, 9, 10]
            for image in images:
                assert rt.storage.exists(image.storage_key)
            assert len(done.result["images"]) == 4  # type: ignore[index]
    finally:
        rt.close()


def test_events_reach_every_api_process_and_survive_a_restart(
    mode: Profile, tmp_path: Path
) -> None:
    """Submit on one API process, follow on another; stop it mid-way, resume on a third."""
    with WorkerProcess(mode.process_env(), tmp_path / "worker.log"):
        with LiveServer(mode.settings) as first, LiveServer(mode.settings) as second:
            created = httpx.post(
                f"{first.url}/api/v1/tasks",
                json={"kind": "generate", "params": {**GEN, "num_images": 3, "steps": 4}},
            )
            token = created.headers["X-Atelier-Session"]
            task_id = created.json()["task_id"]
            auth = {"Authorization": f"Bearer {token}"}
            seen: list[dict[str, object]] = []
            with (
                httpx.Client(base_url=second.url, headers=auth, timeout=30) as client,
                client.stream("GET", f"/api/v1/tasks/{task_id}/stream") as stream,
            ):
                for _, event in read_sse(stream):
                    seen.append(event)
                    if len(seen) == 3:
                        break  # the page goes away mid-task
        with (
            LiveServer(mode.settings) as third,
            httpx.Client(base_url=third.url, headers=auth, timeout=30) as client,
            client.stream(
                "GET",
                f"/api/v1/tasks/{task_id}/stream",
                headers={"Last-Event-ID": str(seen[-1]["seq"])},
            ) as stream,
        ):
            seen += [event for _, event in read_sse(stream)]
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    assert seen[-1]["type"] == "completed"


def test_cancelling_a_running_task_stops_it(mode: Profile, tmp_path: Path) -> None:
    slow = {**GEN, "width": 2048, "height": 2048, "num_images": 4, "steps": 8}
    with (
        LiveServer(mode.settings) as server,
        WorkerProcess(mode.process_env(), tmp_path / "worker.log") as worker,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        created = client.post("/api/v1/tasks", json={"kind": "generate", "params": slow})
        client.headers["Authorization"] = f"Bearer {created.headers['X-Atelier-Session']}"
        task_id = created.json()["task_id"]
        url = f"/api/v1/tasks/{task_id}"
        wait_until(lambda: client.get(url).json()["stage_progress"]["current"] >= 1, 60, "a step")
        cancelled = client.post(f"{url}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        wait_until(lambda: "stopped: cancelled" in worker.output(), 60, "the worker to stop")
        with client.stream("GET", f"{url}/stream") as stream:
            types = [e["type"] for _, e in read_sse(stream)]
        assert types[-1] == "cancelled" and "completed" not in types
        final = client.get(url).json()
        assert final["status"] == "cancelled" and final["result"] is None
        assert final["error"]["code"] == "cancelled"


def test_a_burst_of_submissions_runs_every_task_once(mode: Profile, tmp_path: Path) -> None:
    """Concurrent submissions share group commits and batched broker publishes (one
    multi-row INSERT on the embedded broker, a pipeline on Redis, one by one on RabbitMQ):
    every task is answered, reaches the worker and completes exactly once."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from atelier.runtime import build_runtime
    from atelier.tasks.models import Task, TaskEvent

    count = 48
    body = {"kind": "generate", "params": {**GEN, "width": 64, "height": 64, "steps": 1}}

    async def burst(url: str) -> list[str]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            token = (await client.get("/api/v1/tasks")).headers["X-Atelier-Session"]
            client.headers["Authorization"] = f"Bearer {token}"
            replies = await asyncio.gather(
                *(client.post("/api/v1/tasks", json=body) for _ in range(count))
            )
        assert [r.status_code for r in replies] == [201] * count
        return [r.json()["task_id"] for r in replies]

    rt = build_runtime(mode.settings, worker=True)
    try:
        with LiveServer(mode.settings) as server:
            with ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever runs here
                ids = pool.submit(asyncio.run, burst(server.url)).result()
            assert len(set(ids)) == count
            with WorkerProcess(mode.process_env(), tmp_path / "worker.log", concurrency=4) as w:

                def finished() -> int:
                    with rt.db.read() as s:
                        return int(
                            s.execute(
                                select(func.count())
                                .select_from(Task)
                                .where(Task.id.in_(ids), Task.status == "completed")
                            ).scalar_one()
                        )

                wait_until(lambda: finished() == count, 120, f"{count} completions")
                del w
            with rt.db.read() as s:
                per_task = dict(
                    s.execute(
                        select(TaskEvent.task_id, func.count())
                        .where(
                            TaskEvent.task_id.in_(ids),
                            TaskEvent.type.in_(["created", "completed"]),
                        )
                        .group_by(TaskEvent.task_id)
                    ).all()
                )
        # one created and one completed each (a start may repeat if a lease lapses on a
        # loaded machine; the claim's compare-and-set still lets only one attempt finish)
        assert per_task == {task_id: 2 for task_id in ids}
    finally:
        rt.close()
