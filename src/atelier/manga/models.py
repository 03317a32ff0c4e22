"""The manga engine's data: a :class:`Script` of :class:`Panel`\\ s (what the writers make),
:class:`MangaOptions` (what a request may choose) and :class:`PanelPrompt` (what an image model
is asked for). Field names follow the manga spec where it pins them (``panel_number``,
``scene_description``, ``total_panels``, ``version``).

Every model is frozen. Texts are in the script's ``language``; ``description_en`` and
``visual_tags`` are English, for image models that read English only (local CLIP models).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

if TYPE_CHECKING:
    from atelier.config import MangaSettings

Language = Literal["zh", "en"]
Shot = Literal["wide", "medium", "close-up"]
MAX_PANELS: Final = 8
#: Seeds stay below 2**31 so that every provider's range accepts them.
MAX_SEED: Final = 2**31 - 1

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
Prose = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1200)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Character(_Frozen):
    """One entry of the character sheet: the same words describe the character in every
    panel prompt, which is what keeps a character recognisable from panel to panel."""

    name: Name
    description: Prose = ""
    description_en: Prose = ""


class Dialogue(_Frozen):
    """A spoken line; ``speaker`` is a character's name, or None when nobody can tell."""

    speaker: Name | None = None
    text: Line


class Panel(_Frozen):
    panel_number: int = Field(ge=1, le=MAX_PANELS)
    scene_description: Prose = Field(min_length=1)
    characters: tuple[Name, ...] = ()
    setting: Prose = ""
    caption: Prose = ""
    dialogue: tuple[Dialogue, ...] = Field(default=(), max_length=6)
    shot: Shot = "medium"
    visual_tags: tuple[Name, ...] = ()
    source_text: str = ""


class Script(_Frozen):
    """A story cut into panels, with the characters every panel may show."""

    language: Language
    title: str = ""
    characters: tuple[Character, ...] = ()
    panels: tuple[Panel, ...] = Field(min_length=1, max_length=MAX_PANELS)
    writer: str = "offline"

    @model_validator(mode="after")
    def _check(self) -> Script:
        numbers = [p.panel_number for p in self.panels]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"panel numbers must run 1..{len(numbers)}, not {numbers}")
        names = [c.name for c in self.characters]
        if len(set(names)) != len(names):
            raise ValueError("character names must be unique")
        return self

    @property
    def total_panels(self) -> int:
        return len(self.panels)

    def character(self, name: str) -> Character | None:
        return next((c for c in self.characters if c.name == name), None)


class MangaOptions(_Frozen):
    """What one manga request may choose. :meth:`from_settings` fills the defaults from
    ``settings.manga``; ``None`` margins, gutters and borders scale with the page width."""

    panels: int | None = Field(default=None, ge=1, le=MAX_PANELS)
    language: Language | None = None
    style: str = "manga-lineart"
    provider: str = "procedural"
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    layout: str | None = None
    page_width: int = Field(default=1240, ge=300, le=8000)
    page_ratio: float = Field(default=1.4142, gt=0.2, le=5)
    margin: int | None = Field(default=None, ge=0)
    gutter: int | None = Field(default=None, ge=0)
    border: int | None = Field(default=None, ge=0)
    panel_long_side: int = Field(default=1024, ge=256, le=2048)
    reading_direction: Literal["ltr", "rtl"] = "ltr"
    font_path: Path | None = None
    balloon_shape: Literal["ellipse", "rounded"] = "ellipse"
    detect_faces: bool = True
    max_story_chars: int = Field(default=20000, ge=1)
    page_format: Literal["png", "webp"] = "png"

    @classmethod
    def from_settings(cls, settings: MangaSettings, **overrides: Any) -> MangaOptions:
        values: dict[str, Any] = {
            "style": settings.style,
            "page_width": settings.page_width,
            "page_ratio": settings.page_ratio,
            "panel_long_side": settings.panel_long_side,
            "reading_direction": settings.reading_direction,
            "font_path": settings.font_path,
            "max_story_chars": settings.max_story_chars,
            "page_format": settings.page_format,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

    @property
    def page_size(self) -> tuple[int, int]:
        return self.page_width, round(self.page_width * self.page_ratio)

    @property
    def page_margin(self) -> int:
        return self.margin if self.margin is not None else round(self.page_width * 0.04)

    @property
    def page_gutter(self) -> int:
        return self.gutter if self.gutter is not None else max(4, round(self.page_width * 0.016))

    @property
    def panel_border(self) -> int:
        return self.border if self.border is not None else max(2, round(self.page_width / 400))


class PanelPrompt(_Frozen):
    """A panel's text-to-image request: prompt, negative prompt, size and seed, plus the
    provider's parameter names (``params``, from :func:`atelier.prompts.map_params`)."""

    panel_number: int = Field(ge=1, le=MAX_PANELS)
    prompt: str
    negative_prompt: str
    width: int
    height: int
    seed: int = Field(ge=0, le=MAX_SEED)
    base_seed: int = Field(ge=0, le=MAX_SEED)
    version: int = Field(default=1, ge=1)
    language: Language
    provider: str
    params: dict[str, Any] = Field(default_factory=dict)
    character_sheet: str = ""
