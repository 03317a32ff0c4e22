"""Preset files: the built-in set, user overrides, and clear errors for malformed files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atelier.errors import ValidationFailed
from atelier.prompts.presets import (
    PresetError,
    PresetLibrary,
    UnknownPreset,
    parse_file,
    parse_language,
)

CJK = re.compile(r"[\u4e00-\u9fff]")

ENTRY = """
[[styles]]
id = "{id}"
name.en = "{name}"
name.zh = "测试"
description.en = "A test style."
description.zh = "测试风格。"
prompt.en = "{prompt}"
prompt.zh = "测试提示词"
tags = ["test"]
params = {{ strength = 0.5 }}
preview = {{ colour = "#123456" }}
"""


def entry(preset_id: str, *, name: str = "Test", prompt: str = "test prompt") -> str:
    return ENTRY.format(id=preset_id, name=name, prompt=prompt)


@pytest.fixture(scope="module")
def library() -> PresetLibrary:
    return PresetLibrary()


def test_builtin_sets_are_large_enough_and_include_the_named_presets(
    library: PresetLibrary,
) -> None:
    styles = {p.id for p in library.styles()}
    locations = {p.id for p in library.locations()}
    assert len(styles) >= 12
    assert len(locations) >= 12
    assert {"watercolor", "ink-wash", "ukiyo-e", "anime", "pixel-art", "clay-3d"} <= styles
    assert {"great-wall", "west-lake", "forbidden-city", "eiffel-tower", "neon-tokyo"} <= locations


@pytest.mark.parametrize("kind", ["style", "location"])
def test_every_builtin_preset_is_complete_in_both_languages(
    library: PresetLibrary, kind: str
) -> None:
    presets = library.all(kind)  # type: ignore[arg-type]
    for preset in presets:
        for text in (preset.name, preset.description, preset.prompt, preset.negative):
            assert CJK.search(text.zh), f"{preset.id}: zh text without Chinese: {text.zh!r}"
            assert not CJK.search(text.en), f"{preset.id}: en text with Chinese: {text.en!r}"
        assert preset.tags, preset.id
        assert preset.params.strength is not None, preset.id
        assert preset.params.guidance is not None, preset.id
        assert preset.params.steps is not None, preset.id
        assert preset.preview.thumbnail, preset.id
        assert library.source(kind, preset.id).startswith("<builtin>/")  # type: ignore[arg-type]


def test_builtin_prompt_fragments_are_distinct(library: PresetLibrary) -> None:
    fragments = [p.prompt.en for p in library.styles() + library.locations()]
    assert len(set(fragments)) == len(fragments)


def test_user_file_overrides_by_id_in_place_and_extends(tmp_path: Path) -> None:
    builtin = [p.id for p in PresetLibrary().styles()]
    (tmp_path / "mine.toml").write_text(
        entry("watercolor", prompt="my own watercolour") + entry("my-style"), encoding="utf-8"
    )
    library = PresetLibrary(tmp_path)
    ids = [p.id for p in library.styles()]
    assert ids == [*builtin, "my-style"]
    assert library.style("watercolor").prompt.en == "my own watercolour"
    assert library.source("style", "watercolor") == str(tmp_path / "mine.toml")
    assert library.source("style", "ink-wash") == "<builtin>/styles.toml"


def test_later_user_files_win(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(entry("shared", name="from a"), encoding="utf-8")
    (tmp_path / "b.toml").write_text(entry("shared", name="from b"), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a preset file", encoding="utf-8")
    library = PresetLibrary(tmp_path, include_builtin=False)
    assert [p.id for p in library.styles()] == ["shared"]
    assert library.style("shared").name.en == "from b"
    assert library.locations() == []


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PresetError) as info:
        PresetLibrary(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert info.value.source == str(path)
    return message


def test_missing_field_names_file_entry_and_field(tmp_path: Path) -> None:
    text = entry("ok") + entry("broken").replace('prompt.zh = "测试提示词"\n', "")
    message = _error(tmp_path, text)
    assert "styles[1] (id 'broken').prompt.zh: Field required" in message


def test_out_of_range_param_is_reported(tmp_path: Path) -> None:
    message = _error(tmp_path, entry("x").replace("strength = 0.5", "strength = 1.5"))
    assert "styles[0] (id 'x').params.strength" in message
    assert "less than or equal to 1" in message


def test_misspelt_array_name_is_reported(tmp_path: Path) -> None:
    message = _error(tmp_path, entry("x").replace("[[styles]]", "[[style]]"))
    assert "style" in message
    assert "Extra inputs are not permitted" in message


def test_bad_colour_and_bad_id_are_reported(tmp_path: Path) -> None:
    message = _error(tmp_path, entry("Bad Id").replace("#123456", "blue"))
    assert "styles[0] (id 'Bad Id').id" in message
    assert "styles[0] (id 'Bad Id').preview.colour" in message


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    message = _error(tmp_path, "[[styles]\nid = ")
    assert "invalid TOML" in message


def test_duplicate_ids_in_one_file_are_reported(tmp_path: Path) -> None:
    message = _error(tmp_path, entry("twice") + entry("twice"))
    assert "styles[1].id: duplicate id 'twice' (first at styles[0])" in message


def test_missing_user_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PresetError, match="does not exist"):
        PresetLibrary(tmp_path / "nope")


def test_parse_file_accepts_both_kinds_in_one_file() -> None:
    text = entry("s") + entry("l").replace("[[styles]]", "[[locations]]")
    parsed = parse_file(text, "inline")
    assert [p.id for p in parsed.styles] == ["s"]
    assert [p.id for p in parsed.locations] == ["l"]


def test_unknown_id_is_not_found_with_the_choices(library: PresetLibrary) -> None:
    with pytest.raises(UnknownPreset) as info:
        library.location("atlantis")
    assert info.value.status_code == 404
    assert info.value.details["kind"] == "location"
    assert "great-wall" in info.value.details["available"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("zh", "zh"), ("zh-CN", "zh"), ("ZH_tw", "zh"), ("en", "en"), ("en-GB", "en"), (None, "en")],
)
def test_parse_language(value: str | None, expected: str) -> None:
    assert parse_language(value) == expected


def test_parse_language_default_and_rejection() -> None:
    assert parse_language("", default="zh") == "zh"
    with pytest.raises(ValidationFailed) as info:
        parse_language("fr")
    assert info.value.status_code == 422
