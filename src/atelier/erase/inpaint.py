"""Erasing: redraw the masked pixels from what surrounds them.

One small interface, :class:`Inpainter`, three implementations:

- :class:`OpenCVInpainter`: Telea's fast marching method (or Navier-Stokes), always there;
  thin glyph masks are what it does best;
- :class:`LamaInpainter`: the LaMa model as ONNX (``erase.lama_model`` in the models
  directory), run on a context crop around each group of masked pixels;
- :class:`DiffusersInpainter`: a diffusers inpainting pipeline (``erase.diffusers_model``) on
  GPU workers.

:class:`InpaintPolicy` picks one by setting (or by the task), and falls back along
``erase.fallback`` (OpenCV last) when one is missing or fails. Whatever runs, the result is
composited back through the mask: pixels outside it are returned exactly as they were.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from atelier.config import EraseSettings, Settings
from atelier.erase import models
from atelier.providers.errors import NotConfigured
from atelier.providers.runtime_torch import LazyModel

log = logging.getLogger(__name__)

U8 = npt.NDArray[np.uint8]
Step = Callable[[int, int], None]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1


class Inpainter(Protocol):
    name: str

    def inpaint(self, rgb: U8, mask: U8, on_step: Step | None = None) -> U8:
        """``rgb`` with the pixels where ``mask`` > 0 redrawn (same size, RGB ``uint8``)."""
        ...


def composite(original: U8, redrawn: U8, mask: U8) -> U8:
    """``redrawn`` inside the mask, ``original`` everywhere else, exactly."""
    out = original.copy()
    inside = mask > 0
    out[inside] = redrawn[inside]
    return out


def regions(mask: U8, pad: int, *, merge_gap: int = 0) -> list[Box]:
    """Boxes around the groups of masked pixels, grown by ``pad`` (clipped to the picture);
    boxes closer than ``merge_gap`` are merged."""
    h, w = mask.shape[:2]
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        (mask > 0).astype(np.uint8), connectivity=8
    )
    boxes: list[Box] = []
    for i in range(1, count):
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        boxes.append((max(0, x - pad), max(0, y - pad), min(w, x + bw + pad), min(h, y + bh + pad)))
    merged = True
    while merged:
        merged = False
        out: list[Box] = []
        for box in sorted(boxes):
            for j, other in enumerate(out):
                if (
                    box[0] <= other[2] + merge_gap
                    and other[0] <= box[2] + merge_gap
                    and box[1] <= other[3] + merge_gap
                    and other[1] <= box[3] + merge_gap
                ):
                    out[j] = (
                        min(box[0], other[0]),
                        min(box[1], other[1]),
                        max(box[2], other[2]),
                        max(box[3], other[3]),
                    )
                    merged = True
                    break
            else:
                out.append(box)
        boxes = out
    return boxes


class OpenCVInpainter:
    """OpenCV's inpainting, run crop by crop around the masked pixels."""

    def __init__(self, method: str = "telea", radius: int = 3) -> None:
        self.method = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        self.radius = radius
        self.name = f"opencv-{method}"

    def inpaint(self, rgb: U8, mask: U8, on_step: Step | None = None) -> U8:
        out = rgb.copy()
        boxes = regions(mask, 2 * self.radius + 4, merge_gap=8)
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
            hole = np.ascontiguousarray(np.where(mask[y0:y1, x0:x1] > 0, 255, 0).astype(np.uint8))
            filled = np.asarray(cv2.inpaint(crop, hole, self.radius, self.method), np.uint8)
            out[y0:y1, x0:x1] = composite(crop, filled, hole)
            if on_step is not None:
                on_step(i + 1, len(boxes))
        return out


def context_boxes(mask: U8, *, min_side: int, context: float = 1.0) -> list[Box]:
    """Square-ish crops around groups of masked pixels with ``context`` times their size of
    surroundings (at least ``min_side`` pixels a side), merged when they overlap."""
    h, w = mask.shape[:2]
    out: list[Box] = []
    for x0, y0, x1, y1 in regions(mask, 0, merge_gap=16):
        side = max(min_side, round(max(x1 - x0, y1 - y0) * (1 + context)))
        side = min(side, max(h, w))
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        bx0 = min(max(0, cx - side // 2), max(0, w - side))
        by0 = min(max(0, cy - side // 2), max(0, h - side))
        out.append((bx0, by0, min(w, bx0 + side), min(h, by0 + side)))
    merged = True
    while merged:  # overlapping crops become one
        merged = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                a, b = out[i], out[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    out[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del out[j]
                    merged = True
                    break
            if merged:
                break
    return out


class LamaInpainter:
    """LaMa (Suvorov et al., "Resolution-robust Large Mask Inpainting with Fourier
    Convolutions") exported to ONNX: ``image`` 1x3xHxW in 0..1 and ``mask`` 1x1xHxW (1 = hole)
    in, the picture out (0..1 or 0..255, told apart by its range). A model with a fixed size
    (the common 512x512 export) gets each context crop resized to it; one with free
    dimensions gets the crop as it is, padded to a multiple of 8."""

    name = "lama"

    def __init__(self, model: LazyModel[models.OnnxModel]) -> None:
        self.model = model

    @staticmethod
    def _ports(onnx: models.OnnxModel) -> tuple[str, str]:
        image = mask = None
        for port in onnx.inputs:
            lowered = port.name.lower()
            if "mask" in lowered:
                mask = port.name
            elif "im" in lowered or "input" in lowered:
                image = port.name
        if image is None or mask is None:  # fall back on the channel count
            for port in onnx.inputs:
                channels = port.shape[1] if len(port.shape) > 1 else None
                if channels == 1 and mask is None:
                    mask = port.name
                elif channels == 3 and image is None:
                    image = port.name
        if image is None or mask is None or len(onnx.inputs) != 2:
            raise NotConfigured(
                f"{onnx.path.name} does not look like LaMa: inputs "
                f"{[p.name for p in onnx.inputs]} (want an image and a mask)"
            )
        return image, mask

    def inpaint(self, rgb: U8, mask: U8, on_step: Step | None = None) -> U8:
        out = rgb.copy()
        with self.model.use() as onnx:
            image_name, mask_name = self._ports(onnx)
            port = next(p for p in onnx.inputs if p.name == image_name)
            fixed = port.fixed_hw
            boxes = context_boxes(mask, min_side=fixed[0] if fixed else 256)
            for i, (x0, y0, x1, y1) in enumerate(boxes):
                crop = rgb[y0:y1, x0:x1]
                hole = (mask[y0:y1, x0:x1] > 0).astype(np.uint8)
                redrawn = self._run(onnx, image_name, mask_name, crop, hole, fixed)
                out[y0:y1, x0:x1] = composite(crop, redrawn, hole)
                if on_step is not None:
                    on_step(i + 1, len(boxes))
        return out

    @staticmethod
    def _run(
        onnx: models.OnnxModel,
        image_name: str,
        mask_name: str,
        crop: U8,
        hole: npt.NDArray[np.uint8],
        fixed: tuple[int, int] | None,
    ) -> U8:
        h, w = crop.shape[:2]
        if fixed is not None:
            th, tw = fixed
            img = cv2.resize(crop, (tw, th), interpolation=cv2.INTER_AREA)
            # a pixel touched by the hole at any scale stays a hole
            m = cv2.resize(hole * 255, (tw, th), interpolation=cv2.INTER_AREA) > 0
        else:
            th, tw = -(-h // 8) * 8, -(-w // 8) * 8
            img = cv2.copyMakeBorder(crop, 0, th - h, 0, tw - w, cv2.BORDER_REFLECT)
            m = cv2.copyMakeBorder(hole, 0, th - h, 0, tw - w, cv2.BORDER_CONSTANT, value=0) > 0
        image = (np.asarray(img, np.float32) / 255.0).transpose(2, 0, 1)[None]
        holes = m.astype(np.float32)[None, None]
        result = onnx.run({image_name: image, mask_name: holes})[0]
        pic = np.asarray(result).reshape(-1, *result.shape[-2:])[:3].transpose(1, 2, 0)
        if float(np.nanmax(pic)) <= 2.0:  # a 0..1 output
            pic = pic * 255.0
        pic = np.clip(np.nan_to_num(pic) + 0.5, 0, 255).astype(np.uint8)
        if fixed is not None:
            return np.asarray(cv2.resize(pic, (w, h), interpolation=cv2.INTER_CUBIC), np.uint8)
        return np.ascontiguousarray(pic[:h, :w])


class DiffusersInpainter:
    """A diffusers inpainting pipeline (Stable Diffusion inpainting and its kin), loaded from
    a local directory or the local Hugging Face cache through ``AutoPipelineForInpainting``.
    Each context crop is resized to ``size`` x ``size``, redrawn with ``prompt``, and resized
    back; only the masked pixels are kept."""

    name = "diffusers"

    def __init__(
        self, settings: Settings, *, idle_seconds: float | None = None, device: str | None = None
    ) -> None:
        from atelier.providers.diffusers_local import ModelSource

        erase = settings.erase
        if not erase.diffusers_model:
            raise NotConfigured("erase.diffusers_model is not set")
        self.source = ModelSource.parse(erase.diffusers_model, settings.providers.models_dir)
        self.source.locate()  # NotConfigured now rather than at the first task
        self.device = device or settings.providers.diffusers.device
        self.size = erase.diffusers_size
        self.steps = erase.diffusers_steps
        self.prompt = erase.diffusers_prompt
        self.model: LazyModel[Any] = LazyModel(
            f"inpaint:{self.source.id}", self._load, idle_timeout=idle_seconds
        )

    def _load(self) -> Any:
        from atelier.providers.runtime_torch import import_torch, select_placement

        import_torch()
        import diffusers

        placement = select_placement(self.device)
        try:
            pipe = diffusers.AutoPipelineForInpainting.from_pretrained(  # type: ignore[no-untyped-call]
                self.source.locate(), dtype=placement.torch_dtype, local_files_only=True
            )
        except (OSError, ValueError) as exc:
            raise NotConfigured(
                f"{self.source.id} could not be loaded as an inpainting pipeline: {exc}"
            ) from exc
        pipe.to(placement.device)
        pipe.set_progress_bar_config(disable=True)
        return pipe, placement

    def inpaint(self, rgb: U8, mask: U8, on_step: Step | None = None) -> U8:
        from PIL import Image

        out = rgb.copy()
        side = self.size // 8 * 8
        with self.model.use() as (pipe, placement):
            boxes = context_boxes(mask, min_side=min(side, 256))
            for i, (x0, y0, x1, y1) in enumerate(boxes):
                crop = rgb[y0:y1, x0:x1]
                hole = (mask[y0:y1, x0:x1] > 0).astype(np.uint8) * 255
                h, w = crop.shape[:2]
                image = Image.fromarray(crop).resize((side, side), Image.Resampling.LANCZOS)
                holes = Image.fromarray(cv2.dilate(hole, np.ones((3, 3), np.uint8))).resize(
                    (side, side), Image.Resampling.NEAREST
                )
                result = pipe(
                    prompt=self.prompt,
                    image=image,
                    mask_image=holes,
                    height=side,
                    width=side,
                    num_inference_steps=self.steps,
                    strength=1.0,
                    generator=placement.generator(0),
                    output_type="np",
                )
                pic = np.asarray(result.images[0], np.float32)
                pic = np.clip(pic * 255.0 + 0.5, 0, 255).astype(np.uint8)
                back = np.asarray(cv2.resize(pic, (w, h), interpolation=cv2.INTER_CUBIC), np.uint8)
                out[y0:y1, x0:x1] = composite(crop, back, hole)
                if on_step is not None:
                    on_step(i + 1, len(boxes))
        return out


# -- choice and fallback ----------------------------------------------------------------------
@dataclass
class Attempt:
    name: str
    error: str | None = None


@dataclass
class Inpainted:
    image: U8
    inpainter: str
    attempts: list[Attempt] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "inpainter": self.inpainter,
            "fallbacks": [
                {"inpainter": a.name, "error": a.error} for a in self.attempts if a.error
            ],
        }


class InpaintPolicy:
    """Builds inpainters once per process and runs the chosen one, falling back in order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._built: dict[str, Inpainter] = {}
        self._lock = threading.Lock()

    @property
    def erase(self) -> EraseSettings:
        return self.settings.erase

    def _lama_path(self) -> Path:
        return models.locate(
            self.erase.lama_model, self.settings.providers.models_dir, what="LaMa inpainting"
        )

    def resolve(self, choice: str | None) -> str:
        """The inpainter ``auto`` (or nothing) means here."""
        choice = choice or self.erase.inpainter
        if choice != "auto":
            return choice
        if self.erase.diffusers_model and _cuda_available():
            return "diffusers"
        try:
            self._lama_path()
            return "lama"
        except NotConfigured:
            return "opencv"

    def chain(self, choice: str | None) -> list[str]:
        first = self.resolve(choice)
        return list(dict.fromkeys([first, *self.erase.fallback, "opencv"]))

    def build(self, name: str) -> Inpainter:
        with self._lock:
            if name not in self._built:
                self._built[name] = self._make(name)
            return self._built[name]

    def _make(self, name: str) -> Inpainter:
        idle = self.erase.model_idle_seconds
        if name == "opencv":
            return OpenCVInpainter(self.erase.opencv_method, self.erase.opencv_radius)
        if name == "lama":
            lazy = models.lazy(
                self._lama_path(), threads=self.erase.onnx_threads, idle_seconds=idle
            )
            return LamaInpainter(lazy)
        if name == "diffusers":
            return DiffusersInpainter(self.settings, idle_seconds=idle)
        raise NotConfigured(f"unknown inpainter {name!r}")

    def run(
        self, rgb: U8, mask: U8, choice: str | None = None, on_step: Step | None = None
    ) -> Inpainted:
        attempts: list[Attempt] = []
        raised: list[BaseException] = []

        def step(done: int, total: int) -> None:
            if on_step is not None:
                try:
                    on_step(done, total)
                except BaseException as exc:  # a cancellation: it must not be a fallback
                    raised.append(exc)
                    raise

        for name in self.chain(choice):
            try:
                inpainter = self.build(name)
                redrawn = inpainter.inpaint(rgb, mask, step)
            except Exception as exc:
                if raised and exc is raised[0]:
                    raise
                log.warning("inpainter %s failed (%s); falling back", name, exc)
                attempts.append(Attempt(name, f"{type(exc).__name__}: {exc}"))
                continue
            attempts.append(Attempt(inpainter.name))
            return Inpainted(composite(rgb, redrawn, mask), inpainter.name, attempts)
        raise RuntimeError("every inpainter failed")  # pragma: no cover - OpenCV always works


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())
