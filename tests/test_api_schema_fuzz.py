"""Schemathesis against the app's own OpenAPI schema, in-process (ASGI): every operation gets a
few generated valid and invalid requests (derandomized, so a run is repeatable) as an anonymous
session and as a registered user, the admin routes also as an admin. No request may end in a
5xx or an unhandled exception, and every documented response must match its schema and
content type.

``bench/fuzz_api.py`` runs the same checks with a far larger budget against a live server
(results in docs/benchmarks.md). Excluded, as there: the SSE stream (a live task's stream does
not end). No worker runs, so a request the OpenAI-compatible image endpoints accept waits
``openai.wait_seconds`` and answers their documented 504 ``timeout``: allowed, nothing else is.
The inputs with which that benchmark found 500s are replayed below on SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import traceback
import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from atelier.api.app import create_app
from atelier.config import Settings
from atelier.db.migrate import upgrade
from support.profiles import Profile

EXAMPLES = 4  # per operation, mode and caller
FAST = {
    # the OpenAI-compatible image endpoints wait for a worker: none runs here
    "ATELIER_OPENAI__WAIT_SECONDS": "0.05",
    # registration and login are fuzzed too: cheap password hashes
    "ATELIER_AUTH__PASSWORD_MEMORY_KIB": "1024",
    "ATELIER_AUTH__PASSWORD_TIME_COST": "1",
    "ATELIER_AUTH__PASSWORD_PARALLELISM": "1",
    "ATELIER_AUTH__LOGIN_MAX_FAILURES": "100000",
    "ATELIER_LIMITS__ENABLED": "off",
}
SKIP = ("/stream",)  # SSE
WAITS = "/v1/images/"
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def documented_wait(path: str, status: int, body: bytes) -> bool:
    if status != 504 or not path.startswith(WAITS):
        return False
    try:
        return bool(json.loads(body)["error"]["code"] == "timeout")
    except (ValueError, KeyError, TypeError):
        return False


def callers(app: Any) -> dict[str, str]:
    """Bearer headers: an anonymous session, an admin (the first account), a user."""
    out = {}
    with asgi.get_client(app) as client:
        out["anonymous"] = client.get("/api/v1/tasks").headers["x-atelier-session"]
        run = uuid.uuid4().hex[:8]  # the database may be shared with an earlier test
        for name in ("admin", "user"):
            client.cookies.clear()
            r = client.post(
                "/api/v1/auth/register",
                json={"email": f"{name}-{run}@fuzz.example.com", "password": "fuzz-password-123"},
            )
            assert r.status_code == 201, r.text
            # the first account of a database is its admin (a shared one may have one already)
            assert name == "admin" or r.json()["user"]["role"] == "user"
            out[name] = r.json()["access_token"]
    return {name: f"Bearer {token}" for name, token in out.items()}


@pytest.mark.parametrize("profile", ["sqlite"], indirect=True)
def test_no_server_errors_and_responses_match_the_schema(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    upgrade(settings)
    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    problems: list[str] = []
    cases = 0
    try:
        who = callers(app)
        operations = [r.ok() for r in schema.get_all_operations()]  # type: ignore[union-attr]
        assert len(operations) > 50
        for op in operations:
            if op.path.endswith(SKIP):
                continue
            names = ["anonymous", "user"] + (["admin"] if "/admin/" in op.path else [])
            for name in names:
                for mode in MODES:
                    cases += explore(op, mode, who[name], f"{name}, {mode.value}", problems)
    finally:
        asgi.shutdown_lifespans()
    assert cases > 500
    assert not problems, f"{len(problems)} problem(s):\n\n" + "\n\n".join(problems[:20])


def explore(op: Any, mode: GenerationMode, auth: str, who: str, problems: list[str]) -> int:
    """Run up to EXAMPLES generated cases of one operation; returns how many ran."""
    ran = 0

    @given(case=op.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one(case: Any) -> None:
        nonlocal ran
        ran += 1
        where = f"{op.label} ({who})"
        try:
            response = case.call(headers={"Authorization": auth})
        except Exception:
            trace = traceback.format_exc(limit=-8)  # the app's frames, not the transport's
            problems.append(f"{where}: unhandled\n{case.as_curl_command()}\n{trace}")
            return
        checks = [response_schema_conformance, content_type_conformance]
        if not documented_wait(op.path, response.status_code, response.content):
            checks.append(not_a_server_error)
        try:
            case.validate_response(response, checks=checks)
        except (AssertionError, BaseExceptionGroup) as exc:
            problems.append(f"{where}: {response.status_code}\n{exc}")

    with contextlib.suppress(Unsatisfiable):  # negative mode: nothing here can be invalid
        one()
    return ran


# Inputs with which bench/fuzz_api.py found a 500, replayed on both databases: (caller, method,
# URL, JSON body). Each answered 500 before its fix; now a 4xx.
FOUND = [
    # a signature with non-ASCII characters: hmac.compare_digest raised TypeError
    ("anonymous", "GET", "/api/v1/images/x?sig=%C3%BD&expires=99999999999", None),
    ("anonymous", "GET", "/api/v1/images/x/thumbnail?sig=%C3%BD&expires=99999999999", None),
    # integers past the columns' range: OverflowError (SQLite), out of range (PostgreSQL)
    ("user", "GET", "/api/v1/library/random?max_height=551201108893628081635328", None),
    ("user", "GET", "/api/v1/library/images?max_width=10260872512035", None),
    ("admin", "GET", "/api/v1/admin/users?offset=212485968085532508160", None),
]
# NUL characters: PostgreSQL text cannot hold them (psycopg.DataError): a 422, not a 500
NUL = [
    ("user", "POST", "/api/v1/library/collections", {"name": "a\u0000b"}),
    ("user", "GET", "/api/v1/library/random?tags=a%00b", None),
    ("user", "POST", "/api/v1/auth/api-keys", {"name": "a\u0000b", "scopes": ["read"]}),
]


def _replay(settings: Settings, cases: list[tuple[str, str, str, Any]]) -> list[str]:
    upgrade(settings)
    app = create_app(settings)
    bad = []
    try:
        who = callers(app)
        with asgi.get_client(app) as client:
            for caller, method, url, body in cases:
                client.cookies.clear()
                r = client.request(method, url, json=body, headers={"Authorization": who[caller]})
                if r.status_code >= 500:
                    bad.append(f"{method} {url} ({caller}): {r.status_code} {r.text[:200]}")
    finally:
        asgi.shutdown_lifespans()
    return bad


def test_inputs_the_fuzz_found_are_client_errors(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    assert _replay(Settings(_env_file=None), FOUND) == []  # type: ignore[call-arg]


def test_nul_characters_are_not_server_errors(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    assert _replay(Settings(_env_file=None), NUL) == []  # type: ignore[call-arg]
