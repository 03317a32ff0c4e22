"""Emulator of the OpenAI Embeddings API (``POST /v1/embeddings``), as OpenAI, Qwen's
compatible mode, Ollama and vLLM speak it.

Checks ``Authorization: Bearer`` (``api_key=None`` accepts requests without one); validates the
body: a known ``model`` (404 ``model_not_found``), ``input`` a non-empty string or a list of at
most 2,048 non-empty strings (400 otherwise), ``encoding_format`` ``float`` or ``base64``,
``dimensions`` only for the text-embedding-3 models and not above their size, no unknown
parameters (400 ``unknown_parameter``). Answers ``{"object": "list", "data": [{"object":
"embedding", "index", "embedding"}], "model", "usage"}`` with unit vectors that are a hashed
bag of the text's words, so texts sharing words are close (shortened vectors are cut and
re-normalised, as OpenAI does). Errors are ``{"error": {"message", "type", "param",
"code"}}``; a wrong key's message quotes the key.

Stage: ``embeddings``. Faults: ``rate_limit`` (``retry_after``, ``retry_after_ms``),
``quota`` (429 ``insufficient_quota``), ``shuffled`` (rows in reverse order: valid, callers
must place rows by ``index``), ``wrong_count`` (one row missing), ``wrong_dim`` (the last row
one value short), ``missing_data`` (no ``data``), ``not_numbers`` (a row of strings),
``context_length`` (400 ``context_length_exceeded``) and the common ones.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import numpy as np

from support.emulators import Emulator, Fault, Request, Response
from support.emulators.openai_wire import error, json_body, refused_key, server_error

MODELS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "emulated-32": 32}
PARAMS = {"model", "input", "encoding_format", "dimensions", "user"}
MAX_INPUTS = 2048


def embed(text: str, dim: int) -> np.ndarray:
    """A unit vector: each lower-cased word adds a pseudo-random direction."""
    vector = np.zeros(dim, dtype=np.float64)
    for word in re.findall(r"\w+", text.lower()) or [text]:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        vector += np.random.default_rng(seed).standard_normal(dim)
    return vector / (np.linalg.norm(vector) or 1.0)


class OpenAIEmbeddingsEmulator(Emulator):
    FAULTS = frozenset(
        {
            "rate_limit",
            "quota",
            "shuffled",
            "wrong_count",
            "wrong_dim",
            "missing_data",
            "not_numbers",
            "context_length",
        }
    )

    def __init__(self, api_key: str | None = "sk-emulated-embeddings-key-0123456789") -> None:
        super().__init__()
        self.api_key = api_key
        self.inputs: list[list[str]] = []  # the texts of each accepted request

    def stage(self, request: Request) -> str:
        return request.path.rsplit("/", 1)[-1]

    def server_error(self, status: int, stage: str) -> Response:
        return server_error(status)

    def handle(self, stage: str, request: Request, fault: Fault | None) -> Response:
        if request.method != "POST" or stage != "embeddings":
            return error(404, None, f"Invalid URL ({request.method} {request.path})")
        refused = refused_key(request, self.api_key)
        if refused is not None:
            return refused
        body = json_body(request)
        if isinstance(body, Response):
            return body
        answer = self._check(body)
        if answer is not None:
            return answer
        if fault is not None and (answer := self._fault(fault)) is not None:
            return answer
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        self.inputs.append(texts)
        model = body["model"]
        dim = body.get("dimensions") or MODELS[model]
        rows = []
        for i, text in enumerate(texts):
            vector = embed(text, MODELS[model])[:dim]
            vector = vector / (np.linalg.norm(vector) or 1.0)
            value: Any = [float(x) for x in vector]
            if body.get("encoding_format") == "base64":
                value = base64.b64encode(vector.astype("<f4").tobytes()).decode()
            rows.append({"object": "embedding", "index": i, "embedding": value})
        kind = fault.kind if fault is not None else None
        if kind == "shuffled":
            rows.reverse()
        elif kind == "wrong_count":
            rows.pop()
        elif kind == "wrong_dim":
            rows[-1]["embedding"] = rows[-1]["embedding"][:-1]
        elif kind == "not_numbers":
            rows[0]["embedding"] = ["x"] * dim
        payload: dict[str, Any] = {
            "object": "list",
            "data": rows,
            "model": model,
            "usage": {"prompt_tokens": sum(len(t.split()) for t in texts), "total_tokens": 0},
        }
        if kind == "missing_data":
            del payload["data"]
        return Response.json(200, payload)

    def _fault(self, fault: Fault) -> Response | None:
        if fault.kind == "rate_limit":
            headers = {}
            if "retry_after" in fault.params:
                headers["retry-after"] = str(fault.params["retry_after"])
            if "retry_after_ms" in fault.params:
                headers["retry-after-ms"] = str(fault.params["retry_after_ms"])
            return error(
                429, "rate_limit_exceeded", "Rate limit reached.", "requests", headers=headers
            )
        if fault.kind == "quota":
            return error(
                429, "insufficient_quota", "You exceeded your quota.", "insufficient_quota"
            )
        if fault.kind == "context_length":
            return error(
                400,
                "context_length_exceeded",
                "This model's maximum context length is 8192 tokens.",
                param="input",
            )
        return None  # the rest change the answer

    def _check(self, body: dict[str, Any]) -> Response | None:
        unknown = sorted(set(body) - PARAMS)
        if unknown:
            return error(
                400, "unknown_parameter", f"Unknown parameter: '{unknown[0]}'.", param=unknown[0]
            )
        model = body.get("model")
        if model not in MODELS:
            return error(
                404, "model_not_found", f"The model '{model}' does not exist.", param="model"
            )
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if (
            not isinstance(texts, list)
            or not 1 <= len(texts) <= MAX_INPUTS
            or not all(isinstance(t, str) and t for t in texts)
        ):
            return error(400, None, "'$.input' is invalid.", param="input")
        if body.get("encoding_format", "float") not in ("float", "base64"):
            return error(400, "invalid_value", "Invalid encoding_format.", param="encoding_format")
        if "dimensions" in body:
            dims = body["dimensions"]
            if not str(model).startswith("text-embedding-3"):
                return error(
                    400, None, "This model does not support specifying dimensions.", "dimensions"
                )
            if not isinstance(dims, int) or not 1 <= dims <= MODELS[model]:
                return error(400, "invalid_value", "Invalid 'dimensions'.", param="dimensions")
        return None
