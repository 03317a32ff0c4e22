"""``procedural``: the built-in offline text-to-image model. No weights, no network.

The prompt is read into a plan (:mod:`procedural_lexicon`): a mood with its palette (day,
sunset, dawn, night, winter, autumn, neon, pastel, dark), colour tints for the whole picture
or for one element ("red flowers"), motifs (sun, moon, stars, clouds, mountains, hills, sea,
forest, a lone tree, city, flowers, desert, a synthwave grid, abstract shapes, snowfall) and
composition words (minimal, close-up, panorama, centered). Words it does not know still
count: a hash of the prompt picks whatever the words leave open, so no prompt draws nothing.
The negative prompt removes motifs and moods, and washes its colours out of the image.

The picture is then painted in layers with vectorised numpy (:mod:`procedural_sky`,
:mod:`procedural_land`): sky, stars, sun or moon, clouds, far terrain, ground or water (with
a reflection of everything above the horizon), foreground subjects, and a finishing grade.

Determinism: the pixels depend only on the prompt, the negative prompt, the seed and the size.
Image ``i`` of a batch uses seed ``request.seed + i``, so it equals the single image drawn
with that seed. ``steps`` does not change the result: the fixed list of layers is split into
``steps`` stages (at least one) and ``on_progress(done, total)`` is called after each stage,
with ``total = steps * num_images``; when there are more steps than layers some stages are
empty. A callback that raises stops the work at once. ``guidance_scale`` is ignored.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from atelier.providers import procedural_land as land
from atelier.providers import procedural_sky as sky
from atelier.providers.base import (
    GeneratedImage,
    ModelInfo,
    ProgressCallback,
    TextToImageRequest,
    TextToImageResult,
)
from atelier.providers.errors import InvalidRequest
from atelier.providers.procedural_lexicon import Plan, plan_scene
from atelier.providers.procedural_raster import Scene

NAME = "procedural"
MAX_SIDE = 4096

Pass = Callable[[Scene], None]


def _passes(scene: Scene) -> list[Pass]:
    """The layers for one scene, back to front; fixed by plan and layout, never by steps."""
    has = scene.has
    ground = scene.layout.ground
    out: list[Pass] = [sky.paint_sky]
    if has("stars"):
        out.append(sky.paint_stars)
    if scene.layout.body != "none":
        out.append(sky.paint_celestial)
    if has("clouds"):
        out.append(sky.paint_clouds)
    if has("abstract"):
        out.append(sky.paint_abstract)
    if has("mountain"):
        out.append(land.paint_mountains)
    if has("city"):
        out.append(land.paint_city)
    if has("forest") and ground == "sea":
        out.append(land.paint_forest)  # a far shore, reflected in the water
    grounds: dict[str, Pass] = {
        "sea": land.paint_sea,
        "desert": land.paint_desert,
        "grid": land.paint_grid,
        "meadow": land.paint_meadow,
    }
    if ground in grounds:
        out.append(grounds[ground])
    if has("forest") and ground != "sea":
        out.append(land.paint_forest)
    if has("tree"):
        out.append(land.paint_tree)
    if has("flower"):
        out.append(land.paint_bloom if scene.plan.single_flower else land.paint_flowers)
    if has("snowfall"):
        out.append(sky.paint_snowfall)
    out.append(sky.finish)
    return out


def render(
    plan: Plan,
    seed: int,
    width: int,
    height: int,
    stages: int = 1,
    after_stage: Callable[[], None] | None = None,
) -> Image.Image:
    """Paint one image, calling ``after_stage`` after each of ``stages`` stages."""
    scene = Scene(plan, seed, width, height)
    passes = _passes(scene)
    stages = max(1, stages)
    for stage in range(stages):
        for paint in passes[len(passes) * stage // stages : len(passes) * (stage + 1) // stages]:
            paint(scene)
        if after_stage is not None:
            after_stage()
    assert scene.result is not None
    return Image.fromarray(np.ascontiguousarray(scene.result), "RGB")


def validate(request: TextToImageRequest, provider: str = NAME) -> None:
    """Raise :class:`InvalidRequest` for sizes outside 1..4096, no images, or no prompt."""
    for field in ("width", "height"):
        value = getattr(request, field)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SIDE:
            raise InvalidRequest(f"{field} must be 1..{MAX_SIDE}, got {value!r}", provider=provider)
    if not isinstance(request.num_images, int) or request.num_images < 1:
        raise InvalidRequest("num_images must be at least 1", provider=provider)
    if not isinstance(request.prompt, str) or not request.prompt.strip():
        raise InvalidRequest("prompt must not be empty", provider=provider)
    if not isinstance(request.seed, int):
        raise InvalidRequest("seed must be an integer", provider=provider)


class ProceduralProvider:
    """Offline text-to-image: layered procedural landscapes and abstracts that follow the words."""

    name = NAME

    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                id=NAME,
                provider=NAME,
                kind="procedural",
                description="Built-in offline renderer: procedural scenes from the prompt's "
                "words (palette, motifs, composition). No weights, no network.",
                max_width=2048,
                max_height=2048,
                max_images=8,
                default_steps=8,
            )
        ]

    def text_to_image(
        self, request: TextToImageRequest, on_progress: ProgressCallback | None = None
    ) -> TextToImageResult:
        validate(request)
        plan = plan_scene(request.prompt, request.negative_prompt)
        stages = max(1, request.steps)
        total = stages * request.num_images
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if on_progress is not None:
                on_progress(done, total)

        images = []
        for i in range(request.num_images):
            seed = request.seed + i
            image = render(plan, seed, request.width, request.height, stages, tick)
            images.append(GeneratedImage(image=image, seed=seed))
        return TextToImageResult(
            images=tuple(images), provider=NAME, model=NAME, metadata=plan.metadata()
        )
