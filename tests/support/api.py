"""Helpers for API tests: an in-process client per owner, and running a task for real."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from atelier.api.app import create_app
from atelier.config import Settings
from atelier.db.migrate import upgrade
from atelier.runtime import build_runtime
from atelier.worker.runner import execute

GEN = {"prompt": "a red sunset over the sea", "width": 96, "height": 64, "steps": 2, "seed": 7}


@contextmanager
def api(settings: Settings) -> Iterator[TestClient]:
    upgrade(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def login(client: TestClient) -> dict[str, str]:
    """A fresh anonymous session, as bearer headers."""
    r = client.get("/api/v1/tasks", headers={"Authorization": ""})
    token = r.headers["X-Atelier-Session"]
    client.cookies.clear()
    return {"Authorization": f"Bearer {token}"}


def submit(client: TestClient, headers: dict[str, str], **params: Any) -> str:
    r = client.post(
        "/api/v1/tasks", json={"kind": "generate", "params": {**GEN, **params}}, headers=headers
    )
    assert r.status_code == 201, r.text
    return str(r.json()["task_id"])


def run_now(settings: Settings, task_id: str) -> None:
    """Run one delivery of the task in this process with the real runner."""
    rt = build_runtime(settings, worker=True)
    try:
        execute(rt, task_id)
    finally:
        rt.close()
