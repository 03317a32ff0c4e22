"""Reading a story: sentences, quotations, attributions (Chinese and English)."""

# ruff: noqa: RUF001  (Chinese punctuation is what these tests check)

from __future__ import annotations

import pytest

from atelier.manga.story import find_quotes, paragraphs, segment, sentences, split_clauses


def test_chinese_sentences_do_not_split_inside_quotations() -> None:
    text = "他说：“我们走吧。你来吗？”小红点点头。天黑了！"
    assert sentences(text, "zh") == ["他说：“我们走吧。你来吗？”", "小红点点头。", "天黑了！"]


def test_an_attribution_after_a_quotation_stays_with_it() -> None:
    assert sentences("“灯坏了！”林小雨大声说。老人笑了。", "zh") == [
        "“灯坏了！”林小雨大声说。",
        "老人笑了。",
    ]
    assert sentences('"Run!" Anna said. The dog barked.', "en") == [
        '"Run!" Anna said.',
        "The dog barked.",
    ]


def test_english_abbreviations_numbers_and_lowercase_continuations() -> None:
    text = 'Mr. Lee came at 3.30 with J. K. Smith. "Why?" she asked. It rained.'
    assert sentences(text, "en") == [
        "Mr. Lee came at 3.30 with J. K. Smith.",
        '"Why?" she asked.',
        "It rained.",
    ]


def test_paragraphs_and_title() -> None:
    title, paras = paragraphs("The Fox\n\nOne line\nwrapped here.\n\nSecond one.", "en")
    assert title == "The Fox"
    assert paras == ["One line wrapped here.", "Second one."]
    title, paras = paragraphs("《狐狸》\n第一段。\n\n第二段。", "zh")
    assert (title, paras) == ("狐狸", ["第一段。", "第二段。"])
    assert paragraphs("Just one sentence without a title", "en")[0] == ""


@pytest.mark.parametrize(
    ("sentence", "language", "text", "speaker"),
    [
        ("林小雨大声说：“灯坏了！”", "zh", "灯坏了！", "林小雨"),
        ("“别怕，我来修。”老船长说。", "zh", "别怕，我来修。", "老船长"),
        ("小明笑着回答：“我在找奶奶。”", "zh", "我在找奶奶。", "小明"),
        ("老人对小明说：「快走。」", "zh", "快走。", "老人"),
        ("“来得及。”他笑着回答。", "zh", "来得及。", "他"),
        ('"Tickets, please," Ana said.', "en", "Tickets, please,", "Ana"),
        ('"I can fix it," said Mr. Lee.', "en", "I can fix it,", "Mr. Lee"),
        ('Ana turned and said, "Tell me."', "en", "Tell me.", "Ana"),
        ('"No," she whispered.', "en", "No,", "she"),
        ('"Wait," the old man said.', "en", "Wait,", "the old man"),
        ("“Hello,” Tom replied quietly.", "en", "Hello,", "Tom"),
    ],
)
def test_quotation_and_attribution(sentence: str, language: str, text: str, speaker: str) -> None:
    (quote,) = find_quotes(sentence, language)  # type: ignore[arg-type]
    assert quote.text == text
    assert quote.speaker == speaker
    assert sentence[quote.start] in '“「"' and sentence[quote.end - 1] in '”」"'


def test_unattributed_quotations_have_no_speaker() -> None:
    (quote,) = find_quotes('"Now!"', "en")
    assert quote.speaker is None
    (quote,) = find_quotes("“你知道这条路吗？”", "zh")
    assert quote.speaker is None


def test_narrative_drops_quotations_and_attributions() -> None:
    (first, second) = segment(["林小雨大声说：“灯坏了！”老船长跑上来。"], "zh")
    assert first.narrative == "" and first.quotes[0].speaker == "林小雨"
    assert second.narrative == "老船长跑上来。"
    (only,) = segment(['"Tickets, please," Ana said. '], "en")
    assert only.narrative == ""


def test_clauses_split_outside_quotations_only() -> None:
    text = "天亮的时候，灯又亮了起来，他说：“好，走吧。”"
    assert split_clauses(text) == ["天亮的时候，", "灯又亮了起来，", "他说：“好，走吧。”"]
