"""The Volcengine providers, Ark Seedream and Jimeng on the signed Visual API, against a local
emulator that checks bearer keys and verifies HMAC-SHA256 signatures with its own code."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from pydantic import SecretStr

from atelier.config import VolcengineSettings
from atelier.providers.base import ImageToImageRequest, TextToImageRequest
from atelier.providers.errors import (
    AuthFailed,
    ContentRejected,
    InvalidRequest,
    NotConfigured,
    ProviderError,
    ProviderNetworkError,
    ProviderTimeout,
    QuotaExhausted,
    RateLimited,
    Upstream5xx,
)
from atelier.providers.volcengine_ark import VolcengineArkProvider, area_size
from atelier.providers.volcengine_visual import VolcengineVisualProvider, canonical_query, sign
from support.emulators import assert_secret_free, draw_png
from support.emulators.volcengine_server import VolcengineEmulator

AK = "AKLTemulatedaccesskey"
SECRET = "emulated/secret+key==0123456789"
ARK_KEY = "ark-emulated-key-0123456789"


def settings(emulator: VolcengineEmulator, **changes: Any) -> VolcengineSettings:
    values: dict[str, Any] = {
        "ark_base_url": emulator.url + "/api/v3",
        "ark_api_key": SecretStr(ARK_KEY),
        "visual_base_url": emulator.url,
        "access_key_id": AK,
        "secret_access_key": SecretStr(SECRET),
        "jimeng_req_key": "jimeng_t2i_v40",
    }
    return VolcengineSettings(**(values | changes))


@pytest.fixture
def providers() -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for provider in made:
        provider.close()


def ark(
    emulator: VolcengineEmulator, made: list[Any], timeout: float = 5, fmt: str = "url", **kw: Any
) -> VolcengineArkProvider:
    made.append(VolcengineArkProvider(settings(emulator, **kw), timeout, response_format=fmt))
    return made[-1]  # type: ignore[no-any-return]


def visual(
    emulator: VolcengineEmulator,
    made: list[Any],
    timeout: float = 5,
    max_wait: float = 10,
    **kw: Any,
) -> VolcengineVisualProvider:
    provider = VolcengineVisualProvider(
        settings(emulator, **kw), timeout, max_wait=max_wait, poll_interval=0.01
    )
    made.append(provider)
    return provider


def pixels(png: bytes) -> bytes:
    return Image.open(io.BytesIO(png)).convert("RGB").tobytes()


# -- Ark (Seedream) ------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["url", "b64_json"])
def test_seedream_text_to_image(
    volcengine_emulator: VolcengineEmulator, providers: list[Any], fmt: str
) -> None:
    progress: list[tuple[int, int]] = []
    request = TextToImageRequest(prompt="koi pond", width=512, height=512, num_images=2, seed=7)
    result = ark(volcengine_emulator, providers, fmt=fmt).text_to_image(
        request, lambda d, t: progress.append((d, t))
    )
    assert [g.image.size for g in result.images] == [(1024, 1024)] * 2
    for generated in result.images:
        assert generated.image.tobytes() == pixels(draw_png(1024, 1024, generated.seed, "koi pond"))
    assert [g.seed for g in result.images] == [7, 8]
    assert progress == [(1, 2), (2, 2)]
    assert (result.provider, result.model) == ("volcengine_ark", "seedream")
    bodies = [r.json() for r in volcengine_emulator.api_requests("ark")]
    assert [b["seed"] for b in bodies] == [7, 8]
    assert bodies[0] == {
        "model": "doubao-seedream-4-0-250828",
        "prompt": "koi pond",
        "size": "1024x1024",
        "seed": 7,
        "sequential_image_generation": "disabled",
        "response_format": fmt,
        "watermark": False,
    }
    downloads = [r for r in volcengine_emulator.requests if r.path.startswith("/files/")]
    assert len(downloads) == (2 if fmt == "url" else 0)
    assert all("authorization" not in r.headers for r in downloads)


def test_seedream_image_to_image_sends_a_data_uri(
    volcengine_emulator: VolcengineEmulator, providers: list[Any]
) -> None:
    request = ImageToImageRequest(
        image=Image.new("RGB", (600, 400), "orange"),
        prompt="as a watercolour",
        mask=Image.new("L", (600, 400), 255),
    )
    result = ark(volcengine_emulator, providers).image_to_image(request)
    assert [g.image.size for g in result.images] == [area_size(600, 400)]
    assert result.metadata["mask"] == "ignored"
    body = volcengine_emulator.api_requests("ark")[0].json()
    head, _, data = body["image"].partition(",")
    assert head == "data:image/png;base64"
    sent = Image.open(io.BytesIO(base64.b64decode(data)))
    assert sent.size == (600, 400) and sent.getpixel((0, 0)) == (255, 165, 0)


ARK_FAULTS: list[tuple[str, dict[str, Any], type[ProviderError]]] = [
    ("rate_limit", {"retry_after": 2}, RateLimited),
    ("quota", {}, QuotaExhausted),
    ("overdue", {}, QuotaExhausted),
    ("auth_error", {}, AuthFailed),
    ("content_input", {}, ContentRejected),
    ("content_output", {}, ContentRejected),
    ("item_error", {}, ContentRejected),
    ("server_error", {}, Upstream5xx),
    ("invalid_json", {}, Upstream5xx),
    ("missing_fields", {}, Upstream5xx),
    ("broken_image", {}, Upstream5xx),
    ("disconnect", {}, ProviderNetworkError),
    ("timeout", {"delay": 3}, ProviderTimeout),
]


@pytest.mark.parametrize(("kind", "params", "error"), ARK_FAULTS)
def test_seedream_faults(
    volcengine_emulator: VolcengineEmulator,
    providers: list[Any],
    kind: str,
    params: dict[str, Any],
    error: type[ProviderError],
) -> None:
    volcengine_emulator.fail_next(kind, on="ark", **params)
    with pytest.raises(error) as caught:
        ark(volcengine_emulator, providers, timeout=0.5).text_to_image(TextToImageRequest("x"))
    assert type(caught.value) is error and caught.value.provider == "volcengine_ark"
    assert volcengine_emulator.pending_faults == 0
    assert_secret_free(caught.value, ARK_KEY)
    if kind == "rate_limit":
        assert isinstance(caught.value, RateLimited) and caught.value.retry_after == 2


def test_seedream_keys_and_models(
    volcengine_emulator: VolcengineEmulator, providers: list[Any]
) -> None:
    with pytest.raises(AuthFailed) as caught:
        ark(volcengine_emulator, providers, ark_api_key=SecretStr("ark-wrong")).text_to_image(
            TextToImageRequest("x")
        )
    assert "AuthenticationError" in caught.value.message
    with pytest.raises(InvalidRequest, match="InvalidEndpointOrModel"):
        ark(volcengine_emulator, providers, ark_model="doubao-nope").text_to_image(
            TextToImageRequest("x")
        )
    calls = len(volcengine_emulator.requests)
    with pytest.raises(NotConfigured):
        ark(volcengine_emulator, providers, ark_api_key=SecretStr("")).text_to_image(
            TextToImageRequest("x")
        )
    assert len(volcengine_emulator.requests) == calls


@pytest.mark.parametrize(
    ("asked", "expected"),
    [((2048, 2048), (2048, 2048)), ((512, 256), (1449, 725)), ((8192, 4096), (5793, 2896))],
)
def test_area_size_keeps_the_aspect(asked: tuple[int, int], expected: tuple[int, int]) -> None:
    size = area_size(*asked)
    assert size == expected
    assert 1024 * 1024 <= size[0] * size[1] <= 4096 * 4096


# -- Visual API (Jimeng) -------------------------------------------------------------------------
@pytest.mark.parametrize("base64_answers", [False, True])
def test_jimeng_submits_signed_tasks_and_polls_them(
    volcengine_emulator: VolcengineEmulator, providers: list[Any], base64_answers: bool
) -> None:
    volcengine_emulator.answer_base64 = base64_answers
    progress: list[tuple[int, int]] = []
    request = TextToImageRequest(prompt="paper lanterns", width=512, height=512, num_images=2)
    result = visual(volcengine_emulator, providers).text_to_image(
        request, lambda d, t: progress.append((d, t))
    )
    assert [g.image.size for g in result.images] == [(1024, 1024)] * 2
    for generated in result.images:
        assert generated.image.tobytes() == pixels(
            draw_png(1024, 1024, generated.seed, "paper lanterns")
        )
    assert progress == [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]
    assert volcengine_emulator.signature_failures == 0
    submits = volcengine_emulator.api_requests("submit")
    assert [s.json()["seed"] for s in submits] == [0, 1]
    assert submits[0].json() == {
        "req_key": "jimeng_t2i_v40",
        "prompt": "paper lanterns",
        "seed": 0,
        "width": 1024,
        "height": 1024,
        "force_single": True,
    }
    polls = volcengine_emulator.api_requests("poll")
    assert len(polls) == 6 and json.loads(polls[0].json()["req_json"]) == {"return_url": True}
    assert all(SECRET not in r.target + json.dumps(r.headers) for r in volcengine_emulator.requests)


def test_the_emulator_verifies_signatures(volcengine_emulator: VolcengineEmulator) -> None:
    """A request signed as the guide says passes; any change to it, a wrong secret or a stale
    date is refused, so the signature is really checked."""
    query = {"Action": "CVSync2AsyncGetResult", "Version": "2022-08-31"}
    body = b'{"req_key":"jimeng_t2i_v40","task_id":"1"}'
    host = volcengine_emulator.url.removeprefix("http://")

    def send(
        secret: str = SECRET, now: datetime | None = None, sent_body: bytes = body
    ) -> httpx.Response:
        headers = sign(
            method="POST",
            host=host,
            path="/",
            query=query,
            body=body,
            access_key=AK,
            secret_key=secret,
            region="cn-north-1",
            now=now or datetime.now(UTC),
        )
        url = f"{volcengine_emulator.url}/?{canonical_query(query)}"
        return httpx.post(url, content=sent_body, headers=headers)

    assert send().status_code == 200
    refused = [
        send(secret="not-the-secret"),
        send(sent_body=body.replace(b'"1"', b'"2"')),
        send(now=datetime.now(UTC) - timedelta(hours=1)),
    ]
    codes = [r.json()["ResponseMetadata"]["Error"]["Code"] for r in refused]
    assert codes == ["SignatureDoesNotMatch", "SignatureDoesNotMatch", "InvalidTimestamp"]
    assert [r.status_code for r in refused] == [401, 401, 400]
    assert volcengine_emulator.signature_failures == 3


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"secret_access_key": SecretStr("a-wrong-secret-key")}, "SignatureDoesNotMatch"),
        ({"access_key_id": "AKLTunknown"}, "InvalidAccessKey"),
        ({"region": "ap-southeast-1"}, "SignatureDoesNotMatch"),
    ],
)
def test_jimeng_bad_credentials_are_auth_failed(
    volcengine_emulator: VolcengineEmulator,
    providers: list[Any],
    changes: dict[str, Any],
    code: str,
) -> None:
    with pytest.raises(AuthFailed) as caught:
        visual(volcengine_emulator, providers, **changes).text_to_image(TextToImageRequest("x"))
    assert code in caught.value.message
    assert_secret_free(caught.value, SECRET, "a-wrong-secret-key")
    assert volcengine_emulator.signature_failures == 1


VISUAL_FAULTS: list[tuple[str, str, dict[str, Any], type[ProviderError]]] = [
    ("rate_limit", "submit", {"retry_after": 3}, RateLimited),
    ("concurrency", "submit", {}, RateLimited),
    ("flow_limit", "submit", {}, RateLimited),
    ("content_input", "submit", {}, ContentRejected),
    ("content_output", "poll", {}, ContentRejected),
    ("server_error", "submit", {}, Upstream5xx),
    ("server_error", "poll", {"status": 503}, Upstream5xx),
    ("invalid_json", "poll", {}, Upstream5xx),
    ("no_task_id", "submit", {}, Upstream5xx),
    ("task_expired", "submit", {}, Upstream5xx),
    ("task_not_found", "submit", {}, Upstream5xx),
    ("no_images", "submit", {}, Upstream5xx),
    ("broken_image", "submit", {}, Upstream5xx),
    ("expired", "download", {}, Upstream5xx),
    ("disconnect", "poll", {}, ProviderNetworkError),
    ("timeout", "submit", {"delay": 3}, ProviderTimeout),
]


@pytest.mark.parametrize(("kind", "on", "params", "error"), VISUAL_FAULTS)
def test_jimeng_faults(
    volcengine_emulator: VolcengineEmulator,
    providers: list[Any],
    kind: str,
    on: str,
    params: dict[str, Any],
    error: type[ProviderError],
) -> None:
    volcengine_emulator.fail_next(kind, on=on, **params)
    with pytest.raises(error) as caught:
        visual(volcengine_emulator, providers, timeout=0.5).text_to_image(TextToImageRequest("x"))
    assert type(caught.value) is error and caught.value.provider == "volcengine_visual"
    assert volcengine_emulator.pending_faults == 0
    assert_secret_free(caught.value, SECRET)
    if kind == "rate_limit":
        assert isinstance(caught.value, RateLimited) and caught.value.retry_after == 3


def test_a_jimeng_task_past_max_wait_times_out(
    volcengine_emulator: VolcengineEmulator, providers: list[Any]
) -> None:
    volcengine_emulator.fail_next("task_stuck", on="submit")
    with pytest.raises(ProviderTimeout, match="still generating"):
        visual(volcengine_emulator, providers, max_wait=0.2).text_to_image(TextToImageRequest("x"))


def test_jimeng_missing_credentials_are_not_configured_without_a_call(
    volcengine_emulator: VolcengineEmulator, providers: list[Any]
) -> None:
    for changes in ({"access_key_id": ""}, {"secret_access_key": SecretStr("")}):
        with pytest.raises(NotConfigured):
            visual(volcengine_emulator, providers, **changes).text_to_image(TextToImageRequest("x"))
    assert volcengine_emulator.requests == []


def test_secrets_stay_out_of_logs_and_repr(
    volcengine_emulator: VolcengineEmulator,
    providers: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    jimeng, seedream = visual(volcengine_emulator, providers), ark(volcengine_emulator, providers)
    jimeng.text_to_image(TextToImageRequest("x"))
    seedream.text_to_image(TextToImageRequest("x"))
    volcengine_emulator.fail_next("content_output", on="poll")
    with pytest.raises(ContentRejected):
        jimeng.text_to_image(TextToImageRequest("x"))
    assert "volcengine_visual: task" in caplog.text and "volcengine_ark" in caplog.text
    for secret in (SECRET, ARK_KEY):
        assert secret not in caplog.text
        assert secret not in repr(jimeng) + repr(seedream) + repr(jimeng.settings)
    assert AK not in repr(jimeng)
