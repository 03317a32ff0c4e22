"""The text mask: the pixels of the letters (with their outline, shadow and anti-aliased edge),
not the boxes around them, so the rest of the photo is left exactly as it was.

For each line to erase, in a window around its polygon (a band a little wider than the
polygon is where letters may be; the ring beyond it is background):

1. *Difference.* The band is filled from the pixels around it (OpenCV's Telea fill carries
   the surrounding colours and gradients inwards): an estimate of the background under the
   text. Pixels far from it in colour (CIELAB, above Otsu's threshold and a floor) are the
   candidates: letters, and whatever else in the band stands out.
2. *Colour.* Text is drawn in flat colours. The candidates' colours are clustered (k-means);
   a cluster is a text colour when it is tight and, when colour tells (enough candidates have
   colours rare in the ring and common in the polygon), when it is one of those rare ones.
3. *Shape.* Pixels of a text colour become glyph pixels when they form strokes (parts a disc
   of a fifth of the line's height fits in are blobs, not strokes), stay inside the band
   (a structure of that colour running on beyond it — a mortar line, a horizon — is
   background), lie by a candidate and touch the polygon. Candidates enclosed by the glyphs,
   letter-sized, join them (a fill inside an outline).
4. *Outline and shadow.* A band of one colour hugging the letters that stops a few pixels out
   is an outline; a copy of the letters' shape shifted by a few pixels and darker than the
   background is a drop shadow. Both join the mask.
5. The mask is grown by ``margin`` pixels (anti-aliasing, compression ringing).

When the separation fails (almost nothing or almost everything of the polygon comes out as
letters: text with no contrast to what is behind it) the line falls back to its polygon, the
box the naive method fills. Parts of a line protected by the keep-list are cut out of the mask,
and with a region of interest nothing outside it is masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from atelier.erase.detect import Polygon, Roi, TextLine

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]

#: Below this colour distance (ΔE) a pixel is never a glyph's core.
MIN_CONTRAST = 18.0
#: A separation covering less / more of the polygon than this has failed.
MIN_SHARE, MAX_SHARE = 0.015, 0.82
#: A drop shadow darkens the background by at least this much (CIELAB L).
SHADOW_DROP = 6.0
#: Bin size (CIELAB units) of the colour histograms that tell text colours from the background.
COLOUR_BIN = 6
#: Colour rarity decides when at least this share of the strong differences has rare colours.
RARE_SHARE = 0.25
#: Text colour clusters are tighter than this (mean CIELAB distance to their centre).
MAX_SPREAD = 11.0


@dataclass(frozen=True)
class LineMask:
    method: Literal["glyph", "box"]
    pixels: int
    polygon_share: float  # share of the line's polygon that is masked
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the window looked at

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "pixels": self.pixels,
            "polygon_share": round(self.polygon_share, 4),
            "box": list(self.box),
        }


@dataclass(frozen=True)
class TextMask:
    mask: U8  # 0 or 255, the picture's size
    lines: tuple[LineMask, ...]

    @property
    def pixels(self) -> int:
        return int(np.count_nonzero(self.mask))


def disc(radius: int) -> U8:
    r = max(0, int(radius))
    return np.asarray(
        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)), np.uint8
    )


def _fill(shape: tuple[int, int], polygons: Sequence[Polygon], offset: tuple[int, int]) -> U8:
    out = np.zeros(shape, np.uint8)
    pts = [
        np.round((np.asarray(p, np.float32) - np.asarray(offset, np.float32)) * 16).astype(np.int32)
        for p in polygons
        if len(p) >= 3
    ]
    if pts:
        cv2.fillPoly(out, pts, 255, cv2.LINE_8, shift=4)
    return out


def lab(rgb: U8) -> F32:
    return np.asarray(cv2.cvtColor(rgb.astype(np.float32) / np.float32(255.0), cv2.COLOR_RGB2LAB))


def background_estimate(crop: U8, hole: U8) -> U8:
    """The crop with ``hole`` filled from the pixels around it."""
    return np.asarray(cv2.inpaint(crop, hole, 3, cv2.INPAINT_TELEA), np.uint8)


def _rare_in(
    lab_crop: F32, ring: npt.NDArray[np.bool_], polygon: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Pixels whose colour is rare in ``ring`` and much more common inside ``polygon``: a
    coarse CIELAB histogram of each, blurred by one bin, compared bin by bin."""
    q = np.floor(lab_crop / np.float32(COLOUR_BIN)).astype(np.int32)
    q[:, :, 1:] += 128 // COLOUR_BIN
    size = (100 // COLOUR_BIN + 2, 256 // COLOUR_BIN + 2, 256 // COLOUR_BIN + 2)
    q = np.clip(q, 0, np.asarray(size) - 1)
    flat = np.ravel_multi_index((q[:, :, 0], q[:, :, 1], q[:, :, 2]), size)

    def density(where: npt.NDArray[np.bool_]) -> npt.NDArray[np.float32]:
        counts = np.bincount(flat[where], minlength=int(np.prod(size))).astype(np.float32)
        cube = counts.reshape(size)
        for axis in range(3):  # a 3x3x3 box sum, axis by axis
            cube = cube + np.roll(cube, 1, axis) + np.roll(cube, -1, axis)
        return np.asarray(cube.reshape(-1) / max(1.0, float(where.sum())), np.float32)

    ring_d = density(ring)[flat]
    poly_d = density(polygon)[flat]
    return np.asarray((ring_d < 0.004) | (poly_d > 4.0 * ring_d))


def _text_colours(lab_crop: F32, seeds: npt.NDArray[np.bool_]) -> list[tuple[F32, float]]:
    """The text's colours: clusters of the ``seeds`` pixels' colours, as ``(centre,
    tolerance)`` pairs."""
    pixels = lab_crop[seeds].reshape(-1, 3)
    if len(pixels) < 12:
        return []
    k = min(3, max(1, len(pixels) // 40))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 12, 0.5)
    step = max(1, len(pixels) // 4000)
    sample = np.ascontiguousarray(pixels[::step], np.float32)
    cv2.setRNGSeed(0)
    _, labels, centres = cv2.kmeans(  # type: ignore[call-overload]
        sample, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS
    )
    labels = labels.reshape(-1)
    out: list[tuple[F32, float]] = []
    for c in range(k):
        members = sample[labels == c]
        if len(members) < max(6, 0.05 * len(sample)):
            continue
        centre = np.asarray(centres[c], np.float32)
        spread = float(np.sqrt(((members - centre) ** 2).sum(axis=1)).mean())
        out.append((centre, spread))
    # text is drawn in flat colours: a cluster as spread out as a photo's texture is not
    # one of them (the tightest is kept all the same)
    flat = [c for c in out if c[1] <= MAX_SPREAD] or sorted(out, key=lambda c: c[1])[:1]
    return [(centre, float(np.clip(2.0 * spread, 10.0, 28.0))) for centre, spread in flat]


def _thin(mask: U8, radius: int) -> U8:
    """``mask`` without its parts thicker than strokes (those a disc of ``radius`` fits in)."""
    if radius < 2:
        return mask
    thick = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_OPEN, disc(radius)), np.uint8)
    if not thick.any():
        return mask
    thick = np.asarray(cv2.dilate(thick, disc(1)), np.uint8)
    return np.asarray(mask & ~thick, np.uint8)


def _touching(mask: U8, polygon: U8) -> U8:
    """The components of ``mask`` that touch ``polygon``."""
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[(polygon > 0) & (mask > 0)])] = True
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def _crossing(
    coloured: npt.NDArray[np.bool_], inside: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Pixels of text-coloured structures that run on well outside the band (mortar lines,
    edges, a sky of the text's colour): text stays inside its box; the background does not."""
    count, labels = cv2.connectedComponents(coloured.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(coloured)
    n_in = np.bincount(labels[inside], minlength=count)
    n_out = np.bincount(labels[~inside], minlength=count)
    crossing = n_out >= np.maximum(6, 0.5 * n_in)
    crossing[0] = False
    return np.asarray(crossing[labels])


def _holes(mask: U8, max_side: float) -> npt.NDArray[np.bool_]:
    """Pixels enclosed by ``mask`` (not reachable from the border without crossing it), in
    holes no wider or taller than ``max_side`` (the inside of a letter, not of a coin)."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = mask
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 255)
    holes = (flood[1:-1, 1:-1] == 0).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
    small = (stats[:, cv2.CC_STAT_WIDTH] <= max_side) & (stats[:, cv2.CC_STAT_HEIGHT] <= max_side)
    small[0] = False
    return np.asarray(small[labels])


def _outline(
    core: U8, lab_crop: F32, inside: npt.NDArray[np.bool_], reach: int
) -> npt.NDArray[np.bool_]:
    """An outline: a band of one colour around the letters, a few pixels wide, beyond which
    that colour stops (otherwise it is the background). It may start one pixel out, past the
    anti-aliased edge between the fill and the outline; of the two starts, the one with the
    more uniform colour wins."""
    out = np.zeros(core.shape, bool)
    grown = [core > 0]
    for k in range(1, reach + 5):
        grown.append(np.asarray(cv2.dilate(core, disc(k)), np.uint8) > 0)
    rings = [grown[k] & ~grown[k - 1] & inside for k in range(1, len(grown))]
    found: list[tuple[float, npt.NDArray[np.bool_]]] = []
    for start in (0, 1):
        pixels = lab_crop[rings[start]].reshape(-1, 3)
        if len(pixels) < 12:
            break
        centre = np.median(pixels, axis=0)
        spread = float(np.median(np.sqrt(((pixels - centre) ** 2).sum(axis=1))))
        tolerance = float(np.clip(2.5 * spread, 8.0, 24.0))
        close = np.sqrt(((lab_crop - centre) ** 2).sum(axis=2)) < tolerance
        fracs = [float(close[r].mean()) if r.any() else 0.0 for r in rings]
        if fracs[start] < 0.55:
            continue
        end = start + 1
        while end < start + reach and fracs[end] >= 0.5 * fracs[start]:
            end += 1
        far = fracs[end + 1 : end + 3]
        if not far or float(np.mean(far)) > 0.45 * fracs[start]:
            continue  # the colour goes on: it is the background around the letters
        band = np.zeros(core.shape, bool)
        for k in range(end):
            band |= rings[k] & (close | (k < start))
        found.append((spread, band))
    if found:
        out = min(found, key=lambda f: f[0])[1]
    return out


def _shadow(
    core: U8, lab_crop: F32, lab_bg: F32, inside: npt.NDArray[np.bool_], reach: int
) -> npt.NDArray[np.bool_]:
    """A drop shadow: the glyphs' shape, shifted by a few pixels, darker than the background.
    The shift whose pixels are darkest (clearly more than the other shifts) is taken, and the
    darkened pixels around it are masked."""
    out = np.zeros(core.shape, bool)
    ys, xs = np.nonzero(core)
    if len(ys) < 12:
        return out
    h, w = core.shape
    drop = lab_bg[:, :, 0] - lab_crop[:, :, 0]  # how much darker than the background
    taken = np.asarray(cv2.dilate(core, disc(1)), np.uint8) > 0
    scores: dict[tuple[int, int], float] = {}
    step = max(1, len(ys) // 3000)
    ys, xs = ys[::step], xs[::step]
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            if dx == 0 and dy == 0:
                continue
            ty, tx = ys + dy, xs + dx
            ok = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
            ty, tx = ty[ok], tx[ok]
            free = ~taken[ty, tx] & inside[ty, tx]
            if free.sum() < 0.15 * len(ys):
                continue
            scores[(dy, dx)] = float(drop[ty[free], tx[free]].mean())
    if not scores:
        return out
    (dy, dx), best = max(scores.items(), key=lambda kv: kv[1])
    typical = float(np.median(list(scores.values())))
    if best < SHADOW_DROP or best < typical + 0.5 * SHADOW_DROP:
        return out
    shifted = np.zeros_like(core)
    src = core[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    shifted[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    # the shadow runs from the glyphs to the shifted copy, and softens around it
    span = np.asarray(cv2.dilate(shifted, disc(max(1, round(0.5 * np.hypot(dx, dy))))), np.uint8)
    return np.asarray((span > 0) & inside & (core == 0) & (drop > max(3.0, 0.25 * best)))


def separate(
    crop: U8,
    polygon: U8,
    search: U8,
    ring: U8,
    *,
    line_height: float,
    reach: int = 2,
    sensitivity: float = 1.0,
) -> U8:
    """Glyph pixels of the crop (0/255). ``polygon`` is the line's polygon, ``search`` the
    band where glyph pixels may lie and ``ring`` background around it (all 0/255); rims and
    shadows are looked for within ``reach`` pixels of the letters."""
    bg = background_estimate(crop, search)
    lab_crop, lab_bg = lab(crop), lab(bg)
    dist = np.linalg.norm(lab_crop - lab_bg, axis=2).astype(np.float32)
    inside = search > 0
    values = dist[inside]
    empty = np.zeros_like(polygon)
    if values.size == 0:
        return empty
    scaled = np.clip(values, 0, 255).astype(np.uint8).reshape(-1, 1)
    otsu, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    high = max(float(otsu), MIN_CONTRAST / sensitivity)
    candidates = (dist > high) & inside
    near_candidates = np.asarray(cv2.dilate(candidates.astype(np.uint8), disc(2)), np.uint8) > 0
    core = empty
    stroke = max(2, round(0.2 * line_height))
    # text colours are those rare around the line; failing that, any colour of the strong
    # differences, left to the shape filters (thin strokes, inside the box)
    rare = _rare_in(lab_crop, ring > 0, polygon > 0) & candidates
    # colours rare around the line are the text's, unless only a few candidates have them
    # (text in a colour the surroundings share: then the shape filters decide)
    informative = np.count_nonzero(rare) >= RARE_SHARE * np.count_nonzero(candidates)
    for seeds in (rare, candidates) if informative else (candidates,):
        core_b = np.zeros(polygon.shape, bool)
        for centre, tolerance in _text_colours(lab_crop, seeds):
            coloured = np.sqrt(((lab_crop - centre) ** 2).sum(axis=2)) < tolerance * sensitivity
            # colour by colour (an outline may touch dark background, its fill does not):
            # thick blobs are not strokes; thin structures running out of the band are not text
            strokes = _thin(np.where(coloured, 255, 0).astype(np.uint8), stroke) > 0
            core_b |= strokes & ~_crossing(strokes, inside)
        core_b &= near_candidates & inside
        core = _touching(np.where(core_b, 255, 0).astype(np.uint8), polygon)
        share = int(np.count_nonzero(core & polygon)) / max(1, int(np.count_nonzero(polygon)))
        if MIN_SHARE <= share <= MAX_SHARE:
            break
    if not core.any():
        return empty
    # letters drawn in a colour the background also has, inside an outline that it has not:
    # the strongly different pixels the outline encloses
    enclosed = _holes(core, 0.8 * line_height) & candidates
    core[enclosed] = 255
    core[_outline(core, lab_crop, inside, reach)] = 255
    core[_shadow(core, lab_crop, lab_bg, inside, reach + 1)] = 255
    return core


def line_window(line: TextLine, shape: tuple[int, int], pad: int) -> tuple[int, int, int, int]:
    h, w = shape
    pts = np.asarray(line.polygon, np.float32)
    x0 = max(0, int(np.floor(pts[:, 0].min())) - pad)
    y0 = max(0, int(np.floor(pts[:, 1].min())) - pad)
    x1 = min(w, int(np.ceil(pts[:, 0].max())) + pad + 1)
    y1 = min(h, int(np.ceil(pts[:, 1].max())) + pad + 1)
    return x0, y0, x1, y1


def text_mask(
    rgb: U8,
    lines: Sequence[TextLine],
    *,
    margin: int = 2,
    extra: int = 0,
    sensitivity: float = 1.0,
    roi: Roi | None = None,
    force_box: frozenset[int] = frozenset(),
) -> TextMask:
    """The mask of every line's glyphs. ``extra`` widens everything (the second pass) and
    ``sensitivity`` > 1 lowers the thresholds; lines whose index is in ``force_box`` are
    masked by their box."""
    h, w = rgb.shape[:2]
    full = np.zeros((h, w), np.uint8)
    stats: list[LineMask] = []
    for i, line in enumerate(lines):
        hl = line.height
        pad = max(4, round(0.45 * hl)) + extra
        x0, y0, x1, y1 = line_window(line, (h, w), pad)
        if x1 - x0 < 3 or y1 - y0 < 3:  # a sliver at the picture's edge: nothing to mask
            stats.append(LineMask("box", 0, 0.0, (x0, y0, x1, y1)))
            continue
        crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        shape = (y1 - y0, x1 - x0)
        polygon = _fill(shape, [line.polygon], (x0, y0))
        band = max(2, round(0.08 * hl)) + extra
        search = np.asarray(cv2.dilate(polygon, disc(band)), np.uint8)
        ring = np.asarray(cv2.dilate(polygon, disc(band + 2)), np.uint8) == 0
        grow = margin + extra
        method: Literal["glyph", "box"] = "glyph"
        glyphs = np.zeros(shape, np.uint8)
        if i not in force_box:
            reach = max(2, round(0.1 * hl)) + extra
            glyphs = separate(
                crop,
                polygon,
                search,
                np.where(ring, 255, 0).astype(np.uint8),
                line_height=hl,
                reach=reach,
                sensitivity=sensitivity,
            )
        area = max(1, int(np.count_nonzero(polygon)))
        share = float(np.count_nonzero(glyphs & polygon)) / area
        if i in force_box or not MIN_SHARE <= share <= MAX_SHARE:
            method, glyphs = "box", polygon
        grown = np.asarray(cv2.dilate(glyphs, disc(grow)), np.uint8) if grow > 0 else glyphs
        if line.keep_regions:
            grown[_fill(shape, line.keep_regions, (x0, y0)) > 0] = 0
        full[y0:y1, x0:x1] |= grown
        stats.append(
            LineMask(
                method,
                int(np.count_nonzero(grown)),
                float(np.count_nonzero(grown & polygon)) / area,
                (x0, y0, x1, y1),
            )
        )
    if roi is not None:
        inside = np.zeros_like(full)
        inside[roi.y : roi.y + roi.height, roi.x : roi.x + roi.width] = 255
        full &= inside
    return TextMask(full, tuple(stats))


def box_mask(shape: tuple[int, int], lines: Sequence[TextLine]) -> U8:
    """The lines' polygons filled: the naive mask (used by the benchmark's baseline)."""
    return _fill(shape, [line.polygon for line in lines], (0, 0))


def stats(mask: U8, *, glyph_lines: int = 0, box_lines: int = 0) -> dict[str, Any]:
    """Figures about a mask for the report."""
    binary = (mask > 0).astype(np.uint8)
    count, _ = cv2.connectedComponents(binary, connectivity=8)
    return {
        "pixels": int(binary.sum()),
        "coverage": round(float(binary.mean()), 6),
        "components": max(0, int(count) - 1),
        "glyph_lines": glyph_lines,
        "box_lines": box_lines,
    }
