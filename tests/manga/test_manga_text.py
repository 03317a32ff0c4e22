"""Line breaking (CJK per character with kinsoku, English per word), fitting, language."""

# ruff: noqa: RUF001  (Chinese punctuation is what these tests check)

from __future__ import annotations

import pytest

from atelier.manga.text import (
    NO_END,
    NO_START,
    detect_language,
    fit_text,
    load_font,
    normalise,
    shorten,
    wrap,
)

ZH = (
    "林小雨大声说：“灯坏了！我们得快一点，否则渔船就看不见回家的路了。”"
    "老船长点点头，（他早就知道）拿起了工具箱。"
)
EN = (
    "The old keeper climbed the spiral stairs, counted every step, and finally reached "
    "the lamp room where the storm rattled the windows."
)


@pytest.mark.parametrize("width", [60, 90, 130, 200, 333])
def test_chinese_lines_obey_kinsoku_and_the_width(width: int) -> None:
    font = load_font(24)
    lines = wrap(ZH, width, font.getlength)

    assert "".join(lines) == ZH  # nothing lost, nothing added, order kept
    assert len(lines) > 1
    for i, line in enumerate(lines):
        body = line.rstrip("".join(NO_START))  # closing marks may hang past the end
        assert font.getlength(body) <= width, line
        assert len(line) - len(body) <= 2, line
        if i:
            assert line[0] not in NO_START, lines
        if i < len(lines) - 1:
            assert line[-1] not in NO_END, lines


def test_a_closing_mark_takes_the_character_before_it_along() -> None:
    font = load_font(20)
    width = font.getlength("一二三四")  # four ideographs a line
    lines = wrap("一二三四。五六", width, font.getlength)
    assert lines == ["一二三", "四。五六"]


@pytest.mark.parametrize("width", [120, 200, 320])
def test_english_breaks_between_words(width: int) -> None:
    font = load_font(22)
    lines = wrap(EN, width, font.getlength)

    assert " ".join(lines) == EN
    words = set(EN.split())
    for line in lines:
        assert font.getlength(line) <= width, line
        assert set(line.split()) <= words  # whole words only


def test_a_word_longer_than_the_line_is_broken_on_its_own_line() -> None:
    font = load_font(20)
    text = "see pneumonoultramicroscopicsilicovolcanoconiosis here"
    lines = wrap(text, 120, font.getlength)
    assert lines[0] == "see"
    assert "".join(line.replace(" ", "") for line in lines[1:]) == text.split(maxsplit=1)[
        1
    ].replace(" ", "")
    assert len(lines) >= 4
    assert all(font.getlength(line) <= 120 for line in lines)


def test_latin_words_inside_chinese_stay_whole() -> None:
    font = load_font(20)
    lines = wrap("我们用iPhone拍下了Manhattan的夜景。", 110, font.getlength)
    assert any("iPhone" in line for line in lines)
    assert any("Manhattan" in line for line in lines)


def test_fit_text_picks_the_largest_size_that_fits() -> None:
    small = fit_text(EN, 260, 120, max_size=40, min_size=10)
    roomy = fit_text(EN, 600, 400, max_size=40, min_size=10)

    assert small.width <= 260 and small.height <= 120
    assert roomy.size > small.size
    bigger = fit_text(EN, 260, 120, max_size=small.size + 1, min_size=small.size + 1)
    assert bigger.width > 260 or bigger.height > 120  # one size up would not fit


def test_fit_text_with_an_aspect_makes_balloon_shaped_blocks() -> None:
    fitted = fit_text("We need the lamp right now, before the ships come in.", 500, 500,
                      max_size=24, min_size=10, aspect=1.7)  # fmt: skip
    assert len(fitted.lines) >= 2
    assert 1.0 <= fitted.width / fitted.height <= 3.0


def test_language_detection() -> None:
    assert detect_language(ZH) == "zh"
    assert detect_language(EN) == "en"
    assert detect_language("Li Lei 说：“OK，我们走。”") == "zh"


def test_normalise_and_shorten() -> None:
    assert normalise("“灯坏了！” He said: OK.") == "灯坏了hesaidok"
    cut = shorten("第一句很长很长。第二句也很长很长很长。", 14, "zh")
    assert cut == "第一句很长很长。…" and len(cut) <= 14
    assert shorten("short", 10, "en") == "short"
