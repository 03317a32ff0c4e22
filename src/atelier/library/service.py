"""Library use cases for the API and the CLI: browse, edit, delete, search, collections.

Everything is scoped to an owner: another owner's image or collection is "not found". Rows
come from :mod:`atelier.library.store`; searches go through the process's
:class:`~atelier.library.index.LibraryIndex`, refreshed from the change log first.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import numpy as np
from PIL import Image
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from atelier.db.base import utcnow
from atelier.errors import AtelierError, BadRequest, Conflict, NotFound, ServiceUnavailable
from atelier.images.models import ImageRecord
from atelier.images.schemas import image_links
from atelier.images.signing import signed_url
from atelier.library import index as vectors
from atelier.library import reembed, store
from atelier.library.hybrid import SearchFilters, SearchHit
from atelier.library.index import LibraryIndex
from atelier.library.ingest import new_tag_task, new_task
from atelier.library.models import (
    LibraryCollection,
    LibraryCollectionItem,
    LibraryEmbedding,
    LibraryImage,
)
from atelier.library.schemas import (
    CollectionDetail,
    CollectionOut,
    ImagePage,
    LibraryImageDetail,
    LibraryImageOut,
    NearDuplicate,
    Parts,
    PatchOut,
    ReembedOut,
    SearchHitOut,
    SearchOut,
    SharedImage,
    SharedOut,
    ShareOut,
    TagOut,
)
from atelier.library.store import Filters, clean_tag
from atelier.providers.errors import NotConfigured
from atelier.runtime import Runtime
from atelier.tasks.lifecycle import ACTIVE
from atelier.tasks.models import Task


class ImageEmbedderUnavailable(AtelierError):
    status_code = 409
    code = "image_embedder_unavailable"


class NotEmbedded(AtelierError):
    status_code = 409
    code = "not_embedded"


class LibraryUnavailable(ServiceUnavailable):
    code = "library_unavailable"


class ReembedNotNeeded(Conflict):
    code = "reembed_not_needed"


class ReembedRunning(Conflict):
    code = "reembed_running"


def _missing(image_id: str) -> NotFound:
    return NotFound("image not found", details={"image_id": image_id})


def encode_cursor(created: datetime, image_id: str) -> str:
    raw = f"{created.isoformat()}|{image_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, image_id = base64.urlsafe_b64decode(padded).decode().split("|", 1)
        when = datetime.fromisoformat(created)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("invalid cursor", details={"field": "cursor"}) from None
    if when.tzinfo is None:
        raise BadRequest("invalid cursor", details={"field": "cursor"})
    return when, image_id


class LibraryService:
    def __init__(self, runtime: Runtime, index: LibraryIndex) -> None:
        self.runtime = runtime
        self.index = index

    # -- views ----------------------------------------------------------------------------------
    def _outs(self, rows: Sequence[store.Row], *, detail: bool = False) -> list[Any]:
        ids = [row.image_id for row, _ in rows]
        with self.runtime.db.read() as s:
            tags = store.tags_of(s, ids)
            collections = store.collections_of(s, ids)
        out: list[Any] = []
        for row, record in rows:
            links = image_links(record, self.runtime.settings)
            fields: dict[str, Any] = {
                "image_id": row.image_id,
                "url": links["url"],
                "thumbnail_url": links["thumbnail_url"],
                "width": record.width,
                "height": record.height,
                "format": record.format,
                "content_type": record.content_type,
                "file_size": record.size_bytes,
                "source": row.source,
                "original_filename": row.original_filename,
                "source_url": row.source_url,
                "title": row.title,
                "description_en": row.description_en,
                "description_zh": row.description_zh,
                "tags": [
                    TagOut(tag=t.tag, lang=t.lang, source=t.source, origin=t.origin, score=t.score)
                    for t in tags.get(row.image_id, [])
                ],
                "status": row.status,
                "analyzer": row.analyzer,
                "tag_task_id": row.tag_task_id,
                "sha256": row.sha256,
                "collections": sorted(collections.get(row.image_id, [])),
                "created_at": row.created_at,
                "analyzed_at": row.analyzed_at,
            }
            if detail:
                out.append(LibraryImageDetail(**fields, analysis=row.analysis))
            else:
                out.append(LibraryImageOut(**fields))
        return out

    def _row(self, owner: str, image_id: str) -> store.Row:
        with self.runtime.db.read() as s:
            found = store.rows_by_id(s, owner, [image_id]).get(image_id)
        if found is None:
            raise _missing(image_id)
        return found

    def _check_collection(self, owner: str, collection_id: str | None) -> None:
        if collection_id is not None:
            self._collection(owner, collection_id)

    # -- browse ---------------------------------------------------------------------------------
    def list_images(
        self, owner: str, filters: Filters, *, limit: int = 20, cursor: str | None = None
    ) -> ImagePage:
        self._check_collection(owner, filters.collection)
        after = decode_cursor(cursor) if cursor else None
        with self.runtime.db.read() as s:
            rows = store.page(s, owner, filters, limit=limit + 1, after=after)
        shown = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            last = shown[-1][0]
            next_cursor = encode_cursor(last.created_at, last.image_id)
        return ImagePage(items=self._outs(shown), next_cursor=next_cursor)

    def get(self, owner: str, image_id: str) -> LibraryImageDetail:
        found = self._row(owner, image_id)
        out: LibraryImageDetail = self._outs([found], detail=True)[0]
        try:
            self.index.refresh()
        except NotConfigured:  # no search index here: the details without look-alikes
            return out
        near = sorted(
            (m for m in self.index.near_duplicates(owner, found[0].phash) if m.id != image_id),
            key=lambda m: (m.distance, m.id),
        )
        out.near_duplicates = [NearDuplicate(image_id=m.id, distance=m.distance) for m in near]
        return out

    def random(self, owner: str, filters: Filters, n: int) -> list[LibraryImageOut]:
        self._check_collection(owner, filters.collection)
        with self.runtime.db.read() as s:
            rows = store.random_rows(s, owner, filters, n)
        return self._outs(rows)

    # -- edit -----------------------------------------------------------------------------------
    def patch(
        self,
        owner: str,
        image_id: str,
        *,
        title: str | None,
        tags: list[str] | None,
        title_given: bool,
        dispatch: bool = True,
    ) -> PatchOut:
        from atelier.library.analysis import user_tags

        self._row(owner, image_id)
        if not title_given and tags is None:
            return PatchOut(image=self.get(owner, image_id), task_id=None)
        with self.runtime.db.session() as s:
            values: dict[str, Any] = {"updated_at": utcnow()}
            if title_given:
                values["title"] = (title or "").strip()[:200] or None
            s.execute(
                update(LibraryImage)
                .where(LibraryImage.image_id == image_id, LibraryImage.owner == owner)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if tags is not None:
                store.replace_tags(
                    s, image_id, "user", store.tag_rows(image_id, user_tags(tags), "user")
                )
            store.changed(s, [image_id])
        task_id = new_tag_task(self.runtime, owner, image_id, "embed", dispatch=dispatch)
        return PatchOut(image=self.get(owner, image_id), task_id=task_id)

    def delete(self, owner: str, image_id: str) -> None:
        """The image's rows (the library's go with the image's), its vectors, its bytes."""
        with self.runtime.db.session() as s:
            row = s.get(LibraryImage, image_id)
            record = s.get(ImageRecord, image_id)
            if row is None or record is None or row.owner != owner:
                raise _missing(image_id)
            models = list(
                s.scalars(
                    select(LibraryEmbedding.model).where(LibraryEmbedding.image_id == image_id)
                )
            )
            keys = [k for k in (record.storage_key, record.thumbnail_key) if k]
            s.execute(
                delete(ImageRecord)
                .where(ImageRecord.id == image_id)
                .execution_options(synchronize_session=False)
            )
            store.changed(s, [image_id])
        vectors.drop_vectors(self.runtime, [image_id], models)
        self.index.forget([image_id])
        self.runtime.images.discard(keys)

    # -- search ---------------------------------------------------------------------------------
    def _refresh(self) -> None:
        try:
            self.index.refresh()
        except NotConfigured as exc:
            raise LibraryUnavailable(f"library search is not available: {exc.message}") from None

    def _search_filters(self, owner: str, filters: Filters) -> SearchFilters:
        ids = None
        if filters.collection is not None:
            self._collection(owner, filters.collection)
            with self.runtime.db.read() as s:
                ids = store.members(s, filters.collection)
        return SearchFilters(
            tags=tuple(clean_tag(t) for t in filters.tags if t.strip()),
            owner=owner,
            kind=filters.source,
            created_after=filters.created_from,
            created_before=filters.created_to,
            min_width=filters.min_width,
            max_width=filters.max_width,
            min_height=filters.min_height,
            max_height=filters.max_height,
            ids=ids,
        )

    def _hits(self, owner: str, hits: list[SearchHit]) -> list[SearchHitOut]:
        ids = [h.id for h in hits]
        with self.runtime.db.read() as s:
            rows = store.rows_by_id(s, owner, ids)
        gone = [i for i in ids if i not in rows]
        if gone:  # deleted without a change entry (a task deleted with its images)
            self.index.forget(gone)
        kept = [h for h in hits if h.id in rows]
        outs = self._outs([rows[h.id] for h in kept])
        return [
            SearchHitOut(
                image=out,
                score=round(h.score, 6),
                parts=Parts(
                    vector=round(h.vector, 6), tags=round(h.tags, 6), text=round(h.text, 6)
                ),
                matched=[p for p in ("vector", "tags", "text") if getattr(h, p) > 0],
            )
            for h, out in zip(kept, outs, strict=True)
        ]

    def search(
        self, owner: str, query: str, filters: Filters, k: int, offset: int = 0
    ) -> SearchOut:
        self._refresh()
        sf = self._search_filters(owner, filters)
        found = self.index.searcher.search(query, k=offset + k + 1, filters=sf)
        return self._page(owner, query, found, k, offset)

    def _page(
        self, owner: str, query: str, found: list[SearchHit], k: int, offset: int
    ) -> SearchOut:
        """Hits ``offset`` to ``offset + k`` of a ranking asked for one past them (so it is
        known whether another page follows)."""
        more = len(found) > offset + k
        return SearchOut(
            query=query,
            items=self._hits(owner, found[offset : offset + k]),
            next_offset=offset + k if more else None,
        )

    def _image_vector(self, image_id: str, model: str) -> np.ndarray | None:
        with self.runtime.db.read() as s:
            rows = store.vectors_of(s, model, [image_id])
        return store.unpack(rows[0][1], rows[0][2]) if rows else None

    def search_by_image(
        self,
        owner: str,
        filters: Filters,
        k: int,
        *,
        picture: Image.Image | None = None,
        image_id: str | None = None,
        offset: int = 0,
    ) -> SearchOut:
        owned = self._row(owner, image_id) if image_id is not None else None
        self._refresh()
        searcher = self.index.searcher
        if searcher.image_embedder is None or searcher.image_index is None:
            raise ImageEmbedderUnavailable(
                "search by image needs a CLIP model (LIBRARY__CLIP_MODEL)",
                details={"setting": "ATELIER_LIBRARY__CLIP_MODEL"},
            )
        query: Image.Image | np.ndarray
        exclude: set[str] = set()
        if image_id is not None and owned is not None:
            _, record = owned
            exclude.add(image_id)
            stored = self._image_vector(image_id, searcher.image_embedder.name)
            if stored is not None:
                query = stored
            else:
                from atelier.library.analysis import load

                query = load(self.runtime.storage.get(record.storage_key))[1].convert("RGB")
        elif picture is not None:
            query = picture.convert("RGB")
        else:
            raise BadRequest("send a file or an image_id", details={"field": "file"})
        sf = self._search_filters(owner, filters)
        found = searcher.search_by_image(query, k=offset + k + 1, filters=sf, exclude=exclude)
        return self._page(owner, image_id or "", found, k, offset)

    def similar(
        self, owner: str, image_id: str, filters: Filters, k: int, offset: int = 0
    ) -> SearchOut:
        """By image embedding with a CLIP model, else by text embedding."""
        self._refresh()
        self._row(owner, image_id)
        searcher = self.index.searcher
        sf = self._search_filters(owner, filters)
        if searcher.image_embedder is not None and searcher.image_index is not None:
            stored = self._image_vector(image_id, searcher.image_embedder.name)
            if stored is not None:
                found = searcher.search_by_image(
                    stored, k=offset + k + 1, filters=sf, exclude={image_id}
                )
                return self._page(owner, image_id, found, k, offset)
        stored = self._image_vector(image_id, self.index.text_model)
        if stored is None or searcher.index is None:
            raise NotEmbedded(
                "this image has no embedding yet; its tag task has not finished",
                details={"image_id": image_id},
            )
        allowed = searcher.allowed(sf)
        if allowed is not None:
            allowed.discard(image_id)
        hits = [
            SearchHit(i, s, vector=s)
            for i, s in searcher.index.search(stored, offset + k + 2, allowed)
            if i != image_id
        ]
        return self._page(owner, image_id, hits, k, offset)

    # -- collections ----------------------------------------------------------------------------
    def _collection(self, owner: str, collection_id: str) -> LibraryCollection:
        with self.runtime.db.read() as s:
            found = s.get(LibraryCollection, collection_id)
        if found is None or found.owner != owner:
            raise NotFound("collection not found", details={"collection_id": collection_id})
        return found

    def _collection_out(self, found: LibraryCollection) -> CollectionOut:
        with self.runtime.db.read() as s:
            count = s.scalar(
                select(func.count())
                .select_from(LibraryCollectionItem)
                .where(LibraryCollectionItem.collection_id == found.id)
            )
        return CollectionOut(
            id=found.id,
            name=found.name,
            description=found.description,
            image_count=int(count or 0),
            share_token=found.share_token,
            created_at=found.created_at,
            updated_at=found.updated_at,
        )

    def create_collection(self, owner: str, name: str, description: str) -> CollectionOut:
        import uuid

        now = utcnow()
        found = LibraryCollection(
            id=str(uuid.uuid4()),
            owner=owner,
            name=name.strip() or name,
            description=description,
            created_at=now,
            updated_at=now,
        )
        with self.runtime.db.session() as s:
            s.add(found)
        return self._collection_out(found)

    def collections(self, owner: str) -> list[CollectionOut]:
        with self.runtime.db.read() as s:
            rows = list(
                s.scalars(
                    select(LibraryCollection)
                    .where(LibraryCollection.owner == owner)
                    .order_by(LibraryCollection.created_at.desc(), LibraryCollection.id)
                )
            )
        return [self._collection_out(r) for r in rows]

    def collection(self, owner: str, collection_id: str) -> CollectionDetail:
        found = self._collection(owner, collection_id)
        with self.runtime.db.read() as s:
            rows = store.page(s, owner, Filters(collection=collection_id), limit=100)
        out = self._collection_out(found)
        return CollectionDetail(**out.model_dump(), items=self._outs(rows))

    def update_collection(
        self, owner: str, collection_id: str, name: str | None, description: str | None
    ) -> CollectionOut:
        self._collection(owner, collection_id)
        values: dict[str, Any] = {"updated_at": utcnow()}
        if name is not None:
            values["name"] = name.strip() or name
        if description is not None:
            values["description"] = description
        with self.runtime.db.session() as s:
            s.execute(
                update(LibraryCollection)
                .where(LibraryCollection.id == collection_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        return self._collection_out(self._collection(owner, collection_id))

    def delete_collection(self, owner: str, collection_id: str) -> None:
        self._collection(owner, collection_id)
        with self.runtime.db.session() as s:
            s.execute(
                delete(LibraryCollection)
                .where(LibraryCollection.id == collection_id, LibraryCollection.owner == owner)
                .execution_options(synchronize_session=False)
            )

    def _owned(self, owner: str, image_ids: list[str]) -> list[str]:
        ids = list(dict.fromkeys(image_ids))
        with self.runtime.db.read() as s:
            mine = set(
                s.scalars(
                    select(LibraryImage.image_id).where(
                        LibraryImage.owner == owner, LibraryImage.image_id.in_(ids)
                    )
                )
            )
        missing = [i for i in ids if i not in mine]
        if missing:
            raise NotFound("image not found", details={"image_ids": missing})
        return ids

    def add_items(self, owner: str, collection_id: str, image_ids: list[str]) -> CollectionOut:
        self._collection(owner, collection_id)
        ids = self._owned(owner, image_ids)
        for _ in range(2):
            try:
                with self.runtime.db.session() as s:
                    present = set(
                        s.scalars(
                            select(LibraryCollectionItem.image_id).where(
                                LibraryCollectionItem.collection_id == collection_id,
                                LibraryCollectionItem.image_id.in_(ids),
                            )
                        )
                    )
                    now = utcnow()
                    s.add_all(
                        LibraryCollectionItem(collection_id=collection_id, image_id=i, added_at=now)
                        for i in ids
                        if i not in present
                    )
                    self._touch(s, collection_id)
                break
            except IntegrityError:  # added by a concurrent request: look again
                continue
        return self._collection_out(self._collection(owner, collection_id))

    def remove_items(self, owner: str, collection_id: str, image_ids: list[str]) -> CollectionOut:
        self._collection(owner, collection_id)
        ids = self._owned(owner, image_ids)
        with self.runtime.db.session() as s:
            s.execute(
                delete(LibraryCollectionItem)
                .where(
                    LibraryCollectionItem.collection_id == collection_id,
                    LibraryCollectionItem.image_id.in_(ids),
                )
                .execution_options(synchronize_session=False)
            )
            self._touch(s, collection_id)
        return self._collection_out(self._collection(owner, collection_id))

    @staticmethod
    def _touch(s: Any, collection_id: str) -> None:
        s.execute(
            update(LibraryCollection)
            .where(LibraryCollection.id == collection_id)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    def share(self, owner: str, collection_id: str) -> ShareOut:
        found = self._collection(owner, collection_id)
        token = found.share_token
        if token is None:
            token = secrets.token_urlsafe(24)
            with self.runtime.db.session() as s:
                s.execute(
                    update(LibraryCollection)
                    .where(LibraryCollection.id == collection_id)
                    .values(share_token=token, updated_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
        base = self.runtime.settings.public_url.rstrip("/")
        return ShareOut(
            token=token,
            url=f"{base}/api/v1/shared/{token}",
            page_url=f"{base}/library?{urlencode({'shared': token})}",
        )

    def unshare(self, owner: str, collection_id: str) -> None:
        self._collection(owner, collection_id)
        with self.runtime.db.session() as s:
            s.execute(
                update(LibraryCollection)
                .where(LibraryCollection.id == collection_id)
                .values(share_token=None, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    def shared(self, token: str) -> SharedOut:
        """A shared collection, read-only, with signed image URLs (no session needed)."""
        with self.runtime.db.read() as s:
            found = s.scalars(
                select(LibraryCollection).where(LibraryCollection.share_token == token)
            ).first()
            if found is None:
                raise NotFound("no shared collection with this token")
            rows = store.page(s, found.owner, Filters(collection=found.id), limit=500)
            tags = store.tags_of(s, [r.image_id for r, _ in rows])
        settings = self.runtime.settings
        ttl = settings.library.share_url_ttl
        items = [
            SharedImage(
                image_id=row.image_id,
                url=signed_url(settings, row.image_id, ttl=ttl),
                thumbnail_url=signed_url(settings, row.image_id, thumbnail=True, ttl=ttl),
                width=record.width,
                height=record.height,
                title=row.title,
                description_en=row.description_en,
                tags=[t.tag for t in tags.get(row.image_id, [])],
            )
            for row, record in rows
        ]
        return SharedOut(
            name=found.name, description=found.description, items=items, expires_in=ttl
        )

    # -- re-embedding ---------------------------------------------------------------------------
    def reembed(self, owner: str, *, force: bool = False, dispatch: bool = True) -> ReembedOut:
        try:
            planned = reembed.plan(self.runtime)
        except NotConfigured as exc:
            raise LibraryUnavailable(f"the embedder is not available: {exc.message}") from None
        with self.runtime.db.read() as s:
            running = s.scalars(
                select(Task).where(
                    Task.kind == "reembed", Task.status.in_([a.value for a in ACTIVE])
                )
            ).first()
        if running is not None:
            if running.owner != owner:
                raise ReembedRunning(
                    "the library is being re-embedded already", details={"task_id": running.id}
                )
            return ReembedOut(
                task_id=running.id, status=running.status, created=False, plan=planned.as_dict()
            )
        if not planned.needed and not force:
            raise ReembedNotNeeded(
                "every stored vector is of the configured models: nothing to re-embed",
                details=planned.as_dict(),
            )
        import uuid

        task_id = str(uuid.uuid4())
        params = {"text_model": planned.text_model, "image_model": planned.image_model}
        with self.runtime.db.session() as s:
            created = new_task(s, task_id, "reembed", owner, params)
        if dispatch:
            self.runtime.dispatcher.submit_many([created])
        return ReembedOut(task_id=task_id, status="pending", created=True, plan=planned.as_dict())
