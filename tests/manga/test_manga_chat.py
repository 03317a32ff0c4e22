"""The chat story writer against a local emulator of the OpenAI Chat Completions API."""

# ruff: noqa: RUF001  (Chinese punctuation is part of the scripts)

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from atelier.config import MangaChatSettings, MangaSettings, Settings
from atelier.errors import ValidationFailed
from atelier.manga import ChatWriter, MangaOptions, ScriptInvalid, build_writer, writer_kinds
from atelier.manga.chat import extract_json
from atelier.manga.offline import OfflineWriter
from atelier.providers.errors import (
    AuthFailed,
    ContentRejected,
    InvalidRequest,
    NotConfigured,
    ProviderNetworkError,
    ProviderTimeout,
    QuotaExhausted,
    RateLimited,
    Upstream5xx,
)
from support.emulators import assert_secret_free
from support.emulators.openai_chat import OpenAIChatEmulator

SCRIPT: dict[str, Any] = {
    "title": "灯塔",
    "characters": [
        {"name": "林小雨", "description": "a girl of ten in a yellow raincoat, short black hair"},
        {"name": "老船长", "description": "an old sea captain with a white beard and a cap"},
    ],
    "panels": [
        {
            "panel_number": 1,
            "scene_description": "A girl in a yellow raincoat in a lighthouse during a storm",
            "setting": "lighthouse",
            "shot": "Wide establishing shot",
            "characters": ["林小雨"],
            "caption": "暴风雨来了。",
            "dialogue": [{"speaker": "林小雨", "text": "灯坏了！"}],
        },
        {
            "panel_number": 2,
            "scene_description": "An old captain runs up the stairs with a toolbox",
            "setting": "lighthouse stairs",
            "shot": "close-up",
            "characters": ["老船长"],
            "caption": "",
            "dialogue": [
                {"speaker": "老船长", "text": "别怕，我来修。"},
                {"speaker": None, "text": "轰隆！"},
            ],
        },
    ],
}
Make = Callable[..., ChatWriter]


@pytest.fixture
def make(chat_emulator: OpenAIChatEmulator) -> Iterator[Make]:
    made: list[ChatWriter] = []

    def make(**overrides: Any) -> ChatWriter:
        sleeps = overrides.pop("sleeps", None)
        values: dict[str, Any] = {
            "base_url": chat_emulator.url + "/v1",
            "api_key": SecretStr(chat_emulator.api_key or ""),
            "model": "gpt-4o-mini",
            "timeout": 5.0,
            "retries": 2,
            "retry_base_delay": 0.0,
            "retry_max_delay": 10.0,
        }
        values.update(overrides)
        writer = ChatWriter(
            MangaChatSettings(**values),
            sleep=(sleeps.append if sleeps is not None else _no_sleep),
        )
        made.append(writer)
        return writer

    yield make
    for writer in made:
        writer.close()


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected retry wait of {seconds}s")


STORY = "林小雨大声说：“灯坏了！”老船长说：“别怕，我来修。”"


def test_a_script_from_the_chat_api(make: Make, chat_emulator: OpenAIChatEmulator) -> None:
    chat_emulator.script = SCRIPT
    script = make().write(STORY, MangaOptions(panels=2))

    assert script.writer == "chat" and script.language == "zh" and script.title == "灯塔"
    assert [p.panel_number for p in script.panels] == [1, 2]
    assert [p.shot for p in script.panels] == ["wide", "close-up"]
    assert [(d.speaker, d.text) for p in script.panels for d in p.dialogue] == [
        ("林小雨", "灯坏了！"),
        ("老船长", "别怕，我来修。"),
        (None, "轰隆！"),
    ]
    captain = script.character("老船长")
    assert captain is not None and "white beard" in captain.description
    (sent,) = chat_emulator.completions
    assert sent["model"] == "gpt-4o-mini"
    assert sent["response_format"] == {"type": "json_object"}
    system, user = sent["messages"]
    assert system["role"] == "system" and "JSON" in system["content"]
    assert "exactly 2 panels" in system["content"] and "Chinese" in system["content"]
    assert user["role"] == "user" and STORY in user["content"]
    (request,) = chat_emulator.api_requests("chat")
    assert request.headers["authorization"] == f"Bearer {chat_emulator.api_key}"


def test_the_default_answer_has_as_many_panels_as_asked(
    make: Make, chat_emulator: OpenAIChatEmulator
) -> None:
    script = make().write("One. Two. Three. Four.", MangaOptions(panels=3))
    assert script.total_panels == 3
    hero = script.character("Hero")
    assert hero is not None and hero.description == "a tall hero in a red cape"
    assert script.language == "en"
    make().write("One. Two.")
    system = chat_emulator.completions[-1]["messages"][0]["content"]
    assert "between 1 and 8 panels" in system and "English" in system


def test_speakers_and_panel_characters_join_the_sheet(
    make: Make, chat_emulator: OpenAIChatEmulator
) -> None:
    script_data = json.loads(json.dumps(SCRIPT))
    script_data["characters"] = script_data["characters"][:1]
    script_data["panels"][1]["characters"] = ["老船长", "海鸥"]
    chat_emulator.script = script_data
    script = make().write(STORY)
    names = [c.name for c in script.characters]
    assert names == ["林小雨", "老船长", "海鸥"]
    gull = script.character("海鸥")
    assert gull is not None and gull.description  # a stable look where none was given


def test_rate_limit_waits_retry_after(make: Make, chat_emulator: OpenAIChatEmulator) -> None:
    chat_emulator.script = SCRIPT
    chat_emulator.fail_next("rate_limit", retry_after=3)
    sleeps: list[float] = []
    script = make(sleeps=sleeps).write(STORY)
    assert script.total_panels == 2
    assert sleeps == [3.0]
    assert len(chat_emulator.api_requests("chat")) == 2


def test_rate_limit_in_milliseconds(make: Make, chat_emulator: OpenAIChatEmulator) -> None:
    chat_emulator.fail_next("rate_limit", retry_after_ms=1500, retry_after=9)
    sleeps: list[float] = []
    make(sleeps=sleeps).write(STORY)
    assert sleeps == [1.5]


def test_a_retry_after_longer_than_the_cap_fails_at_once(
    make: Make, chat_emulator: OpenAIChatEmulator
) -> None:
    chat_emulator.fail_next("rate_limit", retry_after=120)
    with pytest.raises(RateLimited) as caught:
        make().write(STORY)
    assert caught.value.retry_after == 120
    assert len(chat_emulator.api_requests("chat")) == 1


def test_server_errors_are_retried_then_fail(make: Make, chat_emulator: OpenAIChatEmulator) -> None:
    chat_emulator.fail_next("server_error")
    sleeps: list[float] = []
    assert make(sleeps=sleeps).write(STORY).total_panels >= 1
    assert len(sleeps) == 1

    for _ in range(3):
        chat_emulator.fail_next("server_error", status=503)
    with pytest.raises(Upstream5xx) as caught:
        make(sleeps=[]).write(STORY)
    assert "503" in caught.value.message
    assert len(chat_emulator.api_requests("chat")) == 2 + 3


def test_backoff_grows_and_is_capped(make: Make, chat_emulator: OpenAIChatEmulator) -> None:
    for _ in range(3):
        chat_emulator.fail_next("server_error")
    sleeps: list[float] = []
    make(sleeps=sleeps, retries=3, retry_base_delay=1.0, retry_max_delay=1.5).write(STORY)
    assert len(sleeps) == 3
    assert 0 <= sleeps[0] <= 1.0 and all(0 <= s <= 1.5 for s in sleeps)


def test_a_timeout_is_retried(make: Make, chat_emulator: OpenAIChatEmulator) -> None:
    chat_emulator.fail_next("timeout", delay=3)
    sleeps: list[float] = []
    script = make(sleeps=sleeps, timeout=0.4).write(STORY)
    assert script.total_panels >= 1
    assert len(sleeps) == 1

    chat_emulator.fail_next("timeout", delay=3)
    with pytest.raises(ProviderTimeout):
        make(timeout=0.4, retries=0).write(STORY)


def test_a_dropped_connection_is_retried(make: Make, chat_emulator: OpenAIChatEmulator) -> None:
    chat_emulator.fail_next("disconnect")
    chat_emulator.fail_next("disconnect")
    with pytest.raises(ProviderNetworkError):
        make(retries=1, sleeps=[]).write(STORY)


def test_a_body_that_is_not_json_is_a_bad_response(
    make: Make, chat_emulator: OpenAIChatEmulator
) -> None:
    chat_emulator.fail_next("invalid_json")
    with pytest.raises(Upstream5xx, match="bad response"):
        make(retries=0).write(STORY)


def test_malformed_json_gets_one_repair_request(
    make: Make, chat_emulator: OpenAIChatEmulator
) -> None:
    chat_emulator.script = SCRIPT
    chat_emulator.fail_next("malformed_json")
    script = make().write(STORY)

    assert script.total_panels == 2
    _, repair = chat_emulator.completions
    assert len(repair["messages"]) == 4
    bad_answer, request = repair["messages"][2:]
    whole = json.dumps(SCRIPT, ensure_ascii=False)
    assert bad_answer["role"] == "assistant"
    assert bad_answer["content"].startswith(whole[:40]) and bad_answer["content"] != whole
    assert request["role"] == "user" and "no complete JSON object" in request["content"]


@pytest.mark.parametrize("fault", ["invalid_script", "truncated"])
def test_an_unusable_answer_twice_is_a_clear_error(
    make: Make, chat_emulator: OpenAIChatEmulator, fault: str
) -> None:
    chat_emulator.fail_next(fault)
    chat_emulator.fail_next(fault)
    with pytest.raises(ScriptInvalid) as caught:
        make().write(STORY)
    assert "after a repair request" in caught.value.message
    assert caught.value.code == "script_invalid" and caught.value.transient
    assert len(chat_emulator.completions) == 2
    if fault == "invalid_script":
        assert "panels" in caught.value.message


def test_a_wrong_panel_count_is_repaired(make: Make, chat_emulator: OpenAIChatEmulator) -> None:
    chat_emulator.fail_next("wrong_panel_count")
    script = make().write("One. Two. Three.", MangaOptions(panels=3))
    assert script.total_panels == 3
    repair = chat_emulator.completions[-1]["messages"][-1]["content"]
    assert "it has 4 panels; exactly 3 are needed" in repair


def test_an_inconsistent_panel_count_is_repaired(
    make: Make, chat_emulator: OpenAIChatEmulator
) -> None:
    answers = [dict(SCRIPT, panel_count=3), dict(SCRIPT, panel_count=2)]
    chat_emulator.script = lambda body: answers.pop(0)
    assert make().write(STORY).total_panels == 2
    repair = chat_emulator.completions[-1]["messages"][-1]["content"]
    assert "panel_count is 3 but there are 2 panels" in repair


def test_prose_fences_and_thinking_are_tolerated(
    make: Make, chat_emulator: OpenAIChatEmulator
) -> None:
    chat_emulator.script = SCRIPT
    chat_emulator.fail_next("fenced_json")
    assert make().write(STORY).total_panels == 2
    assert len(chat_emulator.completions) == 1  # no repair needed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"panels": []}', {"panels": []}),
        ('<think>{"x": 1}</think>Here: {"panels": [1]} done', {"panels": [1]}),
        ('```json\n{"a": {"b": "}"}}\n```', {"a": {"b": "}"}}),
        ('noise {"note": 1} then {"panels": [2]}', {"panels": [2]}),
        ('only {"note": 1}', {"note": 1}),
    ],
)
def test_extract_json(text: str, expected: dict[str, Any]) -> None:
    assert extract_json(text) == expected


def test_content_filter_is_permanent(make: Make, chat_emulator: OpenAIChatEmulator) -> None:
    chat_emulator.fail_next("content_filter")
    with pytest.raises(ContentRejected):
        make().write(STORY)
    assert len(chat_emulator.api_requests("chat")) == 1


def test_quota_is_permanent(make: Make, chat_emulator: OpenAIChatEmulator) -> None:
    chat_emulator.fail_next("quota")
    with pytest.raises(QuotaExhausted):
        make().write(STORY)
    assert len(chat_emulator.api_requests("chat")) == 1


def test_a_wrong_key_fails_without_leaking_it(
    make: Make, chat_emulator: OpenAIChatEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "sk-wrong-key-that-must-not-leak-42"
    writer = make(api_key=SecretStr(wrong))
    with pytest.raises(AuthFailed) as caught:
        writer.write(STORY)
    assert wrong in chat_emulator.requests[0].headers["authorization"]  # it was sent...
    assert_secret_free(caught.value, wrong)  # ...and scrubbed from the error
    assert wrong not in caplog.text and wrong not in repr(writer)


def test_the_key_never_reaches_logs_or_repr(
    make: Make, chat_emulator: OpenAIChatEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    chat_emulator.fail_next("malformed_json")
    chat_emulator.fail_next("server_error")
    writer = make(sleeps=[])
    writer.write(STORY)
    assert "chat" in caplog.text  # the repair and the retry were logged
    key = chat_emulator.api_key
    assert key and key not in caplog.text and key not in repr(writer)


def test_json_mode_is_dropped_where_the_server_refuses_it(
    chat_emulator: OpenAIChatEmulator, make: Make
) -> None:
    chat_emulator.json_mode = False
    writer = make()
    assert writer.json_mode
    assert writer.write(STORY).total_panels >= 1
    assert not writer.json_mode
    writer.write(STORY)
    assert all("response_format" not in body for body in chat_emulator.completions)
    assert len(chat_emulator.api_requests("chat")) == 3  # one refusal, then two answers


def test_json_mode_on_does_not_fall_back(chat_emulator: OpenAIChatEmulator, make: Make) -> None:
    chat_emulator.json_mode = False
    with pytest.raises(InvalidRequest, match="response_format"):
        make(json_mode="on").write(STORY)


def test_json_mode_off_never_sends_it(chat_emulator: OpenAIChatEmulator, make: Make) -> None:
    make(json_mode="off", max_tokens=0).write(STORY)
    (body,) = chat_emulator.completions
    assert "response_format" not in body and "max_tokens" not in body


def test_a_local_server_without_a_key() -> None:
    with OpenAIChatEmulator(api_key=None) as emulator:
        settings = MangaChatSettings(base_url=emulator.url + "/v1/", model="llama3.1")
        writer = ChatWriter(settings, sleep=_no_sleep)
        try:
            writer.write("The fox ran. The moon rose.")
        finally:
            writer.close()
        (request,) = emulator.api_requests("chat")
        assert "authorization" not in request.headers
        assert emulator.completions[0]["model"] == "llama3.1"
        assert not emulator.errors


def test_an_unknown_model_is_an_invalid_request(make: Make) -> None:
    with pytest.raises(InvalidRequest, match="model_not_found"):
        make(model="gpt-nonexistent").write(STORY)


def test_bad_stories_and_missing_configuration(make: Make) -> None:
    with pytest.raises(ValidationFailed):
        make().write("  ")
    with pytest.raises(ValidationFailed):
        make().write("x" * 50, MangaOptions(max_story_chars=10))
    with pytest.raises(NotConfigured):
        ChatWriter(MangaChatSettings(base_url=""), sleep=_no_sleep).write(STORY)


def test_writers_are_chosen_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {"offline", "chat"} <= set(writer_kinds())
    assert isinstance(build_writer(MangaSettings()), OfflineWriter)
    monkeypatch.setenv("ATELIER_MANGA__WRITER", "chat")
    monkeypatch.setenv("ATELIER_MANGA__CHAT__API_KEY", "sk-from-the-environment-123")
    monkeypatch.setenv("ATELIER_MANGA__CHAT__MODEL", "deepseek-chat")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    writer = build_writer(settings.manga)
    assert isinstance(writer, ChatWriter)
    try:
        assert writer.settings.model == "deepseek-chat"
        assert "sk-from-the-environment-123" not in repr(writer)
        assert "sk-from-the-environment-123" not in repr(settings.manga)
        assert isinstance(build_writer(settings.manga, "offline"), OfflineWriter)
    finally:
        writer.close()
    with pytest.raises(ValidationFailed):
        build_writer(settings.manga, "nope")
