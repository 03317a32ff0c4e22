"""``pgvector``: the vector index on PostgreSQL, where the ``vector`` extension is installed.

The index owns one table, shared by every embedding model::

    library_vectors(model varchar(200), image_id varchar(64), embedding vector,
                    PRIMARY KEY (model, image_id))

The column has no fixed dimension, so the vectors of a new model (another size) can be written
beside the old ones while the library is re-embedded. Each model gets a partial HNSW index on
its rows, cast to its size (pgvector's documented way to index several sizes in one column)::

    CREATE INDEX ... USING hnsw ((embedding::vector(384)) vector_cosine_ops)
        WITH (m = 16, ef_construction = 128)
        WHERE model = 'minilm:all-MiniLM-L6-v2' AND vector_dims(embedding) = 384

Queries repeat that expression and predicate (the model is written into the SQL as a quoted
literal so every plan, generic or custom, can use the partial index) and set
``hnsw.ef_search`` per transaction. Filtered searches: up to ``exact_below`` allowed ids are
scored exactly by primary key; more use pgvector 0.8's iterative index scans
(``hnsw.iterative_scan = relaxed_order``), or with older versions ask for more and more
neighbours, with exact search over the subset as the last resort. HNSW indexes up to 2,000
dimensions; a larger model is searched exactly.

Bulk loads (:meth:`PgVectorIndex.rebuild`, and :meth:`~PgVectorIndex.add` of many rows) use
binary ``COPY`` (psycopg), and :meth:`rebuild` builds the HNSW index after the rows are in.

The DDL is made here (``ensure``) until it moves to an Alembic migration.
"""

from __future__ import annotations

import hashlib
import logging
import math
import struct
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from atelier.library.vectors import EXACT_BELOW, OVERFETCH, Hit, as_matrix, as_query

log = logging.getLogger(__name__)

TABLE = "library_vectors"
#: pgvector's HNSW limit for the ``vector`` type.
MAX_HNSW_DIM = 2000
#: Rows from which :meth:`PgVectorIndex.add` loads through COPY instead of INSERTs.
COPY_FROM = 256
#: pgvector's largest ``hnsw.ef_search``.
MAX_EF_SEARCH = 1000
#: The smallest search beam of filtered (iterative) HNSW scans: 10 % selectivity on 100k
#: vectors gives recall@10 0.85 at 128, 0.93 at 400 (docs/benchmarks.md).
FILTERED_EF = 400
#: The condition of a search among given ids.
IN_IDS = "image_id = ANY(:ids)"


def pgvector_version(engine: Engine, *, create: bool = True) -> tuple[int, ...] | None:
    """The installed ``vector`` extension's version, after ``CREATE EXTENSION IF NOT EXISTS
    vector`` when ``create``; None on another database or where it cannot be installed."""
    if engine.dialect.name != "postgresql":
        return None
    query = text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    try:
        with engine.connect() as conn:
            version = conn.execute(query).scalar()
        if version is None and create:
            with engine.begin() as conn:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
                version = conn.execute(query).scalar()
    except DBAPIError as exc:
        log.info("pgvector is not available: %s", str(exc.orig).strip().splitlines()[0])
        return None
    if version is None:
        return None
    return tuple(int(part) for part in str(version).split(".") if part.isdigit())


def literal(value: str) -> str:
    """``value`` as an SQL string literal (standard quoting)."""
    if "\x00" in value:
        raise ValueError("NUL in an SQL literal")
    return "'" + value.replace("'", "''") + "'"


def vector_text(vector: NDArray[np.float32]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


class PgVectorIndex:
    backend = "pgvector"

    def __init__(
        self,
        engine: Engine,
        model: str,
        dim: int,
        *,
        connectivity: int = 16,
        expansion_add: int = 128,
        expansion_search: int = 128,
        exact_below: int = EXACT_BELOW,
        version: tuple[int, ...] | None = None,
    ) -> None:
        self.engine, self.model, self.dim = engine, model, dim
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search
        self.exact_below = exact_below
        self.stale = False
        self.version = version or pgvector_version(engine) or (0,)
        self._prefix = f"ix_{TABLE}_{hashlib.sha256(model.encode()).hexdigest()[:12]}"
        self.index_name = f"{self._prefix}_{dim}"
        self._model = literal(model)
        self._expr = f"(embedding::vector({dim}))"
        # the size check comes first in the partial index's predicate, so neither the index
        # nor a query ever casts a vector of another size (rows of an old size not yet gone)
        self._where = f"model = {self._model} AND vector_dims(embedding) = {int(dim)}"
        self.ensure()

    def __repr__(self) -> str:
        return f"PgVectorIndex(model={self.model!r}, dim={self.dim})"

    # -- schema ---------------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the table and this model's HNSW index when missing. Rows of this model with
        another dimension (a model that changed size under the same name) are dropped and
        :attr:`stale` is set, so the library is re-embedded."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                    "model varchar(200) NOT NULL, image_id varchar(64) NOT NULL, "
                    "embedding vector NOT NULL, PRIMARY KEY (model, image_id))"
                )
            )
            other = conn.execute(
                text(
                    f"SELECT vector_dims(embedding) FROM {TABLE} WHERE model = {self._model} "
                    f"AND vector_dims(embedding) <> {self.dim} LIMIT 1"
                )
            ).scalar()
            if other is not None:
                log.warning(
                    "pgvector: %s had %s-dimensional vectors, now %d: dropping them",
                    self.model,
                    other,
                    self.dim,
                )
                conn.execute(text(f"DELETE FROM {TABLE} WHERE model = {self._model}"))
                self.stale = True
            for (name,) in conn.execute(
                text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = :table "
                    "AND indexname LIKE :prefix AND indexname <> :name"
                ),
                {"table": TABLE, "prefix": self._prefix + "\\_%", "name": self.index_name},
            ).all():
                conn.execute(text(f'DROP INDEX IF EXISTS "{name}"'))  # the old size's index
            self._create_index(conn)

    def _create_index(self, conn: Connection) -> None:
        if self.dim > MAX_HNSW_DIM:
            log.warning("pgvector: %d dimensions exceed HNSW's limit: exact search", self.dim)
            return
        conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        conn.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS {self.index_name} ON {TABLE} USING hnsw "
                f"({self._expr} vector_cosine_ops) WITH (m = {int(self.connectivity)}, "
                f"ef_construction = {int(self.expansion_add)}) WHERE {self._where}"
            )
        )

    def drop(self) -> None:
        """Remove this model's rows and index (the table stays for other models)."""
        with self.engine.begin() as conn:
            conn.execute(text(f"DROP INDEX IF EXISTS {self.index_name}"))
            conn.execute(text(f"DELETE FROM {TABLE} WHERE model = {self._model}"))

    # -- writes ---------------------------------------------------------------------------------
    def add(self, ids: Sequence[str], vectors: ArrayLike) -> None:
        matrix = as_matrix(vectors, self.dim)
        if len(ids) != len(matrix):
            raise ValueError(f"{len(ids)} ids for {len(matrix)} vectors")
        if not len(ids):
            return
        last = {image_id: row for row, image_id in enumerate(ids)}  # the last row wins
        ids, matrix = list(last), matrix[list(last.values())]
        with self.engine.begin() as conn:
            if len(ids) >= COPY_FROM and self._copyable(conn):
                conn.execute(
                    text(f"CREATE TEMP TABLE library_vectors_load (LIKE {TABLE}) ON COMMIT DROP")
                )
                self._copy(conn, "library_vectors_load", ids, matrix)
                source = "SELECT model, image_id, embedding FROM library_vectors_load"
                conn.execute(
                    text(
                        f"INSERT INTO {TABLE} (model, image_id, embedding) {source} "
                        "ON CONFLICT (model, image_id) DO UPDATE SET embedding = "
                        "EXCLUDED.embedding"
                    )
                )
                return
            conn.execute(
                text(
                    f"INSERT INTO {TABLE} (model, image_id, embedding) "
                    "VALUES (:model, :id, CAST(:v AS vector)) ON CONFLICT (model, image_id) "
                    "DO UPDATE SET embedding = EXCLUDED.embedding"
                ),
                [
                    {"model": self.model, "id": i, "v": vector_text(row)}
                    for i, row in zip(ids, matrix, strict=True)
                ],
            )

    def rebuild(self, ids: Sequence[str], vectors: ArrayLike) -> None:
        """Replace this model's vectors with these, then build the HNSW index once (much
        faster than growing it row by row): for first loads and re-embedding."""
        matrix = as_matrix(vectors, self.dim)
        if len(ids) != len(matrix):
            raise ValueError(f"{len(ids)} ids for {len(matrix)} vectors")
        with self.engine.begin() as conn:
            conn.execute(text(f"DROP INDEX IF EXISTS {self.index_name}"))
            conn.execute(text(f"DELETE FROM {TABLE} WHERE model = {self._model}"))
            if self._copyable(conn):
                self._copy(conn, TABLE, list(ids), matrix)
        if not self._copyable_engine():
            self.add(ids, matrix)
        with self.engine.begin() as conn:
            self._create_index(conn)
            conn.execute(text(f"ANALYZE {TABLE}"))
        self.stale = False

    def _copyable_engine(self) -> bool:
        return self.engine.dialect.driver == "psycopg"

    def _copyable(self, conn: Connection) -> bool:
        return conn.dialect.driver == "psycopg"

    def _copy(
        self, conn: Connection, table: str, ids: list[str], matrix: NDArray[np.float32]
    ) -> None:
        """Binary COPY: header, then per row three fields (model, id, pgvector's binary form:
        int16 dimensions, int16 unused, big-endian float4 values), then the trailer."""
        model = self.model.encode()
        head = struct.pack("!hi", 3, len(model)) + model
        vector_head = struct.pack("!ihh", 4 + 4 * self.dim, self.dim, 0)
        values = matrix.astype(">f4")
        raw: Any = conn.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(
                f"COPY {table} (model, image_id, embedding) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0))
            chunk: list[bytes] = []
            for image_id, row in zip(ids, values, strict=True):
                key = image_id.encode()
                chunk.append(head + struct.pack("!i", len(key)) + key + vector_head + row.tobytes())
                if len(chunk) >= 4096:
                    copy.write(b"".join(chunk))
                    chunk.clear()
            copy.write(b"".join(chunk) + struct.pack("!h", -1))

    def remove(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(
                text(f"DELETE FROM {TABLE} WHERE model = {self._model} AND image_id = ANY(:ids)"),
                {"ids": list(ids)},
            )
            return int(result.rowcount)

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {TABLE} WHERE model = {self._model}"))

    # -- reads ----------------------------------------------------------------------------------
    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    text(f"SELECT count(*) FROM {TABLE} WHERE model = {self._model}")
                ).scalar_one()
            )

    def contains(self, image_id: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                text(f"SELECT 1 FROM {TABLE} WHERE model = {self._model} AND image_id = :id"),
                {"id": image_id},
            ).first()
        return row is not None

    def similarities(self, vector: ArrayLike, ids: Collection[str]) -> dict[str, float]:
        if not ids:
            return {}
        query = vector_text(as_query(vector, self.dim))
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    f"SELECT image_id, {self._expr} <=> CAST(:q AS vector({self.dim})) "
                    f"FROM {TABLE} WHERE {self._where} AND image_id = ANY(:ids)"
                ),
                {"q": query, "ids": list(ids)},
            ).all()
        return {str(image_id): 1.0 - float(distance) for image_id, distance in rows}

    def search(
        self, vector: ArrayLike, k: int = 10, allowed_ids: Collection[str] | None = None
    ) -> list[Hit]:
        if k <= 0:
            return []
        query = as_query(vector, self.dim)
        if allowed_ids is None:
            return self._ordered(query, k, "", {}, exact=self.dim > MAX_HNSW_DIM)
        ids = {"ids": list(set(allowed_ids))}
        if len(ids["ids"]) <= max(self.exact_below, k) or self.dim > MAX_HNSW_DIM:
            return self._exact(query, k, IN_IDS, ids)
        return self._filtered(query, k, IN_IDS, ids, len(ids["ids"]))

    def search_where(
        self,
        vector: ArrayLike,
        k: int,
        condition: str,
        params: Mapping[str, Any] | None = None,
        *,
        exact: bool = False,
    ) -> list[Hit]:
        """The k nearest images among those an SQL condition on ``image_id`` accepts, e.g.
        ``image_id IN (SELECT id FROM images WHERE owner = :owner)`` with ``{"owner": ...}``:
        on PostgreSQL, filters belong in the database rather than in a list of ids.

        ``exact``: score every accepted row (right for small subsets: exact, and cheaper than
        walking the graph past many rejected rows); else an iterative HNSW scan with a search
        beam of at least :data:`FILTERED_EF` (approximate; recall falls as the filter gets
        more selective)."""
        if k <= 0:
            return []
        query = as_query(vector, self.dim)
        if exact or self.dim > MAX_HNSW_DIM:
            return self._exact(query, k, condition, dict(params or {}))
        return self._filtered(query, k, condition, dict(params or {}), None)

    def _exact(
        self, query: NDArray[np.float32], k: int, condition: str, params: dict[str, Any]
    ) -> list[Hit]:
        """Brute force over the accepted rows inside PostgreSQL: the distances are computed
        in a materialised CTE, whose ordering no index can serve, and only k rows return."""
        sql = (
            f"WITH scored AS MATERIALIZED (SELECT image_id, {self._expr} <=> "
            f"CAST(:q AS vector({self.dim})) AS distance FROM {TABLE} "
            f"WHERE {self._where} AND ({condition})) "
            "SELECT image_id, distance FROM scored ORDER BY distance, image_id LIMIT :k"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(text(sql), {**params, "q": vector_text(query), "k": k}).all()
        return [(str(image_id), 1.0 - float(distance)) for image_id, distance in rows]

    def _filtered(
        self,
        query: NDArray[np.float32],
        k: int,
        condition: str,
        params: dict[str, Any],
        allowed: int | None,
    ) -> list[Hit]:
        if self.version >= (0, 8):
            hits = self._ordered(query, k, condition, params, iterative=True)
            return hits if len(hits) >= k else self._exact(query, k, condition, params)
        # before pgvector 0.8: ask for more and more neighbours, keep the accepted ones
        total = self.count()
        share = allowed / max(1, total) if allowed else 0.1  # unknown for SQL conditions
        count = min(total, math.ceil(OVERFETCH * k / max(share, 1e-6)))
        while True:
            hits = self._ordered(query, count, "", {})
            accepted = self._accepted([h[0] for h in hits], condition, params)
            found = [h for h in hits if h[0] in accepted]
            if len(found) >= k:
                return found[:k]
            if count >= min(total, MAX_EF_SEARCH):
                return self._exact(query, k, condition, params)
            count = min(total, MAX_EF_SEARCH, count * 4)

    def _accepted(self, ids: list[str], condition: str, params: dict[str, Any]) -> set[str]:
        sql = (
            f"SELECT image_id FROM unnest(CAST(:found AS text[])) AS f(image_id) WHERE {condition}"
        )
        with self.engine.connect() as conn:
            return set(conn.execute(text(sql), {**params, "found": ids}).scalars())

    def _ordered(
        self,
        query: NDArray[np.float32],
        k: int,
        condition: str,
        params: dict[str, Any],
        *,
        iterative: bool = False,
        exact: bool = False,
    ) -> list[Hit]:
        distance = f"{self._expr} <=> CAST(:q AS vector({self.dim}))"
        where = self._where + (f" AND ({condition})" if condition else "")
        sql = (
            f"SELECT image_id, {distance} AS distance FROM {TABLE} WHERE {where} "
            f"ORDER BY {distance} LIMIT :k"
        )
        if iterative:  # relaxed order: re-sort what the iterative scan returns
            sql = (
                f"WITH found AS MATERIALIZED ({sql}) "
                "SELECT image_id, distance FROM found ORDER BY distance"
            )
        with self.engine.begin() as conn:
            ef = max(self.expansion_search, k, FILTERED_EF if iterative else 0)
            if not exact:
                conn.execute(text(f"SET LOCAL hnsw.ef_search = {int(min(MAX_EF_SEARCH, ef))}"))
            if iterative:
                conn.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
            rows = conn.execute(text(sql), {**params, "q": vector_text(query), "k": k}).all()
        return [(str(image_id), 1.0 - float(dist)) for image_id, dist in rows]

    # -- the VectorIndex protocol's file methods: the database is the store --------------------
    def persist(self) -> None:
        return None

    def load(self) -> None:
        return None
