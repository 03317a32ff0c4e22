"""Rate limits over HTTP: per session, per IP (behind trusted proxies only), per user (an API
key is its user), submissions stricter than requests, admins unlimited; the 429 shape and
headers; counters shared through Redis by two API instances; Redis down lets requests through.
"""

from __future__ import annotations

import logging

import pytest
from limits_support import TASK, assert_refused, client_at, limited, new_session

from atelier.config import Settings
from support.api import GEN
from support.live import free_port
from support.profiles import Profile


def test_session_request_limit_and_headers(
    sqlite: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = limited(monkeypatch, ANON__REQUESTS_PER_MINUTE="6", ANON__REQUEST_BURST="3")
    with client_at(settings) as client:
        me = new_session(client)
        seen = []
        for _ in range(3):
            r = client.get("/api/v1/tasks", headers=me)
            assert r.status_code == 200, r.text
            seen.append((r.headers["X-RateLimit-Limit"], r.headers["X-RateLimit-Remaining"]))
        assert seen == [("3", "2"), ("3", "1"), ("3", "0")]
        seconds = assert_refused(client.get("/api/v1/tasks", headers=me), "session")
        assert 1 <= seconds <= 10  # one request every 10 s
        # the refusal applies to every route of the API, and only to this session
        assert_refused(client.post("/api/v1/tasks", json=TASK, headers=me), "session")
        other = new_session(client)
        assert client.get("/api/v1/tasks", headers=other).status_code == 200
        # health and readiness are never limited
        for _ in range(5):
            assert client.get("/api/v1/health", headers=me).status_code == 200


def test_ip_limit_counts_every_session_of_an_address(
    sqlite: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = limited(monkeypatch, ANON__IP_REQUESTS_PER_MINUTE="6", ANON__IP_REQUEST_BURST="4")
    with client_at(settings, "198.51.100.7") as client:
        first, second = new_session(client), new_session(client)  # two requests
        assert client.get("/api/v1/tasks", headers=first).status_code == 200
        assert client.get("/api/v1/tasks", headers=second).status_code == 200
        assert_refused(client.get("/api/v1/tasks", headers=first), "ip")
        assert_refused(client.get("/api/v1/tasks"), "ip")  # a new caller from there too
    with client_at(settings, "198.51.100.8") as elsewhere:
        assert elsewhere.get("/api/v1/tasks").status_code == 200


def test_forwarded_for_only_from_a_trusted_proxy(
    sqlite: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = limited(
        monkeypatch,
        ANON__IP_REQUESTS_PER_MINUTE="6",
        ANON__IP_REQUEST_BURST="2",
        TRUSTED_PROXIES='["10.0.0.0/8"]',
    )
    with client_at(settings, "10.0.0.1") as proxy:
        behind = {"X-Forwarded-For": "203.0.113.1"}
        assert proxy.get("/api/v1/tasks", headers=behind).status_code == 200
        assert proxy.get("/api/v1/tasks", headers=behind).status_code == 200
        assert_refused(proxy.get("/api/v1/tasks", headers=behind), "ip")
        # another client behind the same proxy has a bucket of its own
        other = {"X-Forwarded-For": "203.0.113.2, 10.0.0.9"}
        assert proxy.get("/api/v1/tasks", headers=other).status_code == 200
    with client_at(settings, "192.0.2.50") as direct:
        # not a proxy: its X-Forwarded-For is ignored, changing it does not help
        for n in range(2):
            spoof = {"X-Forwarded-For": f"198.18.0.{n}"}
            assert direct.get("/api/v1/tasks", headers=spoof).status_code == 200
        assert_refused(direct.get("/api/v1/tasks", headers={"X-Forwarded-For": "1.1.1.1"}), "ip")


def test_submissions_have_a_stricter_limit(
    sqlite: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = limited(
        monkeypatch,
        ANON__REQUESTS_PER_MINUTE="600",
        ANON__REQUEST_BURST="100",
        ANON__SUBMITS_PER_MINUTE="6",
        ANON__SUBMIT_BURST="2",
    )
    with client_at(settings) as client:
        me = new_session(client)
        first = client.post("/api/v1/tasks", json=TASK, headers=me)
        assert first.status_code == 201
        # the headers describe the tightest bucket: the submissions'
        assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == (
            "2",
            "1",
        )
        assert client.post("/api/v1/generate", json=GEN, headers=me).status_code == 201
        refused = client.post("/api/v1/tasks", json=TASK, headers=me)
        assert_refused(refused, "session")
        assert "submissions" in refused.json()["message"]
        # reading is not a submission
        listed = client.get("/api/v1/tasks", headers=me)
        assert listed.status_code == 200 and len(listed.json()["items"]) == 2
        assert listed.headers["X-RateLimit-Limit"] == "100"


def test_users_api_keys_and_admins(sqlite: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = limited(monkeypatch, USER__REQUESTS_PER_MINUTE="6", USER__REQUEST_BURST="4")
    with client_at(settings) as client:
        admin = client.post(
            "/api/v1/auth/register", json={"email": "boss@example.com", "password": "x" * 12}
        ).json()
        assert admin["user"]["role"] == "admin"
        user = client.post(
            "/api/v1/auth/register", json={"email": "u@example.com", "password": "y" * 12}
        ).json()
        assert user["user"]["role"] == "user"
        client.cookies.clear()
        token = {"Authorization": f"Bearer {user['access_token']}"}
        created = client.post(
            "/api/v1/auth/api-keys", json={"name": "k", "scopes": ["read", "write"]}, headers=token
        )
        assert created.status_code == 201, created.text
        key = {"X-API-Key": created.json()["key"]}
        # the token and the key spend from one bucket: the user's
        assert client.get("/api/v1/tasks", headers=token).status_code == 200
        assert client.get("/api/v1/tasks", headers=key).status_code == 200
        r = client.get("/api/v1/tasks", headers=token)
        assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "0"
        assert_refused(client.get("/api/v1/tasks", headers=key), "user")
        # admins are not limited (by default)
        boss = {"Authorization": f"Bearer {admin['access_token']}"}
        for _ in range(8):
            r = client.get("/api/v1/tasks", headers=boss)
            assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers


def test_two_api_instances_share_the_counters_in_redis(
    sqlite: Profile, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    settings = limited(
        monkeypatch,
        REDIS_URL=redis_url,
        ANON__REQUESTS_PER_MINUTE="6",
        ANON__REQUEST_BURST="4",
    )
    with client_at(settings) as one, client_at(settings) as two:
        assert one.app.state.limiter.backend.name == "redis"  # type: ignore[attr-defined]
        me = new_session(one)
        answers = [(one if i % 2 else two).get("/api/v1/tasks", headers=me) for i in range(4)]
        assert [r.status_code for r in answers] == [200] * 4
        assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["3", "2", "1", "0"]
        assert_refused(one.get("/api/v1/tasks", headers=me), "session")
        assert_refused(two.get("/api/v1/tasks", headers=me), "session")


def test_redis_unreachable_lets_requests_through(
    sqlite: Profile, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = limited(
        monkeypatch,
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        ANON__REQUESTS_PER_MINUTE="1",
        ANON__REQUEST_BURST="1",
        ANON__SUBMITS_PER_MINUTE="1",
        ANON__SUBMIT_BURST="1",
    )
    with (
        caplog.at_level(logging.WARNING, logger="atelier.limits.buckets"),
        client_at(settings) as client,
    ):
        me = new_session(client)
        for _ in range(3):
            r = client.get("/api/v1/tasks", headers=me)
            assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers
            assert client.post("/api/v1/tasks", json=TASK, headers=me).status_code == 201
        assert client.app.state.limiter.backend.failures >= 6  # type: ignore[attr-defined]
        # and the operator sees it in /metrics
        scraped = client.get("/metrics").text
        [line] = [x for x in scraped.splitlines() if x.startswith("atelier_rate_limit_fail_open")]
        assert float(line.split()[-1]) >= 6
    assert any("rate limits are not enforced" in r.message for r in caplog.records)


def test_limits_are_off_unless_enabled(sqlite: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_LIMITS__ANON__REQUESTS_PER_MINUTE", "1")
    monkeypatch.setenv("ATELIER_LIMITS__ANON__REQUEST_BURST", "1")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.mode == "local" and settings.limits.enabled == "auto"
    with client_at(settings) as client:
        me = new_session(client)
        for _ in range(3):
            r = client.get("/api/v1/tasks", headers=me)
            assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers


def test_openai_routes_answer_in_openai_shape(
    sqlite: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = limited(monkeypatch, ANON__IP_REQUESTS_PER_MINUTE="6", ANON__IP_REQUEST_BURST="1")
    with client_at(settings) as client:
        assert client.get("/v1/models").status_code == 200
        r = client.get("/v1/models")
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 10
        assert r.json()["error"]["code"] == "rate_limit_exceeded"
        assert r.headers["X-RateLimit-Remaining"] == "0"
