"""``classical``: the built-in offline image-to-image stylizer. No weights, no network.

The prompt picks a style and, optionally, a location (English or Chinese words):

* styles (:data:`STYLE_WORDS`): cartoon/anime/卡通, sketch/pencil/素描, colour pencil/彩铅,
  watercolour/水彩, oil/油画, ink wash/水墨, pop art/comic/波普, pixel art/8-bit/像素,
  vintage/retro/复古. The first style word in the prompt wins; none means ``cartoon``.
* locations (:data:`atelier.stylize.backgrounds.LOCATIONS`): beach/海滩, mountains/山,
  city/城市, cherry blossom/樱花, desert/沙漠, snowy peaks/雪山, neon street/霓虹, temple/寺庙,
  forest/森林, sunset/日落.

When a location is named, the photo is searched for a person (classical detection + GrabCut,
see :mod:`atelier.stylize.segment`); if one is found they are cut out, colour-matched and put
in front of a procedurally drawn background of that location, and the style is then applied
to the whole picture. If no person is found the photo is stylised as it is, and the result's
metadata says so (``person=not_found``, ``composited=false``).

``strength`` (0..1) is the style's strength (0 returns the photo). Output size is
``width`` x ``height`` when given (the photo is scaled to cover it and centre-cropped; one of
the two given alone keeps the photo's aspect), else the photo's own size. Image ``i`` of a
batch uses seed ``request.seed + i``: a different background variant and different palette /
texture seeds. ``mask`` (white = restyle) limits the style, and the new background, to the
white part. ``steps``, ``guidance_scale`` and ``negative_prompt`` are ignored.

Progress: ``on_progress(done, total)`` after segmentation (once), then after background,
filter and finish for each image: ``total = 1 + 3 * num_images``. A callback that raises stops
the work at once. The pixels depend only on the photo, prompt, strength, size, mask and seed.
"""

from __future__ import annotations

import re

import numpy as np
from PIL import Image, ImageOps

from atelier.providers.base import (
    GeneratedImage,
    ImageResult,
    ImageToImageRequest,
    ModelInfo,
    ProgressCallback,
)
from atelier.providers.errors import InvalidRequest
from atelier.stylize import backgrounds, filters, segment

NAME = "classical"
MAX_SIDE = 4096
DEFAULT_STYLE = "cartoon"

#: Words that name each style (any case; English words match whole words).
STYLE_WORDS: dict[str, tuple[str, ...]] = {
    "colour_pencil": ("colour pencil", "color pencil", "coloured pencil", "colored pencil",
                      "crayon", "彩铅", "彩色铅笔"),
    "sketch": ("sketch", "pencil", "drawing", "charcoal", "graphite", "line art", "lineart",
               "black-and-white", "black and white", "monochrome", "素描", "铅笔", "速写", "线稿",
               "黑白"),
    "watercolour": ("watercolour", "watercolor", "aquarelle", "gongbi", "水彩", "工笔"),
    "ink_wash": ("ink wash", "ink", "sumi-e", "sumie", "chinese painting", "水墨", "国画"),
    "oil": ("oil painting", "oil", "impasto", "impressionist", "impressionism", "油画", "印象派"),
    "pop_art": ("pop art", "pop-art", "popart", "warhol", "comic", "halftone", "cyberpunk",
                "波普", "赛博朋克"),
    "pixel_art": ("pixel art", "pixel", "8-bit", "8bit", "16-bit", "retro game", "像素"),
    "vintage": ("vintage", "retro", "sepia", "old photo", "film", "复古", "怀旧", "老照片", "胶片"),
    "cartoon": ("cartoon", "anime", "manga", "toon", "cel", "ukiyo-e", "woodblock", "clay",
                "claymation", "卡通", "动漫", "动画", "漫画", "二次元", "浮世绘", "黏土"),
}  # fmt: skip


def _find(alias: str, text: str) -> int:
    """Where ``alias`` first occurs in ``text`` (whole words for ASCII aliases), or -1."""
    if not alias.isascii():
        return text.find(alias)
    match = re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?:s|es)?(?![a-z0-9])", text)
    return match.start() if match else -1


def parse_style(prompt: str) -> str | None:
    """The style named first in ``prompt`` (style ids such as ``pop_art`` count), or None."""
    text = prompt.lower().replace("_", " ")
    best: tuple[int, int, str] | None = None
    for style, words in STYLE_WORDS.items():
        for word in (style.replace("_", " "), *words):
            pos = _find(word, text)
            if pos >= 0 and (best is None or (pos, -len(word)) < best[:2]):
                best = (pos, -len(word), style)
    return best[2] if best else None


def _positive_int(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SIDE:
        raise InvalidRequest(f"{field} must be 1..{MAX_SIDE}, got {value!r}", provider=NAME)
    return value


def output_size(request: ImageToImageRequest, source: tuple[int, int]) -> tuple[int, int]:
    """``(width, height)`` of the result: the request's, or the upright photo's ``source``
    size (its aspect kept when only one side is asked for)."""
    iw, ih = source
    w = None if request.width is None else _positive_int(request.width, "width")
    h = None if request.height is None else _positive_int(request.height, "height")
    if w is None and h is None:
        w, h = iw, ih
    elif w is None:
        assert h is not None
        w = max(1, round(iw * h / ih))
    elif h is None:
        h = max(1, round(ih * w / iw))
    assert w is not None and h is not None
    if w > MAX_SIDE or h > MAX_SIDE:
        raise InvalidRequest(f"output {w}x{h} exceeds {MAX_SIDE} pixels a side", provider=NAME)
    return w, h


def validate(request: ImageToImageRequest) -> None:
    if not isinstance(request.image, Image.Image):
        raise InvalidRequest("image must be a decoded picture", provider=NAME)
    if min(request.image.size) < 1:
        raise InvalidRequest("image is empty", provider=NAME)
    for side in (request.width, request.height):
        if side is not None:
            _positive_int(side, "width" if side is request.width else "height")
    if not isinstance(request.num_images, int) or request.num_images < 1:
        raise InvalidRequest("num_images must be at least 1", provider=NAME)
    if not isinstance(request.seed, int) or isinstance(request.seed, bool):
        raise InvalidRequest("seed must be an integer", provider=NAME)
    strength = request.strength
    if not isinstance(strength, int | float) or not 0.0 <= float(strength) <= 1.0:
        raise InvalidRequest(f"strength must be 0..1, got {strength!r}", provider=NAME)
    if not isinstance(request.prompt, str):
        raise InvalidRequest("prompt must be text", provider=NAME)
    if request.mask is not None and not isinstance(request.mask, Image.Image):
        raise InvalidRequest("mask must be a decoded picture", provider=NAME)


def upright_rgb(image: Image.Image) -> Image.Image:
    """The photo turned upright (EXIF orientation), in RGB, transparency flattened onto white."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


class ClassicalStylizer:
    """Offline image-to-image: classical stylisation filters and person-on-location compositing."""

    name = NAME

    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                id=NAME,
                provider=NAME,
                kind="procedural",
                capabilities=("image_to_image",),
                description="Built-in offline stylizer: cartoon, sketch, colour pencil, "
                "watercolour, oil, ink wash, pop art, pixel art and vintage filters; a person "
                "found in the photo can be placed in a drawn location. No weights, no network.",
                max_width=MAX_SIDE,
                max_height=MAX_SIDE,
                max_images=8,
                supports_negative_prompt=False,
                default_steps=4,
            )
        ]

    def image_to_image(
        self, request: ImageToImageRequest, on_progress: ProgressCallback | None = None
    ) -> ImageResult:
        validate(request)
        source = upright_rgb(request.image)
        width, height = output_size(request, source.size)
        style = parse_style(request.prompt) or DEFAULT_STYLE
        location = backgrounds.find_location(request.prompt)
        strength = float(request.strength)
        total = 1 + 3 * request.num_images
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if on_progress is not None:
                on_progress(done, total)

        photo = segment.cover(filters.as_rgb(source), (width, height))
        region: filters.F32 | None = None
        if request.mask is not None:
            covered = segment.cover(np.asarray(request.mask.convert("L")), (width, height))
            region = covered[:, :, :1].astype(np.float32) / np.float32(255.0)
        person = segment.person_mask(photo) if location is not None else None
        tick()  # segmentation

        images = []
        for i in range(request.num_images):
            seed = request.seed + i
            scene = photo
            if location is not None and person is not None:
                bg = backgrounds.render_background(location, width, height, seed)
                scene = np.asarray(segment.composite(photo, person, bg, shadow=0.3), np.uint8)
            tick()  # background
            styled = filters.apply(style, scene, strength, seed)
            tick()  # filter
            if region is not None:
                blended = photo * (1.0 - region) + styled * region
                styled = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
            images.append(GeneratedImage(image=Image.fromarray(styled, "RGB"), seed=seed))
            tick()  # finish

        metadata = {
            "style": style,
            "location": location or "none",
            "person": "not_checked" if location is None else
            ("found" if person is not None else "not_found"),
            "composited": str(location is not None and person is not None).lower(),
            "strength": f"{strength:.2f}",
        }  # fmt: skip
        return ImageResult(images=tuple(images), provider=NAME, model=NAME, metadata=metadata)
