"""``noop``: instant solid images, to measure the job core's own overhead.

Image ``i`` has seed ``request.seed + i`` and a colour derived from that seed; ``on_progress``
is called once per image as ``(i + 1, num_images)``. Prompts and steps are ignored.
"""

from __future__ import annotations

from PIL import Image

from atelier.providers.base import (
    GeneratedImage,
    ModelInfo,
    ProgressCallback,
    TextToImageRequest,
    TextToImageResult,
)
from atelier.providers.errors import InvalidRequest

MAX_SIDE = 4096


class NoopProvider:
    name = "noop"

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(id="noop", provider="noop", kind="noop", description="Solid colour.")]

    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult:
        if not (1 <= request.width <= MAX_SIDE and 1 <= request.height <= MAX_SIDE):
            raise InvalidRequest(f"width and height must be 1..{MAX_SIDE}", provider=self.name)
        if request.num_images < 1:
            raise InvalidRequest("num_images must be at least 1", provider=self.name)
        images = []
        for i in range(request.num_images):
            seed = request.seed + i
            colour = (seed % 256, (seed // 256) % 256, 128)
            images.append(
                GeneratedImage(Image.new("RGB", (request.width, request.height), colour), seed)
            )
            if on_progress is not None:
                on_progress(i + 1, request.num_images)
        return TextToImageResult(tuple(images), provider="noop", model="noop")
