"""The deployment files configure Atelier with settings that exist and parse: every
``ATELIER_*`` variable in compose.yml, the Kubernetes manifests and the Dockerfile is a real
setting, and each role's environment builds a valid production configuration."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from atelier.config import Settings
from atelier.config_docs import _rows

ROOT = Path(__file__).resolve().parent.parent
KNOWN = {name.strip("`") for name, _, _ in _rows(Settings, "ATELIER_")}
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?]([^}]*))?\}")


def _resolve(value: Any) -> str:
    """compose's ``${VAR:-default}`` / ``${VAR:?message}`` as an operator would fill them."""

    def fill(match: re.Match[str]) -> str:
        name, rest = match.group(1), match.group(0)
        if ":?" in rest:
            return f"test-value-for-{name.lower()}"
        return match.group(2) or ""

    return INTERPOLATION.sub(fill, str(value))


def _settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key in list(__import__("os").environ):
        if key.startswith("ATELIER_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def _compose_envs() -> dict[str, dict[str, str]]:
    doc = yaml.safe_load((ROOT / "compose.yml").read_text())
    envs = {}
    for name, service in doc["services"].items():
        env = service.get("environment") or {}
        atelier = {k: _resolve(v) for k, v in env.items() if k.startswith("ATELIER_")}
        if atelier:
            envs[name] = atelier
    return envs


def _env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines())
    return {k.strip(): v.strip() for k, v in (p for p in pairs if len(p) == 2)}


def test_compose_roles_build_a_valid_production_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    envs = _compose_envs()
    assert {"api", "worker-cpu", "worker-gpu"} <= set(envs)
    for role, env in envs.items():
        assert set(env) <= KNOWN, (role, sorted(set(env) - KNOWN))
        settings = _settings(env, monkeypatch)
        assert settings.mode == "production", role
        assert settings.database_url.startswith("postgresql+psycopg://"), role
        assert settings.broker_url.startswith("redis://") and settings.event_backend == "redis"
        assert settings.storage.backend == "s3" and not settings.queue.embedded_worker


def test_kubernetes_config_and_secret_build_a_valid_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    k8s = ROOT / "deploy" / "k8s"
    env = {**_env_file(k8s / "config.env"), **_env_file(k8s / "secret.env")}
    assert set(env) <= KNOWN, sorted(set(env) - KNOWN)
    for manifest in k8s.glob("*.yaml"):
        for doc in yaml.safe_load_all(manifest.read_text()):
            spec = (doc or {}).get("spec", {}).get("template", {}).get("spec", {})
            for container in spec.get("containers", []):
                extra = {e["name"]: e["value"] for e in container.get("env", [])}
                assert set(extra) <= KNOWN, (manifest.name, sorted(set(extra) - KNOWN))
                settings = _settings({**env, **extra}, monkeypatch)
                assert settings.mode == "production" and settings.event_backend == "redis"


def test_the_dockerfile_sets_only_real_settings() -> None:
    names = set(re.findall(r"\bATELIER_[A-Z0-9_]+", (ROOT / "Dockerfile").read_text()))
    assert names and names <= KNOWN, sorted(names - KNOWN)


def test_the_deployment_guide_names_real_settings() -> None:
    compose_only = {"ATELIER_GPU_MODELS", "ATELIER_IMAGE", "ATELIER_GPU_IMAGE"}
    text = (ROOT / "docs" / "deploy.md").read_text()
    names = set(re.findall(r"\bATELIER_[A-Z0-9_]+", text)) - compose_only
    assert names and names <= KNOWN, sorted(names - KNOWN)
