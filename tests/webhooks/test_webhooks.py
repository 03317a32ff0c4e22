"""Signed webhooks to a real local HTTP receiver: signature, retries, delivery log, SSRF guard."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from atelier.config import Settings
from atelier.db.migrate import upgrade
from atelier.runtime import Runtime, build_runtime
from atelier.tasks.schemas import TaskCreate
from atelier.tasks.service import TaskService
from atelier.webhooks.models import WebhookDelivery
from atelier.webhooks.service import deliver, signing_secret
from atelier.worker.runner import execute
from support.api import GEN, api, login
from support.live import LiveServer, WorkerProcess, wait_until
from support.profiles import Profile


class Receiver:
    """An HTTP endpoint answering with scripted statuses and recording what it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def rt(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("ATELIER_WEBHOOKS__ALLOW_PRIVATE", "true")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    upgrade(settings)
    runtime = build_runtime(settings, worker=True)
    yield runtime
    runtime.close()


def deliveries(rt: Runtime, task_id: str) -> list[WebhookDelivery]:
    with rt.db.read() as s:
        return list(
            s.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.task_id == task_id)
                .order_by(WebhookDelivery.id)
            ).all()
        )


def test_signed_delivery_retried_until_accepted(rt: Runtime) -> None:
    with Receiver([503, 500, 204]) as receiver:
        task, _ = TaskService(rt).create(
            "owner", TaskCreate(kind="generate", params=GEN, webhook_url=receiver.url)
        )
        execute(rt, task.id)
        assert deliveries(rt, task.id) == []  # queued for a worker, not delivered inline
        for attempt in (1, 2, 3):
            deliver(rt, task.id, "completed", f"{task.id}.x", attempt)
        log = deliveries(rt, task.id)
        assert [d.outcome for d in log] == ["retrying", "retrying", "delivered"]
        assert [d.status_code for d in log] == [503, 500, 204]
        headers, body = receiver.received[-1]
        verified = Webhook(signing_secret(rt.settings)).verify(body, headers)
        assert verified["type"] == "task.completed"
        assert verified["data"]["task_id"] == task.id
        assert verified["data"]["result"]["images"][0]["width"] == GEN["width"]
        # same message id on every retry, so receivers can drop duplicates
        assert {h["webhook-id"] for h, _ in receiver.received} == {f"{task.id}.x"}
        # a forged body fails verification
        with pytest.raises(Exception):  # noqa: B017
            Webhook(signing_secret(rt.settings)).verify(
                body.replace(b"completed", b"failed"), headers
            )


def test_gives_up_after_max_attempts(rt: Runtime) -> None:
    attempts = rt.settings.webhooks.max_attempts
    with Receiver([500] * attempts) as receiver:
        task, _ = TaskService(rt).create(
            "owner", TaskCreate(kind="generate", params=GEN, webhook_url=receiver.url)
        )
        outcomes = [deliver(rt, task.id, "failed", "m", n) for n in range(1, attempts + 1)]
    assert outcomes[-1] == "failed" and set(outcomes[:-1]) == {"retrying"}


def test_private_addresses_are_refused_unless_allowed(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(profile.settings)
    runtime = build_runtime(profile.settings, worker=True)  # allow_private is off
    try:
        with Receiver([]) as receiver:
            task, _ = TaskService(runtime).create(
                "owner", TaskCreate(kind="generate", params=GEN, webhook_url=receiver.url)
            )
            assert deliver(runtime, task.id, "completed", "m", 1) == "blocked"
            assert receiver.received == []
        log = deliveries(runtime, task.id)
        assert log[0].outcome == "blocked" and "non-public" in (log[0].error or "")
    finally:
        runtime.close()


def test_webhook_url_is_validated_at_submission(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        for bad in ("ftp://example.com/x", "not a url", "http:///nohost"):
            r = client.post(
                "/api/v1/tasks",
                json={"kind": "generate", "params": GEN, "webhook_url": bad},
                headers=h,
            )
            assert r.status_code == 422 and r.json()["error"] == "validation_error", bad


def test_worker_delivers_the_webhook_end_to_end(
    profile: Profile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_WEBHOOKS__ALLOW_PRIVATE", "true")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    env = profile.process_env(ATELIER_WEBHOOKS__ALLOW_PRIVATE="true")
    with (
        Receiver([]) as receiver,
        LiveServer(settings) as server,
        WorkerProcess(env, tmp_path / "worker.log") as worker,
    ):
        import httpx

        r = httpx.post(
            f"{server.url}/api/v1/tasks",
            json={"kind": "generate", "params": GEN, "webhook_url": receiver.url},
        )
        assert r.status_code == 201
        wait_until(lambda: receiver.received, 60, "the webhook")
        headers, body = receiver.received[0]
        event = Webhook(signing_secret(settings)).verify(body, headers)
        assert event["type"] == "task.completed", worker.output()[-2000:]
        assert event["data"]["task_id"] == r.json()["task_id"]
        assert json.loads(body)["data"]["status"] == "completed"
