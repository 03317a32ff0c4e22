"""``vlm``: tags and descriptions from a vision-language model behind an OpenAI-compatible chat
API (OpenAI, Gemini's compatible endpoint, Qwen-VL on DashScope, a local Ollama or vLLM).

Wire format (platform.openai.com/docs/api-reference/chat): ``POST {base_url}/chat/completions``
with ``{"model", "messages": [system, user], "temperature", "max_tokens",
"response_format": {"type": "json_object"}}``; the user message carries the text and the image
as a data URL (``{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,..."}}``,
JPEG at most ``image_max_side`` pixels). The reply is ``choices[0].message.content``.

The model is asked for one JSON object — ``tags`` (``en``, ``zh``, ``confidence``),
``description_en``, ``description_zh`` and the visible ``text`` — which is validated with
pydantic (code fences and prose around the object are tolerated). An invalid reply gets one
repair request (the reply and the validation error are sent back, asking for the JSON only);
a second invalid reply is a "bad response" (transient Upstream5xx). ``finish_reason:
content_filter`` is ContentRejected. ``json_mode=auto`` sends ``response_format`` and stops
sending it, for the analyser's life, once a server refuses the parameter.

Size, orientation and EXIF are read locally; HTTP errors and retries:
:mod:`atelier.library.openai_http`.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from atelier.config import LibraryVlmSettings
from atelier.library.analysis import (
    Analysis,
    Tag,
    jpeg_bytes,
    load,
    orientation_of,
    read_exif,
)
from atelier.library.openai_http import CompatClient
from atelier.providers.base import ProgressCallback
from atelier.providers.errors import ContentRejected, InvalidRequest, Upstream5xx

log = logging.getLogger(__name__)

PROVIDER = "vlm"
SYSTEM = """You describe and tag images for a searchable photo library.
Answer with ONE JSON object and nothing else (no prose, no code fences), exactly:
{{"tags": [{{"en": "...", "zh": "...", "confidence": 0.9}}],
 "description_en": "...", "description_zh": "...", "text": "..."}}
- tags: at most {max_tags}, most important first: objects, people, animals, scene, place,
  activity, style, colours, mood. "en": lower-case English, one to three words; "zh": the
  same in simplified Chinese; "confidence": 0 to 1.
- description_en: one or two English sentences; description_zh: the same in simplified Chinese.
- text: the text visible in the image, verbatim, or "" when there is none."""
PROMPT = "Tag and describe this image."
REPAIR = (
    "That reply was not valid: {error}. Answer again with only the JSON object, in the "
    "exact shape asked for."
)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


class VlmTag(BaseModel):
    model_config = ConfigDict(extra="ignore")

    en: str = Field(min_length=1, max_length=100)
    zh: str = Field(default="", max_length=100)
    confidence: float = Field(default=0.8, ge=0, le=1)


class VlmReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tags: list[VlmTag] = Field(min_length=1)
    description_en: str = Field(min_length=1, max_length=4000)
    description_zh: str = Field(default="", max_length=4000)
    text: str = Field(default="", max_length=10000)


def parse_reply(content: str) -> VlmReply:
    """The reply's JSON object, validated; ValueError (or ValidationError) when it is not one."""
    text = _FENCE.sub("", content.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the reply")
    data = json.loads(text[start : end + 1])
    return VlmReply.model_validate(data)


def _content(payload: dict[str, Any]) -> tuple[str, str]:
    """(``message.content`` as text, ``finish_reason``) of the first choice."""
    try:
        choice = payload["choices"][0]
        message = choice["message"]
        finish = str(choice.get("finish_reason") or "")
    except (KeyError, IndexError, TypeError):
        raise Upstream5xx(
            f"{PROVIDER}: bad response: no choices[0].message", provider=PROVIDER
        ) from None
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # content parts, as some servers answer
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise Upstream5xx(f"{PROVIDER}: bad response: content is not text", provider=PROVIDER)
    return content, finish


class VlmAnalyzer:
    name = "vlm"

    def __init__(
        self,
        settings: LibraryVlmSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.json_mode = settings.json_mode != "off"
        self._client = CompatClient(
            provider=PROVIDER,
            base_url=settings.base_url,
            api_key=settings.api_key,
            timeout=settings.timeout,
            retries=settings.retries,
            retry_base_delay=settings.retry_base_delay,
            retry_max_delay=settings.retry_max_delay,
            sleep=sleep,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"VlmAnalyzer(base_url={self._client.base_url!r}, model={self.settings.model!r})"

    def close(self) -> None:
        self._client.close()

    def analyze(
        self, image: bytes | Image.Image, *, on_progress: ProgressCallback | None = None
    ) -> Analysis:
        original, upright = load(image)
        data_url = (
            "data:image/jpeg;base64,"
            + base64.b64encode(jpeg_bytes(upright, self.settings.image_max_side)).decode()
        )
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM.format(max_tags=self.settings.max_tags)},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": PROMPT},
                    {"type": "image_url", "image_url": {"url": data_url}},
                ],
            },
        ]
        content = self._chat(messages)
        try:
            reply = parse_reply(content)
        except (ValueError, ValidationError) as exc:
            error = _describe(exc)
            log.info("vlm: invalid reply (%s), asking once more", error)
            messages += [
                {"role": "assistant", "content": content[:4000]},
                {"role": "user", "content": REPAIR.format(error=error)},
            ]
            content = self._chat(messages)
            try:
                reply = parse_reply(content)
            except (ValueError, ValidationError) as again:
                raise Upstream5xx(
                    f"{PROVIDER}: bad response: invalid JSON twice ({_describe(again)})",
                    provider=PROVIDER,
                ) from None
        if on_progress is not None:
            on_progress(1, 1)
        return Analysis(
            analyzer=self.name,
            width=upright.width,
            height=upright.height,
            orientation=orientation_of(upright.width, upright.height),
            tags=self._tags(reply),
            description_en=reply.description_en.strip(),
            description_zh=reply.description_zh.strip(),
            ocr_text=reply.text.strip(),
            exif=read_exif(original),
        )

    def _tags(self, reply: VlmReply) -> tuple[Tag, ...]:
        tags: dict[str, Tag] = {}
        for item in reply.tags:
            name = " ".join(item.en.lower().split())
            if name and name not in tags:
                zh = " ".join(item.zh.split())
                tags[name] = Tag(name=name, name_zh=zh, source="vlm", confidence=item.confidence)
        return tuple(list(tags.values())[: self.settings.max_tags])

    def _chat(self, messages: list[dict[str, Any]]) -> str:
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "temperature": self.settings.temperature,
        }
        if self.settings.max_tokens:
            body["max_tokens"] = self.settings.max_tokens
        if self.json_mode:
            body["response_format"] = {"type": "json_object"}
        try:
            content, finish = self._client.post("/chat/completions", body, _content)
        except InvalidRequest as exc:
            if not (self.json_mode and self.settings.json_mode == "auto"):
                raise
            if "response_format" not in exc.message:
                raise
            log.info("vlm: the server refuses response_format; no longer sending it")
            self.json_mode = False
            body.pop("response_format")
            content, finish = self._client.post("/chat/completions", body, _content)
        if finish == "content_filter":
            raise ContentRejected(f"{PROVIDER}: the reply was filtered", provider=PROVIDER)
        return content


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the object"
        return f"{where}: {first['msg']}"
    return str(exc)[:200]
