"""Prometheus metrics, readiness and worker heartbeats, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from atelier.config import Settings
from atelier.runtime import build_runtime
from atelier.system.heartbeat import Heartbeat
from support.api import api, login, run_now, submit
from support.profiles import Profile


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_count_queues_outcomes_and_run_times(profile: Profile) -> None:
    with api(profile.settings) as client:
        headers = login(client)
        done = [submit(client, headers) for _ in range(3)]
        for _ in range(3):
            submit(client, headers)  # left waiting
        for task_id in done:
            run_now(profile.settings, task_id)
        r = client.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        m = _samples(r.text)
    assert m[("atelier_queue_depth", (("queue", "cpu"),))] == 3
    assert m[("atelier_queue_depth", (("queue", "gpu"),))] == 0
    assert m[("atelier_tasks_finished", (("kind", "generate"), ("status", "completed")))] == 3
    assert m[("atelier_task_success_ratio", (("kind", "generate"),))] == 1.0
    p50 = m[
        (
            "atelier_task_run_seconds",
            (("kind", "generate"), ("provider", "procedural"), ("quantile", "0.5")),
        )
    ]
    p95 = m[
        (
            "atelier_task_run_seconds",
            (("kind", "generate"), ("provider", "procedural"), ("quantile", "0.95")),
        )
    ]
    assert 0 < p50 <= p95
    assert m[("atelier_provider_calls", (("outcome", "ok"), ("provider", "procedural")))] == 3
    assert ("process_resident_memory_bytes", ()) in m


def test_metrics_can_require_a_token(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_METRICS_TOKEN", "s3cret")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with api(settings) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
        ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and "atelier_queue_depth" in ok.text


def test_worker_heartbeats_are_counted_until_they_stop(profile: Profile) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from atelier.db.base import utcnow
    from atelier.system.models import WorkerBeat

    with api(profile.settings) as client:
        rt = build_runtime(profile.settings, worker=True)
        try:
            beat = Heartbeat(rt, ["gpu"], 1)
            beat.start()
            from support.live import wait_until

            def gpu_workers() -> float:
                m = _samples(client.get("/metrics").text)
                return m[("atelier_workers", (("queue", "gpu"),))]

            wait_until(lambda: gpu_workers() == 1, 10, "the heartbeat")
            beat.stop()
            assert gpu_workers() == 0  # a stopping worker removes its row
            beat.beat()  # a worker killed without cleaning up: counted until it goes stale
            assert gpu_workers() == 1
            with rt.db.session() as s:
                s.execute(update(WorkerBeat).values(last_seen=utcnow() - timedelta(minutes=5)))
            assert gpu_workers() == 0
        finally:
            rt.close()


def test_ready_checks_database_broker_and_storage(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api(profile.settings) as client:
        r = client.get("/api/v1/ready")
        assert r.status_code == 200, r.text
        assert r.json() == {
            "status": "ready",
            "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
        }
    monkeypatch.setenv("ATELIER_QUEUE__BROKER_URL", "amqp://guest:guest@127.0.0.1:1//")
    broken = Settings(_env_file=None)  # type: ignore[call-arg]
    with api(broken) as client:
        r = client.get("/api/v1/ready")
        assert r.status_code == 503
        body = r.json()
        assert body["status"] == "not_ready" and body["checks"]["database"] == "ok"
        assert body["checks"]["broker"].startswith("error:")
        assert client.get("/api/v1/health").status_code == 200  # liveness is unaffected
