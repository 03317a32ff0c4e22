"""The DashScope (Tongyi Wanxiang) provider against a local emulator of the async task API."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image
from pydantic import SecretStr

from atelier.config import DashScopeSettings
from atelier.providers.base import ImageToImageRequest, TextToImageRequest
from atelier.providers.dashscope import DashScopeProvider, fit
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
from support.emulators import assert_secret_free, draw_png
from support.emulators.dashscope_server import DashScopeEmulator

Make = Callable[..., DashScopeProvider]


@pytest.fixture
def make(dashscope_emulator: DashScopeEmulator) -> Iterator[Make]:
    made: list[DashScopeProvider] = []

    def make(key: str | None = None, timeout: float = 5, max_wait: float = 10) -> Any:
        settings = DashScopeSettings(
            base_url=dashscope_emulator.url + "/api/v1",
            api_key=SecretStr(dashscope_emulator.api_key if key is None else key),
            poll_interval=0.01,
        )
        made.append(DashScopeProvider(settings, timeout=timeout, max_wait=max_wait))
        return made[-1]

    yield make
    for provider in made:
        provider.close()


def pixels(png: bytes) -> bytes:
    return Image.open(io.BytesIO(png)).convert("RGB").tobytes()


def test_text_to_image_submits_polls_and_downloads(
    make: Make, dashscope_emulator: DashScopeEmulator
) -> None:
    progress: list[tuple[int, int]] = []
    request = TextToImageRequest(
        prompt="a harbour at dusk",
        negative_prompt="people",
        width=2000,
        height=1000,
        num_images=3,
        seed=41,
    )
    result = make().text_to_image(request, lambda d, t: progress.append((d, t)))

    assert [g.image.size for g in result.images] == [(1440, 720)] * 3
    assert [g.seed for g in result.images] == [41, 42, 43]
    for generated in result.images:
        assert generated.image.tobytes() == pixels(
            draw_png(1440, 720, generated.seed, "a harbour at dusk")
        )
    assert progress == [(1, 3), (2, 3), (3, 3)]
    assert (result.provider, result.model) == ("dashscope", "wanx")
    assert result.metadata["upstream_model"] == "wanx2.1-t2i-turbo"
    (submit,) = dashscope_emulator.api_requests("submit")
    assert submit.headers["x-dashscope-async"] == "enable"
    assert submit.json() == {
        "model": "wanx2.1-t2i-turbo",
        "input": {"prompt": "a harbour at dusk", "negative_prompt": "people"},
        "parameters": {"size": "1440*720", "n": 3, "seed": 41},
    }
    polls = dashscope_emulator.api_requests("poll")
    assert len(polls) == 3 and polls[0].path == f"/api/v1/tasks/{result.metadata['task_id']}"
    downloads = [r for r in dashscope_emulator.requests if r.path.startswith("/files/")]
    assert len(downloads) == 3 and all("authorization" not in r.headers for r in downloads)


def test_image_to_image_with_a_mask_edits_the_masked_area(
    make: Make, dashscope_emulator: DashScopeEmulator
) -> None:
    mask = Image.new("L", (600, 400), 0)
    mask.paste(200, (0, 0, 300, 400))
    request = ImageToImageRequest(
        image=Image.new("RGB", (600, 400), "teal"),
        prompt="a lighthouse",
        mask=mask,
        width=800,
        height=600,
        num_images=2,
    )
    result = make().image_to_image(request)
    assert [g.image.size for g in result.images] == [(800, 600)] * 2
    body = dashscope_emulator.api_requests("submit")[0].json()
    assert body["model"] == "wanx2.1-imageedit"
    assert body["input"]["function"] == "description_edit_with_mask"
    assert "strength" not in body["parameters"]
    sent_mask = Image.open(io.BytesIO(_data(body["input"]["mask_image_url"])))
    assert sent_mask.size == (800, 600)
    assert sorted(sent_mask.getcolors() or []) == [(240000, 0), (240000, 255)]


def test_image_to_image_without_a_mask_edits_by_description(
    make: Make, dashscope_emulator: DashScopeEmulator
) -> None:
    request = ImageToImageRequest(image=Image.new("RGB", (300, 200)), prompt="winter", strength=0.3)
    result = make().image_to_image(request)
    assert [g.image.size for g in result.images] == [(768, 512)]
    body = dashscope_emulator.api_requests("submit")[0].json()
    assert body["input"]["function"] == "description_edit"
    assert body["parameters"]["strength"] == 0.3


SUBMIT_FAULTS: list[tuple[str, dict[str, Any], type[ProviderError]]] = [
    ("rate_limit", {"retry_after": 4}, RateLimited),
    ("content_policy", {}, ContentRejected),
    ("arrearage", {}, QuotaExhausted),
    ("server_error", {}, Upstream5xx),
    ("invalid_json", {}, Upstream5xx),
    ("no_task_id", {}, Upstream5xx),
    ("disconnect", {}, ProviderNetworkError),
    ("timeout", {"delay": 3}, ProviderTimeout),
    ("task_failed", {"code": "DataInspectionFailed"}, ContentRejected),
    ("task_failed", {"code": "InvalidParameter"}, InvalidRequest),
    ("task_failed", {"code": "Throttling.RateQuota"}, RateLimited),
    ("task_failed", {"code": "Arrearage"}, QuotaExhausted),
    ("task_failed", {"code": "InternalError.Algo"}, Upstream5xx),
    ("task_canceled", {}, Upstream5xx),
    ("no_results", {}, Upstream5xx),
    ("broken_image", {}, Upstream5xx),
]


@pytest.mark.parametrize(("kind", "params", "error"), SUBMIT_FAULTS)
def test_submit_and_task_faults(
    make: Make,
    dashscope_emulator: DashScopeEmulator,
    kind: str,
    params: dict[str, Any],
    error: type[ProviderError],
) -> None:
    dashscope_emulator.fail_next(kind, on="submit", **params)
    with pytest.raises(error) as caught:
        make(timeout=0.5).text_to_image(TextToImageRequest(prompt="x"))
    assert type(caught.value) is error and caught.value.provider == "dashscope"
    assert dashscope_emulator.pending_faults == 0
    assert_secret_free(caught.value, dashscope_emulator.api_key)
    if kind == "rate_limit":
        assert isinstance(caught.value, RateLimited) and caught.value.retry_after == 4


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("server_error", Upstream5xx),
        ("rate_limit", RateLimited),
        ("unknown_task", Upstream5xx),
        ("invalid_json", Upstream5xx),
        ("timeout", ProviderTimeout),
    ],
)
def test_poll_faults(
    make: Make, dashscope_emulator: DashScopeEmulator, kind: str, error: type[ProviderError]
) -> None:
    dashscope_emulator.fail_next(kind, on="poll", delay=3)
    with pytest.raises(error):
        make(timeout=0.5).text_to_image(TextToImageRequest(prompt="x"))
    assert dashscope_emulator.pending_faults == 0


@pytest.mark.parametrize("kind", ["not_found", "expired", "broken_image"])
def test_result_url_faults(make: Make, dashscope_emulator: DashScopeEmulator, kind: str) -> None:
    dashscope_emulator.fail_next(kind, on="download")
    with pytest.raises(Upstream5xx, match="bad response"):
        make().text_to_image(TextToImageRequest(prompt="x"))


def test_a_task_past_max_wait_times_out(make: Make, dashscope_emulator: DashScopeEmulator) -> None:
    dashscope_emulator.fail_next("task_stuck", on="submit")
    progress: list[tuple[int, int]] = []
    with pytest.raises(ProviderTimeout, match="still RUNNING"):
        make(max_wait=0.2).text_to_image(
            TextToImageRequest(prompt="x"), lambda d, t: progress.append((d, t))
        )
    assert progress[0] == (1, 3) and progress[-1] == (2, 3) and len(progress) > 3


def test_a_partly_failed_task_returns_the_images_made(
    make: Make, dashscope_emulator: DashScopeEmulator
) -> None:
    dashscope_emulator.fail_next("partial", on="submit")
    result = make().text_to_image(TextToImageRequest(prompt="x", num_images=2, seed=5))
    assert [g.seed for g in result.images] == [5]
    assert result.metadata["partial"] == "1/2"


def test_a_raising_progress_callback_stops_the_polling(
    make: Make, dashscope_emulator: DashScopeEmulator
) -> None:
    class Cancelled(Exception):
        pass

    def cancel(done: int, total: int) -> None:
        raise Cancelled()

    with pytest.raises(Cancelled):
        make().text_to_image(TextToImageRequest(prompt="x"), cancel)
    assert len(dashscope_emulator.api_requests("poll")) == 1


def test_a_wrong_key_is_auth_failed(make: Make) -> None:
    with pytest.raises(AuthFailed) as caught:
        make(key="sk-wrong-dashscope").text_to_image(TextToImageRequest(prompt="x"))
    assert "InvalidApiKey" in caught.value.message
    assert_secret_free(caught.value, "sk-wrong-dashscope")


def test_invalid_parameters_are_invalid_requests(
    make: Make, dashscope_emulator: DashScopeEmulator
) -> None:
    provider = make()
    provider.settings = DashScopeSettings(  # a model the service does not know
        base_url=provider.base_url, api_key=SecretStr(dashscope_emulator.api_key), model="nope"
    )
    with pytest.raises(InvalidRequest, match="InvalidParameter"):
        provider.text_to_image(TextToImageRequest(prompt="x"))
    with pytest.raises(InvalidRequest):  # more images than the service makes: never sent
        provider.text_to_image(TextToImageRequest(prompt="x", num_images=5))
    assert len(dashscope_emulator.api_requests()) == 1


def test_a_missing_key_is_not_configured_without_a_call(
    make: Make, dashscope_emulator: DashScopeEmulator
) -> None:
    with pytest.raises(NotConfigured):
        make(key="").text_to_image(TextToImageRequest(prompt="x"))
    with pytest.raises(NotConfigured):
        make(key="").image_to_image(ImageToImageRequest(image=Image.new("RGB", (8, 8)), prompt="x"))
    assert dashscope_emulator.requests == []


def test_the_key_stays_out_of_logs_and_repr(
    make: Make, dashscope_emulator: DashScopeEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = make()
    provider.text_to_image(TextToImageRequest(prompt="x"))
    dashscope_emulator.fail_next("task_failed", on="submit")
    with pytest.raises(Upstream5xx):
        provider.text_to_image(TextToImageRequest(prompt="x"))
    assert "submitted" in caplog.text
    assert dashscope_emulator.api_key not in caplog.text
    assert dashscope_emulator.api_key not in repr(provider)


@pytest.mark.parametrize(
    ("asked", "expected"),
    [((1024, 1024), (1024, 1024)), ((256, 128), (1024, 512)), ((3000, 300), (1440, 512))],
)
def test_fit_keeps_the_aspect_inside_the_box(
    asked: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert fit(*asked, 512, 1440) == expected


def _data(uri: str) -> bytes:
    return base64.b64decode(uri.split(",", 1)[1])
