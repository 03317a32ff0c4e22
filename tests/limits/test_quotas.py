"""Task quotas per owner class, counted from the tasks table: tasks at once and tasks per 24
hours; child tasks and internal kinds not counted; admins exempt; GET /api/v1/limits."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from limits_support import TASK, client_at, limited, new_session

from atelier.config import Settings
from atelier.db.base import utcnow
from atelier.db.migrate import upgrade
from atelier.errors import AtelierError
from atelier.limits.quotas import QuotaExceeded, usage
from atelier.runtime import build_runtime
from atelier.tasks.models import Task
from atelier.tasks.schemas import TaskCreate
from atelier.tasks.service import TaskService
from support.api import GEN, run_now
from support.profiles import Profile


def refused(r: Any, quota: str, limit: int) -> dict[str, Any]:
    assert r.status_code == 429, r.text
    body: dict[str, Any] = r.json()
    assert body["error"] == "quota_exceeded"
    assert body["details"]["quota"] == quota and body["details"]["limit"] == limit
    return body


def register(client: Any, email: str) -> dict[str, Any]:
    r = client.post("/api/v1/auth/register", json={"email": email, "password": "p" * 12})
    assert r.status_code == 201, r.text
    client.cookies.clear()
    body: dict[str, Any] = r.json()
    return body


def test_concurrent_quota(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = limited(monkeypatch, ANON__CONCURRENT_TASKS="2")
    with client_at(settings) as client:
        me = new_session(client)
        first = client.post("/api/v1/tasks", json=TASK, headers={**me, "Idempotency-Key": "a"})
        assert first.status_code == 201
        assert client.post("/api/v1/generate", json=GEN, headers=me).status_code == 201
        body = refused(client.post("/api/v1/tasks", json=TASK, headers=me), "concurrent", 2)
        assert "retry_after" not in body["details"]  # when a task ends is not known
        refused(client.post("/api/v1/generate", json=GEN, headers=me), "concurrent", 2)
        # repeating a submission is not a new task
        again = client.post("/api/v1/tasks", json=TASK, headers={**me, "Idempotency-Key": "a"})
        assert again.status_code == 200 and again.json()["task_id"] == first.json()["task_id"]
        # a task that finished, or was cancelled, makes room
        run_now(settings, first.json()["task_id"])
        third = client.post("/api/v1/tasks", json=TASK, headers=me)
        assert third.status_code == 201
        refused(client.post("/api/v1/tasks", json=TASK, headers=me), "concurrent", 2)
        cancel = client.post(f"/api/v1/tasks/{third.json()['task_id']}/cancel", headers=me)
        assert cancel.status_code == 200
        assert client.post("/api/v1/tasks", json=TASK, headers=me).status_code == 201
        # quotas are per owner
        assert client.post("/api/v1/tasks", json=TASK, headers=new_session(client)).status_code
        assert len(client.get("/api/v1/tasks", headers=me).json()["items"]) == 4


def test_daily_quota_and_when_it_frees(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = limited(monkeypatch, ANON__DAILY_TASKS="3")
    with client_at(settings) as client:
        me = new_session(client)
        ids = []
        for _ in range(3):
            r = client.post("/api/v1/tasks", json=TASK, headers=me)
            assert r.status_code == 201
            ids.append(r.json()["task_id"])
            client.post(f"/api/v1/tasks/{ids[-1]}/cancel", headers=me)  # finished tasks count
        r = client.post("/api/v1/tasks", json=TASK, headers=me)
        body = refused(r, "daily", 3)
        # room comes back when the oldest task is 24 hours old
        assert 86_400 - 120 < body["details"]["retry_after"] <= 86_400
        assert r.headers["Retry-After"] == str(body["details"]["retry_after"])
        limits = client.get("/api/v1/limits", headers=me).json()
        daily = limits["quotas"]["daily"]
        assert (daily["limit"], daily["used"], daily["remaining"]) == (3, 3, 0)
        assert 86_400 - 120 < daily["next_free_in"] <= 86_400


def test_children_and_internal_tasks_do_not_count(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = limited(monkeypatch, ANON__CONCURRENT_TASKS="1", ANON__DAILY_TASKS="5")
    with client_at(settings) as client:
        me = new_session(client)
        parent = client.post("/api/v1/tasks", json=TASK, headers=me).json()["task_id"]
        owner = client.get("/api/v1/limits", headers=me).json()["owner"]
        rt = client.app.state.runtime  # type: ignore[attr-defined]
        now = utcnow()
        common: dict[str, Any] = {
            "owner": owner,
            "queue": "cpu",
            "params": {},
            "status": "pending",
            "last_seq": 0,
            "created_at": now,
            "updated_at": now,
            "dispatch_at": now,
        }
        with rt.db.session() as s:
            s.add(Task(id=str(uuid.uuid4()), kind="manga_panel", parent_id=parent, **common))
            s.add(Task(id=str(uuid.uuid4()), kind="library_auto", **common))
        with rt.db.read() as s:
            counted = usage(s, owner)
        assert (counted.concurrent, counted.daily) == (1, 1)
        limits = client.get("/api/v1/limits", headers=me).json()["quotas"]
        assert limits["concurrent"] == {"limit": 1, "used": 1, "remaining": 0}
        refused(client.post("/api/v1/tasks", json=TASK, headers=me), "concurrent", 1)


def test_quotas_per_class_and_admins_exempt(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = limited(
        monkeypatch, ANON__CONCURRENT_TASKS="1", USER__CONCURRENT_TASKS="2", USER__DAILY_TASKS="0"
    )
    with client_at(settings) as client:
        admin = register(client, "admin@example.com")
        user = register(client, "user@example.com")
        assert (admin["user"]["role"], user["user"]["role"]) == ("admin", "user")
        token = {"Authorization": f"Bearer {user['access_token']}"}
        key = client.post(
            "/api/v1/auth/api-keys", json={"name": "k", "scopes": ["read", "write"]}, headers=token
        ).json()["key"]
        assert client.post("/api/v1/tasks", json=TASK, headers=token).status_code == 201
        # an API key is its user: same owner, same quota
        assert client.post("/api/v1/tasks", json=TASK, headers={"X-API-Key": key}).status_code
        refused(client.post("/api/v1/tasks", json=TASK, headers=token), "concurrent", 2)
        mine = client.get("/api/v1/limits", headers={"X-API-Key": key}).json()
        assert mine["owner_class"] == "user" and mine["owner"] == f"user:{user['user']['id']}"
        assert mine["quotas"]["concurrent"] == {"limit": 2, "used": 2, "remaining": 0}
        # anonymous sessions have their own class
        anon = new_session(client)
        assert client.post("/api/v1/tasks", json=TASK, headers=anon).status_code == 201
        refused(client.post("/api/v1/tasks", json=TASK, headers=anon), "concurrent", 1)
        # the admin has no quota
        boss = {"Authorization": f"Bearer {admin['access_token']}"}
        for _ in range(4):
            assert client.post("/api/v1/tasks", json=TASK, headers=boss).status_code == 201
        theirs = client.get("/api/v1/limits", headers=boss).json()
        assert theirs["owner_class"] == "admin"
        assert theirs["quotas"]["concurrent"] == {"limit": None, "used": 4, "remaining": None}
        assert all(rate["per_minute"] is None for rate in theirs["rates"])


def test_limits_endpoint_shows_rates_and_usage(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = limited(
        monkeypatch,
        ANON__CONCURRENT_TASKS="2",
        ANON__REQUESTS_PER_MINUTE="60",
        ANON__REQUEST_BURST="10",
        ANON__SUBMITS_PER_MINUTE="6",
        ANON__SUBMIT_BURST="3",
    )
    with client_at(settings) as client:
        me = new_session(client)
        assert client.post("/api/v1/tasks", json=TASK, headers=me).status_code == 201
        body = client.get("/api/v1/limits", headers=me).json()
        assert body["owner_class"] == "anon" and body["enabled"] is True
        assert body["dispatch_per_owner"] == settings.limits.dispatch_per_owner
        rates = {(r["kind"], r["scope"]): r for r in body["rates"]}
        # this request and the submission spent from the session's request bucket
        assert rates[("requests", "session")]["remaining"] == 8
        assert rates[("submissions", "session")]["remaining"] == 2
        assert rates[("submissions", "session")]["per_minute"] == 6
        assert rates[("requests", "ip")]["per_minute"] is None  # off in this test
        assert body["quotas"]["concurrent"] == {"limit": 2, "used": 1, "remaining": 1}
        assert body["quotas"]["daily"]["limit"] is None and body["quotas"]["daily"]["used"] == 1


def test_concurrent_submissions_cannot_slip_past_a_quota(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings: Settings = limited(monkeypatch, ANON__CONCURRENT_TASKS="2")
    upgrade(settings)
    rt = build_runtime(settings)
    try:
        service = TaskService(rt)
        owner = f"anon:{uuid.uuid4()}"

        def submit(_: int) -> str:
            try:
                service.create(owner, TaskCreate(kind="generate", params=GEN))
            except AtelierError as exc:
                return exc.code
            return "created"

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(submit, range(8)))
        assert sorted(outcomes) == ["created"] * 2 + ["quota_exceeded"] * 6
        with rt.db.read() as s:
            assert usage(s, owner).concurrent == 2
        with pytest.raises(QuotaExceeded):
            service.create(owner, TaskCreate(kind="generate", params=GEN))
    finally:
        rt.close()


def test_the_operator_at_the_command_line_has_no_quota(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = limited(monkeypatch, ANON__CONCURRENT_TASKS="1", ANON__DAILY_TASKS="1")
    upgrade(settings)
    rt = build_runtime(settings)
    try:
        service = TaskService(rt)
        body = TaskCreate(kind="generate", params=GEN)
        for _ in range(3):  # ``atelier run`` and ``atelier manga`` create as ``local:cli``
            service.create("local:cli", body, dispatch=False)
        service.create("anon:someone", body)
        with pytest.raises(QuotaExceeded):
            service.create("anon:someone", body)
    finally:
        rt.close()
