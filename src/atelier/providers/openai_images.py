"""``openai``: the OpenAI Images API, or any server that speaks it.

Wire format (platform.openai.com/docs/api-reference/images):

- ``POST {base_url}/images/generations``, JSON ``{model, prompt, n, size: "WxH"}`` plus
  ``response_format: "b64_json"`` for the dall-e models (gpt-image models refuse the field and
  always answer base64);
- ``POST {base_url}/images/edits``, multipart ``image`` (PNG), optional ``mask`` (PNG whose
  fully transparent pixels mark what to repaint), ``model``, ``prompt``, ``n``, ``size``;
- both answer ``{"created", "data": [{"b64_json"} | {"url"}]}`` and fail with
  ``{"error": {"message", "type", "param", "code"}}``.

Sizes are fixed per model family. A request's width and height map to the nearest size the
family offers (closest aspect ratio, then closest area), so results may be larger or smaller
than asked; unknown models (OpenAI-compatible servers) follow the gpt-image rules.

=========== ================================ ====== =====
family      sizes                            images edits
gpt-image-* 1024x1024 1536x1024 1024x1536    1-10   yes
dall-e-3    1024x1024 1792x1024 1024x1792    1      no
dall-e-2    256x256 512x512 1024x1024        1-10   yes
=========== ================================ ====== =====

The API has no seed and no negative prompt: both are ignored (``ModelInfo`` says so).

Errors: ``content_policy_violation``/``moderation_blocked`` -> ContentRejected;
``insufficient_quota``/``billing_hard_limit_reached`` -> QuotaExhausted (even on HTTP 429);
``invalid_api_key``/401/403 -> AuthFailed; 429 -> RateLimited (``retry-after-ms`` or
``retry-after``); 408 -> ProviderTimeout; 5xx -> Upstream5xx; other 4xx -> InvalidRequest.
Malformed answers (invalid JSON, missing fields, undecodable or unreachable images) raise a
transient Upstream5xx whose message starts with "bad response": a glitch a retry may cure.
The key never appears in messages, logs or ``repr``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import httpx
from PIL import Image

from atelier.config import OpenAISettings
from atelier.providers.base import (
    GeneratedImage,
    ImageResult,
    ImageToImageRequest,
    ModelInfo,
    ProgressCallback,
    TextToImageRequest,
    TextToImageResult,
)
from atelier.providers.errors import (
    AuthFailed,
    ContentRejected,
    InvalidRequest,
    NotConfigured,
    ProviderError,
    ProviderTimeout,
    QuotaExhausted,
    RateLimited,
    Upstream5xx,
)
from atelier.providers.remote_http import (
    HTTPProvider,
    clean,
    decode_b64,
    fetch_image,
    json_or_none,
    new_client,
    png_bytes,
    retry_after,
    send,
)

log = logging.getLogger(__name__)

NAME = "openai"
MODEL_ID = "openai"
CONTENT = frozenset({"content_policy_violation", "moderation_blocked"})
QUOTA = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
AUTH = frozenset({"invalid_api_key", "invalid_organization"})


@dataclass(frozen=True)
class Family:
    sizes: tuple[tuple[int, int], ...]
    max_images: int
    response_format: bool  # accepts ``response_format`` (else always answers b64_json)
    edits: bool


FAMILIES = {
    "dall-e-2": Family(((256, 256), (512, 512), (1024, 1024)), 10, True, True),
    "dall-e-3": Family(((1024, 1024), (1792, 1024), (1024, 1792)), 1, True, False),
    "gpt-image": Family(((1024, 1024), (1536, 1024), (1024, 1536)), 10, False, True),
}


def family(model: str) -> Family:
    for prefix, fam in FAMILIES.items():
        if model.startswith(prefix):
            return fam
    return FAMILIES["gpt-image"]


def nearest_size(width: int, height: int, sizes: tuple[tuple[int, int], ...]) -> tuple[int, int]:
    """The offered size closest in aspect ratio, then in area, to ``width`` x ``height``."""
    ratio, area = math.log(width / height), math.log(width * height)
    return min(
        sizes,
        key=lambda s: (
            round(abs(math.log(s[0] / s[1]) - ratio), 6),
            abs(math.log(s[0] * s[1]) - area),
        ),
    )


class OpenAIImagesProvider(HTTPProvider):
    name = NAME

    def __init__(self, settings: OpenAISettings, timeout: float = 60) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self.family = family(settings.model)
        self._client = new_client(timeout)

    def __repr__(self) -> str:
        return f"OpenAIImagesProvider(base_url={self.base_url!r}, model={self.settings.model!r})"

    def models(self) -> list[ModelInfo]:
        fam = self.family
        sizes = ", ".join(f"{w}x{h}" for w, h in fam.sizes)
        return [
            ModelInfo(
                id=MODEL_ID,
                provider=NAME,
                kind="remote",
                capabilities=("text_to_image", "image_to_image")
                if fam.edits
                else ("text_to_image",),
                description=f"OpenAI {self.settings.model}; sizes {sizes} (nearest is used).",
                max_width=max(w for w, _ in fam.sizes),
                max_height=max(h for _, h in fam.sizes),
                max_images=fam.max_images,
                supports_seed=False,
                supports_negative_prompt=False,
            )
        ]

    # -- capabilities ---------------------------------------------------------------------------
    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult:
        key = self._prepare(request.model, request.num_images)
        width, height = nearest_size(request.width, request.height, self.family.sizes)
        body: dict[str, Any] = {
            "model": self.settings.model,
            "prompt": request.prompt,
            "n": request.num_images,
            "size": f"{width}x{height}",
        }
        if self.family.response_format:
            body["response_format"] = "b64_json"
        log.debug("openai: generating %d image(s) at %dx%d", request.num_images, width, height)
        response = self._send(key, "POST", "/images/generations", json=body)
        result = self._result(key, response, request.num_images, request.seed)
        if on_progress is not None:
            on_progress(1, 1)
        return result

    def image_to_image(
        self, request: ImageToImageRequest, on_progress: ProgressCallback | None = None
    ) -> ImageResult:
        key = self._prepare(request.model, request.num_images)
        if not self.family.edits:
            raise InvalidRequest(f"{self.settings.model} cannot edit images", provider=NAME)
        width, height = nearest_size(
            request.width or request.image.width,
            request.height or request.image.height,
            self.family.sizes,
        )
        image = request.image.convert("RGBA").resize((width, height), Image.Resampling.LANCZOS)
        files = [("image", ("image.png", png_bytes(image), "image/png"))]
        mask = self._mask(request.mask, (width, height))
        if mask is not None:
            files.append(("mask", ("mask.png", png_bytes(mask), "image/png")))
        data = {
            "model": self.settings.model,
            "prompt": request.prompt,
            "n": str(request.num_images),
            "size": f"{width}x{height}",
        }
        if self.family.response_format:
            data["response_format"] = "b64_json"
        log.debug("openai: editing into %d image(s) at %dx%d", request.num_images, width, height)
        response = self._send(key, "POST", "/images/edits", data=data, files=files)
        result = self._result(key, response, request.num_images, request.seed)
        if on_progress is not None:
            on_progress(1, 1)
        return result

    # -- helpers --------------------------------------------------------------------------------
    def _prepare(self, model: str | None, n: int) -> str:
        key = self.settings.api_key.get_secret_value()
        if not key:
            raise NotConfigured("openai: no API key is configured", provider=NAME)
        if model not in (None, MODEL_ID, self.settings.model):
            raise InvalidRequest(f"openai does not offer model {model!r}", provider=NAME)
        if not 1 <= n <= self.family.max_images:
            raise InvalidRequest(
                f"{self.settings.model} makes 1 to {self.family.max_images} images, not {n}",
                provider=NAME,
            )
        return key

    def _mask(self, mask: Image.Image | None, size: tuple[int, int]) -> Image.Image | None:
        """Our masks are white where to repaint; OpenAI's are transparent there. dall-e-2 needs
        a mask (or transparency) to edit at all, so no mask means "repaint everything"."""
        if mask is None and self.family is not FAMILIES["dall-e-2"]:
            return None
        grey = Image.new("L", size, 255) if mask is None else mask.convert("L").resize(size)
        out = Image.new("RGBA", size, (0, 0, 0, 255))
        out.putalpha(grey.point(lambda v: 0 if v >= 128 else 255))
        return out

    def _send(self, key: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"}
        response = send(
            self._client,
            method,
            self.base_url + path,
            what=path,
            provider=NAME,
            secret=key,
            headers=headers,
            **kwargs,
        )
        if response.status_code >= 400:
            raise self._error(response, key)
        return response

    def _error(self, response: httpx.Response, key: str) -> ProviderError:
        status = response.status_code
        payload = json_or_none(response)
        error = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(error, dict):
            error = {"message": response.text}
        code, kind = str(error.get("code") or ""), str(error.get("type") or "")
        tags = {code, kind}
        message = (
            f"openai HTTP {status} {code or kind or ''}: {clean(str(error.get('message')), key)}"
        )
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

    def _result(self, key: str, response: httpx.Response, n: int, seed: int) -> TextToImageResult:
        try:
            items = response.json()["data"]
            if not isinstance(items, list):
                raise TypeError("data is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise Upstream5xx(f"openai: bad response: {exc}", provider=NAME) from None
        if len(items) != n:
            raise Upstream5xx(f"openai: bad response: {len(items)} images for {n}", provider=NAME)
        images = [GeneratedImage(self._image(item, key), seed + i) for i, item in enumerate(items)]
        metadata = {"upstream_model": self.settings.model}
        if request_id := response.headers.get("x-request-id"):
            metadata["request_id"] = request_id
        return TextToImageResult(tuple(images), provider=NAME, model=MODEL_ID, metadata=metadata)

    def _image(self, item: Any, key: str) -> Image.Image:
        if isinstance(item, dict) and isinstance(item.get("b64_json"), str):
            return decode_b64(item["b64_json"], NAME)
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            # never sends the key: result URLs live on other hosts
            return fetch_image(self._client, item["url"], NAME, key)
        raise Upstream5xx(
            "openai: bad response: an image has neither b64_json nor url", provider=NAME
        )
