"""Typed provider interfaces: frozen requests and results, one protocol per capability."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from PIL import Image

#: Called by a provider after each unit of work as ``on_progress(done, total)``. It may raise
#: (for example :class:`atelier.tasks.lifecycle.TaskCancelled`) to stop the provider at a step
#: boundary; providers must let such exceptions propagate.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class ModelInfo:
    """What a provider offers, as listed by ``GET /api/v1/models``."""

    id: str
    provider: str
    kind: str  # "procedural", "diffusers", "remote", "noop"
    capabilities: tuple[str, ...] = ("text_to_image",)
    description: str = ""
    max_width: int = 2048
    max_height: int = 2048
    max_images: int = 8
    supports_seed: bool = True
    supports_negative_prompt: bool = True
    default_steps: int = 8


@dataclass(frozen=True)
class TextToImageRequest:
    prompt: str
    negative_prompt: str = ""
    width: int = 512
    height: int = 512
    num_images: int = 1
    steps: int = 8
    guidance_scale: float = 0.0
    seed: int = 0
    model: str | None = None


@dataclass(frozen=True)
class GeneratedImage:
    image: Image.Image
    seed: int


@dataclass(frozen=True)
class TextToImageResult:
    images: tuple[GeneratedImage, ...]
    provider: str
    model: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageToImageRequest:
    """Photo in, image out (stylize, edits). ``width``/``height`` default to the input's size;
    ``mask`` (white = repaint) is for providers that support edits with a mask."""

    image: Image.Image
    prompt: str
    negative_prompt: str = ""
    strength: float = 0.6
    width: int | None = None
    height: int | None = None
    num_images: int = 1
    steps: int = 8
    guidance_scale: float = 0.0
    seed: int = 0
    model: str | None = None
    mask: Image.Image | None = None


#: Image-to-image results have the same shape as text-to-image ones.
ImageResult = TextToImageResult


@runtime_checkable
class TextToImageProvider(Protocol):
    """A text-to-image backend. Implementations speak only to their backend; policy is above."""

    name: str

    def models(self) -> list[ModelInfo]: ...

    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult: ...


@runtime_checkable
class ImageToImageProvider(Protocol):
    name: str

    def models(self) -> list[ModelInfo]: ...

    def image_to_image(
        self, request: ImageToImageRequest, on_progress: ProgressCallback | None = None
    ) -> ImageResult: ...
