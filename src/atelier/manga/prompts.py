# ruff: noqa: RUF001  (Chinese punctuation is what this module handles)
"""Panel prompts: each panel's text-to-image request, built with the shared PromptBuilder.

- **Style**: the ``manga-lineart`` style preset (or ``options.style``) through
  :class:`atelier.prompts.PromptBuilder`, which also adds the preset's negative prompt, folds
  it into the prompt for providers without one, and maps the parameters to the provider.
  Lettering is drawn by the engine, so "text, speech bubbles, letters" are always avoided.
- **Character sheet**: one bracketed text naming every character of the script with its
  fixed description, the same in every panel's prompt (what keeps characters consistent). It comes
  after the panel's own scene (models that read only the first tokens see the scene first) and
  is never shortened before the scene is.
- **Language**: the script's language when the provider reads it, else the provider's first
  language. A Chinese script for an English-only model uses the panels' English visual tags and
  the characters' English descriptions.
- **Size**: the panel's cell in the page layout, scaled so the long side is
  ``options.panel_long_side`` and rounded to multiples of 64.
- **Seeds**: one base seed per job (``options.seed``, else derived from the script, so a job
  retried after a crash draws the same panels) and per panel
  ``panel_seed(base, panel_number, version)``. Regenerating a panel (:func:`regenerate`) bumps
  its version and so draws a new seed, unless a seed is given.
"""

from __future__ import annotations

import hashlib

from atelier.errors import ValidationFailed
from atelier.manga.layout import Layout, choose_layout
from atelier.manga.models import MAX_SEED, Language, MangaOptions, Panel, PanelPrompt, Script
from atelier.manga.text import shorten
from atelier.prompts.builder import SEPARATORS, BuiltPrompt, PromptBuilder
from atelier.prompts.mapping import provider_spec

NO_TEXT = {"en": "text, speech bubbles, letters", "zh": "文字，对话气泡，字母"}
SHEET = {"en": "Character sheet: ", "zh": "角色设定："}
DESCRIPTION_CHARS = {"en": 120, "zh": 50}
MIN_SCENE = 24


def base_seed(script: Script, seed: int | None = None) -> int:
    """The job's base seed: ``seed`` when given, else derived from the script."""
    if seed is not None:
        return seed
    digest = hashlib.sha256(script.model_dump_json().encode()).digest()
    return int.from_bytes(digest[:8], "big") % (MAX_SEED + 1)


def panel_seed(base: int, panel_number: int, version: int = 1) -> int:
    """A panel's seed: fixed by the base seed, the panel and its version."""
    digest = hashlib.sha256(f"{base}:{panel_number}:{version}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (MAX_SEED + 1)


def prompt_language(script: Script, provider: str) -> Language:
    languages = provider_spec(provider).languages
    return script.language if script.language in languages else languages[0]


def character_sheet(script: Script, language: Language) -> str:
    """Every character with its fixed description, in ``language`` (see the docstring)."""
    entries = []
    for character in script.characters:
        if language == script.language:
            description = character.description or character.description_en
        else:
            description = character.description_en or character.description
        description = shorten(description, DESCRIPTION_CHARS[language], language)
        colon = "：" if language == "zh" else ": "
        entries.append(f"{character.name}{colon}{description}" if description else character.name)
    if not entries:
        return ""
    joiner = "；" if language == "zh" else "; "
    return f"{SHEET[language]}[{joiner.join(entries)}]"


def scene(panel: Panel, script: Script, language: Language) -> str:
    if language == script.language or not panel.visual_tags:
        return panel.scene_description
    count = len(panel.characters)
    people = {0: [], 1: ["one character"]}.get(count, [f"{count} characters"])
    names = [f"{n}" for n in panel.characters if n.isascii()]
    return ", ".join([*panel.visual_tags, *people, *names])


def panel_size(cell: tuple[int, int, int, int], long_side: int) -> tuple[int, int]:
    """The cell's aspect ratio at ``long_side`` pixels, in multiples of 64 (ratio kept within
    1:3 so that every provider can draw it)."""
    width, height = cell[2] - cell[0], cell[3] - cell[1]
    ratio = min(3.0, max(1 / 3, width / max(1, height)))
    w, h = (
        (float(long_side), long_side / ratio)
        if ratio >= 1
        else (long_side * ratio, float(long_side))
    )
    return max(64, round(w / 64) * 64), max(64, round(h / 64) * 64)


def _build(
    builder: PromptBuilder,
    options: MangaOptions,
    language: Language,
    text: str,
    size: tuple[int, int],
    seed: int,
) -> BuiltPrompt:
    return builder.build(
        style_id=options.style,
        free_text=text,
        language=language,
        provider=options.provider,
        params={"width": size[0], "height": size[1], "seed": seed},
        image_to_image=False,
    )


def _compose(scene_text: str, sheet: str, language: Language) -> str:
    end = "。" if language == "zh" else ". "
    return f"{scene_text.rstrip('。. ')}{end}{sheet}" if sheet else scene_text


def build_prompt(
    script: Script,
    panel: Panel,
    options: MangaOptions,
    size: tuple[int, int],
    seed: int,
    base: int,
    version: int = 1,
    builder: PromptBuilder | None = None,
) -> PanelPrompt:
    """One panel's prompt; the scene is shortened, then the sheet's descriptions, until the
    prompt fits the builder's and the provider's limits."""
    builder = builder or PromptBuilder()
    language = prompt_language(script, options.provider)
    sheet = character_sheet(script, language)
    scene_text = scene(panel, script, language)
    while True:
        try:
            built = _build(
                builder, options, language, _compose(scene_text, sheet, language), size, seed
            )
            break
        except ValidationFailed as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            if details.get("field") not in ("free_text", "prompt"):
                raise
            text = _compose(scene_text, sheet, language)
            over = int(details.get("length", len(text))) - int(details.get("max_length", 0))
            cut = max(8, over + 4)
            if len(scene_text) - cut >= MIN_SCENE:
                scene_text = shorten(scene_text, len(scene_text) - cut, language)
            elif len(sheet) > cut + 8:
                sheet = shorten(sheet, len(sheet) - cut, language)
            else:
                raise
    prompt, negative = built.prompt, built.negative_prompt
    separator = SEPARATORS[language]
    if provider_spec(options.provider).negative_prompt:
        negative = separator.join(p for p in (negative, NO_TEXT[language]) if p)
    else:
        prompt = f"{prompt}{separator}{NO_TEXT[language]}"
    return PanelPrompt(
        panel_number=panel.panel_number,
        prompt=prompt,
        negative_prompt=negative,
        width=size[0],
        height=size[1],
        seed=seed,
        base_seed=base,
        version=version,
        language=language,
        provider=options.provider,
        params=built.params,
        character_sheet=sheet,
    )


def panel_prompts(
    script: Script,
    options: MangaOptions | None = None,
    *,
    layout: Layout | None = None,
    builder: PromptBuilder | None = None,
) -> list[PanelPrompt]:
    """Every panel's prompt, sized for its cell in ``layout`` (default: the chosen one)."""
    options = options or MangaOptions()
    layout = layout or choose_layout(script, options)
    builder = builder or PromptBuilder()
    base = base_seed(script, options.seed)
    return [
        build_prompt(
            script,
            panel,
            options,
            panel_size(cell, options.panel_long_side),
            panel_seed(base, panel.panel_number),
            base,
            builder=builder,
        )
        for panel, cell in zip(script.panels, layout.cells, strict=True)
    ]


def regenerate(
    script: Script,
    prompt: PanelPrompt,
    options: MangaOptions | None = None,
    *,
    seed: int | None = None,
    builder: PromptBuilder | None = None,
) -> PanelPrompt:
    """The panel's next version: the same prompt and size with a new seed (``seed`` when
    given, else the next in the panel's derived sequence)."""
    options = (options or MangaOptions()).model_copy(update={"provider": prompt.provider})
    version = prompt.version + 1
    new_seed = (
        seed if seed is not None else panel_seed(prompt.base_seed, prompt.panel_number, version)
    )
    panel = script.panels[prompt.panel_number - 1]
    return build_prompt(
        script,
        panel,
        options,
        (prompt.width, prompt.height),
        new_seed,
        prompt.base_seed,
        version,
        builder,
    )
