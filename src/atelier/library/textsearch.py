"""Full-text matching for the library: bilingual tokenisation and an in-memory BM25 index.

Tokens (:func:`words`): text is NFKC-normalised and lower-cased; runs of Chinese characters
are segmented with jieba (search mode, which also yields the shorter words inside long ones:
``中华人民共和国`` -> ``中华``, ``人民``, ``共和国``...); Latin words are stemmed lightly
(plurals, ``-ing``, ``-ed``: ``cats`` -> ``cat``, ``running`` -> ``run``); stop words of both
languages are dropped. :func:`terms` adds each Chinese word's characters, so ``猫`` finds
``小猫``; a whole-word match still scores higher, having more matching terms.

Why in memory rather than FTS5 / tsvector: the same code and ranking on SQLite and PostgreSQL,
Chinese segmentation that neither database has built in, and small size (a library of 100k
images with ~40 terms each is a few hundred MB at most; typical ones are far smaller). The
index is rebuilt from the rows at start-up and kept current by the caller.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")
_LATIN = re.compile(r"[0-9a-z\u00c0-\u024f]+")

_STOP_EN = """a an and are as at be by for from has have in into is it its of on or that the
their there this to was were with without over under near very image photo picture"""
_STOP_ZH = """的 了 在 是 和 与 及 或 有 个 一个 一只 一张 一 这 那 这个 那个 着 地 得 很 也 都
就 把 被 图片 照片 图像 张 只"""
STOP_EN = frozenset(_STOP_EN.split())
STOP_ZH = frozenset(_STOP_ZH.split())

_jieba_lock = threading.Lock()
_jieba_ready = False


def _segment(run: str) -> list[str]:
    global _jieba_ready
    import jieba  # type: ignore[import-untyped]

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return [w for w in jieba.lcut_for_search(run) if w.strip()]


def stem(word: str) -> str:
    """A light English stemmer: plural and verb endings, nothing that changes meaning."""
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            root = word[: -len(suffix)]
            if len(root) >= 4 and root[-1] == root[-2] and root[-1] not in "lsz":
                root = root[:-1]  # running -> run, stopped -> stop
            return root
    return word


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def words(text: str) -> list[str]:
    """Words of ``text``, in order: jieba words for Chinese, stemmed Latin words."""
    text = normalise(text)
    out: list[str] = []
    position = 0
    for match in _CJK.finditer(text):
        out += [stem(w) for w in _LATIN.findall(text[position : match.start()])]
        out += _segment(match.group())
        position = match.end()
    out += [stem(w) for w in _LATIN.findall(text[position:])]
    return [w for w in out if w not in STOP_EN and w not in STOP_ZH]


def terms(text: str) -> list[str]:
    """:func:`words` plus the single characters of each longer Chinese word."""
    out = words(text)
    extra = [ch for w in out if len(w) > 1 and _CJK.fullmatch(w) for ch in w if ch not in STOP_ZH]
    return out + extra


class TextIndex:
    """BM25 (k1 = 1.2, b = 0.75) over documents made of weighted fields."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._lock = threading.RLock()
        self._postings: dict[str, dict[str, float]] = {}
        self._docs: dict[str, dict[str, float]] = {}
        self._lengths: dict[str, float] = {}
        self._total = 0.0

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, doc_id: str, fields: Iterable[tuple[str, float]]) -> None:
        """Index ``doc_id`` from ``(text, weight)`` fields (replacing what it had)."""
        counts: dict[str, float] = {}
        for text, weight in fields:
            for term in terms(text):
                counts[term] = counts.get(term, 0.0) + weight
        with self._lock:
            self.remove(doc_id)
            self._docs[doc_id] = counts
            length = float(sum(counts.values()))
            self._lengths[doc_id] = length
            self._total += length
            for term, tf in counts.items():
                self._postings.setdefault(term, {})[doc_id] = tf

    def remove(self, doc_id: str) -> None:
        with self._lock:
            counts = self._docs.pop(doc_id, None)
            if counts is None:
                return
            self._total -= self._lengths.pop(doc_id)
            for term in counts:
                posting = self._postings.get(term)
                if posting is not None:
                    posting.pop(doc_id, None)
                    if not posting:
                        del self._postings[term]

    def search(
        self, query: str, *, allowed: Collection[str] | None = None, limit: int = 200
    ) -> dict[str, float]:
        """BM25 scores of the best ``limit`` documents matching any query term."""
        query_terms = Counter(terms(query))
        scores: dict[str, float] = {}
        with self._lock:
            n = len(self._docs)
            if not n or not query_terms:
                return {}
            average = self._total / n or 1.0
            for term, qtf in query_terms.items():
                posting = self._postings.get(term)
                if not posting:
                    continue
                idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
                for doc_id, tf in posting.items():
                    if allowed is not None and doc_id not in allowed:
                        continue
                    norm = tf + self.k1 * (1 - self.b + self.b * self._lengths[doc_id] / average)
                    scores[doc_id] = scores.get(doc_id, 0.0) + qtf * idf * tf * (self.k1 + 1) / norm
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return dict(best)


@dataclass(frozen=True)
class TagForm:
    """A tag as matching sees it: its words, its words and characters, its confidence."""

    words: frozenset[str]
    terms: frozenset[str]
    confidence: float

    @classmethod
    def of(cls, tag: str, confidence: float) -> TagForm:
        return cls(frozenset(words(tag)), frozenset(terms(tag)), confidence)


def tag_score(query_words: Collection[str], tags: Mapping[str, float] | Iterable[TagForm]) -> float:
    """How well ``tags`` (tag text -> confidence, or prepared :class:`TagForm`) cover the
    query's words, 0..1.

    A query word is covered fully by a tag whose words all appear in the query (tag ``red`` or
    ``sports car`` for the query ``red sports car``) and half by a tag that only contains it
    (tag ``小猫`` for ``猫``); each covering counts with its tag's confidence."""
    wanted = set(query_words)
    if not wanted:
        return 0.0
    forms = (
        [TagForm.of(tag, confidence) for tag, confidence in tags.items()]
        if isinstance(tags, Mapping)
        else tags
    )
    cover: dict[str, float] = {}
    for form in forms:
        if not form.words:
            continue
        if form.words <= wanted:
            for w in form.words:
                cover[w] = max(cover.get(w, 0.0), form.confidence)
        for w in wanted & form.terms:  # a word or a character of the tag
            cover[w] = max(cover.get(w, 0.0), 0.5 * form.confidence)
    return sum(cover.values()) / len(wanted)
