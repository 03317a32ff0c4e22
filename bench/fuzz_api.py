"""API fuzz: schemathesis against the OpenAPI schema of a live ``atelier serve`` process.

Every operation of ``/openapi.json`` is exercised by schemathesis's own engine (the one its
command line runs): the coverage phase (boundary and invalid values of every parameter), the
fuzzing phase (generated valid and invalid inputs, ``--examples`` per operation and mode) and
the stateful phase (chains of calls linked by the ids the responses carry). It runs three
times, as three callers: a fresh anonymous session, a registered user's access token and an
admin's (the first account registered). Checks: ``not_a_server_error`` (no 5xx, ever),
``response_schema_conformance`` and ``content_type_conformance`` (every documented response
matches its schema). ``status_code_conformance`` is off: the schema documents each route's
success and 422, not every 401/403/404/409/429 the error envelope answers with.

Excluded: ``GET /api/v1/tasks/{task_id}/stream`` (SSE: a live task's stream does not end; the
WebSocket is not in the schema). No worker runs, so a request the OpenAI-compatible image
endpoints (``POST /v1/images/generations``, ``/v1/images/edits``) accept waits
``openai.wait_seconds`` (1 s here) for its task and answers their documented 504 ``timeout``:
those answers are counted apart ("documented waits"), every other 5xx is a server error (their
valid path with a worker is tested in ``tests/openai_compat``). Limits are off
(``ATELIER_LIMITS__ENABLED=off``) so 429s do not hide the paths behind them; password hashing
is made cheap (argon2 1 MiB, 1 pass) so registration and login can be fuzzed in volume.

    python -m bench.fuzz_api [--mode embedded|postgres-redis|both] [--examples N] [--seed S]
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import Any

import httpx

from bench import report
from bench.common import MODES, Server, Stack, command_line, console, modes_of, parser, show
from bench.procs import entry, install_signal_handlers

SERVER_ENV = {
    "ATELIER_LIMITS__ENABLED": "off",
    "ATELIER_OPENAI__WAIT_SECONDS": "1",
    "ATELIER_AUTH__PASSWORD_MEMORY_KIB": "1024",
    "ATELIER_AUTH__PASSWORD_TIME_COST": "1",
    "ATELIER_AUTH__PASSWORD_PARALLELISM": "1",
    "ATELIER_AUTH__ACCESS_TTL_SECONDS": "86400",
    "ATELIER_AUTH__LOGIN_MAX_FAILURES": "1000000",
    "ATELIER_LIBRARY__AUTO_TAG_GENERATED": "false",
}
CHECKS = ("not_a_server_error", "response_schema_conformance", "content_type_conformance")
STREAM = r"/stream$"
WAITS = "/v1/images/"
IDENTITIES = ("anonymous", "user", "admin")
PASSWORD = "fuzz-password-123"
SEED = 20261124


def tokens(url: str) -> dict[str, str]:
    """Bearer tokens: an anonymous session, an admin (the first account), a user."""
    with httpx.Client(base_url=url, timeout=30) as client:
        anonymous = client.get("/api/v1/tasks").headers["x-atelier-session"]
        out = {"anonymous": anonymous}
        for name in ("admin", "user"):  # the first account registered is an admin
            client.cookies.clear()
            r = client.post(
                "/api/v1/auth/register",
                json={"email": f"{name}@fuzz.example.com", "password": PASSWORD},
            )
            r.raise_for_status()
            body = r.json()
            assert body["user"]["role"] == name, body["user"]
            out[name] = body["access_token"]
    # the admin last: what it does (e.g. to other accounts) must not cut the others' runs short
    return {name: out[name] for name in IDENTITIES}


def config(url: str, token: str, examples: int, seed: int) -> Any:
    from schemathesis.config import SchemathesisConfig

    return SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "base-url": url,
            "headers": {"Authorization": f"Bearer {token}"},
            "continue-on-failure": True,
            "request-timeout": 60,
            "generation": {"mode": "all", "max-examples": examples},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "operations": [
                {"include-path-regex": STREAM, "enabled": False},
            ],
        }
    )


def fuzz(url: str, token: str, examples: int, seed: int) -> dict[str, Any]:
    """One schemathesis run as one caller: counts, and every 5xx and violation found."""
    import schemathesis
    from schemathesis.engine import events, from_schema

    schema = schemathesis.openapi.from_url(
        f"{url}/openapi.json", config=config(url, token, examples, seed)
    )
    operations: set[str] = set()
    phases: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    checks: Counter[str] = Counter()
    server_errors: list[dict[str, Any]] = []
    violations: list[dict[str, Any]] = []
    errors: list[str] = []
    waits = 0
    began = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            rec = event.recorder
            if rec.cases and event.phase.value != "stateful":
                operations.add(rec.label)
            phases[event.phase.value] += len(rec.cases)
            for case_id, interaction in rec.interactions.items():
                response = interaction.response
                if response is None:
                    continue
                statuses[response.status_code] += 1
                if documented_wait(rec.label, response.status_code, response.content):
                    waits += 1
                elif response.status_code >= 500:
                    node = rec.cases.get(case_id)
                    server_errors.append(
                        {
                            "operation": rec.label,
                            "status": response.status_code,
                            "body": response.content[:500].decode(errors="replace"),
                            "curl": node.value.as_curl_command() if node else "",
                        }
                    )
            for nodes in rec.checks.values():
                for check in nodes:
                    failed = str(check.status) == "failure"
                    checks[f"{check.name}:{'failed' if failed else 'passed'}"] += 1
                    if failed and check.name != "not_a_server_error" and check.failure_info:
                        violations.append(
                            {
                                "operation": rec.label,
                                "check": check.name,
                                "message": check.failure_info.failure.title,
                                "curl": check.failure_info.code_sample,
                            }
                        )
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
    return {
        "operations": len(operations),
        "labels": sorted(operations),
        "cases": sum(phases.values()),
        "phases": dict(phases),
        "responses": sum(statuses.values()),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "checks": dict(checks),
        "server_errors": len(server_errors),
        "documented_waits": waits,
        "schema_violations": sum(1 for v in violations if v["check"] != "content_type_conformance"),
        "content_type_violations": sum(
            1 for v in violations if v["check"] == "content_type_conformance"
        ),
        "engine_errors": len(errors),
        "seconds": time.monotonic() - began,
        "examples": server_errors[:20] + violations[:20],
        "engine_error_messages": errors[:20],
    }


def documented_wait(label: str, status: int, body: bytes) -> bool:
    """The 504 the OpenAI-compatible image endpoints answer, by design, when their task is not
    done within ``openai.wait_seconds`` (no worker runs here): not a server error."""
    if status != 504 or WAITS not in label:
        return False
    try:
        return bool(json.loads(body)["error"]["code"] == "timeout")
    except (ValueError, KeyError, TypeError):
        return False


def tracebacks(server: Server) -> int:
    try:
        return server.log.read_text(errors="replace").count("Traceback (most recent call last)")
    except OSError:
        return 0


def run(mode: str, examples: int, seed: int = SEED) -> dict[str, Any]:
    with Stack(mode) as stack, Server(stack, worker=False, env=SERVER_ENV) as server:
        operations = len(
            [
                (path, method)
                for path, item in httpx.get(f"{server.url}/openapi.json").json()["paths"].items()
                for method in item
            ]
        )
        began = time.monotonic()
        by_caller = {}
        for caller, token in tokens(server.url).items():
            console.print(f"fuzzing as {caller} …")
            by_caller[caller] = fuzz(server.url, token, examples, seed)
        result = {
            "mode": mode,
            "schema_operations": operations,
            "examples": examples,
            "seed": seed,
            "callers": by_caller,
            "server_tracebacks": tracebacks(server),
            "seconds": time.monotonic() - began,
        }
    result.update(date=report.stamp(), command=command_line())
    return result


def _totals(r: dict[str, Any]) -> dict[str, int]:
    keys = ("cases", "responses", "server_errors", "schema_violations", "content_type_violations")
    return {k: sum(c[k] for c in r["callers"].values()) for k in keys}


def print_result(r: dict[str, Any]) -> None:
    rows = []
    for caller, c in r["callers"].items():
        rows.append(
            [
                caller,
                c["operations"],
                c["cases"],
                c["responses"],
                c["server_errors"],
                c["documented_waits"],
                c["schema_violations"],
                c["content_type_violations"],
                c["engine_errors"],
                c["seconds"],
            ]
        )
    show(
        f"API fuzz, {r['mode']} ({r['schema_operations']} operations in the schema)",
        ["caller", "ops", "cases", "responses", "5xx", "waits", "schema", "c-type", "errors", "s"],
        rows,
    )
    console.print(f"server log tracebacks: {r['server_tracebacks']}")
    for c in r["callers"].values():
        for example in c["examples"]:
            console.print(example)
        for message in c["engine_error_messages"]:
            console.print(f"engine error: {message}")


def render(data: dict[str, Any]) -> str:
    lines = [
        "## API fuzz (schemathesis)",
        "",
        "`python -m bench.fuzz_api`: schemathesis's engine against `/openapi.json` of a live "
        "`atelier serve --no-worker` process, as three callers in turn (an anonymous session, "
        "a registered user, an admin); coverage, fuzzing (valid and invalid inputs) and "
        "stateful phases. Checks: `not_a_server_error`, `response_schema_conformance`, "
        "`content_type_conformance`. Limits off (`ATELIER_LIMITS__ENABLED=off`), cheap "
        "password hashing. Excluded: the SSE stream `GET /api/v1/tasks/{task_id}/stream` (a "
        "live task's stream does not end; the WebSocket is not in the schema). No worker runs: "
        "a request `POST /v1/images/generations` or `/v1/images/edits` accepts waits 1 s for "
        "its task and gets the endpoint's documented 504 `timeout`, counted apart as "
        '"documented waits"; any other 5xx is a server error. '
        "`tests/test_api_schema_fuzz.py` keeps a small derandomized version of this in the "
        "test suite (in-process, ASGI). Target: zero 5xx.",
        "",
        "| Mode | Caller | Operations | Cases | Responses | 5xx | Documented waits (504) | "
        "Schema violations | Content-type violations | Seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for mode in [m for m in MODES if m in data]:
        r = data[mode]
        for caller in [c for c in IDENTITIES if c in r["callers"]]:
            c = r["callers"][caller]
            lines.append(
                f"| {mode} | {caller} | {c['operations']} / {r['schema_operations']} | "
                f"{c['cases']:,} | {c['responses']:,} | {c['server_errors']} | "
                f"{c['documented_waits']} | {c['schema_violations']} | "
                f"{c['content_type_violations']} | "
                f"{c['seconds']:.0f} |"
            )
    notes = []
    for mode in [m for m in MODES if m in data]:
        r = data[mode]
        t = _totals(r)
        met = "yes" if t["server_errors"] == 0 and r["server_tracebacks"] == 0 else "**NO**"
        notes.append(
            f"{mode}: {t['responses']:,} responses, {t['server_errors']} 5xx, "
            f"{r['server_tracebacks']} tracebacks in the server log, zero 5xx met: {met}; "
            f"`{r['command']}` at {r['date']} ({r['examples']} examples per operation and "
            f"mode, seed {r['seed']})"
        )
    lines += ["", "Runs: " + "; ".join(notes) + "."]
    return "\n".join(lines)


def fuzz_mode(mode: str, examples: int, seed: int, record: bool) -> None:
    result = run(mode, examples, seed)
    print_result(result)
    if record:
        # the per-caller details are for the console; the document keeps the numbers
        for c in result["callers"].values():
            for key in ("examples", "engine_error_messages", "labels"):
                c.pop(key, None)
        report.record("fuzz", {mode: result}, render)


def bench(modes: list[str], quick: bool, record: bool) -> None:
    """For ``bench.run_all --only fuzz``."""
    for mode in modes:
        fuzz_mode(mode, 10 if quick else 50, SEED, record)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, help="examples per operation and mode (default 50)")
    p.add_argument("--seed", type=int, default=SEED)
    args = p.parse_args()
    install_signal_handlers()
    examples = args.examples or (10 if args.quick else 50)
    for mode in modes_of(args.mode):
        fuzz_mode(mode, examples, args.seed, not args.no_record)


if __name__ == "__main__":
    sys.exit(entry(main))
