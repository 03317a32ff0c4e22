"""The vision-language analyser against a local emulator of an OpenAI-compatible chat API with
image input."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from library_models import jpeg_with_exif
from PIL import Image
from pydantic import SecretStr

from atelier.config import LibraryVlmSettings
from atelier.library.analysis import Analyzer
from atelier.library.vlm import VlmAnalyzer, parse_reply
from atelier.providers.errors import (
    AuthFailed,
    ContentRejected,
    InvalidRequest,
    ProviderTimeout,
    QuotaExhausted,
    Upstream5xx,
)
from support.emulators import assert_secret_free
from support.emulators.openai_vision import OpenAIVisionEmulator

Make = Callable[..., VlmAnalyzer]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make(vision_emulator: OpenAIVisionEmulator, sleeps: list[float]) -> Iterator[Make]:
    made: list[VlmAnalyzer] = []

    def make(emulator: OpenAIVisionEmulator | None = None, **overrides: Any) -> VlmAnalyzer:
        server = emulator or vision_emulator
        values: dict[str, Any] = {
            "base_url": server.url + "/v1",
            "api_key": SecretStr(server.api_key or ""),
            "model": "gpt-4o-mini",
            "retries": 2,
            "timeout": 5,
        }
        values.update(overrides)
        made.append(VlmAnalyzer(LibraryVlmSettings(**values), sleep=sleeps.append))
        return made[-1]

    yield make
    for analyzer in made:
        analyzer.close()


def red_png(size: tuple[int, int] = (640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (220, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def test_tags_and_descriptions_in_both_languages(
    make: Make, vision_emulator: OpenAIVisionEmulator
) -> None:
    analyzer = make(image_max_side=256)
    progress: list[tuple[int, int]] = []
    analysis = analyzer.analyze(red_png(), on_progress=lambda d, t: progress.append((d, t)))
    assert isinstance(analyzer, Analyzer) and progress == [(1, 1)]
    assert [(t.name, t.name_zh, t.source) for t in analysis.tags] == [
        ("red picture", "红色图片", "vlm"),
        ("red", "红色", "vlm"),  # lower-cased
        ("landscape", "横幅", "vlm"),
    ]
    assert analysis.tags[0].confidence == 0.95
    assert analysis.description_en == "A landscape picture that is mostly red."
    assert analysis.description_zh == "一张以红色为主的横幅图片。"
    assert (analysis.width, analysis.height, analysis.orientation) == (640, 480, "landscape")
    assert analysis.analyzer == "vlm"
    sent = vision_emulator.images[0]
    assert sent.format == "JPEG" and max(sent.size) == 256  # scaled down before sending
    body = vision_emulator.bodies[0]
    assert body["response_format"] == {"type": "json_object"} and body["max_tokens"] == 1024
    assert body["messages"][0]["role"] == "system" and "JSON" in body["messages"][0]["content"]


def test_exif_is_read_locally(make: Make) -> None:
    analysis = make().analyze(jpeg_with_exif(orientation=6))
    assert analysis.exif is not None and analysis.exif.camera == "Canon EOS R5"
    assert analysis.orientation == "portrait"


def test_fenced_json_is_accepted(make: Make, vision_emulator: OpenAIVisionEmulator) -> None:
    vision_emulator.fail_next("fenced")
    analysis = make().analyze(red_png())
    assert analysis.tags[0].name == "red picture"
    assert len(vision_emulator.api_requests()) == 1


@pytest.mark.parametrize("fault", ["prose", "bad_schema"])
def test_an_invalid_reply_gets_one_repair_request(
    make: Make, vision_emulator: OpenAIVisionEmulator, fault: str
) -> None:
    vision_emulator.fail_next(fault)
    analysis = make().analyze(red_png())
    assert analysis.tags[0].name == "red picture"
    second = vision_emulator.bodies[1]["messages"]
    assert second[-2]["role"] == "assistant"
    assert second[-1]["role"] == "user" and "not valid" in second[-1]["content"]
    if fault == "bad_schema":
        assert "tags" in second[-1]["content"]  # the validation error names the field


def test_two_invalid_replies_are_a_bad_response(
    make: Make, vision_emulator: OpenAIVisionEmulator, sleeps: list[float]
) -> None:
    vision_emulator.fail_next("prose")
    vision_emulator.fail_next("prose")
    with pytest.raises(Upstream5xx, match="bad response: invalid JSON twice"):
        make().analyze(red_png())
    assert len(vision_emulator.api_requests()) == 2 and sleeps == []


def test_a_scripted_reply_is_validated_and_capped(
    make: Make, vision_emulator: OpenAIVisionEmulator
) -> None:
    vision_emulator.script = {
        "tags": [{"en": f"Tag {i}", "zh": f"标签{i}", "confidence": 0.5} for i in range(30)]
        + [{"en": "tag 0", "zh": "重复"}],
        "description_en": "Many tags.",
        "text": "  SALE 50%  ",
        "extra": "ignored",
    }
    analysis = make(max_tags=5).analyze(red_png())
    assert [t.name for t in analysis.tags] == [f"tag {i}" for i in range(5)]
    assert analysis.ocr_text == "SALE 50%" and analysis.description_zh == ""


def test_content_filter_is_content_rejected(
    make: Make, vision_emulator: OpenAIVisionEmulator
) -> None:
    vision_emulator.fail_next("content_filter")
    with pytest.raises(ContentRejected):
        make().analyze(red_png())


def test_transient_failures_are_retried(
    make: Make, vision_emulator: OpenAIVisionEmulator, sleeps: list[float]
) -> None:
    vision_emulator.fail_next("rate_limit", retry_after=2)
    vision_emulator.fail_next("server_error", status=502)
    vision_emulator.fail_next("no_choices")
    analysis = make(retries=3).analyze(red_png())
    assert analysis.tags and len(sleeps) == 3 and sleeps[0] == 2.0


def test_quota_and_auth_are_permanent(
    make: Make, vision_emulator: OpenAIVisionEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    vision_emulator.fail_next("quota")
    with pytest.raises(QuotaExhausted):
        make().analyze(red_png())
    secret = "sk-wrong-vision-key-never-shown"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthFailed) as caught:
        make(api_key=SecretStr(secret)).analyze(red_png())
    assert_secret_free(caught.value, secret)
    assert secret not in caplog.text


def test_timeout(make: Make, vision_emulator: OpenAIVisionEmulator) -> None:
    vision_emulator.fail_next("timeout", delay=2)
    with pytest.raises(ProviderTimeout):
        make(timeout=0.3, retries=0).analyze(red_png())


def test_json_mode_auto_drops_response_format_when_refused(make: Make) -> None:
    with OpenAIVisionEmulator(api_key=None, json_mode=False) as server:
        analyzer = make(server)
        assert analyzer.analyze(red_png()).tags
        assert analyzer.analyze(red_png()).tags
        assert not analyzer.json_mode
        # refused once, then never sent again
        assert len(server.api_requests()) == 3 and len(server.bodies) == 2
        assert all("response_format" not in b for b in server.bodies)
        assert all("authorization" not in r.headers for r in server.api_requests())
        with pytest.raises(InvalidRequest, match="response_format"):
            make(server, json_mode="on").analyze(red_png())
        make(server, json_mode="off").analyze(red_png())
        assert len(server.api_requests()) == 5


def test_parse_reply() -> None:
    reply = parse_reply(
        '<think>hmm</think> ```json\n{"tags": [{"en": "a"}], "description_en": "b"}\n```'
    )
    assert reply.tags[0].en == "a" and reply.tags[0].confidence == 0.8
    with pytest.raises(ValueError):
        parse_reply("no json here")
    with pytest.raises(ValueError):
        parse_reply(json.dumps({"tags": [], "description_en": "x"}))


def test_the_image_goes_as_a_data_url(make: Make, vision_emulator: OpenAIVisionEmulator) -> None:
    make().analyze(Image.new("RGBA", (50, 80), (0, 0, 255, 128)))
    part = vision_emulator.bodies[0]["messages"][1]["content"][1]
    url = part["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert decoded.size == (50, 80) and decoded.mode == "RGB"
