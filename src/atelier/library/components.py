"""The library's models, built once per process and configuration.

The text embedder, the CLIP image embedder (when one is configured) and the analyser load
their weights lazily; building them is cheap, loading them is not, so a process keeps one of
each per library configuration (the worker for every ``tag`` task, the API for queries).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from atelier.config import Settings
from atelier.library import factory
from atelier.library.analysis import Analyzer
from atelier.library.clip import ClipOnnxEmbedder
from atelier.library.embedding import Embedder


@dataclass(frozen=True)
class Models:
    embedder: Embedder
    image_embedder: ClipOnnxEmbedder | None
    _settings: Settings

    @property
    def analyzer(self) -> Analyzer:
        return _analyzer(self._settings, self.image_embedder)


_lock = threading.Lock()
_models: dict[str, Models] = {}
_analyzers: dict[str, Analyzer] = {}


def _key(settings: Settings) -> str:
    return settings.library.model_dump_json() + f"|{settings.providers.models_dir}"


def models(settings: Settings) -> Models:
    """The embedders of this configuration (raises ``NotConfigured`` when one cannot be
    built: a missing model directory...)."""
    key = _key(settings)
    with _lock:
        found = _models.get(key)
        if found is None:
            found = Models(
                factory.build_embedder(settings), factory.build_image_embedder(settings), settings
            )
            _models[key] = found
        return found


def _analyzer(settings: Settings, clip: ClipOnnxEmbedder | None) -> Analyzer:
    key = _key(settings)
    with _lock:
        found = _analyzers.get(key)
        if found is None:
            found = factory.build_analyzer(settings, clip)
            _analyzers[key] = found
        return found
