"""The ``library`` settings section and the factory that builds the engine from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from atelier.config import Settings
from atelier.library.factory import build_embedder, build_searcher, index_dir, open_vector_index
from atelier.library.hybrid import Weights
from atelier.library.minilm import MiniLMEmbedder
from atelier.library.vectors import UsearchIndex


def test_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "ATELIER_DATA_DIR": str(tmp_path),
        "ATELIER_LIBRARY__EMBEDDER": "api",
        "ATELIER_LIBRARY__API__API_KEY": "sk-library-secret",
        "ATELIER_LIBRARY__API__DIMENSIONS": "256",
        "ATELIER_LIBRARY__VECTOR_BACKEND": "usearch",
        "ATELIER_LIBRARY__HNSW_CONNECTIVITY": "24",
        "ATELIER_LIBRARY__WEIGHT_TAGS": "0.5",
        "ATELIER_LIBRARY__VLM__API_KEY": "sk-vlm-secret",
        "ATELIER_LIBRARY__VLM__JSON_MODE": "off",
        "ATELIER_LIBRARY__NEAR_DUPLICATE_DISTANCE": "8",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    lib = settings.library
    assert lib.embedder == "api" and lib.api.dimensions == 256
    assert lib.vector_backend == "usearch" and lib.hnsw_connectivity == 24
    assert lib.weight_tags == 0.5 and lib.vlm.json_mode == "off"
    assert lib.near_duplicate_distance == 8
    assert lib.api.api_key.get_secret_value() == "sk-library-secret"
    dumped = repr(settings) + settings.model_dump_json()
    assert "sk-library-secret" not in dumped and "sk-vlm-secret" not in dumped
    assert index_dir(settings) == tmp_path / "library"


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_LIBRARY__VECTOR_BACKEND", "faiss")
    with pytest.raises(ValueError, match="vector_backend"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_defaults_build_the_embedded_engine(tmp_path: Path, minilm: MiniLMEmbedder) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    embedder = build_embedder(settings)
    assert isinstance(embedder, MiniLMEmbedder) and embedder.dim == 384
    index = open_vector_index(settings, embedder.name, embedder.dim)
    assert isinstance(index, UsearchIndex)
    assert (index.connectivity, index.expansion_add, index.expansion_search) == (16, 128, 128)
    vectors = minilm.embed(["a red car", "a cat on a sofa"])
    index.add(["car", "cat"], vectors)
    index.persist()
    # a restart finds the same index beside the database
    again = open_vector_index(settings, embedder.name, embedder.dim)
    assert again.count() == 2 and again.search(vectors[1], k=1)[0][0] == "cat"
    searcher = build_searcher(settings, minilm, again)
    assert searcher.weights == Weights(0.6, 0.25, 0.15)
    assert np.isclose(
        sum((searcher.weights.vector, searcher.weights.tags, searcher.weights.text)), 1
    )
