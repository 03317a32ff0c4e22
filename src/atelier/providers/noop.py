"""``noop``: instant solid images, to measure the job core's own overhead."""

from __future__ import annotations

from PIL import Image

from atelier.providers.base import (
    GeneratedImage,
    ModelInfo,
    ProgressCallback,
    TextToImageRequest,
    TextToImageResult,
)


class NoopProvider:
    name = "noop"

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(id="noop", provider="noop", kind="noop", description="Solid colour.")]

    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult:
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
