"""Hybrid search: vector similarity blended with tag and full-text matches, under filters.

For a text query the searcher gathers candidates from three places — the vector index's
nearest neighbours of the embedded query, the BM25 text index (tags, descriptions, OCR text)
and the tag index — restricted to the images the filters allow; then scores each candidate:

- ``vector``: cosine similarity of the query and image embeddings, below 0 counted as 0
  (computed exactly for candidates the vector search did not return);
- ``tags``: the share of the query's words covered by the image's tags, weighted by each tag's
  confidence (:func:`~atelier.library.textsearch.tag_score`);
- ``text``: BM25 over tags (weight 2), descriptions and OCR text, divided by the best BM25 of
  the query, so the best text match scores 1;

and ranks by ``w_vector * vector + w_tags * tags + w_text * text`` (weights normalised to sum
1; ties by id). :meth:`HybridSearcher.search_by_image` ranks by the similarity of image
embeddings (CLIP), with the same filters. An empty query lists the allowed images, newest
first.

The searcher keeps the searchable fields of every image in memory (:class:`LibraryDoc`: tags,
descriptions, OCR text and the fields filters use), built from rows the caller passes to
:meth:`~HybridSearcher.upsert`; the vectors stay in their :class:`VectorIndex`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image

from atelier.library.analysis import Tag
from atelier.library.embedding import Embedder, ImageEmbedder
from atelier.library.textsearch import TagForm, TextIndex, normalise, tag_score, words
from atelier.library.vectors import VectorIndex

#: Vector neighbours fetched per query: this many times ``k``, at least ``MIN_CANDIDATES``.
CANDIDATE_FACTOR = 4
MIN_CANDIDATES = 50


@dataclass(frozen=True)
class Weights:
    vector: float = 0.6
    tags: float = 0.25
    text: float = 0.15

    def __post_init__(self) -> None:
        if min(self.vector, self.tags, self.text) < 0:
            raise ValueError("search weights must not be negative")
        if self.vector + self.tags + self.text <= 0:
            raise ValueError("at least one search weight must be positive")

    def normalised(self) -> Weights:
        total = self.vector + self.tags + self.text
        return Weights(self.vector / total, self.tags / total, self.text / total)


@dataclass(frozen=True)
class LibraryDoc:
    """The searchable side of one image."""

    id: str
    owner: str = ""
    tags: tuple[Tag, ...] = ()
    description: str = ""  # all languages, joined
    ocr_text: str = ""
    collections: frozenset[str] = frozenset()
    created_at: datetime | None = None
    width: int = 0
    height: int = 0
    kind: str = ""  # "upload", "generated"...

    @cached_property
    def tag_keys(self) -> frozenset[str]:
        """The tags' names in both languages, normalised, as filters compare them."""
        return frozenset(self.tag_confidences())

    def tag_confidences(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for tag in self.tags:
            for name in tag.names:
                key = normalise(name).strip()
                out[key] = max(out.get(key, 0.0), tag.confidence)
        return out


@dataclass(frozen=True)
class SearchFilters:
    """Every given condition must hold. ``tags``: each one among the image's tags (either
    language, case-insensitive)."""

    tags: tuple[str, ...] = ()
    owner: str | None = None
    collection: str | None = None
    kind: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    min_width: int | None = None
    min_height: int | None = None
    max_width: int | None = None
    max_height: int | None = None
    ids: frozenset[str] | None = None  # already filtered elsewhere (SQL)

    def accepts(self, doc: LibraryDoc) -> bool:
        if self.ids is not None and doc.id not in self.ids:
            return False
        if self.owner is not None and doc.owner != self.owner:
            return False
        if self.collection is not None and self.collection not in doc.collections:
            return False
        if self.kind is not None and doc.kind != self.kind:
            return False
        if self.created_after or self.created_before:
            if doc.created_at is None:
                return False
            if self.created_after and doc.created_at < self.created_after:
                return False
            if self.created_before and doc.created_at >= self.created_before:
                return False
        checks = (
            (self.min_width, doc.width, 1),
            (self.min_height, doc.height, 1),
            (self.max_width, doc.width, -1),
            (self.max_height, doc.height, -1),
        )
        for limit, value, sign in checks:
            if limit is not None and (value - limit) * sign < 0:
                return False
        if self.tags:
            return all(normalise(t).strip() in doc.tag_keys for t in self.tags)
        return True

    @property
    def empty(self) -> bool:
        return self == SearchFilters()


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float
    vector: float = 0.0
    tags: float = 0.0
    text: float = 0.0


@dataclass
class _State:
    docs: dict[str, LibraryDoc] = field(default_factory=dict)
    text: TextIndex = field(default_factory=TextIndex)
    tag_docs: dict[str, set[str]] = field(default_factory=dict)  # tag word -> docs
    tag_forms: dict[str, list[TagForm]] = field(default_factory=dict)  # doc -> its tags
    # exact-match indexes of the filters: (field, value) -> docs
    facets: dict[tuple[str, str], set[str]] = field(default_factory=dict)


def _facets(doc: LibraryDoc) -> list[tuple[str, str]]:
    out = [("owner", doc.owner), ("kind", doc.kind)]
    out += [("collection", c) for c in doc.collections]
    return out + [("tag", key) for key in doc.tag_keys]


class HybridSearcher:
    def __init__(
        self,
        embedder: Embedder | None = None,
        index: VectorIndex | None = None,
        *,
        weights: Weights = Weights(),
        image_embedder: ImageEmbedder | None = None,
        image_index: VectorIndex | None = None,
        query_prefix: str = "",
    ) -> None:
        if (embedder is None) != (index is None):
            raise ValueError("give both the text embedder and its index, or neither")
        self.embedder, self.index = embedder, index
        self.image_embedder, self.image_index = image_embedder, image_index
        self.weights = weights
        self.query_prefix = query_prefix
        self._lock = threading.RLock()
        self._state = _State()

    # -- the documents ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._state.docs)

    def get(self, image_id: str) -> LibraryDoc | None:
        return self._state.docs.get(image_id)

    def upsert(self, docs: Iterable[LibraryDoc]) -> None:
        with self._lock:
            state = self._state
            for doc in docs:
                self._forget(doc.id)
                state.docs[doc.id] = doc
                tag_text = " ".join(name for tag in doc.tags for name in tag.names)
                state.text.add(
                    doc.id, [(tag_text, 2.0), (doc.description, 1.0), (doc.ocr_text, 1.0)]
                )
                for facet in _facets(doc):
                    state.facets.setdefault(facet, set()).add(doc.id)
                forms = [TagForm.of(name, conf) for name, conf in doc.tag_confidences().items()]
                state.tag_forms[doc.id] = forms
                for form in forms:
                    for w in form.words:
                        state.tag_docs.setdefault(w, set()).add(doc.id)

    def remove(self, ids: Iterable[str]) -> None:
        with self._lock:
            for image_id in ids:
                self._forget(image_id)

    def _forget(self, image_id: str) -> None:
        state = self._state
        doc = state.docs.pop(image_id, None)
        if doc is None:
            return
        state.text.remove(image_id)
        for facet in _facets(doc):
            holders = state.facets.get(facet)
            if holders is not None:
                holders.discard(image_id)
                if not holders:
                    del state.facets[facet]
        for form in state.tag_forms.pop(image_id, []):
            for w in form.words:
                holders = state.tag_docs.get(w)
                if holders is not None:
                    holders.discard(image_id)
                    if not holders:
                        del state.tag_docs[w]

    def allowed(self, filters: SearchFilters | None) -> set[str] | None:
        """The ids the filters let through; None when there are no filters."""
        if filters is None or filters.empty:
            return None
        with self._lock:
            state = self._state
            # start from the smallest exact-match set the filters name, check the rest per doc
            sets: list[Collection[str]] = [] if filters.ids is None else [filters.ids]
            wanted = [("owner", filters.owner), ("collection", filters.collection)]
            wanted += [("kind", filters.kind)] + [("tag", t) for t in filters.tags]
            for name, value in wanted:
                if value is not None:
                    key = normalise(value).strip() if name == "tag" else value
                    sets.append(state.facets.get((name, key), set()))
            if sets:
                smallest = min(sets, key=len)
                pool: Iterable[LibraryDoc] = (state.docs[i] for i in smallest if i in state.docs)
            else:
                pool = state.docs.values()
            return {doc.id for doc in pool if filters.accepts(doc)}

    # -- searching ----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        k: int = 20,
        filters: SearchFilters | None = None,
        weights: Weights | None = None,
    ) -> list[SearchHit]:
        w = (weights or self.weights).normalised()
        allowed = self.allowed(filters)
        if not query.strip():
            return self._listing(allowed, k)
        query_words = words(query)
        candidates: dict[str, float] = {}  # id -> vector similarity, where known
        wanted = max(k * CANDIDATE_FACTOR, MIN_CANDIDATES)
        vector = None
        if self.embedder is not None and self.index is not None and w.vector > 0:
            vector = self.embedder.embed([self.query_prefix + query])[0]
            for image_id, score in self.index.search(vector, wanted, allowed):
                candidates[image_id] = score
        with self._lock:
            text_scores = self._state.text.search(query, allowed=allowed, limit=wanted * 4)
            tagged: set[str] = set()
            for word in query_words:
                tagged |= self._state.tag_docs.get(word, set())
            if allowed is not None:
                tagged &= allowed
            pool = set(candidates) | set(text_scores) | tagged
            if self._state.docs:  # vectors of images the searcher no longer knows: skipped
                pool = {i for i in pool if i in self._state.docs}
            forms = {i: self._state.tag_forms.get(i, []) for i in pool}
        if vector is not None and self.index is not None:
            missing = [i for i in pool if i not in candidates]
            candidates.update(self.index.similarities(vector, missing))
        best_text = max(text_scores.values(), default=0.0)
        hits = []
        for image_id in pool:
            vec = max(0.0, candidates.get(image_id, 0.0))
            tags = tag_score(query_words, forms[image_id])
            text = text_scores.get(image_id, 0.0) / best_text if best_text > 0 else 0.0
            score = w.vector * vec + w.tags * tags + w.text * text
            hits.append(SearchHit(image_id, score, vec, tags, text))
        hits.sort(key=lambda h: (-h.score, h.id))
        return hits[:k]

    def search_by_image(
        self,
        image: Image.Image | ArrayLike,
        *,
        k: int = 20,
        filters: SearchFilters | None = None,
        exclude: Collection[str] = (),
    ) -> list[SearchHit]:
        """Images whose image embedding is nearest to ``image`` (a picture, or its embedding)."""
        if self.image_embedder is None or self.image_index is None:
            raise LookupError("search by image needs a CLIP model (LIBRARY__CLIP_MODEL)")
        if isinstance(image, Image.Image):
            vector = self.image_embedder.embed_images([image])[0]
        else:
            vector = np.asarray(image, dtype=np.float32)
        allowed = self.allowed(filters)
        skip = set(exclude)
        if allowed is not None:
            allowed -= skip
        found = self.image_index.search(vector, k + len(skip), allowed)
        return [SearchHit(i, s, vector=s) for i, s in found if i not in skip][:k]

    def _listing(self, allowed: set[str] | None, k: int) -> list[SearchHit]:
        with self._lock:
            docs: Sequence[LibraryDoc] = [
                d for d in self._state.docs.values() if allowed is None or d.id in allowed
            ]
        ordered = sorted(
            docs,
            key=lambda d: (d.created_at.timestamp() if d.created_at else float("-inf"), d.id),
            reverse=True,
        )
        return [SearchHit(d.id, 0.0) for d in ordered[:k]]
