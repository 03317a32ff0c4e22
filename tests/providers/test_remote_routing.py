"""A remote provider configured from the secrets file, behind a route with fallback, driven by
the real runner: retries absorb upstream faults, a dead provider falls back, keys stay out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from atelier.config import Settings
from atelier.db.migrate import upgrade
from atelier.providers.models import ProviderCall
from atelier.runtime import Runtime, build_runtime
from atelier.tasks.models import Task
from atelier.tasks.schemas import TaskCreate
from atelier.tasks.service import TaskService
from atelier.worker.runner import execute
from support.emulators.openai_server import OpenAIEmulator
from support.profiles import Profile

KEY = "sk-emulated-openai-key-0123456789"


@pytest.fixture
def rt(
    profile: Profile,
    openai_emulator: OpenAIEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Runtime]:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[openai]\napi_key = "{KEY}"\nmodel = "dall-e-2"\n')
    monkeypatch.setenv("ATELIER_PROVIDERS__SECRETS_FILE", str(secrets))
    monkeypatch.setenv("ATELIER_PROVIDERS__OPENAI__BASE_URL", f"{openai_emulator.url}/v1")
    monkeypatch.setenv(
        "ATELIER_POLICY__ROUTES",
        '{"auto": {"candidates": {"openai": 1}, "fallback": ["procedural"]}}',
    )
    monkeypatch.setenv("ATELIER_POLICY__RETRY_BASE_DELAY", "0.01")
    monkeypatch.setenv("ATELIER_POLICY__BREAKER_FAILURES", "100")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.providers.openai.api_key.get_secret_value() == ""  # not in the environment
    upgrade(settings)
    runtime = build_runtime(settings, worker=True)
    yield runtime
    runtime.close()


def run(rt: Runtime) -> Task:
    params = {"prompt": "a lighthouse", "model": "auto", "width": 256, "height": 256, "seed": 1}
    task, _ = TaskService(rt).create("owner", TaskCreate(kind="generate", params=params))
    execute(rt, task.id)
    with rt.db.read() as s:
        row = s.get(Task, task.id)
    assert row is not None
    return row


def test_secrets_file_route_and_retries(rt: Runtime, openai_emulator: OpenAIEmulator) -> None:
    assert "openai" in {m.id for m in rt.providers.models()}
    openai_emulator.fail_next("server_error", status=502)
    openai_emulator.fail_next("rate_limit")
    task = run(rt)
    assert task.status == "completed" and task.provider == "openai"
    assert task.result is not None and task.result["fallbacks"] == []
    with rt.db.read() as s:
        outcomes = s.scalars(select(ProviderCall.outcome).order_by(ProviderCall.id)).all()
    assert outcomes == ["transient", "transient", "ok"]
    for request in openai_emulator.api_requests():
        assert request.headers.get("authorization") == f"Bearer {KEY}"


def test_a_dead_provider_falls_back(rt: Runtime, openai_emulator: OpenAIEmulator) -> None:
    for _ in range(rt.settings.policy.retries + 1):
        openai_emulator.fail_next("server_error", status=503)
    task = run(rt)
    assert task.status == "completed" and task.provider == "procedural"
    assert task.result is not None and task.result["fallbacks"] == ["openai"]
    assert KEY not in str(task.result) and KEY not in str(task.error_message)
