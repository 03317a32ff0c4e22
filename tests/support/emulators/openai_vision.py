"""Emulator of a vision-language model behind the OpenAI Chat Completions API
(``POST /v1/chat/completions`` with image content parts), as OpenAI, Gemini's OpenAI endpoint,
Qwen-VL's compatible mode, Ollama and vLLM speak it.

Checks ``Authorization: Bearer`` (``api_key=None`` accepts requests without one); validates the
body: a known ``model`` (404 ``model_not_found``), no unknown parameters (400
``unknown_parameter``), ``temperature`` 0-2, positive ``max_tokens``, ``messages`` of known
roles whose ``content`` is text or a list of ``text`` / ``image_url`` parts; the request must
carry an image as a ``data:image/...;base64,`` URL that decodes to a real image (400
``invalid_image_url``). ``response_format`` must be ``{"type": "json_object"}`` and JSON mode
needs the word "json" in the messages (OpenAI's rule); a server made with ``json_mode=False``
refuses ``response_format`` (400 ``unknown_parameter``) as some local servers do.

The answer's content is :attr:`OpenAIVisionEmulator.script` as JSON (a dict, or a function of
the decoded image) when set, else tags and descriptions derived from the image: its main
colour (``red``/``红色``...) and its shape (``landscape``/``横幅``...). Decoded images are kept
in ``images``.

Stage: ``chat``. Faults: ``rate_limit`` (``retry_after``, ``retry_after_ms``), ``quota``,
``content_filter`` (``finish_reason: content_filter``, no content), ``prose`` (a sentence, no
JSON), ``fenced`` (the JSON inside prose and a Markdown fence), ``bad_schema`` (valid JSON
without ``tags``), ``no_choices`` (``"choices": []``) and the common ones.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from support.emulators import Emulator, Fault, Request, Response
from support.emulators.openai_wire import error, json_body, refused_key, server_error

MODELS = {"gpt-4o-mini", "gpt-4o", "qwen-vl-plus", "gemini-2.0-flash"}
ROLES = {"system", "developer", "user", "assistant"}
PARAMS = {
    "model", "messages", "temperature", "top_p", "n", "stream", "stop", "max_tokens",
    "max_completion_tokens", "presence_penalty", "frequency_penalty", "user",
    "response_format", "seed",
}  # fmt: skip
COLOURS = {
    "red": ((220, 30, 30), "红色"),
    "green": ((30, 170, 50), "绿色"),
    "blue": ((30, 60, 220), "蓝色"),
    "yellow": ((240, 220, 20), "黄色"),
    "white": ((245, 245, 245), "白色"),
    "black": ((10, 10, 10), "黑色"),
    "gray": ((128, 128, 128), "灰色"),
}
SHAPES = {"landscape": "横幅", "portrait": "竖幅", "square": "方形"}


def describe(image: Image.Image) -> dict[str, Any]:
    """Tags and descriptions from the image's mean colour and its shape."""
    r, g, b = np.asarray(image.convert("RGB"), dtype=np.float64).reshape(-1, 3).mean(axis=0)
    colour = min(
        COLOURS,
        key=lambda n: sum((x - y) ** 2 for x, y in zip(COLOURS[n][0], (r, g, b), strict=True)),
    )
    zh = COLOURS[colour][1]
    w, h = image.size
    shape = "square" if abs(w - h) <= 0.02 * max(w, h) else "landscape" if w > h else "portrait"
    return {
        "tags": [
            {"en": f"{colour} picture", "zh": f"{zh}图片", "confidence": 0.95},
            {"en": colour.upper(), "zh": zh, "confidence": 0.9},
            {"en": shape, "zh": SHAPES[shape], "confidence": 0.7},
        ],
        "description_en": f"A {shape} picture that is mostly {colour}.",
        "description_zh": f"一张以{zh}为主的{SHAPES[shape]}图片。",
        "text": "",
    }


def completion(content: str | None, finish: str = "stop", model: str = "gpt-4o-mini") -> Any:
    return {
        "id": "chatcmpl-emulated",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }


class OpenAIVisionEmulator(Emulator):
    FAULTS = frozenset(
        {"rate_limit", "quota", "content_filter", "prose", "fenced", "bad_schema", "no_choices"}
    )

    def __init__(
        self, api_key: str | None = "sk-emulated-vision-key-0123456789", *, json_mode: bool = True
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.json_mode = json_mode
        self.script: dict[str, Any] | Callable[[Image.Image], dict[str, Any]] | None = None
        self.images: list[Image.Image] = []
        self.bodies: list[dict[str, Any]] = []  # accepted request bodies

    def stage(self, request: Request) -> str:
        return request.path.rsplit("/", 1)[-1] if request.path.endswith("/completions") else "?"

    def server_error(self, status: int, stage: str) -> Response:
        return server_error(status)

    def handle(self, stage: str, request: Request, fault: Fault | None) -> Response:
        if request.method != "POST" or stage != "completions":
            return error(404, None, f"Invalid URL ({request.method} {request.path})")
        refused = refused_key(request, self.api_key)
        if refused is not None:
            return refused
        body = json_body(request)
        if isinstance(body, Response):
            return body
        checked = self._check(body)
        if isinstance(checked, Response):
            return checked
        image = checked
        self.images.append(image)
        self.bodies.append(body)
        if fault is not None:
            answer = self._fault(fault, image, body["model"])
            if answer is not None:
                return answer
        return Response.json(200, completion(json.dumps(self._reply(image)), model=body["model"]))

    def _reply(self, image: Image.Image) -> dict[str, Any]:
        if self.script is None:
            return describe(image)
        return self.script(image) if callable(self.script) else self.script

    def _fault(self, fault: Fault, image: Image.Image, model: str) -> Response | None:
        kind = fault.kind
        if kind == "rate_limit":
            headers = {}
            if "retry_after" in fault.params:
                headers["retry-after"] = str(fault.params["retry_after"])
            if "retry_after_ms" in fault.params:
                headers["retry-after-ms"] = str(fault.params["retry_after_ms"])
            return error(
                429, "rate_limit_exceeded", "Rate limit reached.", "requests", headers=headers
            )
        if kind == "quota":
            return error(
                429, "insufficient_quota", "You exceeded your quota.", "insufficient_quota"
            )
        if kind == "content_filter":
            return Response.json(200, completion(None, "content_filter", model))
        if kind == "prose":
            return Response.json(
                200, completion("I see a nice picture with some colours.", model=model)
            )
        if kind == "fenced":
            content = "Here you go:\n```json\n" + json.dumps(self._reply(image)) + "\n```\nEnjoy!"
            return Response.json(200, completion(content, model=model))
        if kind == "bad_schema":
            reply = {k: v for k, v in self._reply(image).items() if k != "tags"}
            return Response.json(200, completion(json.dumps(reply), model=model))
        if kind == "no_choices":
            payload = completion("", model=model)
            payload["choices"] = []
            return Response.json(200, payload)
        return None

    def _check(self, body: dict[str, Any]) -> Response | Image.Image:
        allowed = PARAMS if self.json_mode else PARAMS - {"response_format"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            return error(
                400, "unknown_parameter", f"Unknown parameter: '{unknown[0]}'.", param=unknown[0]
            )
        if body.get("model") not in MODELS:
            return error(
                404,
                "model_not_found",
                f"The model '{body.get('model')}' does not exist.",
                param="model",
            )
        temperature = body.get("temperature", 1)
        if not isinstance(temperature, int | float) or not 0 <= temperature <= 2:
            return error(400, "invalid_value", "Invalid 'temperature'.", param="temperature")
        max_tokens = body.get("max_tokens", 1)
        if not isinstance(max_tokens, int) or max_tokens < 1:
            return error(400, "invalid_value", "Invalid 'max_tokens'.", param="max_tokens")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return error(400, None, "'messages' must be a non-empty array.", param="messages")
        texts: list[str] = []
        images: list[Image.Image] = []
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in ROLES:
                return error(400, None, "Invalid message.", param="messages")
            content = message.get("content")
            if isinstance(content, str):
                texts.append(content)
                continue
            if not isinstance(content, list):
                return error(400, None, "Invalid message content.", param="messages")
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif kind == "image_url" and message["role"] == "user":
                    image = self._image(part.get("image_url"))
                    if isinstance(image, Response):
                        return image
                    images.append(image)
                else:
                    return error(400, None, f"Invalid content part {kind!r}.", param="messages")
        if not images:
            return error(400, None, "This emulated model needs an image.", param="messages")
        response_format = body.get("response_format")
        if response_format is not None:
            if response_format != {"type": "json_object"}:
                return error(400, "invalid_value", "Invalid response_format.", "response_format")
            if not any("json" in text.lower() for text in texts):
                return error(
                    400,
                    None,
                    "'messages' must contain the word 'json' in some form, to use "
                    "'response_format' of type 'json_object'.",
                    param="messages",
                )
        return images[-1]

    def _image(self, value: Any) -> Response | Image.Image:
        url = value.get("url") if isinstance(value, dict) else None
        bad = error(400, "invalid_image_url", "Invalid image URL.", param="image_url")
        if not isinstance(url, str) or not url.startswith("data:image/"):
            return bad
        head, _, data = url.partition(",")
        if not head.endswith(";base64"):
            return bad
        try:
            image = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
            image.load()
        except (binascii.Error, ValueError, OSError):
            return bad
        return image
