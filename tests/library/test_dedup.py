"""Exact and near duplicates: resized, re-encoded and slightly cropped copies are found,
different photographs are not; the BK-tree answers what brute force answers."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageEnhance

from atelier.library.dedup import (
    NearDuplicateIndex,
    dhash,
    hamming,
    phash,
    sha256_hex,
    to_signed,
    to_unsigned,
)

THRESHOLD = 12  # the default of LIBRARY__NEAR_DUPLICATE_DISTANCE


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue()))


def crop(image: Image.Image, share: float) -> Image.Image:
    dx, dy = int(image.width * share), int(image.height * share)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


VARIANTS = {
    "half size": lambda im: im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS),
    "thumbnail": lambda im: im.resize((128, round(128 * im.height / im.width))),
    "jpeg q40": lambda im: jpeg(im, 40),
    "crop 2% each side": lambda im: crop(im, 0.02),
    "cropped and re-encoded": lambda im: jpeg(crop(im, 0.015), 60),
    "brighter": lambda im: ImageEnhance.Brightness(im).enhance(1.15),
    "png with alpha": lambda im: im.convert("RGBA"),
    "resized and re-encoded": lambda im: jpeg(
        im.resize((300, round(300 * im.height / im.width))), 70
    ),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_copies_are_near_duplicates(photos: dict[str, Image.Image], variant: str) -> None:
    index = NearDuplicateIndex(THRESHOLD)
    for name, image in photos.items():
        index.add(name, phash(image))
    for name, image in photos.items():
        found = index.find(phash(VARIANTS[variant](image)))
        assert [m.id for m in found] == [name], (name, found)


def test_different_photographs_are_far_apart(photos: dict[str, Image.Image]) -> None:
    hashes = {name: phash(image) for name, image in photos.items()}
    names = list(hashes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert hamming(hashes[a], hashes[b]) > THRESHOLD + 6, (a, b)


def test_dhash_agrees_on_copies(photos: dict[str, Image.Image]) -> None:
    image = photos["astronaut"]
    assert hamming(dhash(image), dhash(VARIANTS["half size"](image))) <= 6
    assert hamming(dhash(image), dhash(photos["coffee"])) > 16


def test_exact_duplicates_by_sha256() -> None:
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_hex(b"abc") != sha256_hex(b"abd")


def test_bk_tree_matches_brute_force() -> None:
    rng = random.Random(7)
    base = [rng.getrandbits(64) for _ in range(200)]
    hashes = {}
    for i in range(3000):  # clusters of nearby hashes, like variants of the same images
        value = base[i % 200]
        for _ in range(rng.randint(0, 14)):
            value ^= 1 << rng.randrange(64)
        hashes[f"img{i}"] = value
    index = NearDuplicateIndex(THRESHOLD)
    for image_id, value in hashes.items():
        index.add(image_id, value)
    for image_id in list(hashes)[::5]:  # removals keep routing through the node
        assert index.remove(image_id)
        del hashes[image_id]
    assert len(index) == len(hashes)
    for probe in base[:40] + [rng.getrandbits(64) for _ in range(20)]:
        expected = sorted(
            (hamming(probe, v), i) for i, v in hashes.items() if hamming(probe, v) <= THRESHOLD
        )
        assert [(m.distance, m.id) for m in index.find(probe)] == expected
    assert index.find(base[0], threshold=0) == [m for m in index.find(base[0]) if m.distance == 0]


def test_add_again_replaces_and_remove_unknown() -> None:
    index = NearDuplicateIndex(4)
    index.add("a", 0)
    index.add("a", 0xFFFF)  # the image changed: its old hash is forgotten
    assert index.find(0) == [] and [m.id for m in index.find(0xFFFF)] == ["a"]
    assert not index.remove("missing") and len(index) == 1


def test_signed_storage_round_trip() -> None:
    for value in (0, 1, 2**63 - 1, 2**63, 2**64 - 1):
        signed = to_signed(value)
        assert -(2**63) <= signed < 2**63 and to_unsigned(signed) == value
