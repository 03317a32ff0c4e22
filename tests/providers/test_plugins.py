"""Third-party providers register through the ``atelier.providers`` entry-point group."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from atelier.config import Settings
from atelier.providers.registry import build_registry

PLUGIN = """
from atelier.providers.base import ModelInfo
from atelier.providers.procedural import ProceduralProvider


class Sunny(ProceduralProvider):
    name = "sunny"

    def models(self):
        return [ModelInfo(id="sunny-1", provider="sunny", kind="remote")]


def make(settings):
    assert settings.generation.default_model
    return Sunny()
"""


def test_an_installed_plugin_is_registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sunny_plugin.py").write_text(PLUGIN)
    dist = tmp_path / "sunny_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sunny-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[atelier.providers]\nsunny = sunny_plugin:make\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = build_registry(Settings(_env_file=None))  # type: ignore[call-arg]
    entry = registry.resolve("sunny-1")
    assert entry.info.provider == "sunny" and type(entry.provider).__name__ == "Sunny"
    sys.modules.pop("sunny_plugin", None)


def test_a_broken_plugin_does_not_take_the_server_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dist = tmp_path / "broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[atelier.providers]\nbroken = no_such_module:make\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = build_registry(Settings(_env_file=None))  # type: ignore[call-arg]
    assert "procedural" in {m.id for m in registry.models()}
    assert "could not load provider plugin broken" in caplog.text
