"""PromptBuilder: composition order, languages, negatives, parameter merging and errors."""

# ruff: noqa: RUF001  (Chinese punctuation is what several of these tests check)

from __future__ import annotations

from pathlib import Path

import pytest

from atelier.errors import ValidationFailed
from atelier.prompts.builder import BASE_NEGATIVE, MAX_FREE_TEXT, PromptBuilder
from atelier.prompts.mapping import UnknownProvider
from atelier.prompts.presets import PresetLibrary, UnknownPreset

PRESETS = """
[[styles]]
id = "inky"
name = { en = "Inky", zh = "墨" }
description = { en = "Ink.", zh = "墨。" }
prompt = { en = "ink painting, soft mist,", zh = "水墨画，烟雨。" }
negative = { en = "colour, Blurry, watermark", zh = "彩色，模糊" }
params = { strength = 0.55, guidance = 9.0, steps = 20 }
preview = { colour = "#000000" }

[[styles]]
id = "plain"
name = { en = "Plain", zh = "素" }
description = { en = "Plain.", zh = "素。" }
prompt = { en = "plain style", zh = "朴素风格" }
preview = { colour = "#FFFFFF" }

[[locations]]
id = "lake"
name = { en = "Lake", zh = "湖" }
description = { en = "A lake.", zh = "湖。" }
prompt = { en = "by a quiet lake", zh = "在宁静的湖边" }
negative = { en = "crowds, colour", zh = "人群，彩色" }
params = { strength = 0.7, guidance = 4.0, steps = 40 }
preview = { colour = "#336699" }
"""


@pytest.fixture
def builder(tmp_path: Path) -> PromptBuilder:
    (tmp_path / "test.toml").write_text(PRESETS, encoding="utf-8")
    return PromptBuilder(PresetLibrary(tmp_path, include_builtin=False))


def test_free_text_first_then_style_then_location(builder: PromptBuilder) -> None:
    built = builder.build("inky", "lake", "  a cat \n in a   hat ", "en", "diffusers")
    assert built.prompt == "a cat in a hat, ink painting, soft mist, by a quiet lake"
    assert built.language == "en"
    assert built.provider == "diffusers"


def test_chinese_uses_chinese_fragments_and_separator(builder: PromptBuilder) -> None:
    built = builder.build("inky", "lake", "一只猫", "zh", "dashscope")
    assert built.prompt == "一只猫，水墨画，烟雨，在宁静的湖边"
    assert built.language == "zh"
    assert built.negative_prompt.startswith(BASE_NEGATIVE["zh"])
    assert built.negative_prompt.endswith("多余的手指，彩色，人群")  # 模糊 is in the base list
    assert built.negative_prompt.count("模糊") == 1


def test_english_only_provider_falls_back_to_english_fragments(builder: PromptBuilder) -> None:
    built = builder.build("inky", None, "一只猫", "zh-CN", "diffusers")
    assert built.language == "en"
    assert built.prompt == "一只猫, ink painting, soft mist"


def test_negative_prompt_merges_and_deduplicates_terms(builder: PromptBuilder) -> None:
    built = builder.build("inky", "lake", "", "en", "diffusers")
    terms = built.negative_prompt.split(", ")
    assert terms[: len(BASE_NEGATIVE["en"].split(", "))] == BASE_NEGATIVE["en"].split(", ")
    lowered = [t.lower() for t in terms]
    assert len(lowered) == len(set(lowered))
    assert lowered.count("blurry") == 1 and lowered.count("watermark") == 1
    assert terms[-2:] == ["colour", "crowds"]


def test_provider_without_negative_prompt_gets_it_folded(builder: PromptBuilder) -> None:
    built = builder.build("inky", "lake", "a cat", "en", "openai")
    assert built.negative_prompt == ""
    head, avoid = built.prompt.split(". Avoid: ")
    assert head == "a cat, ink painting, soft mist, by a quiet lake"
    assert avoid.endswith("colour, crowds")
    zh = builder.build("inky", None, "", "zh", "volcengine")
    assert zh.negative_prompt == ""
    assert zh.prompt.startswith("水墨画，烟雨。避免：")


def test_params_merge_style_and_location_then_map(builder: PromptBuilder) -> None:
    built = builder.build("inky", "lake", "", "en", "diffusers")
    # strength and steps: the larger; guidance: the style's
    assert built.params == {"strength": 0.7, "steps": 40, "guidance_scale": 9.0}
    only_location = builder.build("plain", "lake", "", "en", "diffusers")
    assert only_location.params == {"strength": 0.7, "steps": 40, "guidance_scale": 4.0}
    neither = builder.build("plain", None, "", "en", "diffusers")
    assert neither.params == {}


def test_caller_params_override_suggestions_and_are_mapped(builder: PromptBuilder) -> None:
    built = builder.build(
        "inky",
        "lake",
        "",
        "en",
        "dashscope",
        params={"strength": 0.2, "width": 2000, "height": 1000, "seed": 7},
    )
    assert built.params == {"size": "1440*720", "strength": 0.2, "seed": 7}


def test_text_to_image_leaves_strength_out(builder: PromptBuilder) -> None:
    built = builder.build("inky", "lake", "", "en", "diffusers", image_to_image=False)
    assert "strength" not in built.params
    assert built.params["steps"] == 40


def test_size_multiple_is_passed_to_the_mapping(builder: PromptBuilder) -> None:
    params = {"width": 1000, "height": 1000}
    assert builder.build("inky", params=params).params["width"] == 1000
    assert builder.build("inky", params=params, size_multiple=16).params["width"] == 1008


def test_unknown_ids_are_not_found(builder: PromptBuilder) -> None:
    with pytest.raises(UnknownPreset) as info:
        builder.build("nope", None, "x")
    assert info.value.details["kind"] == "style"
    with pytest.raises(UnknownPreset):
        builder.build(None, "nowhere", "x")


def test_nothing_to_build_from_is_rejected(builder: PromptBuilder) -> None:
    with pytest.raises(ValidationFailed):
        builder.build(None, None, "  \n ")


def test_free_text_only(builder: PromptBuilder) -> None:
    built = builder.build(None, None, "a red kite", "en", "procedural")
    assert built.prompt == "a red kite"
    assert built.negative_prompt == BASE_NEGATIVE["en"]


def test_limits(builder: PromptBuilder) -> None:
    with pytest.raises(ValidationFailed, match="free text"):
        builder.build(None, None, "x" * (MAX_FREE_TEXT + 1))
    with pytest.raises(ValidationFailed, match="at most 800"):
        builder.build("inky", None, "word " * 190, "en", "dashscope")
    with pytest.raises(ValidationFailed):
        builder.build("inky", None, "x", "fr")
    with pytest.raises(UnknownProvider):
        builder.build("inky", None, "x", "en", "nonexistent")


def test_builtin_presets_fit_every_provider() -> None:
    builder = PromptBuilder()
    library = builder.library
    for provider in ("openai", "dashscope", "volcengine", "diffusers", "procedural"):
        for language in ("en", "zh"):
            for style in library.styles():
                for location in library.locations()[:3]:
                    built = builder.build(style.id, location.id, "a person", language, provider)
                    assert style.prompt.get(built.language).rstrip(",，") in built.prompt
