"""Story writers: the interface, the registry, and :func:`write_scenes`.

A writer turns a story into a :class:`~atelier.manga.models.Script`. Two ship:

- ``offline`` (:class:`~atelier.manga.offline.OfflineWriter`): rules and word lists, no
  network, deterministic;
- ``chat`` (:class:`~atelier.manga.chat.ChatWriter`): any OpenAI-compatible chat API
  (OpenAI, DeepSeek, Qwen, Gemini, Ollama, vLLM), configured under ``manga.chat``.

``manga.writer`` names the one :func:`build_writer` makes; :func:`register_writer` adds more
(a plugin's factory takes the manga settings).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from atelier.config import MangaSettings
from atelier.errors import ValidationFailed
from atelier.manga.models import MangaOptions, Script


@runtime_checkable
class StoryWriter(Protocol):
    """Turns a story into a script. Errors are :class:`atelier.errors.ValidationFailed` for
    a story that cannot be used and the provider error tree for a remote writer's trouble."""

    name: str

    def write(self, story: str, options: MangaOptions | None = None) -> Script: ...


WriterFactory = Callable[[MangaSettings], StoryWriter]


def _offline(settings: MangaSettings) -> StoryWriter:
    from atelier.manga.offline import OfflineWriter

    return OfflineWriter()


def _chat(settings: MangaSettings) -> StoryWriter:
    from atelier.manga.chat import ChatWriter

    return ChatWriter(settings.chat, max_story_chars=settings.max_story_chars)


_FACTORIES: dict[str, WriterFactory] = {"offline": _offline, "chat": _chat}


def register_writer(kind: str, factory: WriterFactory) -> None:
    """Offer another writer under ``kind`` (replacing one of that name)."""
    _FACTORIES[kind] = factory


def writer_kinds() -> list[str]:
    return sorted(_FACTORIES)


def build_writer(settings: MangaSettings, kind: str | None = None) -> StoryWriter:
    """The writer named by ``kind``, else by ``settings.writer``."""
    name = kind or settings.writer
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValidationFailed(
            f"unknown story writer {name!r}",
            details={"field": "writer", "allowed": writer_kinds()},
        ) from None
    return factory(settings)


def write_scenes(
    story: str, options: MangaOptions | None = None, writer: StoryWriter | None = None
) -> Script:
    """Story in, script out: with ``writer``, else the offline writer."""
    if writer is None:
        from atelier.manga.offline import OfflineWriter

        writer = OfflineWriter()
    return writer.write(story, options)
