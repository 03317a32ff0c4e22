"""The task API contract on SQLite and PostgreSQL (no worker: tasks stay queued unless run)."""

from __future__ import annotations

import json

import pytest

from support.api import GEN, api, login, run_now, submit
from support.profiles import Profile


def test_create_returns_the_contract_and_a_session(profile: Profile) -> None:
    with api(profile.settings) as client:
        r = client.post("/api/v1/tasks", json={"kind": "generate", "params": GEN})
        assert r.status_code == 201
        body = r.json()
        assert set(body) == {"task_id", "status", "created_at", "queue_position", "estimated_time"}
        assert body["status"] == "pending" and body["queue_position"] == 0
        assert body["estimated_time"] > 0
        token = r.headers["X-Atelier-Session"]
        assert client.cookies.get("atelier_session") == token
        # the cookie alone identifies the same owner
        got = client.get(f"/api/v1/tasks/{body['task_id']}")
        assert got.status_code == 200 and "X-Atelier-Session" not in got.headers
        task = got.json()
        assert task["kind"] == "generate" and task["progress"] == 0
        assert task["stage_progress"] == {"current": 0, "total": 0}
        assert task["params"]["seed"] == 7 and task["params"]["model"] == "procedural"


def test_queue_position_counts_tasks_ahead(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        ids = [submit(client, h) for _ in range(3)]
        positions = [client.get(f"/api/v1/tasks/{i}", headers=h).json() for i in ids]
        assert [p["queue_position"] for p in positions] == [0, 1, 2]
        assert positions[2]["estimated_time"] >= positions[0]["estimated_time"]


def test_seed_is_fixed_at_submission(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        params = {k: v for k, v in GEN.items() if k != "seed"}
        r = client.post("/api/v1/tasks", json={"kind": "generate", "params": params}, headers=h)
        task = client.get(f"/api/v1/tasks/{r.json()['task_id']}", headers=h).json()
        assert isinstance(task["params"]["seed"], int)


def test_idempotency_key(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        body = {"kind": "generate", "params": GEN}
        first = client.post("/api/v1/tasks", json=body, headers={**h, "Idempotency-Key": "k1"})
        again = client.post("/api/v1/tasks", json=body, headers={**h, "Idempotency-Key": "k1"})
        assert first.status_code == 201 and again.status_code == 200
        assert again.headers["Idempotent-Replayed"] == "true"
        assert first.json()["task_id"] == again.json()["task_id"]
        other = {"kind": "generate", "params": {**GEN, "prompt": "another"}}
        clash = client.post("/api/v1/tasks", json=other, headers={**h, "Idempotency-Key": "k1"})
        assert clash.status_code == 409 and clash.json()["error"] == "conflict"
        listing = client.get("/api/v1/tasks", headers=h).json()["items"]
        assert len(listing) == 1
        # keys are per owner: another owner's identical key is a new task
        h2 = login(client)
        theirs = client.post("/api/v1/tasks", json=body, headers={**h2, "Idempotency-Key": "k1"})
        assert theirs.status_code == 201 and theirs.json()["task_id"] != first.json()["task_id"]


def test_bad_input_gets_a_clear_4xx(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        cases = [
            ({"kind": "nope", "params": GEN}, 422),
            ({"kind": "generate", "params": {**GEN, "width": 10}}, 422),
            ({"kind": "generate", "params": {**GEN, "width": 4096}}, 422),
            ({"kind": "generate", "params": {**GEN, "prompt": "   "}}, 422),
            ({"kind": "generate", "params": {**GEN, "model": "missing"}}, 422),
            ({"kind": "generate", "params": {**GEN, "bogus": 1}}, 422),
            ({"kind": "generate", "params": {**GEN, "num_images": "many"}}, 422),
            ({"params": GEN}, 422),
            ([1, 2, 3], 422),
        ]
        for body, status in cases:
            r = client.post("/api/v1/tasks", json=body, headers=h)
            assert r.status_code == status, (body, r.text)
            env = r.json()
            assert env["error"] == "validation_error" and env["message"], env
        broken = client.post(
            "/api/v1/tasks",
            content=b'{"kind": "generate", "params": {',
            headers={**h, "Content-Type": "application/json"},
        )
        assert broken.status_code == 422 and broken.json()["error"] == "validation_error"
        huge = client.post(
            "/api/v1/tasks",
            content=json.dumps({"kind": "generate", "params": {"prompt": "x" * 30_000_000}}),
            headers={**h, "Content-Type": "application/json"},
        )
        assert huge.status_code == 413 and huge.json()["error"] == "payload_too_large"
        missing = client.get("/api/v1/tasks/does-not-exist", headers=h)
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
        assert client.get("/api/v1/nowhere").json()["error"] == "not_found"
        bad_cursor = client.get("/api/v1/tasks?cursor=%%%", headers=h)
        assert bad_cursor.status_code == 400 and bad_cursor.json()["error"] == "validation_error"
        bad_status = client.get("/api/v1/tasks?status=weird", headers=h)
        assert bad_status.status_code == 422
        assert (
            client.get("/api/v1/tasks", headers={"Authorization": "Bearer junk"}).json()["error"]
            == "unauthorized"
        )
        # nothing was created by any of that
        assert client.get("/api/v1/tasks", headers=h).json()["items"] == []


def test_list_filters_and_cursor_pagination(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        ids = [submit(client, h, prompt=f"task {i}") for i in range(5)]
        client.post(f"/api/v1/tasks/{ids[0]}/cancel", headers=h)
        seen: list[str] = []
        cursor = None
        while True:
            q = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/tasks", params=q, headers=h).json()
            seen += [t["task_id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == list(reversed(ids))
        cancelled = client.get("/api/v1/tasks?status=cancelled", headers=h).json()["items"]
        assert [t["task_id"] for t in cancelled] == [ids[0]]
        pending = client.get("/api/v1/tasks?status=pending&kind=generate", headers=h).json()
        assert len(pending["items"]) == 4


def test_cancel_and_delete(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        task_id = submit(client, h)
        r = client.post(f"/api/v1/tasks/{task_id}/cancel", headers=h)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        again = client.post(f"/api/v1/tasks/{task_id}/cancel", headers=h)
        assert again.status_code == 409 and again.json()["details"]["status"] == "cancelled"
        # a cancelled task never starts, even when a delivery arrives
        run_now(profile.settings, task_id)
        assert client.get(f"/api/v1/tasks/{task_id}", headers=h).json()["status"] == "cancelled"
        assert client.delete(f"/api/v1/tasks/{task_id}", headers=h).status_code == 204
        assert client.get(f"/api/v1/tasks/{task_id}", headers=h).status_code == 404
        assert client.delete(f"/api/v1/tasks/{task_id}", headers=h).status_code == 404


def test_completed_task_images_and_delete_removes_bytes(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        task_id = submit(client, h, num_images=2)
        run_now(profile.settings, task_id)
        task = client.get(f"/api/v1/tasks/{task_id}", headers=h).json()
        assert task["status"] == "completed" and task["progress"] == 100
        images = task["result"]["images"]
        assert len(images) == 2 and [i["seed"] for i in images] == [7, 8]
        first = images[0]
        r = client.get(first["url"], headers=h)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.content[:8] == b"\x89PNG\r\n\x1a\n" and len(r.content) == first["file_size"]
        etag = r.headers["etag"]
        assert "immutable" in r.headers["cache-control"]
        assert client.get(first["url"], headers={**h, "If-None-Match": etag}).status_code == 304
        thumb = client.get(first["thumbnail_url"], headers=h)
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
        legacy = client.get(f"/api/v1/task/{task_id}", headers=h).json()
        assert legacy["status"] == "completed" and legacy["images"] == images
        storage_root = profile.settings.storage_root
        assert sum(1 for p in storage_root.rglob("*") if p.is_file() and ".meta" not in p.name)
        assert client.delete(f"/api/v1/task/{task_id}", headers=h).status_code == 204
        assert client.get(first["url"], headers=h).status_code == 404
        leftovers = [p for p in storage_root.rglob("*") if p.is_file()]
        assert leftovers == []


def test_legacy_generate_and_history(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        r = client.post("/api/v1/generate", json=GEN, headers=h)
        assert r.status_code == 201
        body = r.json()
        assert body["status"] == "pending" and body["estimated_time"] > 0
        assert {"task_id", "status", "created_at", "estimated_time"} <= set(body)
        bad = client.post("/api/v1/generate", json={**GEN, "prompt": ""}, headers=h)
        assert bad.status_code == 422 and bad.json()["error"] == "validation_error"
        history = client.get("/api/v1/history", headers=h).json()
        assert [t["task_id"] for t in history["items"]] == [body["task_id"]]
        assert history["items"][0]["prompt"] == GEN["prompt"]
        assert client.delete(f"/api/v1/history/{body['task_id']}", headers=h).status_code == 204
        assert client.get("/api/v1/history", headers=h).json()["items"] == []


def test_models_system_info_and_health(profile: Profile) -> None:
    with api(profile.settings) as client:
        models = client.get("/api/v1/models").json()["models"]
        procedural = next(m for m in models if m["id"] == "procedural")
        assert procedural["kind"] == "procedural"
        info = client.get("/api/v1/system/info").json()
        assert info["mode"]["database"] == ("sqlite" if profile.name == "sqlite" else "postgresql")
        assert "generate" in info["task_kinds"]
        health = client.get("/api/v1/health")
        assert health.status_code == 200 and health.json()["checks"]["database"] == "ok"
        assert client.get("/openapi.json").json()["paths"]["/api/v1/tasks"]


def test_request_ids_are_echoed_and_logged(profile: Profile) -> None:
    import logging

    from atelier.logging import ContextFilter

    with api(profile.settings) as client:
        r = client.get("/api/v1/health", headers={"X-Request-ID": "abc-123"})
        assert r.headers["x-request-id"] == "abc-123"
        generated = client.get("/api/v1/health").headers["x-request-id"]
        assert len(generated) == 32
        bad = client.get("/api/v1/health", headers={"X-Request-ID": "x" * 500})
        assert len(bad.headers["x-request-id"]) == 32
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "m", None, None)
    assert ContextFilter().filter(record) and record.request_id is None  # type: ignore[attr-defined]


def test_log_lines_carry_the_task_id(capfd: pytest.CaptureFixture[str]) -> None:
    import logging

    from atelier.config import Settings
    from atelier.logging import configure_logging, task_id

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        for as_json in (False, True):
            configure_logging(Settings(_env_file=None, log_json=as_json))  # type: ignore[call-arg]
            token = task_id.set("task-42")
            logging.getLogger("atelier.test").warning("hello")
            task_id.reset(token)
            assert "task-42" in capfd.readouterr().err
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
