"""Sky-side painters for the ``procedural`` provider, plus abstract shapes and the final grade."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from atelier.providers.procedural_raster import (
    F32,
    Array,
    Scene,
    blend,
    coords,
    disc,
    disc_alpha,
    fbm2,
    hue_sat,
    lerp,
    luminance,
    screen,
    smooth,
    smoothstep,
    splat,
)


def _sun_glow(s: Scene, reach: float, rows: int | None = None) -> Array:
    """Soft light around the sun for the first ``rows`` rows: a sum of separable Gaussians
    (outer products, so no per-pixel ``exp``) with a bright core and a long tail."""
    lay = s.layout
    dy = (s.ys[: s.h if rows is None else rows] - F32(lay.sun_y)) / F32(s.unit * reach)
    dx = (s.xs - F32(lay.sun_x)) / F32(s.unit * reach)
    glow = np.zeros((dy.size, dx.size), F32)
    for weight, width in ((0.35, 2.4), (0.35, 0.9), (0.3, 0.3)):
        gy = np.exp(-((dy * F32(1.25 / width)) ** 2)) * F32(weight)
        gx = np.exp(-((dx / F32(width)) ** 2))
        glow += gy[:, None] * gx[None, :]
    return glow


def paint_sky(s: Scene) -> None:
    """Three-stop gradient to the horizon, a faint texture, and the glow around the sun."""
    hz = max(s.layout.hz, 1)
    t = np.clip(s.ys / F32(hz), 0.0, 1.0)
    a = smooth(np.clip(t / F32(0.55), 0.0, 1.0))[:, None]
    b = smooth(np.clip((t - F32(0.55)) / F32(0.45), 0.0, 1.0))[:, None]
    rows = lerp(lerp(s.col("sky_top"), s.col("sky_mid"), a), s.col("horizon"), b)
    s.canvas[...] = rows[:, None, :]
    sky = s.canvas[:hz]
    rng = s.rng("sky")
    tex = fbm2(rng, coords(hz, 2.0 / s.unit), coords(s.w, 1.0 / s.unit), 2)
    sky *= (F32(0.96) + F32(0.08) * tex)[..., None]
    if s.layout.body != "none":
        strength = 0.55 if s.layout.body == "sun" else 0.3
        if s.plan.mood in ("sunset", "dawn", "neon"):
            strength = 0.75
        screen(sky, _sun_glow(s, 0.22, hz)[..., None] * (F32(strength) * s.col("glow")))


def paint_stars(s: Scene) -> None:
    hz = s.layout.hz
    rng = s.rng("stars")
    mood = s.plan.mood_info
    visibility = max(mood.stars, 0.25)
    area = s.w * hz / (s.unit * s.unit)
    n = int(min(12000, s.w * hz // 4, 1100 * area * visibility * (0.5 if s.comp("minimal") else 1)))
    ys = rng.random(n) * hz
    xs = rng.random(n) * s.w
    bright = (rng.random(n) ** 3 * 0.85 + 0.15) * visibility
    # a milky way: a soft band that also gathers extra stars
    angle = rng.uniform(-0.9, 0.9)
    cx, cy = rng.uniform(0.3, 0.7) * s.w, rng.uniform(0.2, 0.5) * hz
    nx, ny = -np.sin(angle), np.cos(angle)

    def band_at(px: Array, py: Array) -> Array:
        d = ((px - cx) * nx + (py - cy) * ny) / (0.12 * s.unit)
        out: Array = np.exp(-d * d)
        return out

    if visibility >= 0.5 and not s.comp("minimal"):
        m = n // 2
        bx = rng.random(m * 3, dtype=F32) * F32(s.w)
        by = rng.random(m * 3, dtype=F32) * F32(hz)
        keep = rng.random(m * 3) < band_at(bx, by)
        xs = np.concatenate([xs, bx[keep]])
        ys = np.concatenate([ys, by[keep]])
        bright = np.concatenate([bright, rng.random(int(keep.sum())) ** 4 * 0.6 + 0.1])
        band = band_at(s.xs[None, :], s.ys[:hz, None]).astype(F32)
        haze = fbm2(rng, coords(hz, 6.0 / s.unit), coords(s.w, 6.0 / s.unit), 4)
        glow = band * smoothstep(0.3, 0.9, haze) * F32(0.28 * visibility)
        tint = lerp(s.col("glow"), np.asarray([1.0, 0.9, 0.95], F32), 0.5)
        screen(s.canvas[:hz], glow[..., None] * tint)
    fade = np.clip(1.0 - (ys / max(hz, 1)) ** 3, 0.0, 1.0)
    tints = np.asarray([[1.0, 1.0, 1.0], [0.8, 0.88, 1.0], [1.0, 0.92, 0.8]], F32)
    colours = tints[rng.integers(0, 3, len(ys))] * (bright * fade)[:, None].astype(F32)
    buf = np.zeros((hz, s.w, 3), F32)
    iy, ix = ys.astype(np.intp), xs.astype(np.intp)
    big = bright > 0.8 * visibility
    splat(buf, iy[~big], ix[~big], colours[~big], 0)
    splat(buf, iy[big], ix[big], colours[big], max(1, round(s.unit / 700)))
    screen(s.canvas[:hz], buf)


def paint_celestial(s: Scene) -> None:
    lay = s.layout
    rng = s.rng("celestial")
    if lay.body == "sun":
        found = disc_alpha(s, lay.sun_x, lay.sun_y, lay.sun_r, 1.2)
        if found is None:
            return
        where, alpha = found
        rows = (s.ys[where[0]] - F32(lay.sun_y - lay.sun_r)) / F32(2 * lay.sun_r)
        rows = np.clip(rows, 0.0, 1.0)[:, None, None]
        if s.plan.mood == "neon":
            colour = lerp(s.col("sun"), s.col("accent0"), rows)
            bands = np.sin(rows[..., 0] * F32(28.0)) > np.clip(F32(1.6) - rows[..., 0] * 2, -1, 1)
            alpha = alpha * np.where((rows[..., 0] > 0.45) & bands, F32(0.0), F32(1.0))
        else:
            colour = lerp(s.col("sun"), lerp(s.col("sun"), s.col("glow"), 0.5), rows)
        blend(s.canvas[where], colour, alpha)
    elif lay.body == "moon":
        found = disc_alpha(s, lay.sun_x, lay.sun_y, lay.sun_r, 1.2)
        if found is None:
            return
        where, alpha = found
        unit_y = (s.ys[where[0]] - F32(lay.sun_y)) / F32(lay.sun_r)
        unit_x = (s.xs[where[1]] - F32(lay.sun_x)) / F32(lay.sun_r)
        maria = fbm2(rng, (unit_y + 1.5) * 2.5, (unit_x + 1.5) * 2.5, 3)
        colour = s.col("sun")[None, None, :] * (F32(0.82) + F32(0.18) * maria)[..., None]
        phase = float(rng.choice([0.0, 0.0, 0.7, 1.05]))
        side = float(rng.choice([-1.0, 1.0]))
        dx = unit_x - F32(side * phase)
        shadow = np.clip((np.sqrt(unit_y[:, None] ** 2 + dx**2) - 1) * lay.sun_r + 0.5, 0, 1)
        lit = alpha * (shadow if phase else F32(1.0))
        blend(s.canvas[where], colour * F32(0.18), alpha * F32(0.5))
        blend(s.canvas[where], colour, lit)


def paint_clouds(s: Scene) -> None:
    hz = s.layout.hz
    rng = s.rng("clouds")
    cover = s.plan.mood_info.clouds
    if "clouds" in s.plan.motifs and cover < 0.5:
        cover = 0.5
    octaves = 3 if s.comp("minimal") else 4
    n = fbm2(rng, coords(hz, 3.2 / s.unit), coords(s.w, 1.3 / s.unit), octaves)
    t = s.ys[:hz] / F32(max(hz, 1))
    band = smoothstep(0.0, 0.2, t) * (F32(1.0) - smoothstep(0.75, 1.0, t))
    lo = 0.72 - 0.42 * cover
    dens = smoothstep(lo, lo + 0.22, n) * band[:, None]
    d = max(1, round(s.unit * 0.012))
    above = np.empty_like(n)
    above[d:] = n[:-d]
    above[:d] = n[:1]
    lit = np.clip(F32(0.55) + (n - above) * F32(9.0), 0.0, 1.0)
    colour = lerp(s.col("cloud_shade"), s.col("cloud"), lit[..., None])
    if s.layout.body == "sun":
        warm = _sun_glow(s, 0.3, hz)[..., None]
        colour = lerp(colour, s.col("glow"), np.clip(warm * F32(0.5), 0.0, 0.6))
    blend(s.canvas[:hz], colour, dens * F32(0.92))


def paint_abstract(s: Scene) -> None:
    """Overlapping circles, rings and hatched discs; the whole picture when nothing else is."""
    rng = s.rng("abstract")
    alone = s.layout.ground == "none" and s.layout.hz >= s.h
    if alone:
        diag = (s.ys[:, None] / F32(s.h) + s.xs[None, :] / F32(s.w)) * F32(0.5)
        bg = lerp(s.col("sky_mid"), s.col("horizon"), smooth(diag)[..., None])
        paper = fbm2(rng, coords(s.h, 3.0 / s.unit), coords(s.w, 3.0 / s.unit), 3)
        s.canvas[...] = bg * (F32(0.94) + F32(0.1) * paper)[..., None]
    roles = ["accent0", "accent1", "accent3", "sun", "sky_top", "near", "water", "accent2"]
    palette = [s.col(r) for r in roles]
    count = 3 if s.comp("minimal") else int(rng.integers(6, 10))
    limit_y = s.h if alone else s.layout.hz * 0.85
    for k in range(count):
        r = s.unit * float(rng.uniform(0.08, 0.36 if alone else 0.16))
        if s.comp("centered"):
            cx, cy = s.w / 2, limit_y / 2 if not alone else s.h / 2
            r *= 1.0 - 0.12 * k
        else:
            cx = float(rng.uniform(0.1, 0.9)) * s.w
            cy = float(rng.uniform(0.12, 0.88)) * limit_y
        colour = palette[int(rng.integers(0, len(palette)))]
        kind = float(rng.random())
        opacity = 0.9 if alone else 0.55
        soft = s.unit * 0.03
        disc(s, cx + soft * 0.4, cy + soft * 0.6, r, np.zeros(3, F32), 0.22 * opacity, soft)
        if kind < 0.6:
            disc(s, cx, cy, r, colour, opacity)
        elif kind < 0.85:
            found = disc_alpha(s, cx, cy, r)
            if found is not None:
                where, alpha = found
                dy = (s.ys[where[0]] - F32(cy))[:, None]
                dx = s.xs[where[1]] - F32(cx)
                inner = F32(r * float(rng.uniform(0.6, 0.85))) - np.sqrt(dx * dx + dy * dy)
                ring = alpha - np.clip(inner + F32(0.5), 0.0, 1.0)
                blend(s.canvas[where], colour, ring * F32(opacity))
        else:
            found = disc_alpha(s, cx, cy, r)
            if found is not None:
                where, alpha = found
                period = max(3.0, s.unit * 0.018)
                stripes = ((s.xs[where[1]] + s.ys[where[0], None]) % F32(period)) < period / 2
                blend(s.canvas[where], colour, alpha * stripes * F32(opacity))


def paint_snowfall(s: Scene) -> None:
    rng = s.rng("snowfall")
    area = s.w * s.h / (s.unit * s.unit)
    n = min(int(420 * area), s.w * s.h // 8, 30000)
    ys = (rng.random(n) * s.h).astype(np.intp)
    xs = (rng.random(n) * s.w).astype(np.intp)
    size = rng.random(n)
    buf = np.zeros((s.h, s.w, 3), F32)
    white = np.full((n, 3), 0.95, F32) * (F32(0.6) + F32(0.4) * size[:, None].astype(F32))
    small = size < 0.6
    big = size > 0.93
    mid = ~small & ~big
    splat(buf, ys[small], xs[small], white[small], max(0, round(s.unit / 700)))
    splat(buf, ys[mid], xs[mid], white[mid], max(1, round(s.unit / 350)))
    splat(buf, ys[big], xs[big], white[big] * F32(0.8), max(2, round(s.unit / 180)))
    screen(s.canvas, buf)


def blur(s: Scene, radius: float) -> None:
    """Gaussian blur of the canvas (through 8-bit, which is plenty for a background)."""
    img = Image.fromarray((np.clip(s.canvas, 0, 1) * 255 + 0.5).astype(np.uint8))
    img = img.filter(ImageFilter.GaussianBlur(radius))
    s.canvas[...] = np.asarray(img, F32) / F32(255.0)


def finish(s: Scene) -> None:
    """Light wrap, tone curve, negative-colour removal, grade, vignette, grain; to 8 bits."""
    c = s.canvas
    lay = s.layout
    if lay.body == "sun" and lay.sun_y < lay.hz:
        screen(c, _sun_glow(s, 0.35)[..., None] * (F32(0.12) * s.col("glow")))
    np.clip(c, 0.0, 1.0, out=c)
    for hue in s.plan.suppress:
        h, sat = hue_sat(c)
        dist = np.abs((h - F32(hue) + F32(180.0)) % F32(360.0) - F32(180.0))
        weight = np.clip(F32(1.0) - dist / F32(60.0), 0.0, 1.0) * smoothstep(0.05, 0.3, sat)
        blend(c, luminance(c)[..., None], weight)
    curve = 0.25
    if s.plan.grade == "monochrome":
        c[...] = luminance(c)[..., None]
        curve = 0.6
    elif s.plan.grade == "sepia":
        grey = luminance(c)[..., None]
        c[...] = grey * np.asarray([1.07, 0.95, 0.74], F32) + F32(0.03)
    ry = ((s.ys - F32(s.h / 2)) / F32(s.h / 2))[:, None]
    rx = (s.xs - F32(s.w / 2)) / F32(s.w / 2)
    vignette = F32(1.0) - F32(0.28) * np.clip((rx * rx + ry * ry) * F32(0.5), 0.0, 1.0) ** 1.5
    grain = s.rng("grain").random((s.h, s.w), dtype=F32) - F32(0.5)
    out = c * (vignette * F32(255.0))[..., None]
    out += (grain * F32(3.0) + F32(0.5))[..., None]
    np.clip(out, 0.0, 255.0, out=out)
    # the tone curve (a gentle S) as a lookup table on the 8-bit values
    ramp = np.linspace(0.0, 1.0, 256, dtype=F32)
    lut = np.round(lerp(ramp, smooth(ramp), curve) * F32(255.0)).astype(np.uint8)
    s.result = lut[out.astype(np.uint8)]
