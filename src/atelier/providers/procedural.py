"""Temporary stand-in until the procedural provider lands."""

from __future__ import annotations

import numpy as np
from PIL import Image

from atelier.providers.base import (
    GeneratedImage,
    ModelInfo,
    ProgressCallback,
    TextToImageRequest,
    TextToImageResult,
)


class ProceduralProvider:
    name = "procedural"

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(id="procedural", provider="procedural", kind="procedural")]

    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult:
        out = []
        total = request.steps * request.num_images
        done = 0
        for i in range(request.num_images):
            rng = np.random.default_rng(request.seed + i)
            arr = np.zeros((request.height, request.width, 3), np.float32)
            for _ in range(request.steps):
                arr += rng.random((request.height, request.width, 3), np.float32) / request.steps
                done += 1
                if on_progress:
                    on_progress(done, total)
            out.append(
                GeneratedImage(Image.fromarray((arr * 255).astype(np.uint8)), request.seed + i)
            )
        return TextToImageResult(tuple(out), provider="procedural", model="procedural")
