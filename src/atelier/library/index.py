"""The library's search index in one process, kept in step with the database.

The database is the truth: ``library_images`` and ``library_tags`` give the search documents,
``library_embeddings`` the vectors. A process (the API, the local CLI) builds its index from
them on first use — a :class:`~atelier.library.hybrid.HybridSearcher` for tags and text, a
vector index per model, a BK-tree of perceptual hashes per owner — and before each query
reads the change log after the last entry it has seen (:meth:`LibraryIndex.refresh`: one
indexed query when nothing changed), reloading the images named there. So a vector written
by a worker is searchable from every API process at its next query.

Change ids are given in commit order on SQLite; on PostgreSQL a transaction may commit after
a later id became visible, so ids skipped over are remembered for a while (:data:`GAP_TTL`)
and read again until they show up.

Vectors: with the pgvector backend (PostgreSQL with the ``vector`` extension) they live in
the database (``library_vectors``, written by the ``tag`` task; the index here only checks
at start-up that the table holds every stored vector); otherwise they are held in memory
(usearch's HNSW, or the exact index).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from atelier.config import Settings
from atelier.library import components, store
from atelier.library.dedup import Match, NearDuplicateIndex, to_unsigned
from atelier.library.factory import build_searcher
from atelier.library.hybrid import HybridSearcher
from atelier.library.models import LibraryEmbedding
from atelier.library.pgvector import TABLE, PgVectorIndex, pgvector_version
from atelier.library.vectors import ExactIndex, UsearchIndex, VectorIndex
from atelier.providers.errors import NotConfigured
from atelier.runtime import Runtime

log = logging.getLogger(__name__)

#: Seconds a change id skipped over is looked for again (a transaction still committing).
GAP_TTL = 60.0
#: Most skipped ids remembered at once.
MAX_GAPS = 10_000
#: Ids per query when reloading images.
CHUNK = 500

_pg_lock = threading.Lock()
_pg_versions: dict[str, tuple[int, ...] | None] = {}
_pg_indexes: dict[tuple[str, str, int], PgVectorIndex] = {}


def uses_pgvector(runtime: Runtime) -> bool:
    """Whether vectors live in pgvector (``auto`` on a PostgreSQL that has the extension)."""
    if runtime.settings.library.vector_backend not in ("auto", "pgvector"):
        return False
    return _pg_version(runtime) is not None


def _pg_version(runtime: Runtime) -> tuple[int, ...] | None:
    url = runtime.settings.database_url
    with _pg_lock:
        if url not in _pg_versions:
            _pg_versions[url] = pgvector_version(runtime.db.engine)
        return _pg_versions[url]


def pg_index(runtime: Runtime, model: str, dim: int) -> PgVectorIndex:
    """The pgvector index of ``model`` (made once per process: it checks its DDL)."""
    version = _pg_version(runtime)
    lib = runtime.settings.library
    key = (runtime.settings.database_url, model, dim)
    with _pg_lock:
        found = _pg_indexes.get(key)
        if found is None:
            found = PgVectorIndex(
                runtime.db.engine,
                model,
                dim,
                connectivity=lib.hnsw_connectivity,
                expansion_add=lib.hnsw_expansion_add,
                expansion_search=lib.hnsw_expansion_search,
                exact_below=lib.exact_below,
                version=version,
            )
            _pg_indexes[key] = found
        return found


def memory_index(settings: Settings, model: str, dim: int) -> VectorIndex:
    lib = settings.library
    if lib.vector_backend == "exact":
        return ExactIndex(model, dim)
    try:
        import usearch.index  # noqa: F401
    except ImportError:  # pragma: no cover - usearch is a dependency
        return ExactIndex(model, dim)
    return UsearchIndex(
        model,
        dim,
        connectivity=lib.hnsw_connectivity,
        expansion_add=lib.hnsw_expansion_add,
        expansion_search=lib.hnsw_expansion_search,
        exact_below=lib.exact_below,
    )


def write_vectors(
    runtime: Runtime, image_id: str, vectors: Sequence[tuple[str, np.ndarray]]
) -> None:
    """After the vectors of an image are committed: put them into pgvector, where it is the
    backend (in-memory indexes follow the change log instead)."""
    if not vectors or not uses_pgvector(runtime):
        return
    for model, vector in vectors:
        pg_index(runtime, model, int(vector.shape[0])).add([image_id], vector[None, :])


def drop_vectors(runtime: Runtime, image_ids: Sequence[str], models: Iterable[str]) -> None:
    """Remove deleted images from pgvector (in-memory indexes follow the change log)."""
    if not image_ids or not uses_pgvector(runtime):
        return
    try:
        with runtime.db.engine.begin() as conn:
            conn.execute(
                text(f"DELETE FROM {TABLE} WHERE image_id = ANY(:ids) AND model = ANY(:models)"),
                {"ids": list(image_ids), "models": list(models)},
            )
    except DBAPIError:  # the table is made with the first index; none yet, nothing to do
        log.debug("no pgvector table yet")


class LibraryIndex:
    """Search documents, vectors and perceptual hashes of every library image, in memory."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self._lock = threading.RLock()
        self._ready = False
        self._last = 0
        self._gaps: dict[int, float] = {}
        self._near: dict[str, NearDuplicateIndex] = {}
        self._owner_of: dict[str, str] = {}
        self.pgvector = False
        self.searcher = HybridSearcher()
        self.text_model = ""
        self.image_model: str | None = None

    # -- reading ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Catch up with the database: everything at first, then the changed images."""
        with self._lock:
            if not self._ready:
                self._load()
                return
            with self.runtime.db.read() as s:
                found = store.changes_after(s, self._last, self._gaps)
            if not found:
                self._expire_gaps()
                return
            self._note(found)
            self._reload({image_id for _, image_id in found})

    def near_duplicates(self, owner: str, phash: int) -> list[Match]:
        """The owner's images within the configured distance of ``phash`` (call
        :meth:`refresh` first)."""
        with self._lock:
            tree = self._near.get(owner)
            return tree.find(to_unsigned(phash)) if tree is not None else []

    # -- loading ------------------------------------------------------------------------------
    def _load(self) -> None:
        text_index = image_index = None
        try:
            models = components.models(self.settings)
            text_index = self._vector_index(models.embedder.name, models.embedder.dim)
            if models.image_embedder is not None:
                image_index = self._vector_index(
                    models.image_embedder.name, models.image_embedder.dim
                )
                self.image_model = models.image_embedder.name
            self.text_model = models.embedder.name
            self.searcher = build_searcher(
                self.settings,
                models.embedder,
                text_index,
                image_embedder=models.image_embedder,
                image_index=image_index,
            )
        except NotConfigured as exc:  # tags, text and duplicates still work
            log.warning("library search without vectors: %s", exc.message)
            self.searcher = build_searcher(self.settings, None, None)
            text_index = image_index = None
            self.pgvector, self.image_model, self.text_model = False, None, ""
        with self.runtime.db.read() as s:
            self._last = store.last_change(s)
            loaded = store.entries(s)
        self._apply(loaded, set())
        for index in (text_index, image_index):
            if index is None:
                continue
            if self.pgvector:
                self._reconcile(index)
            else:
                self._fill(index, None)
        self._ready = True
        log.info(
            "library index: %d images, %s vectors (%s)",
            len(loaded),
            text_index.count() if text_index is not None else 0,
            text_index.backend if text_index is not None else "none",
        )

    def _vector_index(self, model: str, dim: int) -> VectorIndex:
        if uses_pgvector(self.runtime):
            self.pgvector = True
            return pg_index(self.runtime, model, dim)
        if self.settings.library.vector_backend == "pgvector":
            raise NotConfigured(
                "LIBRARY__VECTOR_BACKEND=pgvector needs PostgreSQL with the vector extension"
            )
        return memory_index(self.settings, model, dim)

    def _fill(self, index: VectorIndex, image_ids: set[str] | None) -> None:
        """Put the stored vectors of ``image_ids`` (all when None) into an in-memory index;
        changed images without a vector of this model leave it."""
        rows: list[tuple[str, bytes, int]] = []
        chunks = [None] if image_ids is None else _chunks(sorted(image_ids))
        for chunk in chunks:
            with self.runtime.db.read() as s:
                rows += store.vectors_of(s, index.model, chunk)
        good = [(i, v) for i, v, d in rows if d == index.dim]
        if good:
            ids = [i for i, _ in good]
            index.add(ids, np.vstack([store.unpack(v, index.dim) for _, v in good]))
        if image_ids is not None:
            gone = [i for i in image_ids if i not in {g for g, _ in good}]
            if gone:
                index.remove(gone)

    def _reconcile(self, index: VectorIndex) -> None:
        """pgvector: add the stored vectors the table lacks (a database that got the
        extension after images were embedded, a write lost with a worker)."""
        assert isinstance(index, PgVectorIndex)
        with self.runtime.db.read() as s:
            stored = set(
                s.scalars(
                    select(LibraryEmbedding.image_id).where(LibraryEmbedding.model == index.model)
                )
            )
        with self.runtime.db.engine.connect() as conn:
            present = set(
                conn.execute(
                    text(f"SELECT image_id FROM {TABLE} WHERE model = :m"), {"m": index.model}
                ).scalars()
            )
        missing = stored - present
        if missing:
            log.info("pgvector: adding %d stored vectors of %s", len(missing), index.model)
            for chunk in _chunks(sorted(missing)):
                with self.runtime.db.read() as s:
                    rows = store.vectors_of(s, index.model, chunk)
                rows = [r for r in rows if r[2] == index.dim]
                if rows:
                    index.add(
                        [i for i, _, _ in rows],
                        np.vstack([store.unpack(v, index.dim) for _, v, _ in rows]),
                    )
        extra = present - stored
        if extra:
            index.remove(sorted(extra))

    def _reload(self, image_ids: set[str]) -> None:
        loaded: list[store.Entry] = []
        for chunk in _chunks(sorted(image_ids)):
            with self.runtime.db.read() as s:
                loaded += store.entries(s, chunk)
        self._apply(loaded, image_ids - {e.doc.id for e in loaded})
        if not self.pgvector:
            for index in (self.searcher.index, self.searcher.image_index):
                if index is not None:
                    self._fill(index, image_ids)

    def _apply(self, loaded: list[store.Entry], gone: set[str]) -> None:
        self.searcher.upsert(e.doc for e in loaded)
        self.searcher.remove(gone)
        for image_id in gone:
            self._forget_hash(image_id)
        for entry in loaded:
            self._forget_hash(entry.doc.id)
            owner = entry.doc.owner
            tree = self._near.get(owner)
            if tree is None:
                tree = NearDuplicateIndex(self.settings.library.near_duplicate_distance)
                self._near[owner] = tree
            tree.add(entry.doc.id, to_unsigned(entry.phash))
            self._owner_of[entry.doc.id] = owner

    def _forget_hash(self, image_id: str) -> None:
        owner = self._owner_of.pop(image_id, None)
        if owner is not None and owner in self._near:
            self._near[owner].remove(image_id)

    def forget(self, image_ids: Iterable[str]) -> None:
        """Drop images known to be gone (rows deleted without a change entry)."""
        ids = list(image_ids)
        with self._lock:
            self.searcher.remove(ids)
            for image_id in ids:
                self._forget_hash(image_id)
            if not self.pgvector:
                for index in (self.searcher.index, self.searcher.image_index):
                    if index is not None:
                        index.remove(ids)

    # -- the change log's bookkeeping ------------------------------------------------------
    def _note(self, found: list[tuple[int, str]]) -> None:
        now = time.monotonic()
        for change_id, _ in found:
            self._gaps.pop(change_id, None)
        for change_id, _ in found:
            if change_id > self._last:
                for missing in range(self._last + 1, min(change_id, self._last + 1 + MAX_GAPS)):
                    self._gaps[missing] = now
                self._last = change_id
        self._expire_gaps()

    def _expire_gaps(self) -> None:
        if not self._gaps:
            return
        now = time.monotonic()
        for gap, seen in list(self._gaps.items()):
            if now - seen > GAP_TTL:
                del self._gaps[gap]
        if len(self._gaps) > MAX_GAPS:
            for gap in sorted(self._gaps)[: len(self._gaps) - MAX_GAPS]:
                del self._gaps[gap]


def _chunks(ids: list[str]) -> list[list[str] | None]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
