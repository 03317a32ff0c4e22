"""The OpenAI Images provider against a local emulator of the documented API."""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image
from pydantic import SecretStr

from atelier.config import OpenAISettings
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
from atelier.providers.openai_images import OpenAIImagesProvider, nearest_size
from support.emulators import assert_secret_free, draw_png
from support.emulators.openai_server import OpenAIEmulator

Make = Callable[..., OpenAIImagesProvider]


@pytest.fixture
def make(openai_emulator: OpenAIEmulator) -> Iterator[Make]:
    made: list[OpenAIImagesProvider] = []

    def make(model: str = "gpt-image-1", key: str | None = None, timeout: float = 5) -> Any:
        settings = OpenAISettings(
            base_url=openai_emulator.url + "/v1",
            api_key=SecretStr(openai_emulator.api_key if key is None else key),
            model=model,
        )
        made.append(OpenAIImagesProvider(settings, timeout=timeout))
        return made[-1]

    yield make
    for provider in made:
        provider.close()


def pixels(png: bytes) -> bytes:
    return Image.open(io.BytesIO(png)).convert("RGB").tobytes()


@pytest.mark.parametrize(
    ("model", "asked", "expected", "n"),
    [
        ("gpt-image-1", (600, 400), (1536, 1024), 2),
        ("gpt-image-1", (300, 300), (1024, 1024), 1),
        ("dall-e-2", (600, 400), (512, 512), 3),
        ("dall-e-3", (400, 700), (1024, 1792), 1),
    ],
)
def test_text_to_image_at_the_nearest_size(
    make: Make,
    openai_emulator: OpenAIEmulator,
    model: str,
    asked: tuple[int, int],
    expected: tuple[int, int],
    n: int,
) -> None:
    progress: list[tuple[int, int]] = []
    request = TextToImageRequest(prompt="a red fox", width=asked[0], height=asked[1], num_images=n)
    result = make(model).text_to_image(request, lambda d, t: progress.append((d, t)))

    assert (result.provider, result.model, result.metadata["upstream_model"]) == (
        "openai",
        "openai",
        model,
    )
    assert [g.image.size for g in result.images] == [expected] * n
    for i, generated in enumerate(result.images):  # the emulator's own pixels, decoded
        assert generated.image.tobytes() == pixels(draw_png(*expected, i, "a red fox"))
    assert progress == [(1, 1)]
    (sent,) = openai_emulator.api_requests("generations")
    body = sent.json()
    assert body["size"] == f"{expected[0]}x{expected[1]}" and body["n"] == n
    assert ("response_format" in body) == model.startswith("dall-e")
    assert "request_id" in result.metadata


def test_url_answers_are_downloaded_without_the_key(
    make: Make, openai_emulator: OpenAIEmulator
) -> None:
    openai_emulator.answer_with_urls = True
    result = make().text_to_image(TextToImageRequest(prompt="x", num_images=2))
    assert [g.image.size for g in result.images] == [(1024, 1024)] * 2
    downloads = [r for r in openai_emulator.requests if r.path.startswith("/files/")]
    assert len(downloads) == 2
    assert all("authorization" not in r.headers for r in downloads)


def test_edit_sends_the_image_and_an_alpha_mask(
    make: Make, openai_emulator: OpenAIEmulator
) -> None:
    image = Image.new("RGB", (300, 200), (10, 200, 30))
    mask = Image.new("L", (300, 200), 0)
    mask.paste(255, (0, 0, 150, 200))  # repaint the left half
    request = ImageToImageRequest(image=image, prompt="a boat", mask=mask, num_images=2)
    result = make().image_to_image(request)

    assert [g.image.size for g in result.images] == [(1536, 1024)] * 2
    (edit,) = openai_emulator.edits
    assert edit["image"].size == (1536, 1024)
    alpha = edit["mask"].getchannel("A")
    assert alpha.getpixel((10, 500)) == 0 and alpha.getpixel((1500, 500)) == 255
    assert edit["params"]["prompt"] == "a boat" and edit["params"]["n"] == 2


def test_dalle2_edit_without_a_mask_repaints_everything(
    make: Make, openai_emulator: OpenAIEmulator
) -> None:
    request = ImageToImageRequest(image=Image.new("RGB", (640, 480)), prompt="snow")
    result = make("dall-e-2").image_to_image(request)
    assert [g.image.size for g in result.images] == [(512, 512)]
    (edit,) = openai_emulator.edits
    assert edit["image"].size == (512, 512)
    assert edit["mask"].getchannel("A").getextrema() == (0, 0)


@pytest.mark.parametrize(
    ("model", "call"),
    [
        ("dall-e-3", "edit"),
        ("dall-e-3", "two"),
        ("gpt-image-1", "eleven"),
        ("gpt-image-1", "other-model"),
    ],
)
def test_requests_the_model_cannot_serve_fail_before_any_call(
    make: Make, openai_emulator: OpenAIEmulator, model: str, call: str
) -> None:
    provider = make(model)
    with pytest.raises(InvalidRequest):
        if call == "edit":
            provider.image_to_image(ImageToImageRequest(image=Image.new("RGB", (8, 8)), prompt="x"))
        elif call == "other-model":
            provider.text_to_image(TextToImageRequest(prompt="x", model="dall-e-2"))
        else:
            n = 2 if call == "two" else 11
            provider.text_to_image(TextToImageRequest(prompt="x", num_images=n))
    assert openai_emulator.requests == []


FAULTS: list[tuple[str, dict[str, Any], type[ProviderError], str]] = [
    ("rate_limit", {"retry_after": 3}, RateLimited, "provider_rate_limited"),
    ("content_policy", {}, ContentRejected, "content_rejected"),
    ("moderation_blocked", {}, ContentRejected, "content_rejected"),
    ("quota", {}, QuotaExhausted, "quota_exhausted"),
    ("billing_limit", {}, QuotaExhausted, "quota_exhausted"),
    ("server_error", {"status": 500}, Upstream5xx, "provider_upstream_error"),
    ("server_error", {"status": 503}, Upstream5xx, "provider_upstream_error"),
    ("invalid_json", {}, Upstream5xx, "provider_upstream_error"),
    ("missing_fields", {}, Upstream5xx, "provider_upstream_error"),
    ("broken_image", {}, Upstream5xx, "provider_upstream_error"),
    ("bad_base64", {}, Upstream5xx, "provider_upstream_error"),
    ("wrong_count", {}, Upstream5xx, "provider_upstream_error"),
    ("disconnect", {}, ProviderNetworkError, "provider_network_error"),
    ("timeout", {"delay": 3}, ProviderTimeout, "provider_timeout"),
]


@pytest.mark.parametrize(("kind", "params", "error", "code"), FAULTS)
def test_faults_map_onto_the_error_tree(
    make: Make,
    openai_emulator: OpenAIEmulator,
    kind: str,
    params: dict[str, Any],
    error: type[ProviderError],
    code: str,
) -> None:
    openai_emulator.fail_next(kind, **params)
    with pytest.raises(error) as caught:
        make(timeout=0.5).text_to_image(TextToImageRequest(prompt="x"))
    assert caught.value.code == code and caught.value.provider == "openai"
    assert caught.value.transient == (code not in ("content_rejected", "quota_exhausted"))
    assert openai_emulator.pending_faults == 0
    assert_secret_free(caught.value, openai_emulator.api_key)


@pytest.mark.parametrize(
    ("params", "expected"),
    [({"retry_after": 7}, 7.0), ({"retry_after_ms": 1500}, 1.5), ({}, None)],
)
def test_rate_limits_carry_retry_after(
    make: Make, openai_emulator: OpenAIEmulator, params: dict[str, Any], expected: float | None
) -> None:
    openai_emulator.fail_next("rate_limit", **params)
    with pytest.raises(RateLimited) as caught:
        make().text_to_image(TextToImageRequest(prompt="x"))
    assert caught.value.retry_after == expected


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("not_found", Upstream5xx),
        ("expired", Upstream5xx),
        ("broken_image", Upstream5xx),
        ("timeout", ProviderTimeout),
        ("disconnect", ProviderNetworkError),
    ],
)
def test_result_url_faults(
    make: Make, openai_emulator: OpenAIEmulator, kind: str, error: type[ProviderError]
) -> None:
    openai_emulator.answer_with_urls = True
    openai_emulator.fail_next(kind, on="download", delay=3)
    with pytest.raises(error):
        make(timeout=0.5).text_to_image(TextToImageRequest(prompt="x"))
    assert openai_emulator.pending_faults == 0


def test_a_wrong_key_is_auth_failed_and_never_repeated(
    make: Make, openai_emulator: OpenAIEmulator
) -> None:
    wrong = "sk-wrong-key-that-must-not-leak-42"
    with pytest.raises(AuthFailed) as caught:
        make(key=wrong).text_to_image(TextToImageRequest(prompt="x"))
    assert "invalid_api_key" in caught.value.message  # the emulator quoted the key back...
    assert_secret_free(caught.value, wrong)  # ...and the provider scrubbed it


def test_a_missing_key_is_not_configured_without_a_call(
    make: Make, openai_emulator: OpenAIEmulator
) -> None:
    with pytest.raises(NotConfigured):
        make(key="").text_to_image(TextToImageRequest(prompt="x"))
    with pytest.raises(NotConfigured):
        make(key="").image_to_image(ImageToImageRequest(image=Image.new("RGB", (8, 8)), prompt="x"))
    assert openai_emulator.requests == []


def test_an_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    settings = OpenAISettings(base_url=f"http://127.0.0.1:{port}/v1", api_key=SecretStr("sk-k"))
    provider = OpenAIImagesProvider(settings)
    try:
        with pytest.raises(ProviderNetworkError):
            provider.text_to_image(TextToImageRequest(prompt="x"))
    finally:
        provider.close()


def test_the_key_stays_out_of_logs_and_repr(
    make: Make, openai_emulator: OpenAIEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = make()
    provider.text_to_image(TextToImageRequest(prompt="x"))
    openai_emulator.fail_next("server_error")
    with pytest.raises(Upstream5xx):
        provider.text_to_image(TextToImageRequest(prompt="x"))
    assert "openai" in caplog.text  # something was logged
    assert openai_emulator.api_key not in caplog.text
    assert openai_emulator.api_key not in repr(provider)
    assert openai_emulator.api_key not in repr(provider.settings)


def test_models_describe_the_family(make: Make) -> None:
    (info,) = make("dall-e-3").models()
    assert (info.id, info.provider, info.max_images) == ("openai", "openai", 1)
    assert info.capabilities == ("text_to_image",)
    assert not info.supports_seed and not info.supports_negative_prompt
    (info,) = make("gpt-image-1").models()
    assert info.capabilities == ("text_to_image", "image_to_image")
    assert (info.max_width, info.max_height) == (1536, 1536)


def test_nearest_size_prefers_the_aspect_then_the_area() -> None:
    sizes = ((256, 256), (512, 512), (1024, 1024), (1792, 1024))
    assert nearest_size(2000, 1100, sizes) == (1792, 1024)
    assert nearest_size(300, 280, sizes) == (256, 256)
    assert nearest_size(700, 700, sizes) == (512, 512)
