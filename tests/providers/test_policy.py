"""The provider policy: retries, fallback, circuit breaking, A/B routing, timeout, cache,
and the figures it records, against the real database and storage."""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from PIL import Image
from sqlalchemy import select

from atelier.config import PolicySettings, RouteSettings, Settings
from atelier.db.migrate import upgrade
from atelier.providers.base import (
    ImageToImageRequest,
    ModelInfo,
    ProgressCallback,
    TextToImageRequest,
    TextToImageResult,
)
from atelier.providers.errors import (
    AuthFailed,
    InvalidRequest,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    Upstream5xx,
)
from atelier.providers.models import ProviderCall
from atelier.providers.policy import CircuitBreaker, ProviderPolicy, cache_key, fingerprint
from atelier.providers.procedural import ProceduralProvider
from atelier.runtime import Runtime, build_runtime
from support.live import wait_until
from support.profiles import Profile

REQ = TextToImageRequest(prompt="A  Sunset", width=64, height=64, steps=2, seed=3)


@dataclass
class Backend:
    """A remote-like provider whose backend misbehaves as scripted."""

    name: str
    failures: list[ProviderError] = field(default_factory=list)
    always: ProviderError | None = None
    block: threading.Event | None = None
    calls: int = 0

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(id=self.name, provider=self.name, kind="remote")]

    def _draw(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None
    ) -> TextToImageResult:
        self.calls += 1
        if self.block is not None:
            self.block.wait(10)
            if on_progress:
                on_progress(1, 1)
        if self.always is not None:
            raise self.always
        if self.failures:
            raise self.failures.pop(0)
        return ProceduralProvider().text_to_image(request, on_progress)

    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult:
        return self._draw(request, on_progress)

    def image_to_image(
        self, request: ImageToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult:
        as_t2i = TextToImageRequest(prompt=request.prompt, width=64, height=64, seed=request.seed)
        return self._draw(as_t2i, on_progress)


@pytest.fixture
def rt(profile: Profile) -> Iterator[Runtime]:
    upgrade(profile.settings)
    runtime = build_runtime(profile.settings, worker=True)
    yield runtime
    runtime.close()


def policy(
    rt: Runtime, *backends: Backend, **overrides: object
) -> tuple[ProviderPolicy, list[float]]:
    for backend in backends:
        rt.providers.register(backend)
    slept: list[float] = []
    settings = PolicySettings(**{"retries": 2, "timeout": 5.0, **overrides})  # type: ignore[arg-type]
    return ProviderPolicy(settings, rt.providers, rt.db, rt.storage, sleep=slept.append), slept


def calls(rt: Runtime) -> list[tuple[str, str, int, bool]]:
    with rt.db.read() as s:
        rows = s.scalars(select(ProviderCall).order_by(ProviderCall.id)).all()
        return [(r.provider, r.outcome, r.attempt, r.fallback) for r in rows]


def test_transient_failures_are_retried_with_backoff(rt: Runtime) -> None:
    primary = Backend("primary", [Upstream5xx("502"), Upstream5xx("503")])
    p, slept = policy(rt, primary)
    outcome = p.run("primary", REQ)
    assert outcome.provider == "primary" and len(outcome.result.images) == 1
    assert primary.calls == 3 and len(slept) == 2
    assert 0 <= slept[0] <= 0.5 and 0 <= slept[1] <= 1.0  # exponential cap, jittered
    assert calls(rt) == [
        ("primary", "transient", 1, False),
        ("primary", "transient", 2, False),
        ("primary", "ok", 3, False),
    ]


def test_fallback_chain(rt: Runtime) -> None:
    seedream = Backend("seedream", always=Upstream5xx("down"))
    wanx = Backend("wanx", always=AuthFailed("bad key"))
    p, _ = policy(
        rt,
        seedream,
        wanx,
        retries=1,
        routes={"auto": RouteSettings(candidates={"seedream": 1}, fallback=["wanx", "procedural"])},
    )
    outcome = p.run("auto", REQ)
    assert outcome.provider == "procedural" and outcome.fallbacks == ["seedream", "wanx"]
    assert seedream.calls == 2 and wanx.calls == 1  # permanent provider errors are not retried
    assert calls(rt)[-1] == ("procedural", "ok", 1, True)


def test_a_bad_request_does_not_fall_back(rt: Runtime) -> None:
    primary = Backend("primary", always=InvalidRequest("size not supported"))
    p, _ = policy(
        rt, primary, routes={"r": RouteSettings(candidates={"primary": 1}, fallback=["procedural"])}
    )
    with pytest.raises(InvalidRequest):
        p.run("r", REQ)
    assert primary.calls == 1 and [c[0] for c in calls(rt)] == ["primary"]


def test_long_retry_after_falls_back_instead_of_waiting(rt: Runtime) -> None:
    primary = Backend("primary", always=RateLimited("slow down", retry_after=120))
    p, slept = policy(
        rt, primary, routes={"r": RouteSettings(candidates={"primary": 1}, fallback=["procedural"])}
    )
    assert p.run("r", REQ).provider == "procedural"
    assert slept == [] and primary.calls == 1


def test_circuit_opens_then_lets_a_trial_through(rt: Runtime) -> None:
    flaky = Backend("flaky", always=Upstream5xx("down"))
    p, _ = policy(
        rt,
        flaky,
        retries=0,
        breaker_failures=3,
        breaker_cooldown=0.3,
        routes={"r": RouteSettings(candidates={"flaky": 1}, fallback=["procedural"])},
    )
    for _ in range(3):
        assert p.run("r", REQ).provider == "procedural"
    assert flaky.calls == 3 and p.breaker("flaky").state == "open"
    for _ in range(5):
        assert p.run("r", REQ).fallbacks == ["flaky"]
    assert flaky.calls == 3  # skipped while open
    assert Counter(c[1] for c in calls(rt) if c[0] == "flaky")["skipped"] == 5
    wait_until(lambda: p.breaker("flaky").state == "half_open", 5, "the cool-down")
    flaky.always = None
    assert p.run("r", REQ).provider == "flaky"  # the trial call succeeds and closes it
    assert p.breaker("flaky").state == "closed"


def test_breaker_unit() -> None:
    b = CircuitBreaker(threshold=2, cooldown=60)
    b.failure()
    assert b.allow()
    b.failure()
    assert not b.allow() and b.state == "open"
    b.success()
    assert b.allow() and b.state == "closed"


def test_weighted_ab_routing_is_sticky_per_task(rt: Runtime) -> None:
    a, b = Backend("a"), Backend("b")
    p, _ = policy(rt, a, b, routes={"ab": RouteSettings(candidates={"a": 0.7, "b": 0.3})})
    picks = Counter(p.chain("ab", __import__("random").Random(f"task-{i}"))[0] for i in range(2000))
    assert 0.65 < picks["a"] / 2000 < 0.75
    first = p.run("ab", REQ, task_id="t-1").provider
    assert all(p.run("ab", REQ, task_id="t-1").provider == first for _ in range(5))


def test_timeout_abandons_the_call_and_falls_back(rt: Runtime) -> None:
    gate = threading.Event()
    slow = Backend("slow", block=gate)
    p, _ = policy(
        rt,
        slow,
        retries=0,
        timeout=0.2,
        routes={"r": RouteSettings(candidates={"slow": 1}, fallback=["procedural"])},
    )
    progress: list[tuple[int, int]] = []
    outcome = p.run("r", REQ, lambda d, t: progress.append((d, t)))
    assert outcome.provider == "procedural"
    assert calls(rt)[0][:2] == ("slow", "timeout")
    reported = len(progress)
    gate.set()  # the abandoned call wakes up: its progress is not reported any more
    wait_until(lambda: slow.calls == 1, 5, "the slow call")
    assert len(progress) == reported
    p.close()


def test_timeout_error_is_transient() -> None:
    assert ProviderTimeout("x").transient


def test_result_cache(rt: Runtime) -> None:
    remote = Backend("remote")
    p, _ = policy(rt, remote)
    first = p.run("remote", REQ)
    again = p.run(
        "remote", TextToImageRequest(prompt="a sunset", width=64, height=64, steps=2, seed=3)
    )
    assert not first.cache_hit and again.cache_hit and remote.calls == 1
    assert first.result.images[0].image.tobytes() == again.result.images[0].image.tobytes()
    other = p.run(
        "remote", TextToImageRequest(prompt="a sunrise", width=64, height=64, steps=2, seed=3)
    )
    assert not other.cache_hit and remote.calls == 2
    assert [c[1] for c in calls(rt)] == ["ok", "cached", "ok"]


def synthetic_photo(cx: int, cy: int, hue: int) -> Image.Image:
    from PIL import ImageDraw

    img = Image.linear_gradient("L").resize((256, 192)).convert("RGB")
    draw = ImageDraw.Draw(img)
    draw.ellipse((cx - 40, cy - 40, cx + 40, cy + 40), fill=(hue, 180, 60))
    draw.rectangle((20, 140, 120, 180), fill=(30, 60, hue))
    return img


def test_input_fingerprint_survives_reencoding() -> None:
    photo = synthetic_photo(170, 70, 220)
    buf = io.BytesIO()
    photo.save(buf, format="JPEG", quality=85)
    reencoded = Image.open(io.BytesIO(buf.getvalue()))
    other = synthetic_photo(60, 120, 40).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    assert fingerprint(photo) == fingerprint(reencoded)
    assert fingerprint(photo) != fingerprint(other)
    entry = __import__("atelier.providers.registry", fromlist=["ModelEntry"]).ModelEntry(
        ModelInfo(id="m", provider="m", kind="remote"), ProceduralProvider()
    )
    key = cache_key(entry, ImageToImageRequest(image=photo, prompt="Watercolour  style"))
    assert key == cache_key(entry, ImageToImageRequest(image=reencoded, prompt="watercolour style"))
    assert key != cache_key(entry, ImageToImageRequest(image=other, prompt="watercolour style"))


def test_providers_endpoint_reports_figures(profile: Profile) -> None:
    from support.api import api

    with api(profile.settings) as client:
        rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        flaky = Backend("flaky", [Upstream5xx("x")])
        p, _ = policy(rt, flaky)
        for i in range(3):
            p.run("flaky", TextToImageRequest(prompt=f"p{i}", width=64, height=64, seed=i))
        p.run("flaky", TextToImageRequest(prompt="p0", width=64, height=64, seed=0))
        body = client.get("/api/v1/providers").json()
        flaky_report = next(x for x in body["providers"] if x["name"] == "flaky")
        assert flaky_report["configured"] and flaky_report["models"] == ["flaky"]
        assert flaky_report["calls"] == 5 and flaky_report["succeeded"] == 3
        assert flaky_report["failures"] == {"transient": 1}
        assert flaky_report["retries"] == 1 and flaky_report["cache_hits"] == 1
        assert flaky_report["latency_ms"]["p95"] is not None
        assert flaky_report["health"] in ("healthy", "degraded")
        assert "auto" in body["routes"]
        assert client.get("/api/v1/providers?hours=0").status_code == 422


def test_settings_parse_routes_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ATELIER_POLICY__ROUTES",
        '{"auto": {"candidates": {"seedream": 0.9, "openai": 0.1}, "fallback": ["procedural"]}}',
    )
    routes = Settings(_env_file=None).policy.routes  # type: ignore[call-arg]
    assert routes["auto"].candidates == {"seedream": 0.9, "openai": 0.1}
