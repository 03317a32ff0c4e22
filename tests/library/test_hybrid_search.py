"""Hybrid ranking on a small labelled bilingual library, weights, filters, search by image."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from library_models import write_tiny_clip
from PIL import Image

from atelier.config import Settings
from atelier.library.analysis import Tag
from atelier.library.factory import build_searcher
from atelier.library.hybrid import HybridSearcher, LibraryDoc, SearchFilters, Weights
from atelier.library.minilm import MiniLMEmbedder
from atelier.library.vectors import ExactIndex, UsearchIndex

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def tags(*pairs: str, confidence: float = 0.9) -> tuple[Tag, ...]:
    out = []
    for pair in pairs:
        en, _, zh = pair.partition("/")
        out.append(Tag(name=en, name_zh=zh, source="vlm", confidence=confidence))
    return tuple(out)


CORPUS = [
    LibraryDoc(
        "cat_sofa",
        owner="alice",
        tags=tags("cat/猫", "sofa/沙发", "red/红色"),
        description="A ginger cat sleeping on a red sofa. 一只橘猫睡在红色的沙发上。",
        collections=frozenset({"pets"}),
        created_at=T0,
        width=1024,
        height=768,
        kind="upload",
    ),
    LibraryDoc(
        "dog_beach",
        owner="alice",
        tags=tags("dog/狗", "beach/海滩", "sunset/日落"),
        description="A dog running on the beach at sunset. 日落时一只狗在海滩上奔跑。",
        collections=frozenset({"pets", "travel"}),
        created_at=T0 + timedelta(days=1),
        width=4000,
        height=3000,
        kind="upload",
    ),
    LibraryDoc(
        "city_night",
        owner="bob",
        tags=tags("city/城市", "night/夜景", "skyline/天际线"),
        description="A city skyline at night with neon lights. 夜晚的城市天际线和霓虹灯。",
        created_at=T0 + timedelta(days=2),
        width=1920,
        height=1080,
        kind="generated",
    ),
    LibraryDoc(
        "mountain_lake",
        owner="bob",
        tags=tags("mountain/山", "lake/湖泊", "snow/雪"),
        description="Snowy mountains reflected in a calm lake. 雪山倒映在平静的湖面上。",
        collections=frozenset({"travel"}),
        created_at=T0 + timedelta(days=3),
        width=800,
        height=1200,
        kind="upload",
    ),
    LibraryDoc(
        "receipt",
        owner="alice",
        tags=tags("document/文档"),
        description="A photo of a printed shop receipt.",
        ocr_text="超市购物发票 合计 128.50 元 TOTAL",
        created_at=T0 + timedelta(days=4),
        width=600,
        height=1400,
        kind="upload",
    ),
    LibraryDoc(
        "red_car",
        owner="bob",
        tags=tags("car/汽车", "red/红色", "street/街道"),
        description="A red sports car parked on a city street. 一辆红色跑车停在街边。",
        created_at=T0 + timedelta(days=5),
        width=2048,
        height=1024,
        kind="generated",
    ),
    LibraryDoc(
        "noodles",
        owner="alice",
        tags=tags("noodles/面条", "food/美食"),
        description="A bowl of beef noodle soup. 一碗热腾腾的牛肉面。",
        created_at=T0 + timedelta(days=6),
        width=1000,
        height=1000,
        kind="upload",
    ),
]


def doc_text(doc: LibraryDoc) -> str:
    names = ", ".join(n for t in doc.tags for n in t.names)
    return f"{names}. {doc.description} {doc.ocr_text}"


@pytest.fixture(scope="module")
def searcher(minilm: MiniLMEmbedder) -> HybridSearcher:
    index = UsearchIndex(minilm.name, minilm.dim)
    index.add([d.id for d in CORPUS], minilm.embed([doc_text(d) for d in CORPUS]))
    searcher = HybridSearcher(minilm, index)
    searcher.upsert(CORPUS)
    return searcher


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("猫", "cat_sofa"),
        ("a puppy playing by the sea", "dog_beach"),
        ("夜晚的城市", "city_night"),
        ("snowy peaks and water", "mountain_lake"),
        ("红色汽车", "red_car"),
        ("发票", "receipt"),  # only in the OCR text
        ("牛肉面", "noodles"),
        ("something to eat", "noodles"),  # no shared word: the vector finds it
        ("kitten", "cat_sofa"),
    ],
)
def test_the_relevant_image_ranks_first(
    searcher: HybridSearcher, query: str, expected: str
) -> None:
    hits = searcher.search(query, k=3)
    assert hits[0].id == expected, hits
    assert hits[0].score > (hits[1].score if len(hits) > 1 else 0)


def test_components_are_reported(searcher: HybridSearcher) -> None:
    top = searcher.search("red car", k=1)[0]
    assert top.id == "red_car"
    assert top.tags == pytest.approx(0.9)  # both words are tags, at confidence 0.9
    assert top.text == pytest.approx(1.0)  # the best text match
    assert 0.3 < top.vector <= 1.0
    w = Weights().normalised()
    assert top.score == pytest.approx(w.vector * top.vector + w.tags * top.tags + w.text * top.text)


def test_weights_change_the_order(minilm: MiniLMEmbedder) -> None:
    """ "sunset": one image is about a sunset but not tagged so; the other is tagged "sunset"
    but is about something else. Vector weight favours the first, tag weight the second."""
    docs = [
        LibraryDoc("evening_sea", description="The sun goes down over the ocean in the evening."),
        LibraryDoc(
            "spreadsheet", tags=tags("sunset"), description="A screenshot of a spreadsheet."
        ),
    ]
    index = ExactIndex(minilm.name, minilm.dim)
    index.add(["evening_sea", "spreadsheet"], minilm.embed([d.description for d in docs]))
    searcher = HybridSearcher(minilm, index)
    searcher.upsert(docs)
    by_vector = searcher.search("sunset", weights=Weights(vector=1, tags=0, text=0))
    by_tags = searcher.search("sunset", weights=Weights(vector=0, tags=1, text=0))
    assert [h.id for h in by_vector] == ["evening_sea", "spreadsheet"]
    assert by_tags[0].id == "spreadsheet"
    balanced = searcher.search("sunset", weights=Weights(vector=0.5, tags=0.25, text=0.25))
    assert balanced[0].id == "spreadsheet"  # tag and text together outweigh the vector
    assert searcher.search("sunset", weights=Weights(vector=0.9, tags=0.05, text=0.05))[0].id == (
        "evening_sea"
    )
    with pytest.raises(ValueError):
        Weights(vector=-1)
    with pytest.raises(ValueError):
        Weights(0, 0, 0)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(owner="alice"), {"cat_sofa", "dog_beach", "receipt", "noodles"}),
        (SearchFilters(collection="travel"), {"dog_beach", "mountain_lake"}),
        (SearchFilters(kind="generated"), {"city_night", "red_car"}),
        (SearchFilters(tags=("红色",)), {"cat_sofa", "red_car"}),
        (SearchFilters(tags=("RED", "car")), {"red_car"}),
        (
            SearchFilters(
                created_after=T0 + timedelta(days=2), created_before=T0 + timedelta(days=5)
            ),
            {"city_night", "mountain_lake", "receipt"},
        ),
        (SearchFilters(min_width=1920), {"dog_beach", "city_night", "red_car"}),
        (SearchFilters(max_width=1000, max_height=1000), {"noodles"}),
        (SearchFilters(ids=frozenset({"noodles", "receipt", "gone"})), {"noodles", "receipt"}),
    ],
)
def test_filters(searcher: HybridSearcher, filters: SearchFilters, expected: set[str]) -> None:
    assert searcher.allowed(filters) == expected
    hits = searcher.search("a photo", k=10, filters=filters)
    assert {h.id for h in hits} <= expected
    # vector candidates fill k from the allowed images even when the text matches nothing
    hits = searcher.search("zzzz unrelated words", k=10, filters=filters)
    assert {h.id for h in hits} == expected


def test_empty_query_lists_newest_first(searcher: HybridSearcher) -> None:
    hits = searcher.search("", k=3, filters=SearchFilters(owner="alice"))
    assert [h.id for h in hits] == ["noodles", "receipt", "dog_beach"]


def test_upsert_and_remove_keep_the_indexes_current(minilm: MiniLMEmbedder) -> None:
    searcher = HybridSearcher()  # text and tags only
    searcher.upsert([LibraryDoc("a", tags=tags("zebra/斑马"))])
    assert [h.id for h in searcher.search("斑马")] == ["a"]
    searcher.upsert([LibraryDoc("a", tags=tags("giraffe/长颈鹿"))])
    assert searcher.search("斑马") == [] and searcher.search("giraffe")[0].id == "a"
    searcher.remove(["a"])
    assert searcher.search("giraffe") == [] and len(searcher) == 0
    with pytest.raises(ValueError):
        HybridSearcher(minilm, None)


def test_search_by_example_image(tmp_path: Path) -> None:
    write_tiny_clip(tmp_path, dim=3, projection=np.eye(3, dtype=np.float32))
    settings = Settings(_env_file=None, library={"clip_model": str(tmp_path)})  # type: ignore[call-arg]
    from atelier.library.factory import build_image_embedder

    clip = build_image_embedder(settings)
    assert clip is not None
    colours = {"red": (230, 20, 20), "green": (20, 200, 40), "blue": (30, 40, 220)}
    images = {name: Image.new("RGB", (64, 48), rgb) for name, rgb in colours.items()}
    image_index = ExactIndex(clip.name, clip.dim)
    image_index.add(list(images), clip.embed_images(list(images.values())))
    searcher = build_searcher(settings, None, None, image_embedder=clip, image_index=image_index)
    searcher.upsert(
        [LibraryDoc(name, owner="alice" if name != "red" else "bob") for name in images]
    )
    probe = Image.new("RGB", (80, 80), (200, 40, 30))  # reddish
    assert searcher.search_by_image(probe, k=1)[0].id == "red"
    assert searcher.search_by_image(probe, k=1, filters=SearchFilters(owner="alice"))[0].id != "red"
    assert "red" not in {h.id for h in searcher.search_by_image(probe, k=3, exclude={"red"})}
    with pytest.raises(LookupError, match="CLIP"):
        HybridSearcher().search_by_image(probe)


def test_filter_indexes_follow_updates_and_match_a_full_scan() -> None:
    searcher = HybridSearcher()
    searcher.upsert(CORPUS)
    moved = LibraryDoc("cat_sofa", owner="bob", tags=tags("cat/猫"), kind="generated")
    searcher.upsert([moved])
    assert "cat_sofa" not in searcher.allowed(SearchFilters(owner="alice"))  # type: ignore[operator]
    assert "cat_sofa" in searcher.allowed(SearchFilters(owner="bob", kind="generated"))  # type: ignore[operator]
    assert searcher.allowed(SearchFilters(tags=("sofa",))) == set()
    assert searcher.allowed(SearchFilters(collection="pets")) == {"dog_beach"}
    docs = [moved, *CORPUS[1:]]
    for filters in (
        SearchFilters(owner="bob", tags=("红色",)),
        SearchFilters(collection="travel", min_height=1000),
        SearchFilters(kind="upload", created_after=T0 + timedelta(days=3)),
        SearchFilters(tags=("cat", "Red")),
        SearchFilters(owner="nobody"),
    ):
        assert searcher.allowed(filters) == {d.id for d in docs if filters.accepts(d)}
