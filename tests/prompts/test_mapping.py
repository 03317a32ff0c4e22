"""Per-provider parameter mapping: names, clamping, size formats and rejections."""

from __future__ import annotations

import math
import random
import re

import pytest
from PIL import Image

from atelier.errors import ValidationFailed
from atelier.prompts.mapping import (
    OPENAI_SIZES,
    PROVIDERS,
    UnknownProvider,
    fit_size,
    map_params,
)
from atelier.providers.base import ImageToImageRequest


@pytest.mark.parametrize(
    ("width", "height", "size"),
    [
        (512, 512, "1024x1024"),
        (1600, 900, "1536x1024"),
        (900, 1600, "1024x1536"),
        (1100, 1000, "1024x1024"),
    ],
)
def test_openai_snaps_to_the_closest_fixed_size(width: int, height: int, size: str) -> None:
    assert map_params("openai", {"width": width, "height": height}) == {"size": size}


def test_openai_keeps_only_the_count_and_clamps_it() -> None:
    params = {"steps": 30, "guidance": 7.0, "strength": 0.5, "seed": 3, "num_images": 50}
    assert map_params("openai", params) == {"n": 10}
    assert map_params("openai", {"num_images": 0}) == {"n": 1}


def test_dashscope_size_format_and_ranges() -> None:
    out = map_params(
        "dashscope",
        {"width": 2000, "height": 1000, "num_images": 9, "seed": -4, "strength": 2, "steps": 9},
    )
    assert out == {"size": "1440*720", "strength": 1.0, "seed": 0, "n": 4}
    assert map_params("dashscope", {"width": 300, "height": 300}) == {"size": "512*512"}
    assert map_params("dashscope", {"width": 1024, "height": 768}) == {"size": "1024*768"}


def test_volcengine_size_guidance_and_resolution() -> None:
    out = map_params(
        "volcengine", {"width": 4000, "height": 4000, "guidance": 15, "seed": -9, "steps": 50}
    )
    assert out == {"size": "2048x2048", "guidance_scale": 10.0, "seed": -1}
    assert map_params("volcengine", {"guidance": 0})["guidance_scale"] == 1.0
    assert map_params("volcengine", {"resolution": "2K"}) == {"size": "2K"}
    explicit = {"resolution": "4K", "width": 800, "height": 600}
    assert map_params("volcengine", explicit) == {"size": "800x600"}
    # other providers have no use for a resolution preset
    assert map_params("dashscope", {"resolution": "2K"}) == {}


def test_diffusers_uses_request_field_names_and_multiples() -> None:
    out = map_params(
        "diffusers",
        {
            "width": 1000,
            "height": 700,
            "steps": 500,
            "guidance": -2,
            "strength": 0,
            "seed": 2**40,
            "num_images": 20,
        },
    )
    assert out == {
        "width": 1000,
        "height": 704,
        "steps": 150,
        "guidance_scale": 0.0,
        "strength": 0.01,
        "seed": 2**32 - 1,
        "num_images": 8,
    }
    sixteen = map_params("diffusers", {"width": 1000, "height": 700}, size_multiple=16)
    assert sixteen == {"width": 1008, "height": 704}
    # the local providers' output is a valid ImageToImageRequest
    request = ImageToImageRequest(image=Image.new("RGB", (8, 8)), prompt="p", **out)
    assert request.guidance_scale == 0.0


def test_procedural_ignores_guidance() -> None:
    assert map_params("procedural", {"guidance": 7, "steps": 80}) == {"steps": 50}


def test_none_values_are_absent_and_floats_are_rounded_for_integers() -> None:
    assert map_params("diffusers", {"seed": None, "steps": 29.6}) == {"steps": 30}
    assert map_params("diffusers", {"steps": 28.5}) == {"steps": 29}  # half up, not to even


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cfg": 7}, "unknown parameter"),
        ({"width": 512}, "together"),
        ({"height": 512}, "together"),
        ({"width": 512.5, "height": 512}, "positive integer"),
        ({"width": 0, "height": 512}, "positive integer"),
        ({"steps": True}, "finite number"),
        ({"steps": "30"}, "finite number"),
        ({"guidance": math.nan}, "finite number"),
        ({"resolution": "8K"}, "resolution"),
    ],
)
def test_bad_params_are_rejected(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        map_params("diffusers", params)


def test_unknown_provider() -> None:
    with pytest.raises(UnknownProvider, match="known: dashscope, diffusers"):
        map_params("midjourney", {})


def test_fit_size_keeps_aspect_inside_bounds() -> None:
    assert fit_size(800, 600, lo=512, hi=1440) == (800, 600)
    assert fit_size(3000, 1500, lo=512, hi=1440) == (1440, 720)
    assert fit_size(400, 200, lo=512, hi=1440) == (1024, 512)
    # an aspect ratio the bounds cannot hold is clamped
    assert fit_size(5000, 100, lo=512, hi=1440) == (1440, 512)


SIZE_RULES = {
    "dashscope": (re.compile(r"^(\d+)\*(\d+)$"), 512, 1440, 1),
    "volcengine": (re.compile(r"^(\d+)x(\d+)$"), 512, 2048, 1),
}


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_random_sizes_always_satisfy_the_provider(provider: str) -> None:
    rng = random.Random(provider)
    for _ in range(300):
        width, height = rng.randint(1, 6000), rng.randint(1, 6000)
        out = map_params(provider, {"width": width, "height": height})
        if provider == "openai":
            assert tuple(map(int, out["size"].split("x"))) in OPENAI_SIZES
            continue
        if provider in SIZE_RULES:
            pattern, lo, hi, multiple = SIZE_RULES[provider]
            match = pattern.match(out["size"])
            assert match, out
            sides = [int(match.group(1)), int(match.group(2))]
        else:
            lo, hi, multiple = 64, 2048, 8
            sides = [out["width"], out["height"]]
        for side in sides:
            assert lo <= side <= hi, (width, height, out)
            assert side % multiple == 0, (width, height, out)
        if lo * 4 <= min(width, height) and max(width, height) <= hi:
            # comfortably in range: the aspect ratio survives within rounding
            assert abs(sides[0] / sides[1] - width / height) < 0.05 * (width / height)
