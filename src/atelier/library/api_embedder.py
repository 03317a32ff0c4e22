"""``api``: an OpenAI-compatible embeddings API (OpenAI, Qwen/DashScope's compatible mode,
Ollama, vLLM, text-embeddings-inference...).

Wire format (platform.openai.com/docs/api-reference/embeddings): ``POST {base_url}/embeddings``
with ``{"model", "input": [texts], "encoding_format": "float"}`` (plus ``dimensions`` when
configured) answers ``{"object": "list", "data": [{"object": "embedding", "index", "embedding":
[floats]}], "model", "usage"}``. ``data`` may come in any order: rows are placed by ``index``;
a missing or repeated index, a row count or size that does not match, or a non-numeric value is
a "bad response" (transient Upstream5xx). Errors and retries: :mod:`atelier.library.openai_http`.

Texts go in batches of ``batch_size``; empty texts are sent as a single space (the API refuses
empty strings). The size of the vectors is known from ``dimensions`` or learned from the first
answer (reading :attr:`ApiEmbedder.dim` first makes one small request).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import numpy as np

from atelier.config import LibraryApiEmbedderSettings
from atelier.library.embedding import Vectors, l2_normalise
from atelier.library.openai_http import CompatClient
from atelier.providers.errors import Upstream5xx

PROVIDER = "embeddings-api"


class ApiEmbedder:
    def __init__(
        self,
        settings: LibraryApiEmbedderSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.name = f"api:{settings.model}" + (
            f":{settings.dimensions}" if settings.dimensions else ""
        )
        self._dim: int | None = settings.dimensions or None
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
        return f"ApiEmbedder(base_url={self._client.base_url!r}, model={self.settings.model!r})"

    def close(self) -> None:
        self._client.close()

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.embed(["dimension"])
        assert self._dim is not None
        return self._dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        parts = [
            self._request(list(texts[i : i + self.settings.batch_size]))
            for i in range(0, len(texts), self.settings.batch_size)
        ]
        return l2_normalise(np.concatenate(parts))

    def _request(self, texts: list[str]) -> Vectors:
        body: dict[str, Any] = {
            "model": self.settings.model,
            "input": [text if text.strip() else " " for text in texts],
            "encoding_format": "float",
        }
        if self.settings.dimensions:
            body["dimensions"] = self.settings.dimensions
        rows = self._client.post(
            "/embeddings", body, lambda payload: self._rows(payload, len(texts))
        )
        if self._dim is None:
            self._dim = rows.shape[1]
        elif rows.shape[1] != self._dim:
            raise self._bad(f"vectors of {rows.shape[1]} dimensions, expected {self._dim}")
        return rows

    def _rows(self, payload: dict[str, Any], n: int) -> Vectors:
        data = payload.get("data")
        if not isinstance(data, list):
            raise self._bad("no data list")
        if len(data) != n:
            raise self._bad(f"{len(data)} embeddings for {n} texts")
        rows: list[Any] = [None] * n
        for item in data:
            index = item.get("index") if isinstance(item, dict) else None
            if not isinstance(index, int) or not 0 <= index < n or rows[index] is not None:
                raise self._bad(f"embedding index {index!r}")
            rows[index] = self._vector(item.get("embedding"))
        sizes = {len(row) for row in rows}
        if len(sizes) != 1 or 0 in sizes:
            raise self._bad(f"embeddings of sizes {sorted(sizes)}")
        return np.stack(rows).astype(np.float32)

    def _vector(self, value: Any) -> Any:
        if isinstance(value, str):  # encoding_format=base64 answered anyway: little-endian f32
            try:
                return np.frombuffer(base64.b64decode(value, validate=True), dtype="<f4")
            except (binascii.Error, ValueError):
                raise self._bad("invalid base64 embedding") from None
        if not isinstance(value, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in value
        ):
            raise self._bad("an embedding is not a list of numbers")
        array = np.asarray(value, dtype=np.float32)
        if not np.all(np.isfinite(array)):
            raise self._bad("an embedding has non-finite values")
        return array

    def _bad(self, what: str) -> Upstream5xx:
        return Upstream5xx(f"{PROVIDER}: bad response: {what}", provider=PROVIDER)
