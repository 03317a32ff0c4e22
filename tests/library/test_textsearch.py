"""Bilingual tokens and BM25."""

from __future__ import annotations

import pytest

from atelier.library.textsearch import TextIndex, stem, tag_score, terms, words


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("cats", "cat"),
        ("puppies", "puppy"),
        ("boxes", "box"),
        ("running", "run"),
        ("stopped", "stop"),
        ("painted", "paint"),
        ("glass", "glass"),
        ("bus", "bus"),
        ("red", "red"),
        ("café", "café"),
    ],
)
def test_light_stemming(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_words_segment_chinese_and_drop_stop_words() -> None:
    assert words("一只猫坐在红色的沙发上") == ["猫", "坐在", "红色", "沙发", "上"]
    assert words("The CATS are Running!") == ["cat", "run"]
    full_width = "\uff26\uff55\uff4c\uff4c-width \uff21\uff22\uff23"  # "Full-width ABC"
    assert words(full_width) == ["full", "width", "abc"]  # NFKC
    mixed = words("红色 sports cars 在北京")
    assert mixed == ["红色", "sport", "car", "北京"]


def test_terms_add_the_characters_of_chinese_words() -> None:
    found = terms("小猫和汽车")
    assert {"小猫", "汽车", "猫", "小", "汽", "车"} <= set(found)
    assert "和" not in found


def test_bm25_ranks_by_match_and_rarity() -> None:
    index = TextIndex()
    index.add("a", [("a red car on a street", 1.0)])
    index.add("b", [("a blue car in a garage", 1.0)])
    index.add("c", [("red red red flowers", 1.0)])
    index.add("d", [("一辆红色的汽车", 1.0)])
    scores = index.search("red car")
    assert next(iter(scores)) == "a"  # both words
    assert set(scores) == {"a", "b", "c"}
    assert set(index.search("汽车")) == {"d"}
    assert "d" in index.search("车")  # a character of a longer word
    assert index.search("red car", allowed={"b", "c"}).keys() == {"b", "c"}
    assert index.search("") == {} and index.search("zebra") == {}


def test_field_weights_and_removal() -> None:
    index = TextIndex()
    index.add("tagged", [("sunset", 2.0), ("a photo of the evening sky over the sea", 1.0)])
    index.add("described", [("", 2.0), ("a sunset photo of the evening sky over the sea", 1.0)])
    scores = index.search("sunset")
    assert scores["tagged"] > scores["described"]
    index.remove("tagged")
    assert set(index.search("sunset")) == {"described"} and len(index) == 1
    index.add("described", [("mountains", 1.0)])  # replaces what it had
    assert index.search("sunset") == {}


def test_tag_score() -> None:
    tags = {"red": 1.0, "sports car": 0.8, "小猫": 0.9}
    assert tag_score(words("red sports car"), tags) == pytest.approx((1 + 0.8 + 0.8) / 3)
    assert tag_score(words("car"), tags) == pytest.approx(0.4)  # inside a longer tag: half
    assert tag_score(words("猫"), tags) == pytest.approx(0.45)
    assert tag_score(words("小猫"), tags) == pytest.approx(0.9)
    assert tag_score(words("blue"), tags) == 0.0
    assert tag_score([], tags) == 0.0
