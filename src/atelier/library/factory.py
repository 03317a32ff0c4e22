"""The library's parts, built from settings.

- :func:`build_embedder`: ``minilm`` | ``onnx`` | ``api`` (``LIBRARY__EMBEDDER``);
- :func:`build_image_embedder`: a CLIP model when ``LIBRARY__CLIP_MODEL`` is set, else None;
- :func:`build_analyzer`: ``offline`` (with CLIP zero-shot tags when a CLIP model is given)
  or ``vlm``;
- :func:`open_vector_index`: the backend ``LIBRARY__VECTOR_BACKEND`` names; ``auto`` picks
  pgvector on a PostgreSQL database that has (or can create) the ``vector`` extension and the
  embedded HNSW index otherwise — beside SQLite, and on a PostgreSQL without pgvector (such as
  Debian's); the exact index where usearch cannot be imported. Embedded indexes are loaded
  from ``<index_dir>/<model>.*`` when present.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine

from atelier.config import Settings
from atelier.library.analysis import Analyzer
from atelier.library.api_embedder import ApiEmbedder
from atelier.library.clip import ClipOnnxEmbedder
from atelier.library.embedding import Embedder, resolve_model_dir
from atelier.library.hybrid import HybridSearcher, Weights
from atelier.library.minilm import MiniLMEmbedder
from atelier.library.offline import OfflineAnalyzer
from atelier.library.onnx_embedder import OnnxSentenceEmbedder
from atelier.library.pgvector import PgVectorIndex, pgvector_version
from atelier.library.vectors import ExactIndex, UsearchIndex, VectorIndex, slug
from atelier.library.vlm import VlmAnalyzer
from atelier.providers.errors import NotConfigured

log = logging.getLogger(__name__)


def index_dir(settings: Settings) -> Path:
    return settings.library.index_dir or (settings.data_dir / "library")


def build_embedder(settings: Settings) -> Embedder:
    lib = settings.library
    if lib.embedder == "api":
        return ApiEmbedder(lib.api)
    if lib.embedder == "onnx":
        if not lib.onnx_model:
            raise NotConfigured("LIBRARY__EMBEDDER=onnx needs LIBRARY__ONNX_MODEL")
        path = resolve_model_dir(lib.onnx_model, settings.providers.models_dir, "onnx embedder")
        return OnnxSentenceEmbedder(
            path,
            pooling=None if lib.onnx_pooling == "auto" else lib.onnx_pooling,
            normalize=lib.onnx_normalize,
            max_tokens=lib.max_tokens,
        )
    return MiniLMEmbedder(lib.minilm_dir, max_tokens=lib.max_tokens)


def build_image_embedder(settings: Settings) -> ClipOnnxEmbedder | None:
    if not settings.library.clip_model:
        return None
    path = resolve_model_dir(settings.library.clip_model, settings.providers.models_dir, "clip")
    return ClipOnnxEmbedder(path)


def build_analyzer(settings: Settings, clip: ClipOnnxEmbedder | None = None) -> Analyzer:
    if settings.library.analyzer == "vlm":
        return VlmAnalyzer(settings.library.vlm)
    return OfflineAnalyzer(settings.library, clip=clip)


def open_vector_index(
    settings: Settings, model: str, dim: int, *, engine: Engine | None = None
) -> VectorIndex:
    """The vector index of ``model`` (``dim`` dimensions), loaded where it is a file."""
    lib = settings.library
    backend = lib.vector_backend
    hnsw = {
        "connectivity": lib.hnsw_connectivity,
        "expansion_add": lib.hnsw_expansion_add,
        "expansion_search": lib.hnsw_expansion_search,
        "exact_below": lib.exact_below,
    }
    if backend in ("auto", "pgvector"):
        version = pgvector_version(engine) if engine is not None else None
        if version is not None:
            return PgVectorIndex(engine, model, dim, version=version, **hnsw)  # type: ignore[arg-type]
        if backend == "pgvector":
            raise NotConfigured(
                "LIBRARY__VECTOR_BACKEND=pgvector needs PostgreSQL with the vector extension"
            )
        if engine is not None and engine.dialect.name == "postgresql":
            log.warning("pgvector is not installed: using the embedded vector index instead")
        backend = "usearch"
    directory = index_dir(settings)
    index: VectorIndex
    if backend == "usearch":
        try:
            import usearch.index  # noqa: F401
        except ImportError:  # pragma: no cover - usearch is a dependency
            log.warning("usearch cannot be imported: using exact vector search")
            backend = "exact"
    if backend == "usearch":
        index = UsearchIndex(model, dim, directory / f"{slug(model)}.usearch", **hnsw)
    else:
        index = ExactIndex(model, dim, directory / f"{slug(model)}.npz")
    index.load()
    return index


def build_searcher(
    settings: Settings,
    embedder: Embedder | None,
    index: VectorIndex | None,
    *,
    image_embedder: ClipOnnxEmbedder | None = None,
    image_index: VectorIndex | None = None,
) -> HybridSearcher:
    lib = settings.library
    return HybridSearcher(
        embedder,
        index,
        weights=Weights(lib.weight_vector, lib.weight_tags, lib.weight_text),
        image_embedder=image_embedder,
        image_index=image_index,
        query_prefix=lib.query_prefix,
    )
