"""Emulator of the OpenAI Chat Completions API (``POST /v1/chat/completions``), as OpenAI,
DeepSeek, Qwen's compatible mode, Gemini's OpenAI endpoint, Ollama and vLLM speak it.

Checks ``Authorization: Bearer`` (``api_key=None`` accepts requests without one, as local
servers do); validates the body: a known ``model`` (404 ``model_not_found``), non-empty
``messages`` of ``{role, content}`` with known roles, no unknown parameters (400
``unknown_parameter``), ``temperature`` 0-2, positive ``max_tokens``, ``response_format`` of
type ``text``, ``json_object`` or ``json_schema``; JSON mode needs the word "json" in the
messages (OpenAI's rule), and a server made with ``json_mode=False`` refuses
``response_format`` as models without JSON mode do. Answers a ``chat.completion`` object whose
message content is :attr:`OpenAIChatEmulator.script` as JSON (a dict, or a function of the
request body), else a small script made from the story in the last user message. Errors are
``{"error": {"message", "type", "param", "code"}}``; a wrong key's message quotes the key.

Stages: ``chat``, ``models`` (``GET /v1/models``). Faults: ``rate_limit`` (``retry_after``,
``retry_after_ms`` headers), ``quota`` (429 ``insufficient_quota``), ``content_filter``
(``finish_reason: content_filter`` and no content), ``malformed_json`` (content that is cut-off
JSON), ``fenced_json`` (the script inside prose and a Markdown fence, with a ``<think>``
block), ``invalid_script`` (valid JSON, wrong shape), ``wrong_panel_count`` (one panel too
many), ``truncated`` (``finish_reason: length``, content cut in half), and the common ones.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from support.emulators import Emulator, Fault, Request, Response
from support.emulators.openai_wire import error, json_body, refused_key, server_error

ROLES = {"system", "developer", "user", "assistant", "tool"}
PARAMS = {
    "model", "messages", "temperature", "top_p", "n", "stream", "stop", "max_tokens",
    "max_completion_tokens", "presence_penalty", "frequency_penalty", "logit_bias", "user",
    "response_format", "seed", "tools", "tool_choice", "logprobs", "top_logprobs",
}  # fmt: skip
Script = dict[str, Any]


def story_of(body: dict[str, Any]) -> str:
    """The story of the last user message (between ``<<<`` and ``>>>`` where marked)."""
    users = [m for m in body["messages"] if m.get("role") == "user"]
    text = users[0]["content"] if users else ""
    match = re.search(r"<<<\n?(.*?)\n?>>>", text, re.DOTALL)
    return match.group(1) if match else text


def default_script(body: dict[str, Any]) -> Script:
    """A small script: one panel per sentence of the story (or as many as the system message
    asks for with "exactly N panels"), each with a caption and one line of dialogue."""
    system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
    sentences = [s for s in re.split(r"(?<=[.!?。！？])\s*", story_of(body)) if s.strip()]  # noqa: RUF001
    wanted = re.search(r"exactly (\d+) panels", system)
    count = int(wanted.group(1)) if wanted else max(1, min(8, len(sentences)))
    panels = []
    for i in range(count):
        sentence = sentences[i % len(sentences)] if sentences else "Nothing happens."
        panels.append(
            {
                "panel_number": i + 1,
                "scene_description": f"An illustration of: {sentence}",
                "setting": "a quiet street",
                "shot": "wide" if i == 0 else "medium",
                "characters": ["Hero"],
                "caption": sentence[:40],
                "dialogue": [{"speaker": "Hero", "text": f"Line {i + 1}"}],
            }
        )
    return {
        "title": "Emulated",
        "panel_count": count,
        "characters": [{"name": "Hero", "description": "a tall hero in a red cape"}],
        "panels": panels,
    }


class OpenAIChatEmulator(Emulator):
    FAULTS = frozenset(
        {
            "rate_limit",
            "quota",
            "content_filter",
            "malformed_json",
            "fenced_json",
            "invalid_script",
            "wrong_panel_count",
            "truncated",
        }
    )

    def __init__(
        self,
        api_key: str | None = "sk-emulated-chat-key-0123456789",
        *,
        models: tuple[str, ...] = ("gpt-4o-mini", "deepseek-chat", "qwen-plus", "llama3.1"),
        json_mode: bool = True,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = models
        self.json_mode = json_mode
        self.script: Script | Callable[[dict[str, Any]], Script] | None = None
        self.completions: list[dict[str, Any]] = []  # bodies of the requests answered 200

    def stage(self, request: Request) -> str:
        return "models" if request.path.endswith("/models") else "chat"

    def server_error(self, status: int, stage: str) -> Response:
        return server_error(status)

    def handle(self, stage: str, request: Request, fault: Fault | None) -> Response:
        refused = refused_key(request, self.api_key)
        if refused is not None:
            return refused
        if stage == "models" and request.method == "GET":
            data = [{"id": m, "object": "model", "owned_by": "emulator"} for m in self.models]
            return Response.json(200, {"object": "list", "data": data})
        if request.method != "POST" or request.path != "/v1/chat/completions":
            return error(404, None, f"Invalid URL ({request.method} {request.path})")
        body = json_body(request)
        if isinstance(body, Response):
            return body
        answer = self._check(body)
        if answer is not None:
            return answer
        if fault is not None and (answer := self._fault(fault)) is not None:
            return answer
        script = self._script(body)
        finish = "stop"
        if fault is not None and fault.kind == "wrong_panel_count":
            script["panels"].append(
                dict(script["panels"][-1], panel_number=len(script["panels"]) + 1)
            )
            script.pop("panel_count", None)
        content: str | None = json.dumps(script, ensure_ascii=False)
        if fault is not None and fault.kind == "malformed_json":
            content = content[: len(content) // 2].rstrip("}] ") + ', "panels": [{"scene'
        elif fault is not None and fault.kind == "fenced_json":
            content = (
                '<think>The user wants {"panels"}; let me plan.</think>\n'
                f"Sure! Here is the storyboard:\n```json\n{content}\n```\nEnjoy the page."
            )
        elif fault is not None and fault.kind == "invalid_script":
            content = json.dumps({"pages": [{"text": "no panels here"}], "panels": "none"})
        elif fault is not None and fault.kind == "truncated":
            content, finish = content[: len(content) // 2], "length"
        elif fault is not None and fault.kind == "content_filter":
            content, finish = None, "content_filter"
        self.completions.append(body)
        return self._completion(body, content, finish)

    # -- pieces ------------------------------------------------------------------------------
    def _check(self, body: dict[str, Any]) -> Response | None:
        unknown = sorted(set(body) - PARAMS)
        if unknown:
            return error(
                400,
                "unknown_parameter",
                f"Unrecognized request argument supplied: {unknown[0]}",
                param=unknown[0],
            )
        model = body.get("model")
        if model not in self.models:
            return error(
                404,
                "model_not_found",
                f"The model `{model}` does not exist or you do not have access to it.",
                param="model",
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return error(400, None, "'messages' must be a non-empty array.", param="messages")
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ROLES:
                return error(400, "invalid_value", f"Invalid role in messages[{i}].", param="role")
            if not isinstance(message.get("content"), str | list):
                return error(400, None, f"messages[{i}].content is required.", param="content")
        temperature = body.get("temperature", 1)
        if not isinstance(temperature, int | float) or not 0 <= temperature <= 2:
            return error(400, "invalid_value", "temperature must be 0 to 2.", param="temperature")
        max_tokens = body.get("max_tokens", 1)
        if not isinstance(max_tokens, int) or max_tokens < 1:
            return error(400, "invalid_value", "max_tokens must be positive.", param="max_tokens")
        return self._check_format(body.get("response_format"), messages)

    def _check_format(self, fmt: Any, messages: list[dict[str, Any]]) -> Response | None:
        if fmt is None:
            return None
        if not self.json_mode:
            return error(
                400,
                None,
                "Invalid parameter: 'response_format' of type 'json_object' is not supported "
                "with this model.",
                param="response_format",
            )
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind not in ("text", "json_object", "json_schema"):
            return error(
                400, "invalid_value", "Invalid 'response_format.type'.", param="response_format"
            )
        text = " ".join(str(m.get("content")) for m in messages).lower()
        if kind == "json_object" and "json" not in text:
            return error(
                400,
                None,
                "'messages' must contain the word 'json' in some form, to use "
                "'response_format' of type 'json_object'.",
                param="messages",
            )
        return None

    def _fault(self, fault: Fault) -> Response | None:
        if fault.kind == "rate_limit":
            headers = {}
            if "retry_after" in fault.params:
                headers["retry-after"] = str(fault.params["retry_after"])
            if "retry_after_ms" in fault.params:
                headers["retry-after-ms"] = str(fault.params["retry_after_ms"])
            return error(
                429,
                "rate_limit_exceeded",
                "Rate limit reached for requests.",
                "requests",
                headers=headers,
            )
        if fault.kind == "quota":
            return error(
                429,
                "insufficient_quota",
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
            )
        return None  # answered in the completion

    def _script(self, body: dict[str, Any]) -> Script:
        if callable(self.script):
            return self.script(body)
        if self.script is not None:
            return json.loads(json.dumps(self.script))
        return default_script(body)

    def _completion(self, body: dict[str, Any], content: str | None, finish: str) -> Response:
        prompt_tokens = sum(len(str(m.get("content"))) for m in body["messages"]) // 4
        completion_tokens = len(content or "") // 4
        payload = {
            "id": f"chatcmpl-{self.next_id()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_emulated",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return Response.json(200, payload, {"x-request-id": f"req_{self.next_id()}"})
