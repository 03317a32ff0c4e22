"""Manga: a story in, a lettered page out, panel by panel (issue 6).

The engine's steps, each usable on its own:

- :func:`write_scenes` — story -> :class:`Script` (panels, characters, captions, dialogue) with
  a :class:`StoryWriter`: ``offline`` rules or an OpenAI-compatible ``chat`` API;
- :func:`choose_layout` — the page layout for the script's panel count;
- :func:`panel_prompts` — one :class:`PanelPrompt` per panel: manga style preset, the same
  character sheet in every prompt, the cell's size, a seed derived from the job's base seed;
  :func:`regenerate` makes a panel's next version;
- :func:`compose_page` — panel images -> a lettered page (:class:`PageResult`);
- :func:`export` — pages as PNG, WebP, PDF or CBZ;
- :func:`make_page` — all of it in one call.

See ``docs/manga.md``.
"""

import importlib
from typing import TYPE_CHECKING, Any

# loaded at once (it is light): the function ``export`` must shadow the submodule of that name
from atelier.manga.export import Export, encode_page, export, export_cbz, export_pdf

if TYPE_CHECKING:
    from atelier.manga.chat import ChatWriter, ScriptInvalid
    from atelier.manga.compose import PageResult, PlacedPanel, PlacedText, compose_page
    from atelier.manga.engine import MangaRun, make_page, procedural_draw
    from atelier.manga.layout import Layout, choose_layout, make_layout
    from atelier.manga.models import (
        Character,
        Dialogue,
        MangaOptions,
        Panel,
        PanelPrompt,
        Script,
    )
    from atelier.manga.offline import OfflineWriter
    from atelier.manga.prompts import (
        base_seed,
        character_sheet,
        panel_prompts,
        panel_seed,
        regenerate,
    )
    from atelier.manga.writers import (
        StoryWriter,
        build_writer,
        register_writer,
        write_scenes,
        writer_kinds,
    )

#: Where each public name lives. The modules load on first use, so that importing a light part
#: of the package (its database models, its CLI command) does not load OpenCV or the HTTP
#: client.
_LAZY = {
    "Character": "atelier.manga.models",
    "ChatWriter": "atelier.manga.chat",
    "Dialogue": "atelier.manga.models",
    "Layout": "atelier.manga.layout",
    "MangaOptions": "atelier.manga.models",
    "MangaRun": "atelier.manga.engine",
    "OfflineWriter": "atelier.manga.offline",
    "PageResult": "atelier.manga.compose",
    "Panel": "atelier.manga.models",
    "PanelPrompt": "atelier.manga.models",
    "PlacedPanel": "atelier.manga.compose",
    "PlacedText": "atelier.manga.compose",
    "Script": "atelier.manga.models",
    "ScriptInvalid": "atelier.manga.chat",
    "StoryWriter": "atelier.manga.writers",
    "base_seed": "atelier.manga.prompts",
    "build_writer": "atelier.manga.writers",
    "character_sheet": "atelier.manga.prompts",
    "choose_layout": "atelier.manga.layout",
    "compose_page": "atelier.manga.compose",
    "make_layout": "atelier.manga.layout",
    "make_page": "atelier.manga.engine",
    "panel_prompts": "atelier.manga.prompts",
    "panel_seed": "atelier.manga.prompts",
    "procedural_draw": "atelier.manga.engine",
    "regenerate": "atelier.manga.prompts",
    "register_writer": "atelier.manga.writers",
    "write_scenes": "atelier.manga.writers",
    "writer_kinds": "atelier.manga.writers",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Character",
    "ChatWriter",
    "Dialogue",
    "Export",
    "Layout",
    "MangaOptions",
    "MangaRun",
    "OfflineWriter",
    "PageResult",
    "Panel",
    "PanelPrompt",
    "PlacedPanel",
    "PlacedText",
    "Script",
    "ScriptInvalid",
    "StoryWriter",
    "base_seed",
    "build_writer",
    "character_sheet",
    "choose_layout",
    "compose_page",
    "encode_page",
    "export",
    "export_cbz",
    "export_pdf",
    "make_layout",
    "make_page",
    "panel_prompts",
    "panel_seed",
    "procedural_draw",
    "regenerate",
    "register_writer",
    "write_scenes",
    "writer_kinds",
]
