"""The offline writer on a Chinese and an English story."""

# ruff: noqa: RUF001  (Chinese punctuation is part of the expected dialogue)

from __future__ import annotations

import pytest

from atelier.errors import ValidationFailed
from atelier.manga import MangaOptions, OfflineWriter, Script, write_scenes
from atelier.manga.scenes import partition
from atelier.manga.story import paragraphs, segment
from atelier.manga.text import normalise

ZH_LINES = [
    ("林小雨", "灯坏了！"),
    ("老船长", "别怕，我来修。"),
    ("林小雨", "还来得及吗？"),
    ("老船长", "来得及。"),
]
EN_LINES = [
    ("Ana", "Tickets, please."),
    ("old man", "I have no ticket."),
    ("old man", "But I have a story."),
    ("Ana", "Tell me."),
]


def lines(script: Script) -> list[tuple[str | None, str]]:
    return [(d.speaker, d.text) for p in script.panels for d in p.dialogue]


def told(script: Script) -> str:
    return normalise("".join(p.source_text for p in script.panels))


@pytest.mark.parametrize("panels", [None, 1, 2, 3, 4, 5, 6])
def test_chinese_story(zh_story: str, panels: int | None) -> None:
    script = write_scenes(zh_story, MangaOptions(panels=panels))

    assert script.language == "zh" and script.title == "灯塔" and script.writer == "offline"
    if panels is not None:
        assert script.total_panels == panels
    else:
        assert 2 <= script.total_panels <= 8
    assert [p.panel_number for p in script.panels] == list(range(1, script.total_panels + 1))
    assert lines(script) == ZH_LINES
    # every sentence is told once, in order
    _, paras = paragraphs(zh_story, "zh")
    assert told(script) == normalise("".join(paras))
    sheet = {c.name: c for c in script.characters}
    assert set(sheet) == {"林小雨", "老船长"}
    assert sheet["林小雨"].description == "穿黄色雨衣的女孩"  # the story's own words
    assert {"yellow", "raincoat", "girl"} <= set(sheet["林小雨"].description_en.split(", "))
    for panel in script.panels:
        assert set(panel.characters) <= set(sheet)
        assert panel.scene_description and panel.setting


def test_chinese_characters_and_places_carry_across_panels(zh_story: str) -> None:
    script = write_scenes(zh_story, MangaOptions(panels=8))
    by_text = {p.source_text: p for p in script.panels}
    second = by_text["她住在海边的灯塔里。"]  # says only 她: the girl of the panel before
    assert second.characters == ("林小雨",)
    assert second.setting == "灯塔" and "lighthouse" in second.visual_tags
    storm = by_text["一天晚上，暴风雨来了。林小雨大声说：“灯坏了！”"]
    assert storm.setting == "灯塔"  # no place named: the last one carries on
    assert storm.caption == "一天晚上，暴风雨来了。"
    last = script.panels[-1]
    assert last.setting == "港口" and last.shot == "wide"  # a new place opens wide


@pytest.mark.parametrize("panels", [None, 1, 3, 4, 8])
def test_english_story(en_story: str, panels: int | None) -> None:
    script = write_scenes(en_story, MangaOptions(panels=panels))

    assert script.language == "en" and script.title == "The Night Train"
    if panels is not None:
        assert script.total_panels == panels
    assert lines(script) == EN_LINES
    _, paras = paragraphs(en_story, "en")
    assert told(script) == normalise("".join(paras))
    sheet = {c.name: c for c in script.characters}
    assert set(sheet) == {"Ana", "old man"}
    assert sheet["Ana"].description == "a young conductor with a red cap"
    assert sheet["old man"].description.startswith("old man, ")
    if script.total_panels > 1:
        assert script.panels[0].setting == "the train"


def test_english_speaker_resolution_follows_turns(en_story: str) -> None:
    script = write_scenes(en_story, MangaOptions(panels=8))
    panels = {p.source_text: p for p in script.panels}
    # "he whispered": not Ana, who spoke last, but the old man of the sentence before
    whisper = panels['"I have no ticket," he whispered.']
    assert [d.speaker for d in whisper.dialogue] == ["old man"]
    assert whisper.characters == ("old man",)
    # an unattributed line right after continues the same turn
    assert [d.speaker for d in panels['"But I have a story."'].dialogue] == ["old man"]


def test_the_writer_is_deterministic(zh_story: str, en_story: str) -> None:
    for story in (zh_story, en_story):
        first = OfflineWriter().write(story, MangaOptions())
        again = OfflineWriter().write(story, MangaOptions())
        assert first == again
        assert first.model_dump_json() == again.model_dump_json()


def test_stable_looks_depend_on_the_name_only(zh_story: str) -> None:
    script = write_scenes(zh_story)
    captain = script.character("老船长")
    assert captain is not None and captain.description  # drawn from the name
    renamed = write_scenes(zh_story.replace("老船长", "老水手"))
    sailor = renamed.character("老水手")
    assert sailor is not None
    other = write_scenes("老水手站在船头。老水手说：“起风了。”")
    assert other.character("老水手") == sailor  # same name, same look, any story


def test_more_panels_than_sentences_cuts_at_commas() -> None:
    story = "天亮的时候，灯又亮了起来，远处的渔船平安地回到了港口，大家都笑了。"
    script = write_scenes(story, MangaOptions(panels=4))
    assert script.total_panels == 4
    assert "".join(p.source_text for p in script.panels) == story
    two = write_scenes("A short one. Another one.", MangaOptions(panels=5))
    assert two.total_panels == 2  # nothing left to cut


def test_language_can_be_forced_and_mixed_text_is_detected() -> None:
    assert write_scenes("Li Lei 说：“OK，我们走。”").language == "zh"
    assert write_scenes("Li Lei 说：“OK。”", MangaOptions(language="en")).language == "en"


@pytest.mark.parametrize("story", ["", "   \n  "])
def test_empty_stories_are_refused(story: str) -> None:
    with pytest.raises(ValidationFailed):
        write_scenes(story)


def test_long_stories_are_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        write_scenes("Once. " * 100, MangaOptions(max_story_chars=100))
    assert caught.value.details["max_length"] == 100


def test_partition_balances_and_prefers_paragraph_cuts() -> None:
    assert partition([1, 1, 1, 1], [False] * 4, 2) == [2, 2]
    assert partition([5, 1, 1, 1, 1, 1], [False] * 6, 2) == [1, 5]
    # equal weights, a paragraph ends after the first item: cut there
    assert partition([1, 1, 1], [True, False, False], 2) == [1, 2]
    assert sum(partition([3, 1, 4, 1, 5, 9, 2, 6], [False] * 8, 8)) == 8


def test_sentences_keep_their_paragraphs(zh_story: str) -> None:
    _, paras = paragraphs(zh_story, "zh")
    found = segment(paras, "zh")
    assert [s.paragraph for s in found] == sorted(s.paragraph for s in found)
    assert len({s.paragraph for s in found}) == len(paras)
