"""Duplicates: exact ones by SHA-256 of the bytes, near ones by 64-bit perceptual hashes.

- :func:`phash`: the DCT hash. The upright image in grey, resized to 32 x 32, its 2-D DCT-II;
  the 8 x 8 lowest frequencies (the DC term included) give 64 bits, each set when above their
  median. Survives resizing, re-encoding, mild colour and contrast changes and small crops.
- :func:`dhash`: the difference hash (9 x 8 grey, one bit per horizontal gradient sign), a
  cheaper second opinion, for callers that want one.
- :class:`NearDuplicateIndex`: a BK-tree over the Hamming distance of pHashes. A lookup with
  threshold ``t`` visits only the subtrees whose edge distance ``d`` satisfies ``|d - D| <= t``
  (triangle inequality), far fewer than all hashes for the small thresholds used here.
  Removal keeps a node's hash for routing and forgets its image ids.

Hashes are unsigned 64-bit integers; to store them in a signed BIGINT column use
:func:`to_signed` / :func:`to_unsigned`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import cast

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

HASH_SIZE = 8
DCT_SIZE = 32


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _dct_matrix(n: int) -> NDArray[np.float64]:
    """The orthonormal DCT-II matrix: ``C @ x`` transforms a column."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    return cast(NDArray[np.float64], matrix)


def _grey(image: Image.Image, size: tuple[int, int]) -> NDArray[np.float64]:
    upright = ImageOps.exif_transpose(image) or image
    if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
        flat = Image.new("RGB", upright.size, (255, 255, 255))
        flat.paste(upright.convert("RGBA"), mask=upright.convert("RGBA").getchannel("A"))
        upright = flat
    grey = upright.convert("L").resize(size, Image.Resampling.LANCZOS)
    return cast(NDArray[np.float64], np.asarray(grey, dtype=np.float64))


def _bits(flags: NDArray[np.bool_]) -> int:
    value = 0
    for bit in flags.ravel():
        value = (value << 1) | int(bit)
    return value


def phash(image: Image.Image) -> int:
    pixels = _grey(image, (DCT_SIZE, DCT_SIZE))
    c = _dct_matrix(DCT_SIZE)
    low = (c @ pixels @ c.T)[:HASH_SIZE, :HASH_SIZE]
    return _bits(low > np.median(low))


def dhash(image: Image.Image) -> int:
    pixels = _grey(image, (HASH_SIZE + 1, HASH_SIZE))
    return _bits(pixels[:, 1:] > pixels[:, :-1])


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def to_signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


@dataclass
class _Node:
    hash: int
    ids: set[str] = field(default_factory=set)
    children: dict[int, _Node] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    id: str
    distance: int


class NearDuplicateIndex:
    """Image ids by perceptual hash; :meth:`find` answers those within ``threshold`` bits."""

    def __init__(self, threshold: int = 12) -> None:
        self.threshold = threshold
        self._root: _Node | None = None
        self._hash_of: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._hash_of)

    def add(self, image_id: str, value: int) -> None:
        with self._lock:
            if image_id in self._hash_of:
                self._discard(image_id)
            self._hash_of[image_id] = value
            if self._root is None:
                self._root = _Node(value, {image_id})
                return
            node = self._root
            while True:
                d = hamming(value, node.hash)
                if d == 0:
                    node.ids.add(image_id)
                    return
                child = node.children.get(d)
                if child is None:
                    node.children[d] = _Node(value, {image_id})
                    return
                node = child

    def remove(self, image_id: str) -> bool:
        with self._lock:
            return self._discard(image_id)

    def _discard(self, image_id: str) -> bool:
        value = self._hash_of.pop(image_id, None)
        if value is None:
            return False
        node = self._root
        while node is not None:
            d = hamming(value, node.hash)
            if d == 0:
                node.ids.discard(image_id)
                return True
            node = node.children.get(d)
        return True

    def find(self, value: int, threshold: int | None = None) -> list[Match]:
        """Images whose hash is within ``threshold`` bits of ``value``, nearest first."""
        limit = self.threshold if threshold is None else threshold
        found: list[Match] = []
        with self._lock:
            for node, d in self._walk(value, limit):
                found += [Match(i, d) for i in node.ids]
        found.sort(key=lambda m: (m.distance, m.id))
        return found

    def _walk(self, value: int, limit: int) -> Iterator[tuple[_Node, int]]:
        stack = [self._root] if self._root is not None else []
        while stack:
            node = stack.pop()
            d = hamming(value, node.hash)
            if d <= limit:
                yield node, d
            for edge, child in node.children.items():
                if d - limit <= edge <= d + limit:
                    stack.append(child)
