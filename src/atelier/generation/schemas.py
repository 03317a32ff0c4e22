"""Parameters of a ``generate`` task (the original platform's field names)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_SEED = 2**32 - 1


class GenerateParams(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    prompt: str = Field(min_length=1, max_length=4000, description="What to draw.")
    negative_prompt: str = Field(default="", max_length=4000, description="What to avoid.")
    model: str | None = Field(default=None, description="Model id from `GET /api/v1/models`.")
    width: int = Field(default=512, ge=64, le=4096, description="Width in pixels.")
    height: int = Field(default=512, ge=64, le=4096, description="Height in pixels.")
    num_images: int = Field(default=1, ge=1, le=16, description="Images in this task.")
    steps: int = Field(default=8, ge=1, le=200, description="Sampling steps.")
    scale: float = Field(default=0.0, ge=0.0, le=30.0, description="Guidance scale.")
    seed: int | None = Field(
        default=None, ge=0, le=MAX_SEED, description="Seed; chosen at random when absent."
    )

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("prompt must not be blank")
        return value
