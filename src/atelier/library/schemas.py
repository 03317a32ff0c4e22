"""Request and response bodies of the library API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["upload", "url", "generated"]


class TagOut(BaseModel):
    tag: str
    lang: str = Field(description="`en` or `zh`.")
    source: str = Field(description="`user` or `ai`.")
    origin: str = Field(description="Who said it: `user`, `vlm`, `clip`, `color`, `face`, ...")
    score: float


class NearDuplicate(BaseModel):
    image_id: str
    distance: int = Field(description="Hamming distance of the 64-bit perceptual hashes.")


class LibraryImageOut(BaseModel):
    image_id: str
    url: str
    thumbnail_url: str
    width: int
    height: int
    format: str
    content_type: str
    file_size: int
    source: str = Field(description="`upload`, `url` or `generated`.")
    original_filename: str | None
    source_url: str | None
    title: str | None
    description_en: str
    description_zh: str
    tags: list[TagOut]
    status: str = Field(description="Analysis: `pending`, `done` or `failed`.")
    analyzer: str | None
    tag_task_id: str | None
    sha256: str
    collections: list[str]
    created_at: datetime
    analyzed_at: datetime | None


class LibraryImageDetail(LibraryImageOut):
    analysis: dict[str, Any] | None = Field(
        description="Everything the analyser found: colours, faces, text, EXIF, safety score."
    )
    near_duplicates: list[NearDuplicate] = Field(
        default_factory=list,
        description="Your other images that look the same (perceptual hash within "
        "`LIBRARY__NEAR_DUPLICATE_DISTANCE` bits), nearest first.",
    )


class ImagePage(BaseModel):
    items: list[LibraryImageOut]
    next_cursor: str | None


class ImportItem(BaseModel):
    image_id: str
    status: Literal["created", "duplicate"]
    near_duplicates: list[NearDuplicate]
    task_id: str | None = Field(description="The image's `tag` task; none for a duplicate.")
    filename: str | None
    url: str | None


class ImportOut(BaseModel):
    items: list[ImportItem]
    batch_task_id: str | None = Field(
        description="With more than one item: the parent task whose progress covers every tag task."
    )


class ImagePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=200, description="`null` clears it.")
    tags: list[str] | None = Field(
        default=None, max_length=100, description="Replaces the user's tags."
    )


class PatchOut(BaseModel):
    image: LibraryImageDetail
    task_id: str | None = Field(description="The `tag` task that computes the new embedding.")


class Parts(BaseModel):
    vector: float
    tags: float
    text: float


class SearchHitOut(BaseModel):
    image: LibraryImageOut
    score: float
    parts: Parts
    matched: list[str] = Field(description="The parts that contributed: vector, tags, text.")


class SearchOut(BaseModel):
    query: str
    items: list[SearchHitOut]
    next_offset: int | None = Field(
        default=None, description="`offset` of the next page; `null` on the last one."
    )


class CollectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class CollectionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class CollectionOut(BaseModel):
    id: str
    name: str
    description: str
    image_count: int
    share_token: str | None
    created_at: datetime
    updated_at: datetime


class CollectionDetail(CollectionOut):
    items: list[LibraryImageOut] = Field(description="The newest 100 images.")


class CollectionPage(BaseModel):
    items: list[CollectionOut]


class ItemsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_ids: list[str] = Field(min_length=1, max_length=500)


class ShareOut(BaseModel):
    token: str
    url: str = Field(description="The shared listing as JSON (`GET /api/v1/shared/{token}`).")
    page_url: str = Field(description="The web page that shows it, to hand to a person.")


class SharedImage(BaseModel):
    image_id: str
    url: str
    thumbnail_url: str
    width: int
    height: int
    title: str | None
    description_en: str
    tags: list[str]


class SharedOut(BaseModel):
    name: str
    description: str
    items: list[SharedImage]
    expires_in: int = Field(description="Seconds the image URLs stay valid.")


class ReembedOut(BaseModel):
    task_id: str
    status: str
    created: bool
    plan: dict[str, Any]
