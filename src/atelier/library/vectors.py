"""Vector indexes: one interface, three backends.

A :class:`VectorIndex` holds the vectors of one embedding model (``model``, ``dim``) keyed by
image id, and answers cosine similarity (``score`` in [-1, 1], higher is closer):

- :class:`UsearchIndex` — HNSW (usearch), the embedded default beside SQLite: a file
  ``<index_dir>/<model>.usearch`` and its id map ``<model>.json``; incremental adds and
  removals; :meth:`~VectorIndex.persist` writes both atomically.
- :class:`ExactIndex` — numpy brute force (``<model>.npz``): the fallback where usearch is
  not installed, and the ground truth of tests and benchmarks.
- :class:`~atelier.library.pgvector.PgVectorIndex` — pgvector's HNSW on PostgreSQL.

Filters: ``search(..., allowed_ids=...)`` returns the k best among the allowed ids whenever
that many exist. At most ``exact_below`` allowed ids are searched exactly (their vectors are
scored directly); above that the HNSW graph is asked for more and more neighbours (about
``8 * k * total / allowed``, growing 4x) until k allowed ones are found, then exact search over
the subset as a last resort.

A stored index made by another model, or with another dimension, is not loaded: the index
starts empty and says :attr:`stale`, so the caller re-embeds the library.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from atelier.library.embedding import Vectors, l2_normalise

log = logging.getLogger(__name__)

Hit = tuple[str, float]
#: Filtered searches over at most this many ids are exact unless configured otherwise.
EXACT_BELOW = 5000
#: A filtered HNSW search first asks for this many times k * total / allowed neighbours.
OVERFETCH = 8


@runtime_checkable
class VectorIndex(Protocol):
    backend: str
    model: str
    dim: int
    stale: bool

    def add(self, ids: Sequence[str], vectors: ArrayLike) -> None:
        """Insert or replace the vectors of ``ids`` (rows are L2-normalised here)."""

    def remove(self, ids: Sequence[str]) -> int:
        """Forget ``ids``; answers how many were there."""

    def search(
        self, vector: ArrayLike, k: int = 10, allowed_ids: Collection[str] | None = None
    ) -> list[Hit]:
        """The ``k`` nearest ids with their cosine similarity, best first."""

    def similarities(self, vector: ArrayLike, ids: Collection[str]) -> dict[str, float]:
        """Exact cosine similarity of ``vector`` to each of ``ids`` that is indexed."""

    def rebuild(self, ids: Sequence[str], vectors: ArrayLike) -> None:
        """Replace every vector with these (first loads, re-embedding); clears :attr:`stale`."""

    def count(self) -> int: ...

    def contains(self, image_id: str) -> bool: ...

    def clear(self) -> None: ...

    def persist(self) -> None: ...

    def load(self) -> None: ...


def slug(model: str) -> str:
    """A file name for ``model``: readable, and unique through a short hash."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-")[:60] or "model"
    return f"{readable}-{hashlib.sha256(model.encode()).hexdigest()[:8]}"


def as_matrix(vectors: ArrayLike, dim: int) -> Vectors:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise ValueError(f"expected vectors of {dim} dimensions, got shape {matrix.shape}")
    return l2_normalise(matrix)


def as_query(vector: ArrayLike, dim: int) -> NDArray[np.float32]:
    query: NDArray[np.float32] = as_matrix(vector, dim)[0]
    return query


def best_rows(scores: NDArray[np.float32], k: int) -> NDArray[np.intp]:
    """Positions of the ``k`` highest ``scores``, best first (ties: the earlier position)."""
    if k <= 0 or len(scores) == 0:
        return np.zeros(0, dtype=np.intp)
    part = np.argpartition(-scores, k - 1)[:k] if len(scores) > k else np.arange(len(scores))
    order: NDArray[np.intp] = part[np.lexsort((part, -scores[part]))]
    return order


def top_k(ids: Sequence[str], scores: NDArray[np.float32], k: int) -> list[Hit]:
    """The ``k`` best of ``scores`` with their ids, best first."""
    return [(ids[i], float(scores[i])) for i in best_rows(scores, k)]


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class ExactIndex:
    """Brute force over a float32 matrix: exact, O(n) per query (a 384-dim matrix of 100k
    rows is 150 MB and answers in a few milliseconds)."""

    backend = "exact"

    def __init__(self, model: str, dim: int, path: Path | None = None) -> None:
        self.model, self.dim, self.path = model, dim, path
        self.stale = False
        self._lock = threading.RLock()
        self._matrix = np.zeros((0, dim), dtype=np.float32)
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"ExactIndex(model={self.model!r}, dim={self.dim}, count={len(self._ids)})"

    def count(self) -> int:
        return len(self._ids)

    def contains(self, image_id: str) -> bool:
        return image_id in self._rows

    def add(self, ids: Sequence[str], vectors: ArrayLike) -> None:
        matrix = as_matrix(vectors, self.dim)
        if len(ids) != len(matrix):
            raise ValueError(f"{len(ids)} ids for {len(matrix)} vectors")
        with self._lock:
            for image_id, row in zip(ids, matrix, strict=True):
                at = self._rows.get(image_id)
                if at is None:
                    at = len(self._ids)
                    if at == len(self._matrix):
                        grown = np.zeros((max(16, 2 * at), self.dim), dtype=np.float32)
                        grown[:at] = self._matrix
                        self._matrix = grown
                    self._ids.append(image_id)
                    self._rows[image_id] = at
                self._matrix[at] = row

    def remove(self, ids: Sequence[str]) -> int:
        removed = 0
        with self._lock:
            for image_id in ids:
                at = self._rows.pop(image_id, None)
                if at is None:
                    continue
                last = len(self._ids) - 1
                if at != last:  # move the last row into the hole
                    moved = self._ids[last]
                    self._matrix[at] = self._matrix[last]
                    self._ids[at] = moved
                    self._rows[moved] = at
                self._ids.pop()
                removed += 1
        return removed

    def clear(self) -> None:
        with self._lock:
            self._matrix = np.zeros((0, self.dim), dtype=np.float32)
            self._ids, self._rows = [], {}

    def rebuild(self, ids: Sequence[str], vectors: ArrayLike) -> None:
        with self._lock:
            self.clear()
            self.add(ids, vectors)
            self.stale = False

    def vectors(self) -> Vectors:
        """A copy of the stored rows, in :meth:`ids` order."""
        with self._lock:
            return self._matrix[: len(self._ids)].copy()

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._ids)

    def search(
        self, vector: ArrayLike, k: int = 10, allowed_ids: Collection[str] | None = None
    ) -> list[Hit]:
        query = as_query(vector, self.dim)
        with self._lock:
            n = len(self._ids)
            if allowed_ids is None:
                return top_k(self._ids, self._matrix[:n] @ query, k)
            rows = [self._rows[i] for i in allowed_ids if i in self._rows]
            ids = [self._ids[r] for r in rows]
            return top_k(ids, self._matrix[rows] @ query, k)

    def similarities(self, vector: ArrayLike, ids: Collection[str]) -> dict[str, float]:
        query = as_query(vector, self.dim)
        with self._lock:
            present = [i for i in ids if i in self._rows]
            scores = self._matrix[[self._rows[i] for i in present]] @ query
        return {i: float(s) for i, s in zip(present, scores, strict=True)}

    def persist(self) -> None:
        if self.path is None:
            return
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp.npz")
            np.savez(
                tmp,
                vectors=self._matrix[: len(self._ids)],
                ids=np.asarray(self._ids, dtype=str),
                model=np.asarray(self.model),
            )
            os.replace(tmp, self.path)

    def load(self) -> None:
        if self.path is None or not self.path.is_file():
            return
        with self._lock, np.load(self.path, allow_pickle=False) as data:
            vectors, ids = data["vectors"], [str(i) for i in data["ids"]]
            if str(data["model"]) != self.model or vectors.shape[1:] != (self.dim,):
                log.warning("vector index %s was made by another model: starting empty", self.path)
                self.clear()
                self.stale = True
                return
            self._matrix = np.ascontiguousarray(vectors, dtype=np.float32)
            self._ids = ids
            self._rows = {image_id: row for row, image_id in enumerate(ids)}


class UsearchIndex:
    """HNSW from usearch (cosine). Image ids map to 64-bit keys kept in a JSON file beside the
    index; an update of an id removes its old key and adds a new one.

    A float16 copy of the vectors, by key, serves exact scoring of given ids (filtered
    searches over small sets, hybrid candidates) without asking usearch for rows one by one;
    it costs 2 bytes per dimension per key (77 MB for 100,000 vectors of 384 dimensions) and
    is rebuilt from the index file on load."""

    backend = "usearch"

    def __init__(
        self,
        model: str,
        dim: int,
        path: Path | None = None,
        *,
        connectivity: int = 16,
        expansion_add: int = 128,
        expansion_search: int = 128,
        exact_below: int = EXACT_BELOW,
    ) -> None:
        self.model, self.dim, self.path = model, dim, path
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search
        self.exact_below = exact_below
        self.stale = False
        self._lock = threading.RLock()
        self._index = self._new()
        self._key_of: dict[str, int] = {}
        self._id_of: dict[int, str] = {}
        self._next_key = 1
        self._mirror = np.zeros((0, dim), dtype=np.float16)

    def __repr__(self) -> str:
        return f"UsearchIndex(model={self.model!r}, dim={self.dim}, count={len(self._key_of)})"

    def _new(self) -> Any:
        from usearch.index import Index

        return Index(
            ndim=self.dim,
            metric="cos",
            dtype="f32",
            connectivity=self.connectivity,
            expansion_add=self.expansion_add,
            expansion_search=self.expansion_search,
        )

    @property
    def meta_path(self) -> Path | None:
        return None if self.path is None else self.path.with_suffix(".json")

    def count(self) -> int:
        return len(self._key_of)

    def contains(self, image_id: str) -> bool:
        return image_id in self._key_of

    def add(self, ids: Sequence[str], vectors: ArrayLike) -> None:
        matrix = as_matrix(vectors, self.dim)
        if len(ids) != len(matrix):
            raise ValueError(f"{len(ids)} ids for {len(matrix)} vectors")
        if len(set(ids)) != len(ids):  # the last row of a repeated id wins
            last = {image_id: row for row, image_id in enumerate(ids)}
            ids, matrix = list(last), matrix[list(last.values())]
        if not len(ids):
            return
        with self._lock:
            self.remove([i for i in ids if i in self._key_of])
            keys = np.arange(self._next_key, self._next_key + len(ids), dtype=np.uint64)
            self._next_key += len(ids)
            self._index.add(keys, matrix)
            self._mirror_rows(keys, matrix)
            for image_id, key in zip(ids, keys.tolist(), strict=True):
                self._key_of[image_id] = key
                self._id_of[key] = image_id

    def remove(self, ids: Sequence[str]) -> int:
        with self._lock:
            keys = [self._key_of.pop(i) for i in ids if i in self._key_of]
            for key in keys:
                del self._id_of[key]
            if keys:
                self._index.remove(np.asarray(keys, dtype=np.uint64))
            return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._index = self._new()
            self._key_of, self._id_of, self._next_key = {}, {}, 1
            self._mirror = np.zeros((0, self.dim), dtype=np.float16)

    def _mirror_rows(self, keys: NDArray[np.uint64], matrix: NDArray[np.float32]) -> None:
        need = int(keys.max()) + 1 if len(keys) else 0
        if need > len(self._mirror):
            grown = np.zeros((max(need, 2 * len(self._mirror), 64), self.dim), np.float16)
            grown[: len(self._mirror)] = self._mirror
            self._mirror = grown
        self._mirror[keys.astype(np.int64)] = matrix

    def rebuild(self, ids: Sequence[str], vectors: ArrayLike) -> None:
        with self._lock:
            self.clear()
            self.add(ids, vectors)
            self.stale = False

    def _vectors(self, ids: Sequence[str]) -> Vectors:
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = np.fromiter((self._key_of[i] for i in ids), dtype=np.int64, count=len(ids))
        return self._mirror[keys].astype(np.float32)

    def similarities(self, vector: ArrayLike, ids: Collection[str]) -> dict[str, float]:
        query = as_query(vector, self.dim)
        with self._lock:
            present = [i for i in ids if i in self._key_of]
            scores = self._vectors(present) @ query
        return {i: float(s) for i, s in zip(present, scores, strict=True)}

    def search(
        self, vector: ArrayLike, k: int = 10, allowed_ids: Collection[str] | None = None
    ) -> list[Hit]:
        query = as_query(vector, self.dim)
        with self._lock:
            total = len(self._key_of)
            if k <= 0 or total == 0:
                return []
            if allowed_ids is None:
                return self._ann(query, min(k, total), None)[:k]
            allowed = allowed_ids if isinstance(allowed_ids, set | frozenset) else set(allowed_ids)
            if len(allowed) <= max(self.exact_below, k):
                return self._exact(query, allowed, k)
            count = min(total, math.ceil(OVERFETCH * k * total / len(allowed)))
            while True:
                hits = self._ann(query, count, allowed)
                if len(hits) >= k:
                    return hits[:k]
                if count >= total:
                    return self._exact(query, allowed, k)
                count = min(total, count * 4)

    def _ann(
        self, query: NDArray[np.float32], count: int, allowed: Collection[str] | None
    ) -> list[Hit]:
        matches = self._index.search(query, count)
        hits: list[Hit] = []
        for key, distance in zip(matches.keys.tolist(), matches.distances.tolist(), strict=True):
            image_id = self._id_of.get(int(key))
            if image_id is not None and (allowed is None or image_id in allowed):
                hits.append((image_id, 1.0 - float(distance)))
        return hits

    def _exact(self, query: NDArray[np.float32], ids: Collection[str], k: int) -> list[Hit]:
        """Brute force over the float16 copy of the rows of ``ids`` (unknown ids skipped)."""
        key_of = self._key_of
        keys = np.fromiter((key_of.get(i, 0) for i in ids), dtype=np.int64, count=len(ids))
        keys = keys[keys > 0]  # keys start at 1
        if not len(keys):
            return []
        scores = self._mirror[keys].astype(np.float32) @ query
        return [(self._id_of[int(keys[i])], float(scores[i])) for i in best_rows(scores, k)]

    def persist(self) -> None:
        if self.path is None or self.meta_path is None:
            return
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            self._index.save(str(tmp))
            meta = {
                "model": self.model,
                "dim": self.dim,
                "next_key": self._next_key,
                "ids": list(self._key_of),
                "keys": list(self._key_of.values()),
            }
            os.replace(tmp, self.path)
            _write_atomic(self.meta_path, json.dumps(meta).encode())

    def load(self) -> None:
        if self.path is None or self.meta_path is None:
            return
        if not self.path.is_file() or not self.meta_path.is_file():
            return
        from usearch.index import Index

        with self._lock:
            meta = json.loads(self.meta_path.read_text())
            if meta.get("model") != self.model or meta.get("dim") != self.dim:
                log.warning("vector index %s was made by another model: starting empty", self.path)
                self.clear()
                self.stale = True
                return
            index: Any = Index.restore(str(self.path))
            key_of = dict(zip(meta["ids"], meta["keys"], strict=True))
            if index is None or len(index) != len(key_of) or index.ndim != self.dim:
                log.warning("vector index %s does not match its id map: starting empty", self.path)
                self.clear()
                self.stale = True
                return
            index.expansion_search = self.expansion_search
            index.expansion_add = self.expansion_add
            self._index = index
            self._mirror = np.zeros((0, self.dim), dtype=np.float16)
            if len(index):
                keys = np.asarray(index.keys[:], dtype=np.uint64)
                rows = index.get(keys)
                rows = rows if isinstance(rows, tuple | list) else [rows]
                self._mirror_rows(keys, np.vstack(rows).astype(np.float32))
            self._key_of = key_of
            self._id_of = {key: image_id for image_id, key in key_of.items()}
            self._next_key = int(meta["next_key"])
