"""``chat``: a story writer on any OpenAI-compatible chat API.

Wire format (platform.openai.com/docs/api-reference/chat/create), which OpenAI, DeepSeek,
Qwen (DashScope compatible mode), Gemini's OpenAI endpoint, Ollama and vLLM all speak:

- ``POST {base_url}/chat/completions`` with ``Authorization: Bearer {api_key}`` (no header
  when the key is empty: local servers), JSON ``{model, messages, temperature, max_tokens}``
  and ``response_format: {"type": "json_object"}`` in JSON mode;
- answers ``{"choices": [{"message": {"role", "content"}, "finish_reason"}], ...}``; errors
  ``{"error": {"message", "type", "param", "code"}}`` (Ollama: ``{"error": "text"}``).

The model is asked for one JSON object (title, panel count, characters with a fixed visual
description, panels with scene description, setting, shot, characters, caption, dialogue lines
with their speaker). The answer's JSON is found even when wrapped in prose, a Markdown fence or a
``<think>`` block, then validated with pydantic. An answer that is not a usable script gets one
repair request (the answer and what is wrong with it are sent back); a second failure is
:class:`ScriptInvalid`.

JSON mode: ``json_mode = "auto"`` sends ``response_format`` and, when the server refuses it
(HTTP 400 naming ``response_format``), sends the request again without it and stops sending
it. Retries: timeouts, network trouble, 5xx and 429 are retried ``retries`` times with
exponential backoff and jitter; a 429's ``Retry-After`` (or ``retry-after-ms``) is waited,
unless it is longer than ``retry_max_delay``, which fails the call with RateLimited at once
(the task-level retry takes over). Errors are mapped as the OpenAI images provider maps them.
The key never appears in messages, logs or ``repr``.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from atelier.config import MangaChatSettings
from atelier.errors import ValidationFailed
from atelier.manga import lexicon
from atelier.manga.models import (
    MAX_PANELS,
    Character,
    Dialogue,
    Language,
    MangaOptions,
    Panel,
    Script,
    Shot,
)
from atelier.manga.offline import MAX_DIALOGUE
from atelier.manga.text import detect_language, shorten
from atelier.providers.errors import (
    AuthFailed,
    ContentRejected,
    InvalidRequest,
    NotConfigured,
    ProviderError,
    ProviderTimeout,
    QuotaExhausted,
    RateLimited,
    TransientProviderError,
    Upstream5xx,
)
from atelier.providers.remote_http import (
    HTTPProvider,
    clean,
    json_or_none,
    new_client,
    retry_after,
    send,
)

log = logging.getLogger(__name__)

NAME = "chat"
PATH = "/chat/completions"
CONTENT = frozenset({"content_filter", "content_policy_violation", "data_inspection_failed"})
QUOTA = frozenset({"insufficient_quota", "billing_hard_limit_reached", "Arrearage"})
AUTH = frozenset({"invalid_api_key", "invalid_organization", "InvalidApiKey"})
MAX_REPLY_ECHO = 6000  # characters of a bad answer sent back in the repair request

SYSTEM = """You are a manga storyboard writer. You turn a story into the panels of one manga \
page and answer with a single JSON object, nothing else, in exactly this shape:
{"title": string, "panel_count": integer,
 "characters": [{"name": string, "description": string}],
 "panels": [{"panel_number": integer, "scene_description": string, "setting": string,
             "shot": "wide" | "medium" | "close-up", "characters": [string],
             "caption": string, "dialogue": [{"speaker": string or null, "text": string}]}]}
Rules:
- {count}. Panels follow the story in order; each shows one moment.
- characters: everyone who appears. description: a short visual description in English \
(age, face, hair, clothes) that stays the same on every panel.
- scene_description: in English, what the picture shows for an illustrator: who, where, \
doing what, the mood. No speech.
- setting: where the panel happens. characters: the names of those shown in the panel.
- caption: narration in the story's language ({language}), at most {caption} or empty.
- dialogue: at most 3 lines per panel in the story's language, taken from the story; speaker \
is the name of a character or null."""
USER = "Story:\n<<<\n{story}\n>>>"
REPAIR = (
    "That answer cannot be used: {problem}. Answer again with only the corrected JSON "
    "object, in the shape described, with nothing before or after it."
)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)```", re.DOTALL)


class ScriptInvalid(Upstream5xx):
    """The model answered no usable script, even after one repair request."""

    code = "script_invalid"


class _Problem(Exception):
    """What is wrong with one answer (sent back to the model)."""


# -- what the model is asked for -------------------------------------------------------------
class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DraftLine(_Loose):
    speaker: str | None = None
    text: str = Field(min_length=1)


class DraftCharacter(_Loose):
    name: str = Field(min_length=1, max_length=60)
    description: str = ""


class DraftPanel(_Loose):
    panel_number: int | None = None
    scene_description: str = Field(min_length=1)
    setting: str = ""
    shot: str = "medium"
    characters: list[str] = Field(default_factory=list)
    caption: str = ""
    dialogue: list[DraftLine] = Field(default_factory=list)


class DraftScript(_Loose):
    title: str = ""
    panel_count: int | None = None
    characters: list[DraftCharacter] = Field(default_factory=list)
    panels: list[DraftPanel] = Field(min_length=1, max_length=MAX_PANELS)


def extract_json(text: str) -> dict[str, Any]:
    """The JSON object in a model's answer: the whole text, a fenced block, or the first
    object with ``panels`` found in prose (``<think>`` blocks are skipped)."""
    text = _THINK.sub("", text).strip()
    candidates = [text, *(m.group(1).strip() for m in _FENCE.finditer(text))]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    found: dict[str, Any] | None = None
    failure = ""
    at = text.find("{")
    while at >= 0:
        try:
            value, end = decoder.raw_decode(text, at)
        except ValueError as exc:
            failure = failure or str(exc)  # objects inside a broken one are not the answer
            at = text.find("{", at + 1)
            continue
        if isinstance(value, dict):
            if "panels" in value:
                return value
            if not failure:
                found = found or value
        at = text.find("{", end)
    if found is not None:
        return found
    raise _Problem(
        "the answer contains no complete JSON object" + (f" ({failure})" if failure else "")
    )


def _shot(value: str) -> Shot:
    value = value.lower()
    if "close" in value:
        return "close-up"
    if any(word in value for word in ("wide", "long", "establish", "full")):
        return "wide"
    return "medium"


def to_script(
    draft: DraftScript, language: Language, wanted: int | None, writer: str = NAME
) -> Script:
    """A validated draft as a script: panels renumbered, texts cut to their limits, every
    speaker and panel character on the character sheet (with a stable look where the model
    gave no description)."""
    if wanted is not None and len(draft.panels) != wanted:
        raise _Problem(f"it has {len(draft.panels)} panels; exactly {wanted} are needed")
    if draft.panel_count is not None and draft.panel_count != len(draft.panels):
        raise _Problem(
            f"panel_count is {draft.panel_count} but there are {len(draft.panels)} panels"
        )
    sheet: dict[str, str] = {}
    for character in draft.characters:
        sheet.setdefault(character.name.strip(), character.description.strip())
    panels = []
    for index, draft_panel in enumerate(draft.panels):
        names = [n.strip() for n in draft_panel.characters if n.strip()]
        lines = []
        for line in draft_panel.dialogue[:MAX_DIALOGUE]:
            speaker = (line.speaker or "").strip()
            if speaker.lower() in ("", "null", "none", "narrator", "旁白"):
                speaker = ""
            if speaker:
                sheet.setdefault(speaker[:60], "")
            text = shorten(line.text.strip(), 400, language)
            lines.append(Dialogue(speaker=speaker[:60] or None, text=text))
        for name in names:
            sheet.setdefault(name[:60], "")
        shot = _shot(draft_panel.shot)
        setting = shorten(draft_panel.setting.strip(), 200, language)
        panels.append(
            Panel(
                panel_number=index + 1,
                scene_description=shorten(draft_panel.scene_description, 1200, language),
                characters=tuple(dict.fromkeys(n[:60] for n in names)),
                setting=setting,
                caption=shorten(draft_panel.caption.strip(), 300, language),
                dialogue=tuple(lines),
                shot=shot,
                visual_tags=tuple(t for t in (f"{shot} shot", setting[:60]) if t),
            )
        )
    characters = []
    for name, description in list(sheet.items())[:16]:
        look_en, _ = lexicon.look(name)
        described = shorten(description, 1200, language) if description else look_en
        characters.append(Character(name=name, description=described, description_en=described))
    return Script(
        language=language,
        title=shorten(draft.title.strip(), 120, language),
        characters=tuple(characters),
        panels=tuple(panels),
        writer=writer,
    )


def parse_script(content: str, language: Language, wanted: int | None) -> Script:
    """An answer's text as a script, or :class:`_Problem` saying what is wrong."""
    data = extract_json(content)
    try:
        draft = DraftScript.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'the object'}: {e['msg']}"
            for e in exc.errors()[:5]
        ]
        raise _Problem("; ".join(problems)) from None
    try:
        return to_script(draft, language, wanted)
    except ValidationError as exc:
        raise _Problem(str(exc.errors()[0]["msg"])) from None


# -- the writer ------------------------------------------------------------------------------
class ChatWriter(HTTPProvider):
    name = NAME

    def __init__(
        self,
        settings: MangaChatSettings,
        *,
        max_story_chars: int = 20000,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self.max_story_chars = max_story_chars
        self.sleep = sleep
        self._rng = rng or random.Random()
        self._json_mode = settings.json_mode != "off"
        self._lock = threading.Lock()
        self._client = new_client(settings.timeout)

    def __repr__(self) -> str:
        return f"ChatWriter(base_url={self.base_url!r}, model={self.settings.model!r})"

    @property
    def json_mode(self) -> bool:
        """Whether requests still carry ``response_format``."""
        return self._json_mode

    def write(self, story: str, options: MangaOptions | None = None) -> Script:
        options = options or MangaOptions()
        text = story.strip()
        if not text:
            raise ValidationFailed("the story is empty", details={"field": "story"})
        limit = min(self.max_story_chars, options.max_story_chars)
        if len(text) > limit:
            raise ValidationFailed(
                f"the story is longer than {limit} characters",
                details={"field": "story", "max_length": limit},
            )
        if not self.base_url:
            raise NotConfigured("chat: no base URL is configured", provider=NAME)
        language = options.language or detect_language(text)
        messages = [
            {"role": "system", "content": self._system(language, options.panels)},
            {"role": "user", "content": USER.format(story=text)},
        ]
        answer = self._complete(messages)
        try:
            return parse_script(answer, language, options.panels)
        except _Problem as problem:
            log.info("chat: the answer is no usable script (%s); asking for a repair", problem)
            messages += [
                {"role": "assistant", "content": answer[:MAX_REPLY_ECHO]},
                {"role": "user", "content": REPAIR.format(problem=problem)},
            ]
        answer = self._complete(messages)
        try:
            return parse_script(answer, language, options.panels)
        except _Problem as problem:
            raise ScriptInvalid(
                f"chat: {self.settings.model} answered no usable script after a repair "
                f"request: {clean(str(problem), self._key())}",
                provider=NAME,
            ) from None

    @staticmethod
    def _system(language: Language, panels: int | None) -> str:
        count = (
            f"Write exactly {panels} panels"
            if panels
            else f"Write between 1 and {MAX_PANELS} panels, as many as the story's key moments need"
        )
        caption = "40 characters" if language == "zh" else "20 words"
        name = "Chinese" if language == "zh" else "English"
        return (
            SYSTEM.replace("{count}", count)
            .replace("{language}", name)
            .replace("{caption}", caption)
        )

    # -- HTTP --------------------------------------------------------------------------------
    def _key(self) -> str:
        return self.settings.api_key.get_secret_value()

    def _complete(self, messages: list[dict[str, str]]) -> str:
        """One answer's text, with retries of transient failures (see the module docstring)."""
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._request(messages)
            except TransientProviderError as exc:
                if attempt == attempts:
                    raise
                cap = self.settings.retry_max_delay
                delay = self._rng.uniform(
                    0, min(cap, self.settings.retry_base_delay * 2 ** (attempt - 1))
                )
                if isinstance(exc, RateLimited) and exc.retry_after is not None:
                    if exc.retry_after > cap:
                        raise
                    delay = max(delay, exc.retry_after)
                log.warning(
                    "chat: %s (attempt %d of %d); retrying in %.1fs",
                    exc.code,
                    attempt,
                    attempts,
                    delay,
                )
                self.sleep(delay)
        raise AssertionError("unreachable")

    def _request(self, messages: list[dict[str, str]]) -> str:
        key = self._key()
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "temperature": self.settings.temperature,
        }
        if self.settings.max_tokens:
            body["max_tokens"] = self.settings.max_tokens
        json_mode = self._json_mode
        if json_mode:
            body["response_format"] = {"type": "json_object"}
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        url = self.base_url + PATH
        response = send(
            self._client, "POST", url, what=PATH, provider=NAME, secret=key,
            headers=headers, json=body,
        )  # fmt: skip
        if (
            json_mode
            and response.status_code == 400
            and self.settings.json_mode == "auto"
            and "response_format" in response.text
        ):
            log.info("chat: the server refuses response_format; asking without JSON mode")
            with self._lock:
                self._json_mode = False
            body.pop("response_format")
            response = send(
                self._client, "POST", url, what=PATH, provider=NAME, secret=key,
                headers=headers, json=body,
            )  # fmt: skip
        if response.status_code >= 400:
            raise self._error(response, key)
        return self._content(response)

    def _content(self, response: httpx.Response) -> str:
        payload = json_or_none(response)
        try:
            choice = payload["choices"][0]
            message = choice["message"]
            finish = choice.get("finish_reason")
        except (TypeError, KeyError, IndexError):
            raise Upstream5xx("chat: bad response: no choices[0].message", provider=NAME) from None
        if finish == "content_filter":
            raise ContentRejected(
                "chat: the answer was withheld by a content filter", provider=NAME
            )
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):  # content parts
            content = "".join(
                str(part.get("text", "")) for part in content if isinstance(part, dict)
            )
        if not isinstance(content, str) or not content.strip():
            raise Upstream5xx("chat: bad response: the answer is empty", provider=NAME)
        if finish == "length":
            log.info("chat: the answer was cut at max_tokens")
        return content

    def _error(self, response: httpx.Response, key: str) -> ProviderError:
        status = response.status_code
        payload = json_or_none(response)
        if isinstance(payload, list) and payload:  # Gemini wraps errors in a list
            payload = payload[0]
        error: Any = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, str):
            error = {"message": error}
        if not isinstance(error, dict):
            error = {"message": response.text}
        code, kind = str(error.get("code") or ""), str(error.get("type") or "")
        tags = {code, kind}
        message = f"chat HTTP {status} {code or kind}: {clean(str(error.get('message')), key)}"
        if tags & CONTENT:
            return ContentRejected(message, provider=NAME)
        if tags & QUOTA:
            return QuotaExhausted(message, provider=NAME)
        if tags & AUTH or status in (401, 403):
            return AuthFailed(message, provider=NAME)
        if status == 429:
            return RateLimited(
                message, retry_after=retry_after(response.headers, ms=True), provider=NAME
            )
        if status == 408:
            return ProviderTimeout(message, provider=NAME)
        if status >= 500:
            return Upstream5xx(message, provider=NAME)
        return InvalidRequest(message, provider=NAME)
