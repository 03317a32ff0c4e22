"""Style and location presets: ``GET /api/v1/presets`` and ``GET /api/v1/presets/{kind}/{id}``.

The language is ``?lang=zh|en`` (regional forms such as ``zh-CN`` are accepted); without it,
the first supported language of ``Accept-Language``, else English.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, Field

from atelier.errors import NotFound, ValidationFailed
from atelier.prompts.presets import (
    Language,
    Preset,
    PresetKind,
    PresetLibrary,
    Preview,
    SuggestedParams,
    parse_language,
)

router = APIRouter(prefix="/api/v1", tags=["presets"])
CACHE_CONTROL = "public, max-age=300"
#: Path spellings of each kind: the plural, as in the listing, and the singular.
_KIND_PATHS: dict[str, PresetKind] = {
    "styles": "style",
    "style": "style",
    "locations": "location",
    "location": "location",
}


class PresetSummary(BaseModel):
    id: str
    kind: PresetKind
    name: str
    description: str
    tags: list[str]
    preview: Preview
    params: SuggestedParams = Field(description="Suggested strength, guidance and steps.")


class PresetDetail(PresetSummary):
    language: Language
    prompt: str = Field(description="The fragment this preset adds to the prompt.")
    negative_prompt: str = Field(description="The fragment it adds to the negative prompt.")


class PresetListing(BaseModel):
    language: Language
    styles: list[PresetSummary]
    locations: list[PresetSummary]


@lru_cache(maxsize=1)
def default_library() -> PresetLibrary:
    """The built-in presets, for apps that did not set ``app.state.presets``."""
    return PresetLibrary()


def preset_library(request: Request) -> PresetLibrary:
    library = getattr(request.app.state, "presets", None)
    return library if isinstance(library, PresetLibrary) else default_library()


def language(
    lang: Annotated[
        str | None, Query(description="`zh` or `en`; default from Accept-Language, else `en`.")
    ] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Language:
    if lang is not None:
        return parse_language(lang)
    for item in (accept_language or "").split(","):
        tag = item.split(";", 1)[0].strip()
        try:
            return parse_language(tag)
        except ValidationFailed:
            continue
    return "en"


Library = Annotated[PresetLibrary, Depends(preset_library)]
Lang = Annotated[Language, Depends(language)]


def _summary(preset: Preset, kind: PresetKind, lang: Language) -> PresetSummary:
    return PresetSummary(
        id=preset.id,
        kind=kind,
        name=preset.name.get(lang),
        description=preset.description.get(lang),
        tags=list(preset.tags),
        preview=preset.preview,
        params=preset.params,
    )


@router.get("/presets", response_model=PresetListing)
def list_presets(library: Library, lang: Lang, response: Response) -> PresetListing:
    """Every style and location preset, named and described in one language."""
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Content-Language"] = lang
    return PresetListing(
        language=lang,
        styles=[_summary(p, "style", lang) for p in library.styles()],
        locations=[_summary(p, "location", lang) for p in library.locations()],
    )


@router.get("/presets/{kind}/{preset_id}", response_model=PresetDetail)
def get_preset(
    kind: str, preset_id: str, library: Library, lang: Lang, response: Response
) -> PresetDetail:
    """One preset with its prompt fragments. ``kind`` is ``styles`` or ``locations``."""
    preset_kind = _KIND_PATHS.get(kind)
    if preset_kind is None:
        raise NotFound(
            f"unknown preset kind {kind!r}; use styles or locations",
            details={"kind": kind, "allowed": ["styles", "locations"]},
        )
    preset = library.get(preset_kind, preset_id)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Content-Language"] = lang
    summary = _summary(preset, preset_kind, lang)
    return PresetDetail(
        **summary.model_dump(),
        language=lang,
        prompt=preset.prompt.get(lang),
        negative_prompt=preset.negative.get(lang),
    )
