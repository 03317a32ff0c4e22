"""The fast submission path (ADR 0006) answers exactly as the route: every request below goes
to an app with it and to one without it (same database, same signing key), and the two answers
must match in status, error code, body fields and headers. The fast app's counter says which
requests it served itself, so the comparison covers both of its branches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient

from atelier.api.app import create_app
from atelier.config import Settings
from atelier.db.migrate import upgrade
from support.api import GEN
from support.profiles import Profile

TASK = {"kind": "generate", "params": GEN}
JSON = {"Content-Type": "application/json"}
# headers whose values differ between any two answers
VARYING = {"date", "x-request-id", "content-length", "x-atelier-session", "set-cookie"}


def _clients(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    upgrade(settings)
    with ExitStack() as stack:
        fast, route = (
            stack.enter_context(
                TestClient(
                    create_app(settings.model_copy(update={"fast_submit": on})),
                    raise_server_exceptions=False,
                )
            )
            for on in (True, False)
        )
        yield fast, route


@pytest.fixture
def pair(profile: Profile) -> Iterator[tuple[TestClient, TestClient]]:
    yield from _clients(profile.settings)


def token(client: TestClient) -> str:
    """A new anonymous session's token (the client keeps no cookie)."""
    client.cookies.clear()
    r = client.get("/api/v1/tasks")
    client.cookies.clear()
    return str(r.headers["X-Atelier-Session"])


def bearer(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(client)}"}


Case = Callable[[TestClient], Any]

CASES: dict[str, tuple[bool, Case]] = {
    # name: (served by the fast path, the request)
    "plain": (True, lambda c: c.post("/api/v1/tasks", json=TASK, headers=bearer(c))),
    "charset in the media type": (
        True,
        lambda c: c.post(
            "/api/v1/tasks",
            content=b'{"kind":"generate","params":{"prompt":"a lake"}}',
            headers={**bearer(c), "Content-Type": "application/json; charset=utf-8"},
        ),
    ),
    "the session cookie": (
        True,
        lambda c: c.post(
            "/api/v1/tasks", json=TASK, headers={"Cookie": f"atelier_session={token(c)}"}
        ),
    ),
    "unknown kind": (
        True,
        lambda c: c.post("/api/v1/tasks", json={"kind": "nope", "params": {}}, headers=bearer(c)),
    ),
    "invalid params": (
        True,
        lambda c: c.post(
            "/api/v1/tasks",
            json={"kind": "generate", "params": {**GEN, "width": -5}},
            headers=bearer(c),
        ),
    ),
    "unknown model": (
        True,
        lambda c: c.post(
            "/api/v1/tasks",
            json={"kind": "generate", "params": {**GEN, "model": "no-such-model"}},
            headers=bearer(c),
        ),
    ),
    "refused prompt": (
        True,
        lambda c: c.post(
            "/api/v1/tasks",
            json={"kind": "generate", "params": {**GEN, "prompt": "child porn"}},
            headers=bearer(c),
        ),
    ),
    "internal kind": (
        True,
        lambda c: c.post("/api/v1/tasks", json={"kind": "tag", "params": {}}, headers=bearer(c)),
    ),
    # the rest is the route's
    "no credentials": (False, lambda c: c.post("/api/v1/tasks", json=TASK)),
    "a bad bearer token": (
        False,
        lambda c: c.post("/api/v1/tasks", json=TASK, headers={"Authorization": "Bearer nope"}),
    ),
    "not JSON": (
        False,
        lambda c: c.post(
            "/api/v1/tasks", content=b"{oops", headers={**bearer(c), "Content-Type": "text/plain"}
        ),
    ),
    "malformed JSON": (
        False,
        lambda c: c.post("/api/v1/tasks", content=b"{oops", headers={**bearer(c), **JSON}),
    ),
    "empty body": (False, lambda c: c.post("/api/v1/tasks", headers={**bearer(c), **JSON})),
    "a field too many": (
        False,
        lambda c: c.post("/api/v1/tasks", json={**TASK, "extra": 1}, headers=bearer(c)),
    ),
    "a query string": (
        False,
        lambda c: c.post("/api/v1/tasks?x=1", json=TASK, headers=bearer(c)),
    ),
    "an Idempotency-Key": (
        False,
        lambda c: c.post(
            "/api/v1/tasks", json=TASK, headers={**bearer(c), "Idempotency-Key": "key-1"}
        ),
    ),
}


def compare(fast: TestClient, route: TestClient, name: str, served: bool, case: Case) -> None:
    before = fast.app.state.fast_submits  # type: ignore[attr-defined]
    a, b = case(fast), case(route)
    assert fast.app.state.fast_submits - before == int(served), name  # type: ignore[attr-defined]
    assert route.app.state.fast_submits == 0  # type: ignore[attr-defined]
    assert a.status_code == b.status_code, (name, a.text, b.text)
    assert a.status_code < 500, (name, a.text)
    assert {k for k in a.headers if k not in VARYING} == {
        k for k in b.headers if k not in VARYING
    }, name
    assert a.headers["content-type"] == b.headers["content-type"], name
    one, two = a.json(), b.json()
    assert set(one) == set(two), (name, one, two)
    if a.status_code == 201:
        assert a.headers.get("x-atelier-session") is None or not served
        # (both apps queue in one database: the second answer has the first task ahead)
        assert one["status"] == two["status"] == "pending", name
        for key in ("queue_position", "estimated_time"):
            assert type(one[key]) is type(two[key]), (name, key, one, two)
    else:
        assert one == two, name  # the same envelope, word for word


def test_the_fast_path_answers_as_the_route(pair: tuple[TestClient, TestClient]) -> None:
    fast, route = pair
    for name, (served, case) in CASES.items():
        compare(fast, route, name, served, case)
    # what the fast path made is a task like any other
    h = bearer(fast)
    made = fast.post("/api/v1/tasks", json=TASK, headers=h).json()
    got = route.get(f"/api/v1/tasks/{made['task_id']}", headers=h)
    assert got.status_code == 200 and got.json()["params"]["prompt"] == GEN["prompt"]
    assert got.json()["created_at"] == made["created_at"]


def test_rate_limits_count_once_and_answer_alike(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_LIMITS__ENABLED", "on")
    off = (
        "REQUESTS_PER_MINUTE",
        "IP_REQUESTS_PER_MINUTE",
        "IP_SUBMITS_PER_MINUTE",
        "CONCURRENT_TASKS",
        "DAILY_TASKS",
    )
    limits = {
        **{f"ANON__{k}": "0" for k in off},
        "ANON__SUBMITS_PER_MINUTE": "2",
        "ANON__SUBMIT_BURST": "2",
    }
    for key, value in limits.items():
        monkeypatch.setenv(f"ATELIER_LIMITS__{key}", value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    for fast, route in _clients(settings):
        seen = []
        for client in (fast, route):  # each: two submissions pass, the third is refused
            h = bearer(client)
            answers = [client.post("/api/v1/tasks", json=TASK, headers=h) for _ in range(3)]
            assert [r.status_code for r in answers] == [201, 201, 429], client
            refused = answers[2]
            assert refused.json()["error"] == "rate_limit_exceeded"
            assert int(refused.headers["Retry-After"]) >= 1
            seen.append(
                [
                    (r.headers.get("X-RateLimit-Limit"), r.headers.get("X-RateLimit-Remaining"))
                    for r in answers
                ]
            )
        assert seen[0] == seen[1] and seen[0][0][0] is not None
        assert fast.app.state.fast_submits == 3  # type: ignore[attr-defined]
