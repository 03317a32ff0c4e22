"""The GCRA buckets, in this process and in a real Redis shared by two limiters; fail open
when Redis is unreachable; the client address behind trusted proxies."""

from __future__ import annotations

import asyncio
import logging

import pytest

from atelier.limits.buckets import Check, MemoryBackend, RedisBackend
from atelier.limits.policy import Rate, TrustedProxies, ip_bucket
from support.live import free_port

SLOW = Rate(per_minute=6, burst=3)  # one every 10 s, three at once


def check(key: str, rate: Rate = SLOW) -> Check:
    return Check(key, "session", rate)


async def test_memory_bucket_allows_the_burst_then_refuses() -> None:
    backend = MemoryBackend()
    verdicts = [await backend.hit([check("a")]) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.outcomes[0].remaining for v in verdicts[:3]] == [2, 1, 0]
    refused = verdicts[3].refusal
    assert refused is not None and refused.check.key == "a"
    assert 9.0 < refused.retry_after <= 10.0  # one interval, less the time the test took
    assert 29.0 < refused.reset_after <= 30.0  # three intervals until the burst is back
    # buckets are per key
    assert (await backend.hit([check("b")])).allowed


async def test_a_refusal_spends_from_no_bucket() -> None:
    backend = MemoryBackend()
    one = Rate(per_minute=1, burst=1)
    assert (await backend.hit([check("ip", SLOW), check("owner", one)])).allowed
    for _ in range(3):  # the owner's bucket is empty: the IP's is not spent meanwhile
        assert not (await backend.hit([check("ip", SLOW), check("owner", one)])).allowed
    assert [(await backend.hit([check("ip", SLOW)])).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]


async def test_peek_spends_nothing() -> None:
    backend = MemoryBackend()
    await backend.hit([check("a")])
    for _ in range(5):
        looked = await backend.peek([check("a")])
        assert looked.allowed and looked.outcomes[0].remaining == 2


async def test_redis_buckets_are_shared_by_two_limiters(redis_url: str) -> None:
    """Two API processes' worth: two backends, one Redis, one bucket."""
    first, second = RedisBackend(redis_url, 1.0), RedisBackend(redis_url, 1.0)
    try:
        allowed = []
        for i in range(6):
            backend = first if i % 2 == 0 else second
            allowed.append((await backend.hit([check("shared")])).allowed)
        assert allowed == [True, True, True, False, False, False]
        refused = (await second.hit([check("shared")])).refusal
        assert refused is not None and 9.0 < refused.retry_after <= 10.0
        assert first.failures == second.failures == 0
        # a refusal in Redis spends from no bucket either
        one = Rate(per_minute=1, burst=1)
        assert (await first.hit([check("ip"), check("solo", one)])).allowed
        assert not (await second.hit([check("ip"), check("solo", one)])).allowed
        looked = await first.peek([check("ip")])
        assert looked.outcomes[0].remaining == 2
    finally:
        await first.aclose()
        await second.aclose()


async def test_redis_down_fails_open_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    backend = RedisBackend(f"redis://127.0.0.1:{free_port()}/0", 0.5)  # nothing listens
    one = Rate(per_minute=1, burst=1)
    try:
        with caplog.at_level(logging.WARNING, logger="atelier.limits.buckets"):
            verdicts = [await backend.hit([check("k", one)]) for _ in range(5)]
        assert all(v.allowed and v.failed_open for v in verdicts)
        assert backend.failures == 5
        warnings = [r for r in caplog.records if "rate limits are not enforced" in r.message]
        assert len(warnings) == 1  # once, not once per request
        assert (await backend.peek([check("k", one)])).allowed
    finally:
        await backend.aclose()


async def test_redis_timeout_fails_open(caplog: pytest.LogCaptureFixture) -> None:
    """A server that accepts but never answers: the check gives up after its timeout."""
    accepted: list[asyncio.StreamWriter] = []

    async def never_answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    hung = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = hung.sockets[0].getsockname()[1]
    backend = RedisBackend(f"redis://127.0.0.1:{port}/0", 0.2)
    try:
        verdict = await backend.hit([check("k")])
        assert verdict.allowed and verdict.failed_open
        assert accepted  # it did connect, and gave up waiting for the answer
    finally:
        await backend.aclose()
        for writer in accepted:
            writer.close()
        hung.close()
        await hung.wait_closed()


def test_forwarded_for_is_honoured_only_from_trusted_proxies() -> None:
    proxies = TrustedProxies(["10.0.0.0/8", "::1"])
    # an untrusted peer cannot claim another address
    assert proxies.client("203.0.113.9", ["1.2.3.4"]) == "203.0.113.9"
    # a trusted proxy's header names the client: the right-most address not a proxy
    assert proxies.client("10.0.0.2", ["1.2.3.4"]) == "1.2.3.4"
    assert proxies.client("10.0.0.2", ["6.6.6.6, 1.2.3.4, 10.0.0.7"]) == "1.2.3.4"
    assert proxies.client("10.0.0.2", ["6.6.6.6", "1.2.3.4"]) == "1.2.3.4"
    assert proxies.client("::1", ["[2001:db8::1]:4321"]) == "2001:db8::1"
    assert proxies.client("10.0.0.2", ["1.2.3.4:5678"]) == "1.2.3.4"
    # all proxies: the left-most; garbage stops the walk at the last good hop
    assert proxies.client("10.0.0.2", ["10.1.1.1, 10.2.2.2"]) == "10.1.1.1"
    assert proxies.client("10.0.0.2", ["1.2.3.4, nonsense, 10.0.0.3"]) == "10.0.0.3"
    assert proxies.client("10.0.0.2", []) == "10.0.0.2"
    assert TrustedProxies([]).client("10.0.0.2", ["1.2.3.4"]) == "10.0.0.2"


def test_ipv6_addresses_share_their_64() -> None:
    assert ip_bucket("2001:db8:1:2:aaaa::1") == ip_bucket("2001:db8:1:2:bbbb::9")
    assert ip_bucket("2001:db8:1:2::1") != ip_bucket("2001:db8:1:3::1")
    assert ip_bucket("::ffff:1.2.3.4") == "1.2.3.4"
    assert ip_bucket("1.2.3.4") == "1.2.3.4"
