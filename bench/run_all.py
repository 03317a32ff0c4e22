"""Every benchmark, in embedded mode and in PostgreSQL + Redis mode; records the results in
``docs/benchmarks.md`` (machine, date, command, a table per benchmark, targets, and the ratio
to the raw Celery round trip).

    python -m bench.run_all [--quick] [--mode embedded|postgres-redis|both] [--only a,b]

Benchmarks (``--only``): celery, submit, ceiling (the HTTP stack alone), end_to_end, events,
breakdown (a diagnostic). Each is also a command of its own, e.g.
``python -m bench.submit --mode embedded``.

The long proofs under stress run only when named in ``--only``: fuzz (schemathesis, minutes),
chaos (1,000 tasks through kills and restarts, PostgreSQL + Redis only) and soak (10 minutes
per mode); also ``python -m bench.fuzz_api``, ``bench.chaos``, ``bench.soak``.
"""

from __future__ import annotations

import sys
import time
from typing import Any, NamedTuple

from bench import (
    celery_roundtrip,
    chaos,
    end_to_end,
    event_latency,
    fuzz_api,
    report,
    soak,
    submit,
    submit_breakdown,
)
from bench.common import console, modes_of, parser
from bench.procs import entry, install_signal_handlers


class Bench(NamedTuple):
    module: Any  # run(mode, n) -> result, print_result(result), render(data)
    section: str
    full: int
    quick: int
    modes: tuple[str, ...] | None = None  # None: the modes asked for


BENCHES = {
    "celery": Bench(celery_roundtrip, "celery", 200, 50),
    "submit": Bench(submit, "submit", 5000, 1000),
    "ceiling": Bench(submit, "submit", 5000, 1000, (submit.CEILING,)),
    "end_to_end": Bench(end_to_end, "end_to_end", 200, 50),
    "events": Bench(event_latency, "events", 30, 8),
    "breakdown": Bench(submit_breakdown, "breakdown", 1000, 200),
}
# long: never in the default set, only by name; each module's bench(modes, quick, record)
LONG: dict[str, Any] = {"fuzz": fuzz_api, "chaos": chaos, "soak": soak}


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument(
        "--only",
        default=",".join(BENCHES),
        help=f"comma-separated benchmarks; the long ones ({', '.join(LONG)}) only run when named",
    )
    args = p.parse_args()
    install_signal_handlers()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(BENCHES) - set(LONG))
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; known: {', '.join([*BENCHES, *LONG])}")
    modes = modes_of(args.mode)
    began = time.monotonic()
    for name in names:
        if name in LONG:
            console.rule(name)
            LONG[name].bench(modes, args.quick, not args.no_record)
            continue
        bench = BENCHES[name]
        for mode in bench.modes or modes:
            console.rule(f"{name} · {mode}")
            result = bench.module.run(mode, bench.quick if args.quick else bench.full)
            bench.module.print_result(result)
            if not args.no_record:
                report.record(bench.section, {mode: result}, bench.module.render)
    console.print(f"done in {time.monotonic() - began:.0f}s")
    if not args.no_record:
        console.print(f"results recorded in {report.DOC.relative_to(report.ROOT)}")


if __name__ == "__main__":
    sys.exit(entry(main))
