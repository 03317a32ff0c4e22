"""The whole engine in one call: story -> script -> panel prompts -> panel images -> page.

:func:`make_page` is what a task runs when it draws the panels itself; a parent task that
spawns one child per panel calls the steps separately (:func:`~atelier.manga.write_scenes`,
:func:`~atelier.manga.choose_layout`, :func:`~atelier.manga.panel_prompts`, then
:func:`~atelier.manga.compose_page` once the children's images exist). Panel images come from
``draw`` (one call per prompt, for example through the provider policy), else from
``panel_images``, else from the built-in offline ``procedural`` model (:func:`procedural_draw`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image

from atelier.manga.compose import PageResult, compose_page
from atelier.manga.layout import Layout, choose_layout
from atelier.manga.models import MangaOptions, PanelPrompt, Script
from atelier.manga.prompts import panel_prompts
from atelier.manga.writers import StoryWriter, write_scenes

Draw = Callable[[PanelPrompt], Image.Image]


@dataclass(frozen=True)
class MangaRun:
    script: Script
    layout: Layout
    prompts: tuple[PanelPrompt, ...]
    images: tuple[Image.Image, ...]
    page: PageResult


def procedural_draw(prompt: PanelPrompt) -> Image.Image:
    """A panel from the built-in offline ``procedural`` model (no weights, no network)."""
    from atelier.providers.base import TextToImageRequest
    from atelier.providers.procedural import ProceduralProvider

    request = TextToImageRequest(
        prompt=prompt.prompt,
        negative_prompt=prompt.negative_prompt,
        width=prompt.width,
        height=prompt.height,
        seed=prompt.seed,
        model="procedural",
    )
    return ProceduralProvider().text_to_image(request).images[0].image


def make_page(
    story: str,
    options: MangaOptions | None = None,
    *,
    writer: StoryWriter | None = None,
    draw: Draw | None = None,
    panel_images: Sequence[Image.Image] | None = None,
) -> MangaRun:
    options = options or MangaOptions()
    script = write_scenes(story, options, writer)
    layout = choose_layout(script, options)
    prompts = panel_prompts(script, options, layout=layout)
    if panel_images is not None:
        images = list(panel_images)
    else:
        images = [(draw or procedural_draw)(prompt) for prompt in prompts]
    page = compose_page(script, images, options, layout=layout)
    return MangaRun(script, layout, tuple(prompts), tuple(images), page)
