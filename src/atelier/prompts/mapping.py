"""Provider parameter mapping: one set of canonical parameters in, each backend's names out.

Canonical parameters (all optional): ``width`` and ``height`` (together), ``steps``,
``guidance``, ``strength``, ``seed``, ``num_images`` and ``resolution`` (``1K``/``2K``/``4K``,
only VolcEngine Ark uses it). Any other name is a :class:`ValidationFailed`. A parameter the
provider has no use for is dropped; a value out of range is clamped; sizes are snapped to what
the provider accepts. Nothing here talks to a provider.

==========  ============================  ===================  ================  =============
provider    size                          steps / guidance     strength          seed / count
==========  ============================  ===================  ================  =============
openai      ``size`` one of 1024x1024,    dropped              dropped           seed dropped;
            1536x1024, 1024x1536 (the                                            ``n`` 1-10
            closest aspect ratio)
dashscope   ``size`` ``"W*H"``, each      dropped              ``strength``      ``seed``
            side 512-1440                                      0-1 (image edit)  0-2³¹-1;
                                                                                 ``n`` 1-4
volcengine  ``size`` ``"WxH"``, each      guidance →           dropped           ``seed``
            side 512-2048, or the         ``guidance_scale``                     -1-2³¹-1;
            ``resolution`` (1K/2K/4K)     1-10; steps dropped                    count dropped
diffusers   ``width``/``height``,         ``steps`` 1-150,     ``strength``      ``seed``
            multiples of 8 (16 for Flux   ``guidance_scale``   0.01-1            0-2³²-1;
            / SD3: ``size_multiple``),    0-30                                   ``num_images``
            64-2048                                                              1-8
procedural  as diffusers, multiples of 8  ``steps`` 1-50;      ``strength`` 0-1  as diffusers
noop                                      guidance dropped
==========  ============================  ===================  ================  =============

The local providers (``diffusers``, ``procedural``, ``noop``) get the field names of
:class:`atelier.providers.base.ImageToImageRequest`, so the result can be passed to it as
keyword arguments. Remote providers get the names of their HTTP APIs.

:data:`PROVIDERS` also records which prompt languages a provider understands (CLIP-based
local models read English only) and whether it takes a negative prompt, for the builder.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from atelier.errors import ValidationFailed
from atelier.prompts.presets import Language

CANONICAL: Final = frozenset(
    {"width", "height", "steps", "guidance", "strength", "seed", "num_images", "resolution"}
)
OPENAI_SIZES: Final[tuple[tuple[int, int], ...]] = ((1024, 1024), (1536, 1024), (1024, 1536))
VOLCENGINE_RESOLUTIONS: Final = ("1K", "2K", "4K")
INT32_MAX: Final = 2**31 - 1


def _half_up(value: float) -> int:
    """Round half away from zero for positives (``round`` rounds half to even)."""
    return math.floor(value + 0.5)


class UnknownProvider(LookupError):
    def __init__(self, provider: str) -> None:
        super().__init__(
            f"no parameter mapping for provider {provider!r}; known: {', '.join(known())}"
        )
        self.provider = provider


@dataclass(frozen=True)
class Range:
    """One numeric parameter: its name at the provider and the range it is clamped to."""

    target: str
    lo: float
    hi: float
    integer: bool = False

    def clamp(self, value: float) -> float | int:
        clamped = min(max(value, self.lo), self.hi)
        return _half_up(clamped) if self.integer else float(clamped)


SizeMapper = Callable[[int, int, int | None], dict[str, Any]]


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    size: SizeMapper
    ranges: Mapping[str, Range]
    languages: tuple[Language, ...]
    negative_prompt: bool
    max_prompt_chars: int | None = None
    max_negative_chars: int | None = None
    resolutions: tuple[str, ...] = field(default=())


def fit_size(width: int, height: int, *, lo: int, hi: int, multiple: int = 1) -> tuple[int, int]:
    """Scale ``width`` x ``height`` into ``[lo, hi]`` per side keeping the aspect ratio where
    possible (an extreme ratio is clamped), then round each side to ``multiple``."""
    scale = 1.0
    if max(width, height) * scale > hi:
        scale = hi / max(width, height)
    if min(width, height) * scale < lo:
        scale = lo / min(width, height)
    low = math.ceil(lo / multiple) * multiple
    high = hi // multiple * multiple

    def side(value: int) -> int:
        snapped = _half_up(value * scale / multiple) * multiple
        return int(min(max(snapped, low), high))

    return side(width), side(height)


def _nearest_fixed(width: int, height: int, sizes: tuple[tuple[int, int], ...]) -> str:
    ratio = math.log(width / height)
    w, h = min(sizes, key=lambda s: abs(math.log(s[0] / s[1]) - ratio))
    return f"{w}x{h}"


def _openai_size(width: int, height: int, multiple: int | None) -> dict[str, Any]:
    return {"size": _nearest_fixed(width, height, OPENAI_SIZES)}


def _dashscope_size(width: int, height: int, multiple: int | None) -> dict[str, Any]:
    w, h = fit_size(width, height, lo=512, hi=1440, multiple=multiple or 1)
    return {"size": f"{w}*{h}"}


def _volcengine_size(width: int, height: int, multiple: int | None) -> dict[str, Any]:
    w, h = fit_size(width, height, lo=512, hi=2048, multiple=multiple or 1)
    return {"size": f"{w}x{h}"}


def _local_size(lo: int, hi: int, default_multiple: int) -> SizeMapper:
    def mapper(width: int, height: int, multiple: int | None) -> dict[str, Any]:
        w, h = fit_size(width, height, lo=lo, hi=hi, multiple=multiple or default_multiple)
        return {"width": w, "height": h}

    return mapper


_SEED_32 = Range("seed", 0, 2**32 - 1, integer=True)
_LOCAL_COUNT = Range("num_images", 1, 8, integer=True)
_PROCEDURAL_RANGES: Final = {
    "steps": Range("steps", 1, 50, integer=True),
    "strength": Range("strength", 0.0, 1.0),
    "seed": _SEED_32,
    "num_images": _LOCAL_COUNT,
}

PROVIDERS: Final[Mapping[str, ProviderSpec]] = {
    spec.name: spec
    for spec in (
        ProviderSpec(
            name="openai",
            size=_openai_size,
            ranges={"num_images": Range("n", 1, 10, integer=True)},
            languages=("en", "zh"),
            negative_prompt=False,
            max_prompt_chars=32000,
        ),
        ProviderSpec(
            name="dashscope",
            size=_dashscope_size,
            ranges={
                "strength": Range("strength", 0.0, 1.0),
                "seed": Range("seed", 0, INT32_MAX, integer=True),
                "num_images": Range("n", 1, 4, integer=True),
            },
            languages=("zh", "en"),
            negative_prompt=True,
            max_prompt_chars=800,
            max_negative_chars=500,
        ),
        ProviderSpec(
            name="volcengine",
            size=_volcengine_size,
            ranges={
                "guidance": Range("guidance_scale", 1.0, 10.0),
                "seed": Range("seed", -1, INT32_MAX, integer=True),
            },
            languages=("zh", "en"),
            negative_prompt=False,
            resolutions=VOLCENGINE_RESOLUTIONS,
        ),
        ProviderSpec(
            name="diffusers",
            size=_local_size(64, 2048, 8),
            ranges={
                "steps": Range("steps", 1, 150, integer=True),
                "guidance": Range("guidance_scale", 0.0, 30.0),
                "strength": Range("strength", 0.01, 1.0),
                "seed": _SEED_32,
                "num_images": _LOCAL_COUNT,
            },
            languages=("en",),
            negative_prompt=True,
        ),
        ProviderSpec(
            name="procedural",
            size=_local_size(64, 2048, 8),
            ranges=_PROCEDURAL_RANGES,
            languages=("en",),
            negative_prompt=True,
        ),
        ProviderSpec(
            name="noop",
            size=_local_size(64, 2048, 8),
            ranges=_PROCEDURAL_RANGES,
            languages=("en", "zh"),
            negative_prompt=True,
        ),
    )
}


def known() -> list[str]:
    return sorted(PROVIDERS)


def provider_spec(provider: str) -> ProviderSpec:
    try:
        return PROVIDERS[provider]
    except KeyError:
        raise UnknownProvider(provider) from None


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationFailed(
            f"parameter {name!r} must be a finite number", details={"field": name}
        )
    return float(value)


def _dimension(name: str, value: Any) -> int:
    number = _number(name, value)
    if number != int(number) or number < 1:
        raise ValidationFailed(
            f"parameter {name!r} must be a positive integer", details={"field": name}
        )
    return int(number)


def map_params(
    provider: str, params: Mapping[str, Any], *, size_multiple: int | None = None
) -> dict[str, Any]:
    """Translate canonical ``params`` into ``provider``'s names, ranges and size format.

    ``size_multiple`` overrides the provider's size multiple (16 for Flux or SD3 pipelines).
    ``None`` values are treated as absent. See the module docstring for the table.
    """
    spec = provider_spec(provider)
    given = {k: v for k, v in params.items() if v is not None}
    unknown = sorted(set(given) - CANONICAL)
    if unknown:
        raise ValidationFailed(
            f"unknown parameter(s): {', '.join(unknown)}",
            details={"unknown": unknown, "allowed": sorted(CANONICAL)},
        )
    if size_multiple is not None and size_multiple < 1:
        raise ValueError("size_multiple must be at least 1")
    out: dict[str, Any] = {}
    if ("width" in given) != ("height" in given):
        raise ValidationFailed(
            "give width and height together",
            details={"field": "width" if "width" in given else "height"},
        )
    resolution = given.get("resolution")
    if resolution is not None and resolution not in VOLCENGINE_RESOLUTIONS:
        raise ValidationFailed(
            f"resolution must be one of {', '.join(VOLCENGINE_RESOLUTIONS)}",
            details={"field": "resolution"},
        )
    if "width" in given:
        width, height = _dimension("width", given["width"]), _dimension("height", given["height"])
        out.update(spec.size(width, height, size_multiple))
    elif resolution is not None and resolution in spec.resolutions:
        out["size"] = resolution
    for name, rule in spec.ranges.items():
        if name in given:
            out[rule.target] = rule.clamp(_number(name, given[name]))
    return out
