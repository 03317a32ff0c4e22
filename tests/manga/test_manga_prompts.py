"""Panel prompts: style preset, character sheet in every prompt, sizes, seed policy."""

from __future__ import annotations

import re

import pytest

from atelier.manga import (
    MangaOptions,
    Script,
    base_seed,
    character_sheet,
    choose_layout,
    panel_prompts,
    panel_seed,
    regenerate,
    write_scenes,
)
from atelier.manga.models import MAX_SEED, Character, Panel
from atelier.manga.prompts import NO_TEXT, panel_size
from atelier.prompts import PresetLibrary, UnknownPreset
from atelier.prompts.mapping import PROVIDERS

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("provider", ["procedural", "diffusers", "dashscope", "openai", "noop"])
@pytest.mark.parametrize("story_fixture", ["zh_story", "en_story"])
def test_every_prompt_carries_the_style_and_the_same_character_sheet(
    request: pytest.FixtureRequest, story_fixture: str, provider: str
) -> None:
    script = write_scenes(request.getfixturevalue(story_fixture), MangaOptions(panels=4))
    options = MangaOptions(provider=provider)
    prompts = panel_prompts(script, options)

    language = prompts[0].language
    assert language in PROVIDERS[provider].languages
    assert language == (
        script.language if script.language in PROVIDERS[provider].languages else "en"
    )
    style = PresetLibrary().style("manga-lineart")
    sheet = character_sheet(script, language)
    assert sheet and len(prompts) == script.total_panels
    for prompt, panel in zip(prompts, script.panels, strict=True):
        assert prompt.panel_number == panel.panel_number
        assert prompt.character_sheet == sheet
        assert sheet in prompt.prompt
        for character in script.characters:
            assert character.name in prompt.prompt
        assert style.prompt.get(language) in prompt.prompt
        if PROVIDERS[provider].negative_prompt:
            assert NO_TEXT[language] in prompt.negative_prompt
        else:
            assert prompt.negative_prompt == "" and NO_TEXT[language] in prompt.prompt
        limit = PROVIDERS[provider].max_prompt_chars
        assert limit is None or len(prompt.prompt) <= limit


def test_a_chinese_script_for_an_english_only_model_is_prompted_in_english(
    zh_story: str,
) -> None:
    script = write_scenes(zh_story, MangaOptions(panels=3))
    prompts = panel_prompts(script, MangaOptions(provider="diffusers"))
    for prompt, panel in zip(prompts, script.panels, strict=True):
        assert prompt.language == "en"
        for character in script.characters:
            assert character.description_en in prompt.prompt
        words = CJK.sub("", prompt.prompt)  # only the names are Chinese
        names = "".join(c.name for c in script.characters)
        assert set(CJK.findall(prompt.prompt)) <= set(names)
        assert panel.visual_tags[0] in words


def test_the_scene_comes_before_the_sheet(en_story: str) -> None:
    script = write_scenes(en_story, MangaOptions(panels=3))
    for prompt, panel in zip(panel_prompts(script), script.panels, strict=True):
        assert prompt.prompt.index(panel.scene_description[:30]) < prompt.prompt.index(
            prompt.character_sheet
        )


def test_a_long_script_is_shortened_to_the_providers_limit() -> None:
    characters = tuple(
        Character(name=f"角色{i}", description="穿着非常华丽复杂的长袍。" * 6) for i in range(8)
    )
    panel = Panel(panel_number=1, scene_description="一个非常非常长的场景描述。" * 60)
    script = Script(language="zh", characters=characters, panels=(panel,))
    (prompt,) = panel_prompts(script, MangaOptions(provider="dashscope"))
    assert len(prompt.prompt) <= 800  # dashscope's limit
    assert prompt.character_sheet in prompt.prompt
    for character in characters:
        assert character.name in prompt.prompt


def test_sizes_follow_the_layout_cells(en_story: str) -> None:
    script = write_scenes(en_story, MangaOptions(panels=5))
    options = MangaOptions(panel_long_side=768)
    layout = choose_layout(script, options)
    for prompt, cell in zip(panel_prompts(script, options), layout.cells, strict=True):
        assert prompt.width % 64 == 0 and prompt.height % 64 == 0
        assert max(prompt.width, prompt.height) == 768
        cell_ratio = (cell[2] - cell[0]) / (cell[3] - cell[1])
        assert abs(prompt.width / prompt.height - cell_ratio) < 0.2 * max(1.0, cell_ratio)
        assert prompt.params["width"] == prompt.width and prompt.params["seed"] == prompt.seed


def test_panel_size_rounds_and_bounds_the_ratio() -> None:
    assert panel_size((0, 0, 1000, 500), 1024) == (1024, 512)
    assert panel_size((0, 0, 300, 900), 1024) == (320, 1024)
    assert panel_size((0, 0, 5000, 100), 1024) == (1024, 320)  # at most 3:1


def test_seed_policy(zh_story: str) -> None:
    script = write_scenes(zh_story, MangaOptions(panels=4))
    first = panel_prompts(script, MangaOptions())
    again = panel_prompts(script, MangaOptions())
    assert [p.seed for p in first] == [p.seed for p in again]  # a retried job draws the same
    assert len({p.seed for p in first}) == len(first)  # each panel its own
    assert all(0 <= p.seed <= MAX_SEED for p in first)
    assert {p.base_seed for p in first} == {base_seed(script)}

    chosen = panel_prompts(script, MangaOptions(seed=42))
    assert {p.base_seed for p in chosen} == {42}
    assert [p.seed for p in chosen] == [panel_seed(42, n) for n in range(1, 5)]
    assert [p.seed for p in chosen] != [p.seed for p in first]
    other = write_scenes(zh_story.replace("港口", "码头"), MangaOptions(panels=4))
    assert base_seed(other) != base_seed(script)


def test_regenerate_draws_a_new_seed_unless_given(en_story: str) -> None:
    script = write_scenes(en_story, MangaOptions(panels=3))
    options = MangaOptions(seed=7, provider="dashscope")
    prompts = panel_prompts(script, options)
    second = regenerate(script, prompts[1], options)
    assert second.version == 2 and second.panel_number == 2
    assert second.seed == panel_seed(7, 2, 2) != prompts[1].seed
    assert second.prompt == prompts[1].prompt and second.provider == "dashscope"
    assert (second.width, second.height) == (prompts[1].width, prompts[1].height)
    assert regenerate(script, prompts[1], options) == second  # deterministic
    third = regenerate(script, second, options)
    assert third.version == 3 and third.seed not in (second.seed, prompts[1].seed)
    fixed = regenerate(script, second, options, seed=123)
    assert fixed.seed == 123 and fixed.version == 3


def test_an_unknown_style_is_refused(en_story: str) -> None:
    script = write_scenes(en_story)
    with pytest.raises(UnknownPreset):
        panel_prompts(script, MangaOptions(style="no-such-style"))
