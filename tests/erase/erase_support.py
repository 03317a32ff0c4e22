"""Helpers of the erase tests: real photos with text drawn on them, settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage import data

from atelier.config import EraseSettings, ProviderSettings, Settings
from atelier.erase import synth


def photo(name: str = "astronaut", side: int = 384) -> np.ndarray:
    """A real photo (scikit-image ships its samples), centre-cropped square, RGB."""
    return synth.square_photo(np.asarray(getattr(data, name)()), side)


def captioned(name: str, captions: list[synth.Caption], side: int = 384) -> synth.Drawn:
    return synth.draw(photo(name, side), captions)


def settings_with(models_dir: Path | None = None, **erase: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        providers=ProviderSettings(models_dir=models_dir),
        erase=EraseSettings(**erase),  # type: ignore[arg-type]
    )


def box_overlap(polygon: tuple[tuple[float, float], ...], box: tuple[int, int, int, int]) -> float:
    """Share of ``box`` covered by the polygon's bounding box."""
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    x0, y0, x1, y1 = box
    ix = max(0.0, min(x1, max(xs)) - max(x0, min(xs)))
    iy = max(0.0, min(y1, max(ys)) - max(y0, min(ys)))
    return ix * iy / max(1.0, (x1 - x0) * (y1 - y0))
