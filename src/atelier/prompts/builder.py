"""PromptBuilder: a style, a location and the user's words in; a provider-ready prompt out.

The prompt is ``free text, style fragment, location fragment`` joined with ``", "`` (English)
or the fullwidth comma U+FF0C (Chinese). The user's own words come first: CLIP-based models
read only the first 77 tokens, and a long preset must never push the request out of them.

The negative prompt is a short base list, then the style's and the location's negative
fragments, with repeated terms removed. A provider that takes no negative prompt (OpenAI,
VolcEngine Ark) gets it folded into the prompt as ``Avoid: ...`` (or its Chinese form) instead.

Parameters: a preset suggests ``strength``, ``guidance`` and ``steps``. The builder takes the
larger ``strength`` and ``steps`` of the style and the location (putting a subject somewhere new
needs at least the freedom the style asks for), the style's ``guidance`` else the location's,
then the caller's ``params`` on top, and maps the result with
:func:`atelier.prompts.mapping.map_params`.

Language: preset fragments are taken in the requested language when the provider understands
it, else in the provider's first language (local CLIP models read English only); free text is
passed through as written. :attr:`BuiltPrompt.language` says which was used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from atelier.errors import ValidationFailed
from atelier.prompts.mapping import map_params, provider_spec
from atelier.prompts.presets import Language, Preset, PresetLibrary, parse_language

SEPARATORS: Final[dict[Language, str]] = {"en": ", ", "zh": "，"}  # noqa: RUF001
BASE_NEGATIVE: Final[dict[Language, str]] = {
    "en": "lowres, blurry, jpeg artifacts, watermark, signature, deformed hands, extra fingers",
    "zh": "低分辨率，模糊，压缩噪点，水印，签名，手部畸形，多余的手指",  # noqa: RUF001
}
AVOID: Final[dict[Language, str]] = {"en": "Avoid: ", "zh": "避免："}  # noqa: RUF001
MAX_FREE_TEXT: Final = 1000
_TERM_SPLIT = re.compile(r"\s*[,，、;；]\s*")  # noqa: RUF001
_TRIM = " \t\r\n,，。.;；、"  # noqa: RUF001


@dataclass(frozen=True)
class BuiltPrompt:
    prompt: str
    negative_prompt: str
    params: dict[str, Any]
    language: Language
    provider: str


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(_TRIM)


def _terms(fragments: list[str]) -> list[str]:
    """Comma-separated terms of all fragments, first occurrence kept (case-insensitive)."""
    seen: set[str] = set()
    out: list[str] = []
    for fragment in fragments:
        for term in _TERM_SPLIT.split(fragment):
            term = _clean(term)
            if term and term.lower() not in seen:
                seen.add(term.lower())
                out.append(term)
    return out


def suggested_params(style: Preset | None, location: Preset | None) -> dict[str, Any]:
    """The merged suggestions of a style and a location (see the module docstring)."""
    presets = [p for p in (style, location) if p is not None]
    merged: dict[str, Any] = {}
    strengths = [p.params.strength for p in presets if p.params.strength is not None]
    if strengths:
        merged["strength"] = max(strengths)
    steps = [p.params.steps for p in presets if p.params.steps is not None]
    if steps:
        merged["steps"] = max(steps)
    for preset in presets:  # style first
        if preset.params.guidance is not None:
            merged["guidance"] = preset.params.guidance
            break
    return merged


class PromptBuilder:
    def __init__(self, library: PresetLibrary | None = None) -> None:
        self.library = library if library is not None else PresetLibrary()

    def build(
        self,
        style_id: str | None = None,
        location_id: str | None = None,
        free_text: str = "",
        language: str = "en",
        provider: str = "diffusers",
        *,
        params: Mapping[str, Any] | None = None,
        image_to_image: bool = True,
        size_multiple: int | None = None,
    ) -> BuiltPrompt:
        """Build the prompt, negative prompt and provider parameters.

        Unknown preset ids raise :class:`~atelier.prompts.presets.UnknownPreset` (404); a bad
        language, over-long text or nothing to build from raise :class:`ValidationFailed`.
        ``image_to_image=False`` leaves ``strength`` out (text-to-image).
        """
        requested = parse_language(language)
        spec = provider_spec(provider)
        lang: Language = requested if requested in spec.languages else spec.languages[0]
        style = self.library.style(style_id) if style_id else None
        location = self.library.location(location_id) if location_id else None
        text = _clean(free_text)
        if len(text) > MAX_FREE_TEXT:
            raise ValidationFailed(
                f"free text is longer than {MAX_FREE_TEXT} characters",
                details={"field": "free_text", "max_length": MAX_FREE_TEXT},
            )
        if style is None and location is None and not text:
            raise ValidationFailed(
                "give a style, a location or some text", details={"field": "free_text"}
            )

        sep = SEPARATORS[lang]
        parts = [text] + [_clean(p.prompt.get(lang)) for p in (style, location) if p is not None]
        prompt = sep.join(part for part in parts if part)
        negatives = [BASE_NEGATIVE[lang]] + [
            p.negative.get(lang) for p in (style, location) if p is not None
        ]
        negative = sep.join(_terms(negatives))
        if not spec.negative_prompt:
            if negative:
                prompt = f"{prompt}{'. ' if lang == 'en' else '。'}{AVOID[lang]}{negative}"
            negative = ""
        self._check_length(prompt, spec.max_prompt_chars, "prompt")
        self._check_length(negative, spec.max_negative_chars, "negative_prompt")

        merged = suggested_params(style, location)
        if not image_to_image:
            merged.pop("strength", None)
        merged.update(params or {})
        mapped = map_params(provider, merged, size_multiple=size_multiple)
        return BuiltPrompt(prompt, negative, mapped, lang, provider)

    @staticmethod
    def _check_length(text: str, limit: int | None, name: str) -> None:
        if limit is not None and len(text) > limit:
            raise ValidationFailed(
                f"the {name} is {len(text)} characters; this provider takes at most {limit}",
                details={"field": name, "max_length": limit, "length": len(text)},
            )
