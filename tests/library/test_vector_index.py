"""The VectorIndex contract, run on every backend (exact, usearch, pgvector), and the embedded
indexes' files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from library_models import clustered, ids

from atelier.library.pgvector import PgVectorIndex
from atelier.library.vectors import ExactIndex, UsearchIndex, VectorIndex, slug

DIM = 16
Make = Callable[..., VectorIndex]


@pytest.fixture(params=["exact", "usearch", "pgvector"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Make:
    def make(model: str = "test-model", dim: int = DIM, **kwargs: object) -> VectorIndex:
        if request.param == "exact":
            return ExactIndex(model, dim, tmp_path / f"{slug(model)}.npz")
        if request.param == "usearch":
            return UsearchIndex(model, dim, tmp_path / f"{slug(model)}.usearch", **kwargs)  # type: ignore[arg-type]
        engine = request.getfixturevalue("pgvector_engine")
        return PgVectorIndex(engine, model, dim, **kwargs)  # type: ignore[arg-type]

    make.backend = request.param  # type: ignore[attr-defined]
    return make


def test_add_search_update_remove(make: Make) -> None:
    index = make()
    vectors = clustered(200, DIM)
    index.add(ids(200), vectors)
    assert index.count() == 200 and index.contains("img-00007")
    hits = index.search(vectors[7], k=5)
    assert hits[0][0] == "img-00007" and hits[0][1] == pytest.approx(1.0, abs=1e-4)
    assert len(hits) == 5 and [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    # replacing a vector moves the id
    index.add(["img-00007"], vectors[8:9])
    assert index.count() == 200
    assert {h[0] for h in index.search(vectors[8], k=2)} == {"img-00007", "img-00008"}
    assert index.remove(["img-00007", "img-00008", "nope"]) == 2
    assert index.count() == 198 and not index.contains("img-00007")
    assert all(h[0] not in ("img-00007", "img-00008") for h in index.search(vectors[8], k=10))
    index.clear()
    assert index.count() == 0 and index.search(vectors[0], k=3) == []


def test_scores_are_cosine_similarities(make: Make) -> None:
    index = make()
    a = np.zeros(DIM, np.float32)
    a[0] = 1
    b = np.zeros(DIM, np.float32)
    b[:2] = 1  # not normalised: the index normalises
    c = -a
    index.add(["a", "b", "c"], np.stack([a, b, c]))
    hits = dict(index.search(a, k=3))
    assert hits["a"] == pytest.approx(1.0, abs=1e-4)
    assert hits["b"] == pytest.approx(1 / np.sqrt(2), abs=1e-4)
    assert hits["c"] == pytest.approx(-1.0, abs=1e-4)
    sims = index.similarities(a, ["b", "c", "missing"])
    assert set(sims) == {"b", "c"} and sims["b"] == pytest.approx(1 / np.sqrt(2), abs=1e-4)


@pytest.mark.parametrize("allowed_count", [3, 40, 600])
def test_filtered_search_returns_k_when_they_exist(make: Make, allowed_count: int) -> None:
    index = make() if make.backend == "exact" else make(exact_below=50)  # type: ignore[attr-defined]
    vectors = clustered(2000, DIM, seed=1)
    names = ids(2000)
    index.add(names, vectors)
    rng = np.random.default_rng(allowed_count)
    allowed = {names[i] for i in rng.choice(2000, size=allowed_count, replace=False)}
    query = clustered(1, DIM, seed=99)[0]
    hits = index.search(query, k=10, allowed_ids=allowed)
    assert len(hits) == min(10, allowed_count)
    assert all(h[0] in allowed for h in hits)
    exact = ExactIndex("truth", DIM)
    exact.add(names, vectors)
    truth = exact.search(query, k=10, allowed_ids=allowed)
    overlap = len({h[0] for h in hits} & {h[0] for h in truth})
    assert overlap >= min(10, allowed_count) - 1  # approximate above exact_below
    if allowed_count <= 50:
        assert [h[0] for h in hits] == [h[0] for h in truth]  # exact below exact_below
    assert index.search(query, k=5, allowed_ids=set()) == []
    assert index.search(query, k=5, allowed_ids={"not-indexed"}) == []


def test_recall_against_exact_search(make: Make) -> None:
    index = make(dim=32)
    everything = clustered(3050, 32, seed=2)  # queries from the same distribution, not indexed
    vectors, queries = everything[:3000], everything[3000:]
    names = ids(3000)
    index.rebuild(names, vectors)
    assert index.count() == 3000 and not index.stale
    exact = ExactIndex("truth", 32)
    exact.add(names, vectors)
    found = 0
    for q in queries:
        truth = {h[0] for h in exact.search(q, k=10)}
        found += len(truth & {h[0] for h in index.search(q, k=10)})
    assert found / (10 * len(queries)) >= 0.95


def test_wrong_shapes_are_refused(make: Make) -> None:
    index = make()
    with pytest.raises(ValueError, match="16 dimensions"):
        index.add(["a"], np.ones((1, 8), np.float32))
    with pytest.raises(ValueError, match="ids for"):
        index.add(["a", "b"], np.ones((1, DIM), np.float32))
    with pytest.raises(ValueError, match="16 dimensions"):
        index.search(np.ones(8, np.float32))


def test_repeated_ids_in_one_batch_keep_the_last(make: Make) -> None:
    index = make()
    vectors = clustered(3, DIM, seed=4)
    index.add(["x", "y", "x"], vectors)
    assert index.count() == 2
    assert index.search(vectors[2], k=1)[0] == ("x", pytest.approx(1.0, abs=1e-4))


# -- the embedded indexes' files ----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["exact", "usearch"])
def test_persist_and_load(tmp_path: Path, kind: str) -> None:
    def open_(model: str = "m", dim: int = DIM) -> VectorIndex:
        if kind == "exact":
            return ExactIndex(model, dim, tmp_path / f"{slug(model)}.npz")
        return UsearchIndex(model, dim, tmp_path / f"{slug(model)}.usearch", expansion_search=32)

    vectors = clustered(300, DIM, seed=5)
    index = open_()
    index.add(ids(300), vectors)
    index.remove(["img-00003"])
    index.persist()
    again = open_()
    again.load()
    assert again.count() == 299 and not again.stale
    assert again.search(vectors[10], k=3) == index.search(vectors[10], k=3)
    subset = set(ids(300)[::3])  # exact over a subset: the rows scored come back with the file
    before = index.search(vectors[10], k=5, allowed_ids=subset)
    after = again.search(vectors[10], k=5, allowed_ids=subset)
    assert [i for i, _ in after] == [i for i, _ in before]
    assert [s for _, s in after] == pytest.approx([s for _, s in before], abs=1e-6)
    assert again.similarities(vectors[12], ["img-00012"])["img-00012"] == pytest.approx(1, abs=1e-3)
    again.add(["new"], vectors[3:4])  # keys keep counting after a reload
    assert again.search(vectors[3], k=1)[0][0] == "new"
    # another model's file, or another dimension: not loaded, and the index says so
    other = open_(dim=DIM * 2)
    other.path = index.path  # type: ignore[union-attr]
    if isinstance(other, UsearchIndex):
        assert other.meta_path == tmp_path / f"{slug('m')}.json"
    other.load()
    assert other.stale and other.count() == 0


def test_usearch_refuses_a_file_that_does_not_match_its_id_map(tmp_path: Path) -> None:
    path = tmp_path / "m.usearch"
    index = UsearchIndex("m", DIM, path)
    index.add(ids(20), clustered(20, DIM))
    index.persist()
    index.add(ids(5, "more"), clustered(5, DIM, seed=9))
    index._index.save(str(path))  # the index file moved on, the id map did not
    again = UsearchIndex("m", DIM, path)
    again.load()
    assert again.stale and again.count() == 0


def test_a_missing_file_is_an_empty_index(tmp_path: Path) -> None:
    for index in (
        ExactIndex("m", DIM, tmp_path / "x.npz"),
        UsearchIndex("m", DIM, tmp_path / "x.usearch"),
    ):
        index.load()
        assert index.count() == 0 and not index.stale


def test_slug_is_a_safe_unique_file_name() -> None:
    assert slug("minilm:all-MiniLM-L6-v2").startswith("minilm-all-MiniLM-L6-v2-")
    assert "/" not in slug("../../etc/passwd") and "/" not in slug("a/b")
    assert slug("a/b") != slug("a:b")  # the same readable part, told apart by the hash
