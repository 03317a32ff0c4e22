"""Location backgrounds drawn from nothing: no image assets, no weights, any size.

Each location is a landscape from the built-in procedural painter
(:mod:`atelier.providers.procedural`, asked with fixed words such as "sunny beach with sea")
plus, for some, a foreground drawn here with numpy and OpenCV shapes: sand and a palm for the
beach, a pagoda for the temple, a blossom branch and falling petals for the cherry-blossom
park, a wet street with reflections and neon signs for the neon street. The result is
softened a little, as a backdrop behind a person would be.

The pixels depend only on the location, the seed and the size.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from atelier.providers.procedural import render
from atelier.providers.procedural_lexicon import plan_scene
from atelier.providers.procedural_raster import Scene

U8 = npt.NDArray[np.uint8]
#: ``overlay(canvas, horizon_row, rng)`` draws in place on an RGB ``uint8`` canvas.
Overlay = Callable[[U8, int, np.random.Generator], None]

RENDER_SIDE = 768  # backgrounds are painted at most this large, then resized


@dataclass(frozen=True)
class Location:
    id: str
    scene: str  # words for the procedural painter
    aliases: tuple[str, ...]
    overlay: Overlay | None = None


def _poly(canvas: U8, points: list[tuple[float, float]], colour: tuple[int, ...]) -> None:
    pts = np.round(np.asarray(points, np.float32) * 16).astype(np.int32)
    cv2.fillPoly(canvas, [pts], colour, cv2.LINE_AA, shift=4)


def _beach(canvas: U8, hz: int, rng: np.random.Generator) -> None:
    h, w = canvas.shape[:2]
    top = hz + (h - hz) * 0.45
    xs = np.arange(w, dtype=np.float32)
    phase = float(rng.uniform(0, 6.3))
    edge = top + (h - hz) * 0.06 * np.sin(xs / w * 5.0 + phase)
    ys = np.arange(h, dtype=np.float32)[:, None]
    depth = np.clip((ys - edge[None, :]) / max(1.0, h - top), 0.0, 1.0)
    sand = np.array([236, 214, 170], np.float32) * (1.0 - 0.12 * depth[:, :, None])
    wet = np.exp(-(((ys - edge[None, :]) / (0.03 * h)) ** 2))[:, :, None]
    sand = sand * (1.0 - 0.25 * wet)
    foam = np.exp(-(((ys - edge[None, :] + 0.004 * h) / (0.006 * h)) ** 2))[:, :, None]
    alpha = np.clip((ys - edge[None, :]) / 2.0 + 0.5, 0.0, 1.0)[:, :, None]
    out = canvas * (1.0 - alpha) + sand * alpha
    out = out * (1.0 - foam * 0.8) + 255.0 * foam * 0.8
    canvas[:] = np.clip(out, 0, 255).astype(np.uint8)
    # a palm leaning in from one side
    side = 1 if rng.random() < 0.5 else -1
    x0 = w * (0.5 + side * 0.42)
    base_y, top_y = h * 1.02, hz - h * 0.18
    t = np.linspace(0.0, 1.0, 24)
    trunk_x = x0 - side * w * 0.12 * t**1.6
    trunk_y = base_y + (top_y - base_y) * t
    dark = (58, 48, 40)
    for i in range(len(t) - 1):
        width = max(2, round(w * (0.018 - 0.01 * t[i])))
        p0 = (round(trunk_x[i]), round(trunk_y[i]))
        p1 = (round(trunk_x[i + 1]), round(trunk_y[i + 1]))
        cv2.line(canvas, p0, p1, dark, width, cv2.LINE_AA)
    cx, cy = float(trunk_x[-1]), float(trunk_y[-1])
    for k in range(9):
        ang = -np.pi / 2 + (k - 4) * 0.42 + float(rng.normal(0, 0.08))
        length = w * float(rng.uniform(0.12, 0.18))
        s = np.linspace(0.0, 1.0, 12)
        fx = cx + np.cos(ang) * length * s
        fy = cy + np.sin(ang) * length * s + length * 0.55 * s**2  # fronds droop
        spine = list(zip(fx, fy, strict=True))
        normal = np.array([-np.sin(ang), np.cos(ang)]) * w * 0.02 * np.sin(np.pi * s)[:, None]
        upper = [(x + n[0], y + n[1]) for (x, y), n in zip(spine, normal, strict=True)]
        lower = [(x - n[0], y - n[1]) for (x, y), n in zip(spine, normal, strict=True)]
        _poly(canvas, upper + lower[::-1], (40, 70, 45))


def _temple(canvas: U8, hz: int, rng: np.random.Generator) -> None:
    h, w = canvas.shape[:2]
    side = 1 if rng.random() < 0.5 else -1
    cx = w * (0.5 + side * float(rng.uniform(0.26, 0.34)))
    base = hz + h * 0.04
    unit = min(w, h) * 0.11
    tiers = int(rng.integers(4, 6))
    body_col, roof_col = (120, 40, 34), (44, 36, 40)
    y = base
    for i in range(tiers):
        bw = unit * (1.0 - 0.13 * i)
        bh = unit * 0.42
        _poly(canvas, [(cx - bw * 0.55, y), (cx + bw * 0.55, y), (cx + bw * 0.5, y - bh),
                       (cx - bw * 0.5, y - bh)], body_col)  # fmt: skip
        y -= bh
        rw, rh = bw * 1.05, unit * 0.16
        _poly(canvas, [(cx - rw, y - rh * 0.1), (cx - rw * 0.7, y), (cx + rw * 0.7, y),
                       (cx + rw, y - rh * 0.1), (cx + rw * 0.5, y - rh), (cx - rw * 0.5, y - rh)],
              roof_col)  # fmt: skip
        y -= rh
    cv2.line(canvas, (round(cx), round(y)), (round(cx), round(y - unit * 0.5)), roof_col,
             max(1, round(unit * 0.05)), cv2.LINE_AA)  # fmt: skip
    # atmospheric haze: the far pagoda takes a little of the sky's colour
    sky = canvas[: max(1, hz // 2)].reshape(-1, 3).mean(axis=0)
    region = canvas[: round(base) + 1]
    canvas[: round(base) + 1] = np.clip(region * 0.85 + sky * 0.15, 0, 255).astype(np.uint8)


def _blossom(canvas: U8, hz: int, rng: np.random.Generator) -> None:
    h, w = canvas.shape[:2]
    side = 1 if rng.random() < 0.5 else -1
    x0 = 0 if side < 0 else w
    pts = [(x0, h * 0.08)]
    for _ in range(6):
        px, py = pts[-1]
        pts.append((px - side * w * 0.09, py + h * float(rng.uniform(-0.01, 0.05))))
    wood = (70, 45, 40)
    for i in range(len(pts) - 1):
        thick = max(2, round(min(w, h) * 0.02 * (1 - i / len(pts))))
        p0 = (round(pts[i][0]), round(pts[i][1]))
        p1 = (round(pts[i + 1][0]), round(pts[i + 1][1]))
        cv2.line(canvas, p0, p1, wood, thick, cv2.LINE_AA)
    pinks = [(255, 183, 197), (250, 160, 185), (255, 214, 224), (240, 140, 170)]
    for px, py in pts[1:]:
        for _ in range(14):
            r = max(2, round(min(w, h) * float(rng.uniform(0.012, 0.03))))
            ox, oy = rng.normal(0, min(w, h) * 0.035, 2)
            colour = pinks[int(rng.integers(len(pinks)))]
            cv2.circle(canvas, (round(px + ox), round(py + oy)), r, colour, -1, cv2.LINE_AA)
    for _ in range(max(12, (w * h) // 9000)):
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        r = max(1.0, min(w, h) * float(rng.uniform(0.004, 0.008)))
        colour = pinks[int(rng.integers(len(pinks)))]
        centre = (round(x), round(y))
        axes = (max(1, round(r * 1.6)), max(1, round(r)))
        cv2.ellipse(canvas, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1,
                    cv2.LINE_AA)  # fmt: skip


def _neon_street(canvas: U8, hz: int, rng: np.random.Generator) -> None:
    h, w = canvas.shape[:2]
    street = max(hz, round(h * 0.8))
    above = canvas[:street].astype(np.float32)
    depth = h - street
    mirror = above[::-1][:depth]
    mirror = np.asarray(cv2.GaussianBlur(mirror, (1, 0), sigmaX=1.0, sigmaY=h * 0.01), np.float32)
    fade = np.linspace(0.55, 0.25, depth, dtype=np.float32)[:, None, None]
    asphalt = np.array([18, 14, 30], np.float32)
    canvas[street:] = np.clip(asphalt + np.asarray(mirror) * fade, 0, 255).astype(np.uint8)
    # dark facades at both edges carrying lit windows and glowing signs
    glow = np.zeros((h, w, 3), np.float32)
    colours = [(255, 60, 170), (60, 240, 255), (255, 220, 80), (160, 90, 255)]
    for left in (True, False):
        fw = w * float(rng.uniform(0.14, 0.2))
        x0, x1 = (0.0, fw) if left else (w - fw, float(w))
        top = h * float(rng.uniform(0.05, 0.2))
        cv2.rectangle(canvas, (round(x0), round(top)), (round(x1), street), (22, 14, 36), -1)
        step = max(5, round(min(w, h) * 0.02))
        for wy in range(round(top) + step // 2, street - step, step):
            for wx in range(round(x0) + step // 2, round(x1) - step // 2, step):
                if rng.random() < 0.3:
                    p = (wx + step // 2, wy + step // 2)
                    cv2.rectangle(canvas, (wx, wy), p, (255, 214, 140), -1)
        for k, vertical in enumerate((True, False)):
            bw = fw * (0.28 if vertical else 0.75)
            bh = (street - top) * (0.3 if vertical else 0.08)
            sx = (x0 + x1) / 2
            sy = top + (street - top) * (0.3 if k == 0 else 0.65)
            colour = colours[int(rng.integers(len(colours)))]
            p0 = (round(sx - bw / 2), round(sy - bh / 2))
            p1 = (round(sx + bw / 2), round(sy + bh / 2))
            cv2.rectangle(canvas, p0, p1, (10, 6, 18), -1)
            cv2.rectangle(glow, p0, p1, colour, max(2, round(w * 0.006)), cv2.LINE_AA)
    halo = cv2.GaussianBlur(glow, (0, 0), min(w, h) * 0.02)
    out = canvas.astype(np.float32) + glow * 0.9 + np.asarray(halo) * 1.5
    canvas[:] = np.clip(out, 0, 255).astype(np.uint8)


LOCATIONS: dict[str, Location] = {
    loc.id: loc
    for loc in (
        Location("neon_street", "neon city street at night",
                 ("neon", "cyberpunk", "night street", "alley", "billboard", "times square",
                  "tokyo", "霓虹", "赛博朋克", "夜市", "东京", "小巷", "时代广场", "广告牌"),
                 _neon_street),
        Location("cherry_blossom", "pastel pink flowering trees in a park, day",
                 ("cherry blossom", "sakura", "blossom", "park", "樱花", "花园", "公园"), _blossom),
        Location("snowy_peaks", "snowy mountains winter",
                 ("snowy", "snow", "snowfield", "alps", "alpine", "glacier", "glacial", "ski",
                  "雪山", "雪地", "雪原", "雪景", "冰川")),
        Location("temple", "mountains forest at dawn, clouds",
                 ("temple", "pagoda", "shrine", "torii", "kyoto", "palace", "forbidden city",
                  "寺", "庙", "神社", "宝塔", "古塔", "鸟居", "京都", "故宫", "宫殿"), _temple),
        Location("lake", "calm lake with mountains and forest, misty morning",
                 ("lake", "river", "west lake", "hangzhou", "guilin", "karst", "lakeside",
                  "湖面", "湖畔", "湖边", "湖水", "江边", "江畔", "河边", "西湖", "漓江", "桂林")),
        Location("beach", "sunny beach with sea, day",
                 ("beach", "seaside", "sea", "ocean", "coast", "tropical", "palm", "lagoon",
                  "santorini", "aegean", "海滩", "沙滩", "海边", "大海", "海岸", "圣托里尼",
                  "爱琴海", "椰子树"),
                 _beach),
        Location("desert", "desert dunes, sunny day",
                 ("desert", "dune", "sahara", "caravan", "沙漠", "沙丘", "驼队")),
        Location("forest", "green forest hills day", ("forest", "woods", "jungle", "森林", "树林")),
        Location("city", "city skyline at sunset",
                 ("city", "skyline", "downtown", "urban", "street", "paris", "eiffel", "new york",
                  "shanghai", "bund", "城市", "都市", "街", "巴黎", "埃菲尔", "纽约", "上海",
                  "外滩", "天际线")),
        Location("mountains", "mountains forest day, clouds",
                 ("mountain", "hills", "hiking", "valley", "great wall", "peak", "山上", "山间",
                  "山峰", "山脉", "高山", "群山", "山峦", "山脊", "长城")),
        Location("sunset", "calm sea at sunset", ("sunset", "dusk", "日落", "夕阳", "黄昏")),
    )
}  # fmt: skip


def _hits(alias: str, text: str, lowered: str) -> bool:
    if not alias.isascii():
        return alias in text
    return re.search(rf"(?<![a-z]){re.escape(alias)}(?:s|es)?(?![a-z])", lowered) is not None


def find_location(text: str) -> str | None:
    """The location ``text`` names most: the one with the most distinct aliases present, ties
    going to the more specific (earlier in :data:`LOCATIONS`); ``None`` when none is named.

    English aliases match whole words (a plural "s" allowed); Chinese ones match anywhere.
    Counting, rather than taking the first word, lets a long preset prompt ("the Forbidden
    City ... first snow on the eaves") land on its main subject."""
    lowered = text.lower()
    best, best_hits = None, 0
    for loc in LOCATIONS.values():
        hits = sum(_hits(alias, text, lowered) for alias in loc.aliases)
        if hits > best_hits:
            best, best_hits = loc.id, hits
    return best


def render_background(location: str, width: int, height: int, seed: int = 0) -> U8:
    """An RGB ``uint8`` picture of ``location`` (a key of :data:`LOCATIONS`) at the given size."""
    try:
        loc = LOCATIONS[location]
    except KeyError:
        raise ValueError(f"unknown location {location!r}; known: {', '.join(LOCATIONS)}") from None
    scale = min(1.0, RENDER_SIDE / max(width, height))
    rw, rh = max(16, round(width * scale)), max(16, round(height * scale))
    plan = plan_scene(loc.scene)
    canvas = np.array(render(plan, seed, rw, rh), dtype=np.uint8)
    if loc.overlay is not None:
        hz = Scene(plan, seed, rw, rh).layout.hz
        rng = np.random.default_rng([seed & 0xFFFFFFFF, len(loc.id), sum(map(ord, loc.id))])
        loc.overlay(canvas, hz, rng)
    canvas = np.asarray(cv2.GaussianBlur(canvas, (0, 0), max(0.6, min(rw, rh) / 600)))
    if (rw, rh) != (width, height):
        canvas = np.asarray(cv2.resize(canvas, (width, height), interpolation=cv2.INTER_CUBIC))
    return np.ascontiguousarray(canvas, dtype=np.uint8)
