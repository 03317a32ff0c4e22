"""Ground-side painters for the ``procedural`` provider: terrain, water, trees, city, flowers."""

from __future__ import annotations

import numpy as np

from atelier.providers.procedural_raster import (
    F32,
    Array,
    Scene,
    blend,
    capsule,
    coords,
    disc,
    disc_alpha,
    fbm1,
    fbm2,
    fill_below,
    gradient,
    lerp,
    noise2,
    screen,
    smooth,
    smoothstep,
)
from atelier.providers.procedural_sky import blur


def _haze(s: Scene, colour: Array, depth: float, amount: float = 0.55) -> Array:
    """Atmospheric perspective: far things (depth 0) fade toward the horizon colour."""
    return lerp(colour, s.col("horizon"), amount * (1.0 - depth))


def _slope_shade(s: Scene, top: Array, strength: float) -> Array:
    slope = gradient(top) / F32(max(s.unit, 1.0) * 0.004)
    out: Array = F32(1.0) + F32(strength) * np.tanh(slope * F32(s.layout.light) * F32(0.6))
    return out


def _face_shade(s: Scene, top: Array, y0: int, reach: float, lean: float = 0.7) -> Array:
    """Light and shadow of the faces under a ridge: -1..1, fading ``reach`` px below it.

    The face below each point follows the slope there, sheared so it runs diagonally down.
    """
    slope = gradient(top)
    size = min(max(3, int(s.unit * 0.01)) | 1, (s.w - 1) | 1)
    if size >= 3:
        kernel = np.hanning(size + 2)[1:-1].astype(F32)
        slope = np.convolve(slope, kernel / kernel.sum(), mode="same").astype(F32)
    slope = np.tanh(slope * F32(s.layout.light) * F32(1.5)).astype(F32)
    below = np.maximum(s.ys[y0:, None] - top[None, :], F32(0.0))
    ix = (np.arange(s.w)[None, :] + (below * F32(lean * s.layout.light)).astype(np.intp)).clip(
        0, s.w - 1
    )
    out: Array = slope[ix] * np.exp(-below / F32(max(reach, 1.0)))
    return out


def paint_mountains(s: Scene) -> None:
    rng = s.rng("mountains")
    hz = s.layout.hz
    layers = 2 if s.comp("minimal") else 4 if s.comp("panorama") else 3
    scale = 1.35 if s.comp("closeup") else 0.75 if s.comp("panorama") else 1.0
    snowy = s.plan.mood in ("winter", "day", "dawn", "pastel", "sunset")
    for i in range(layers):
        depth = i / max(layers - 1, 1)
        amp = s.unit * (0.34 - 0.16 * depth) * scale
        freq = (1.4 + 1.4 * depth) / (s.unit * scale)
        c = coords(s.w, freq, float(rng.uniform(0, 50)))
        n = fbm1(rng, c, 6, 0.5)
        ridge = 1.0 - np.abs(2.0 * fbm1(rng, c * F32(0.8), 4, 0.45) - 1.0)
        prof = F32(0.55) * ridge**2 + F32(0.45) * n
        prof = (prof - prof.min()) / F32(max(float(np.ptp(prof)), 1e-6))
        base = hz + (s.h - hz) * 0.02 * depth
        top = (F32(base) - F32(amp) * (F32(0.25) + F32(0.75) * prof)).astype(F32)
        end = s.h if s.layout.ground == "none" else min(s.h, hz + 2)
        y0, alpha = fill_below(s, top, end)
        if alpha.size == 0:
            continue
        colour = _haze(s, lerp(s.col("far"), s.col("near"), depth), depth, 0.4)
        rows = np.clip((s.ys[y0:end] - F32(top.min())) / F32(amp + 1.0), 0.0, 1.0)[:, None]
        mist = F32(0.35 * (1.0 - 0.5 * depth))
        body = lerp(colour, s.col("horizon"), (smooth(np.clip(rows, 0, 1)) * mist)[..., None])
        face = _face_shade(s, top, y0, amp * 0.7)[: end - y0]
        body = body * (F32(1.0) + F32(0.2) * face)[..., None]
        rock = fbm2(rng, coords(end - y0, 9.0 / s.unit), coords(s.w, 14.0 / s.unit), 3)
        body = body * (F32(0.95) + F32(0.1) * rock)[..., None]
        if snowy and depth < 0.9:
            cap = F32(amp) * (F32(0.04) + F32(0.3) * prof**2) * (F32(0.6) + F32(0.8) * rock[0])
            snow = smoothstep(-1.5, 1.5, (top + cap)[None, :] - s.ys[y0:end, None]).astype(F32)
            snow *= smoothstep(0.25, 0.55, rock * F32(0.4) + prof[None, :] * F32(0.8))
            tone = _haze(s, s.col("snow"), depth, 0.3) * _slope_shade(s, top, 0.15)[:, None]
            body = lerp(body, tone[None, :, :], snow[..., None])
        blend(s.canvas[y0:end], body, alpha)


def paint_hills(s: Scene, y_start: float, layers: int, seed_name: str = "hills") -> None:
    """Rolling grassy hills from ``y_start`` (a row) to the bottom."""
    rng = s.rng(seed_name)
    span = s.h - y_start
    for i in range(layers):
        depth = (i + 1) / layers
        base = y_start + span * (0.05 + 0.55 * depth**1.5)
        amp = s.unit * (0.03 + 0.07 * depth)
        c = coords(s.w, (1.2 - 0.5 * depth) / s.unit, float(rng.uniform(0, 50)))
        top = (F32(base) - F32(amp) * fbm1(rng, c, 3)).astype(F32)
        y0, alpha = fill_below(s, top)
        colour = _haze(s, lerp(s.col("ground_far"), s.col("ground"), depth), depth, 0.35)
        grass = fbm2(rng, coords(s.h - y0, 14.0 / s.unit), coords(s.w, 5.0 / s.unit), 3)
        rows = np.clip((s.ys[y0:] - F32(top.min())) / F32(span + 1.0), 0.0, 1.0)[:, None]
        tone = (F32(0.9) + F32(0.16) * grass) * (F32(1.04) - F32(0.12) * rows)
        body = colour * tone[..., None] * _slope_shade(s, top, 0.08)[None, :, None]
        blend(s.canvas[y0:], body, alpha)


def paint_meadow(s: Scene) -> None:
    hz = s.layout.hz
    s.canvas[hz:] = _haze(s, s.col("ground_far"), 0.0, 0.3)
    paint_hills(s, hz, 2 if s.comp("minimal") else 3)


def paint_sea(s: Scene) -> None:
    """Water below the horizon: gradient, wavy mirror reflection, wave highlights, sun glitter."""
    hz = s.layout.hz
    n_rows = s.h - hz
    if n_rows <= 0 or hz <= 0:
        return
    rng = s.rng("sea")
    t = (np.arange(n_rows, dtype=F32) + F32(0.5)) / F32(n_rows)
    base = lerp(s.col("water_far"), s.col("water"), smooth(t**0.6)[:, None])
    # perspective: wave cells shrink toward the horizon (never below ~2 px tall)
    rate = np.minimum(F32(50.0 / s.unit) * F32(1.2544) / (t + F32(0.12)) ** 2, F32(0.5))
    cy = np.cumsum(rate[::-1])[::-1].astype(F32)
    calm = 0.5 if s.comp("minimal") else 1.0
    n = fbm2(rng, cy, coords(s.w, 12.0 / s.unit), 4)
    amp = F32(s.unit * calm) * (F32(0.003) + F32(0.03) * t[:, None])
    sx = np.clip(s.xs[None, :] + (n - F32(0.5)) * F32(2.0) * amp, 0, s.w - 1).astype(np.intp)
    rows = hz - 1 - np.arange(n_rows)[:, None] - ((n - F32(0.5)) * amp * F32(0.6)).astype(np.intp)
    sy = np.clip(rows, 0, hz - 1)
    reflection = s.canvas[sy, sx]
    fresnel = (F32(0.72) - F32(0.42) * t)[:, None, None]
    water = lerp(base[:, None, :], reflection * F32(0.88), fresnel)
    crest = smoothstep(0.62, 0.8, n) * (F32(0.12) + F32(0.22) * t[:, None]) * F32(calm)
    trough = smoothstep(0.42, 0.22, n) * F32(0.14 * calm)
    water = water * (F32(1.0) - trough)[..., None]
    screen(water, crest[..., None] * s.col("horizon"))
    if s.layout.body != "none" and s.layout.sun_y < hz:
        width = F32(s.unit) * (F32(0.02) + F32(0.11) * t[:, None]) + F32(s.layout.sun_r * 0.6)
        column = np.exp(-(((s.xs[None, :] - F32(s.layout.sun_x)) / width) ** 2))
        sparkle = smoothstep(0.5, 0.72, n) * column * F32(0.85)
        screen(water, sparkle[..., None] * lerp(s.col("sun"), s.col("glow"), 0.4))
    s.canvas[hz:] = water


def paint_desert(s: Scene) -> None:
    hz = s.layout.hz
    rng = s.rng("desert")
    s.canvas[hz:] = _haze(s, s.col("sand"), 0.0, 0.45)
    layers = 2 if s.comp("minimal") else 4
    span = s.h - hz
    for i in range(layers):
        depth = i / max(layers - 1, 1)
        base = hz + span * (0.08 + 0.75 * depth**1.3)
        amp = s.unit * (0.05 + 0.12 * depth)
        c = coords(s.w, (0.9 + 0.4 * depth) / s.unit, float(rng.uniform(0, 50)))
        crest = F32(1.0) - np.abs(F32(2.0) * fbm1(rng, c, 3, 0.35) - F32(1.0))
        top = (F32(base) - F32(amp) * crest**1.5).astype(F32)
        y0, alpha = fill_below(s, top)
        light = F32(0.5) + F32(0.5) * _face_shade(s, top, y0, amp * 2.0, 0.9)
        colour = lerp(s.col("sand_shade"), s.col("sand"), smooth(np.clip(light, 0, 1))[..., None])
        colour = _haze(s, colour, depth, 0.3)
        rows = np.clip((s.ys[y0:] - F32(top.min())) / F32(span + 1.0), 0.0, 1.0)[:, None]
        body = colour * (F32(1.04) - F32(0.1) * rows)[..., None]
        if depth > 0.4:
            wobble = noise2(rng, coords(s.h - y0, 6.0 / s.unit), coords(s.w, 3.0 / s.unit))
            period = F32(s.unit * (0.008 + 0.01 * depth))
            ripple = np.sin((s.ys[y0:, None] + wobble * period * 6) / period * F32(2 * np.pi))
            body = body * (F32(1.0) + F32(0.035) * ripple)[..., None]
        blend(s.canvas[y0:], body, alpha)


def paint_grid(s: Scene) -> None:
    """A synthwave floor: perspective grid lines glowing on a dark plane."""
    hz = s.layout.hz
    n_rows = s.h - hz
    if n_rows <= 0:
        return
    t = (np.arange(n_rows, dtype=F32) + F32(0.5)) / F32(n_rows)
    s.canvas[hz:] = lerp(s.col("ground_far"), s.col("ground"), smooth(t)[:, None])[:, None, :]
    z = F32(6.0) / (t + F32(0.04))
    dz = np.abs(gradient(z))
    hline = np.clip(F32(1.0) - np.abs(z - np.round(z)) / (dz * F32(1.2) + F32(1e-4)), 0, 1)
    k = F32(7.0) / F32(s.unit)
    xw = (s.xs[None, :] - F32(s.w / 2)) / (t[:, None] + F32(0.04)) * k
    dx = k / (t[:, None] + F32(0.04))
    vline = np.clip(F32(1.0) - np.abs(xw - np.round(xw)) / (dx * F32(1.5)), 0, 1)
    grid = np.maximum(hline[:, None], vline) * smoothstep(0.0, 0.25, t)[:, None]
    colour = lerp(s.col("accent0"), s.col("accent1"), t[:, None, None] * F32(0.6))
    screen(s.canvas[hz:], grid[..., None] * colour)
    glow = np.exp(-t * F32(12.0))[:, None, None] * F32(0.35)
    screen(s.canvas[hz:], glow * s.col("glow"))


def _conifer(s: Scene, cx: float, base: float, h: float, colour: Array, tiers: int) -> None:
    half = h * 0.27
    x0, x1 = max(0, int(cx - half - 1)), min(s.w, int(cx + half + 2))
    y0, y1 = max(0, int(base - h)), min(s.h, int(base + h * 0.08) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    t = np.clip((s.ys[y0:y1] - F32(base - h)) / F32(h), 0.0, 1.0)[:, None]
    saw = (t * F32(tiers)) % F32(1.0)
    width = F32(half) * t**0.9 * (F32(0.62) + F32(0.38) * saw)
    dx = s.xs[x0:x1] - F32(cx)
    alpha = np.clip(width - np.abs(dx) + F32(0.5), 0.0, 1.0)
    trunk = (s.ys[y0:y1, None] > F32(base - h * 0.05)) & (np.abs(dx) < max(0.6, h * 0.03))
    alpha = np.maximum(alpha * (t < 0.97), trunk.astype(F32))
    shade = F32(1.0) + F32(0.12) * np.sign(dx) * F32(s.layout.light)
    blend(s.canvas[y0:y1, x0:x1], colour * shade[None, :, None], alpha)


def _round_tree(
    s: Scene, rng: np.random.Generator, cx: float, base: float, h: float, colour: Array
) -> None:
    capsule(s, (cx, base), (cx, base - h * 0.55), h * 0.05, h * 0.03, s.col("trunk"))
    r = h * 0.3
    for _ in range(5):
        ox, oy = rng.uniform(-0.45, 0.45) * r * 1.3, rng.uniform(-0.4, 0.4) * r
        shade = F32(1.0) + F32(0.1) * F32(np.sign(ox) * s.layout.light)
        disc(s, cx + ox, base - h + r + oy, r * float(rng.uniform(0.6, 0.9)), colour * shade)


def paint_forest(s: Scene) -> None:
    rng = s.rng("forest")
    hz = s.layout.hz
    shore = s.layout.ground == "sea"
    rows = 2 if shore or s.comp("minimal") else 4
    scale = 1.5 if s.comp("closeup") else 1.0
    deciduous = s.plan.mood in ("autumn", "pastel")
    leaves = [s.col("foliage"), s.col("accent0"), s.col("accent1")] if deciduous else []
    for i in range(rows):
        depth = i / max(rows - 1, 1)
        if shore:
            base, height = hz + 0.5, s.unit * (0.05 + 0.04 * depth)
        else:
            base = hz + (s.h - hz) * (0.02 + 0.8 * depth**1.4)
            height = s.unit * (0.07 + 0.3 * depth**1.5) * scale
        colour = _haze(s, lerp(s.col("foliage_far"), s.col("foliage"), depth), depth, 0.35)
        if not shore:
            edge = F32(base) - F32(height * 0.06) * fbm1(rng, coords(s.w, 8 / s.unit), 2)
            y0, alpha = fill_below(s, edge.astype(F32))
            blend(s.canvas[y0:], lerp(colour, s.col("ground"), 0.35) * F32(0.8), alpha)
        spacing = max(height * 0.38, 3.0)
        x = -float(rng.uniform(0, spacing))
        while x < s.w + spacing:
            h = height * float(rng.uniform(0.7, 1.2))
            jitter = F32(float(rng.uniform(0.88, 1.1)))
            b = base + float(rng.uniform(-0.04, 0.04)) * height
            if deciduous:
                leaf = leaves[int(rng.integers(0, len(leaves)))]
                _round_tree(s, rng, x, b, h, _haze(s, leaf, depth, 0.35) * jitter)
            else:
                _conifer(s, x, b, h, colour * jitter, int(rng.integers(4, 7)))
            x += spacing * float(rng.uniform(0.6, 1.2)) * (1.6 if deciduous else 1.0)


def paint_tree(s: Scene) -> None:
    """A lone tree on a foreground hill."""
    rng = s.rng("tree")
    if s.layout.ground != "meadow":
        paint_hills(s, s.h * 0.78, 1, "tree-hill")
    scale = 1.4 if s.comp("closeup") else 1.0
    cx = s.w * (0.5 if s.comp("centered") else float(rng.choice([0.3, 0.68])))
    base = s.h * (0.93 if s.comp("closeup") else 0.86)
    h = min(s.unit * 0.6 * scale, base * 0.9)
    trunk = s.col("trunk")
    capsule(s, (cx, base + h * 0.05), (cx, base - h * 0.5), h * 0.055, h * 0.03, trunk)
    tips = []
    for _ in range(4):
        ang = float(rng.uniform(-1.1, 1.1))
        start = (cx, base - h * float(rng.uniform(0.3, 0.45)))
        tip = (start[0] + np.sin(ang) * h * 0.3, start[1] - np.cos(ang) * h * 0.3)
        capsule(s, start, (float(tip[0]), float(tip[1])), h * 0.025, h * 0.01, trunk)
        tips.append(tip)
    foliage = s.col("foliage")
    crown_x, crown_y = cx, base - h * 0.7
    angle = rng.uniform(0, 2 * np.pi, 34)
    reach = np.sqrt(rng.random(34))
    spots = zip(
        crown_x + np.cos(angle) * reach * h * 0.36,
        crown_y + np.sin(angle) * reach * h * 0.24,
        strict=True,
    )
    blobs = sorted(((float(x), float(y)) for x, y in spots), key=lambda p: p[1])
    blobs += [(float(x), float(y)) for x, y in tips]
    for layer, (grow, lift, shift) in enumerate(((1.0, 0.62, 0.0), (0.72, 1.0, 0.25))):
        for bx, by in blobs:
            r = h * 0.12 * grow
            height = float(np.clip((crown_y + h * 0.3 - by) / (h * 0.6), 0.0, 1.0))
            tone = foliage * F32(lift * (0.8 + 0.35 * height))
            ox = -shift * r * -s.layout.light
            disc(s, float(bx) + ox, float(by) - shift * r, r, tone, 1.0 if layer == 0 else 0.85)


def paint_city(s: Scene) -> None:
    rng = s.rng("city")
    base = s.layout.hz if s.layout.ground != "none" else s.h
    night = s.plan.mood_info.light < 0.6
    scale = 1.5 if s.comp("closeup") else 1.0
    layers = 1 if s.comp("minimal") else 2
    for i in range(layers):
        depth = 1.0 if layers == 1 else float(i)
        colour = lerp(s.col("city_far"), s.col("city"), depth)
        tall = s.unit * (0.45 if s.layout.ground == "none" else 0.3) * scale * (0.75 + 0.25 * depth)
        x = -float(rng.uniform(0, s.unit * 0.05))
        while x < s.w:
            bw = max(3.0, s.unit * float(rng.uniform(0.04, 0.1)) * scale)
            bump = 1.0 - 0.5 * abs(x / s.w - 0.5) if s.comp("centered") else 1.0
            bh = tall * float(0.25 + 0.75 * rng.random() ** 1.4) * bump
            x0, x1 = max(0, int(x)), min(s.w, int(x + bw))
            y0 = max(0, int(base - bh))
            tone = colour * F32(rng.uniform(0.85, 1.1))
            if x1 > x0 and y0 < base:
                block = s.canvas[y0 : int(base), x0:x1]
                grad = np.linspace(1.08, 0.9, block.shape[0], dtype=F32)[:, None, None]
                block[...] = tone * grad
                edge = x1 - 1 if s.layout.light > 0 else x0
                block[:, edge - x0] = np.minimum(tone * F32(1.25) + F32(0.03), 1.0) * grad[:, 0]
                _windows(s, rng, block, depth, night)
                roof = float(rng.random())
                if roof < 0.3:
                    ax = x0 + (x1 - x0) // 2
                    ah = s.unit * 0.04 * scale
                    s.canvas[max(0, int(y0 - ah)) : y0, ax : ax + max(1, round(s.unit / 400))] = (
                        tone
                    )
                elif roof < 0.55:
                    inset = (x1 - x0) // 5
                    sy0 = max(0, int(y0 - bh * 0.08))
                    s.canvas[sy0:y0, x0 + inset : x1 - inset] = tone
            x += bw + s.unit * float(rng.choice([0.0, 0.0, 0.006]))
    if night:
        t = np.clip((F32(base) - s.ys[: int(base)]) / F32(s.unit * 0.35), 0, 1)
        glow = (F32(1.0) - smooth(t))[:, None, None] * F32(0.18)
        screen(s.canvas[: int(base)], glow * s.col("window"))


def _windows(s: Scene, rng: np.random.Generator, block: Array, depth: float, night: bool) -> None:
    h, w = block.shape[:2]
    pw = max(3, round(s.unit * (0.011 + 0.005 * depth)))
    ph = max(4, round(pw * 1.4))
    if w < pw * 2 or h < ph * 2:
        return
    ly, lx = np.arange(h) - ph // 2, np.arange(w) - pw // 2
    inside = ((ly % ph) < ph * 0.55)[:, None] & ((lx % pw) < pw * 0.5)[None, :]
    inside &= (ly >= 0)[:, None] & (lx >= 0)[None, :] & (lx < w - pw // 2)[None, :]
    cells = rng.random((h // ph + 2, w // pw + 2), dtype=F32)
    pick = cells[np.maximum(ly, 0) // ph][:, np.maximum(lx, 0) // pw]
    if night:
        colours = [s.col("window")]
        if s.plan.mood == "neon":
            colours += [s.col("accent0"), s.col("accent2")]
        p = F32(0.45 if s.plan.mood_info.light < 0.5 else 0.2)
        lit = (pick < p).astype(F32) * inside * (F32(0.55) + F32(0.45) * (pick / p))
        colour = colours[int(rng.integers(0, len(colours)))]
        blend(block, colour, lit * F32(0.6 + 0.4 * depth))
    else:
        glass = lerp(block[0, 0], s.col("horizon"), 0.4)
        blend(block, glass, inside * (F32(0.25) + F32(0.35) * pick))


def paint_flowers(s: Scene) -> None:
    """A field of flowers in the foreground, bigger toward the viewer."""
    rng = s.rng("flowers")
    top = s.layout.hz if s.layout.ground == "meadow" else s.h * 0.72
    if s.layout.ground != "meadow":
        paint_hills(s, top, 1, "flower-hill")
    n = min(int((40 if s.comp("minimal") else 170) * s.w / s.unit), s.w * s.h // 40, 3000)
    rel = np.sort(rng.random(n) ** 0.7)
    colours = [s.col(r) for r in ("accent0", "accent1", "accent2", "accent3")]
    stem = s.col("foliage")
    for r in rel:
        y = top + (s.h - top) * (0.08 + 0.95 * float(r))
        x = float(rng.uniform(0, s.w))
        size = s.unit * (0.004 + 0.03 * float(r) ** 2)
        colour = colours[int(rng.integers(0, 4))] * F32(rng.uniform(0.85, 1.05))
        if size < 2.5:
            disc(s, x, y, size, colour)
            continue
        capsule(s, (x, y), (x, y + size * 3), size * 0.12, size * 0.1, stem)
        for k in range(5):
            ang = k * 2 * np.pi / 5 + float(rng.uniform(0, 1))
            disc(
                s, x + np.cos(ang) * size * 0.55, y + np.sin(ang) * size * 0.45, size * 0.48, colour
            )
        disc(s, x, y, size * 0.3, s.col("accent1") * F32(0.9))


def paint_bloom(s: Scene) -> None:
    """One large flower in front of a softly blurred background with bokeh."""
    rng = s.rng("bloom")
    blur(s, s.unit * 0.012)
    for _ in range(12):
        x, y = rng.uniform(0, s.w), rng.uniform(0, s.h)
        bokeh = lerp(s.col("glow"), s.col("accent2"), float(rng.random()))
        disc(s, x, y, s.unit * float(rng.uniform(0.02, 0.07)), bokeh, 0.18, s.unit * 0.01)
    cx = s.w * (0.5 if s.comp("centered") else float(rng.uniform(0.38, 0.62)))
    cy = s.h * float(rng.uniform(0.4, 0.5))
    big = 0.4 if s.comp("closeup") else 0.3
    radius = s.unit * big
    capsule(
        s, (cx, cy), (cx + radius * 0.2, s.h + 2), radius * 0.05, radius * 0.07, s.col("foliage")
    )
    petals = int(rng.integers(5, 9))
    colour = s.col("accent0")
    rot = float(rng.uniform(0, np.pi))
    for layer, size in enumerate((1.0, 0.62)):
        found = disc_alpha(s, cx, cy, radius * size, 1.0)
        if found is None:
            continue
        where, _ = found
        dy = (s.ys[where[0]] - F32(cy))[:, None]
        dx = s.xs[where[1]] - F32(cx)
        r = np.sqrt(dx * dx + dy * dy)
        theta = np.arctan2(dy, dx) + F32(rot + layer * np.pi / petals)
        wave = np.abs(np.cos(theta * F32(petals / 2)))
        edge = F32(radius * size) * (F32(0.45) + F32(0.55) * wave**0.6)
        alpha = np.clip(edge - r + F32(0.5), 0.0, 1.0)
        along = np.clip(r / edge, 0.0, 1.0)[..., None]
        tone = lerp(colour * F32(0.5), lerp(colour, np.ones(3, F32), 0.1), smooth(along))
        veins = F32(1.0) - F32(0.07) * np.cos(theta * F32(petals * 7))[..., None]
        rim = F32(1.0) - F32(0.35) * smoothstep(0.75, 1.0, wave)[..., None] * (1 - along)
        shade = tone * veins * rim * F32(1.0 - 0.12 * layer)
        blend(s.canvas[where], shade, alpha)
    centre = s.col("accent1")
    disc(s, cx, cy, radius * 0.17, centre * F32(0.55))
    found = disc_alpha(s, cx, cy, radius * 0.15)
    if found is not None:
        where, alpha = found
        dots = noise2(
            rng,
            coords(where[0].stop - where[0].start, 40 / s.unit),
            coords(where[1].stop - where[1].start, 40 / s.unit),
        )
        blend(s.canvas[where], centre * (F32(0.7) + F32(0.5) * dots)[..., None], alpha)
