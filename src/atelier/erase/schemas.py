"""The ``erase`` task's parameters."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_SEED = 2**32 - 1
Inpainter = Literal["auto", "opencv", "lama", "diffusers"]
SegmenterChoice = Literal["auto", "onnx", "people", "classical", "none"]


class RoiParams(BaseModel):
    """A rectangle in pixels of the uploaded photo."""

    model_config = ConfigDict(extra="forbid")

    x: int = Field(ge=0, description="Left edge, pixels.")
    y: int = Field(ge=0, description="Top edge, pixels.")
    width: int = Field(ge=1, description="Width, pixels.")
    height: int = Field(ge=1, description="Height, pixels.")


class RedrawParams(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    mode: Literal["blur", "color", "preset", "prompt"] = Field(
        description="`blur` the photo behind the subject, a solid `color`, a `preset` "
        "backdrop, or a picture drawn from a `prompt`."
    )
    color: str | None = Field(
        default=None, pattern=r"^#?[0-9a-fA-F]{6}$", description="`#rrggbb` (mode `color`)."
    )
    preset: str | None = Field(
        default=None,
        max_length=64,
        description="Studio backdrop (`studio-white`, `studio-grey`, `studio-dark`, "
        "`studio-blue`, `studio-warm`) or location (`beach`, `city`, ...) (mode `preset`).",
    )
    prompt: str | None = Field(
        default=None, min_length=1, max_length=1000, description="What to draw (mode `prompt`)."
    )
    model: str | None = Field(
        default=None,
        max_length=128,
        description="Text-to-image model or route for mode `prompt`; default "
        "`ATELIER_GENERATION__DEFAULT_MODEL`.",
    )
    blur_radius: float = Field(default=18.0, ge=1.0, le=200.0, description="Blur, pixels.")
    edge: float = Field(
        default=3.0, ge=0.0, le=50.0, description="Width of the blend at the subject's edge."
    )

    @model_validator(mode="after")
    def _needs_its_field(self) -> RedrawParams:
        wanted = {"color": self.color, "preset": self.preset, "prompt": self.prompt}
        if self.mode in wanted and not wanted[self.mode]:
            raise ValueError(f"redraw mode {self.mode!r} needs `{self.mode}`")
        return self


class EraseParams(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    image_id: str = Field(description="An uploaded image of yours (`POST /api/v1/images`).")
    min_confidence: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Text read with less confidence stays; default "
        "`ATELIER_ERASE__MIN_CONFIDENCE`.",
    )
    keep: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Text that must stay (a brand, a name): a line containing one of these "
        "keeps those characters; case, spaces and full-width forms do not matter.",
    )
    roi: RoiParams | None = Field(
        default=None, description="Only text inside this rectangle is erased."
    )
    inpainter: Inpainter | None = Field(
        default=None, description="Default `ATELIER_ERASE__INPAINTER`."
    )
    segmenter: SegmenterChoice | None = Field(
        default=None, description="Default `ATELIER_ERASE__SEGMENTER`."
    )
    mask_margin: int | None = Field(
        default=None, ge=0, le=20, description="Pixels the glyph mask is grown by."
    )
    second_pass: bool = Field(
        default=True, description="Erase again, wider, when text is still read."
    )
    redraw: RedrawParams | None = Field(
        default=None, description="Replace the background behind the subject."
    )
    seed: int | None = Field(
        default=None, ge=0, le=MAX_SEED, description="Seed of a prompt background."
    )

    @field_validator("keep")
    @classmethod
    def _no_empty_entries(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if any(not v for v in cleaned):
            raise ValueError("keep-list entries must not be empty")
        if any(len(v) > 200 for v in cleaned):
            raise ValueError("keep-list entries are at most 200 characters")
        return cleaned
