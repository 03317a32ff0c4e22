"""The erase pipeline, one stage at a time:

``validate → text_detection → subject_segmentation → mask → erasing → background_redraw
(optional) → quality_check → store``

:meth:`ErasePipeline.run` does everything but storing (the task kind stores; the CLI writes
files), reporting ``progress(stage, current, total, overall_fraction)`` as it goes and timing
each stage. When the quality check still reads text where text was erased, the lines it reads
are erased once more with their whole box, grown by ``erase.second_pass_dilation``, and checked
again; what is still read after that is reported, not hidden.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from atelier.config import Settings
from atelier.erase import detect, mask, quality, redraw, segment
from atelier.erase.detect import Detection, OcrEngine, Roi, TextLine
from atelier.erase.inpaint import Inpainted, InpaintPolicy
from atelier.erase.segment import SegmentPolicy

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Progress = Callable[[str, int, int, float], None]

STAGES = (
    "validate",
    "text_detection",
    "subject_segmentation",
    "mask",
    "erasing",
    "background_redraw",
    "quality_check",
    "store",
)
#: Where each stage starts on the overall progress (0..1).
START = {
    "validate": 0.0,
    "text_detection": 0.03,
    "subject_segmentation": 0.3,
    "mask": 0.42,
    "erasing": 0.48,
    "background_redraw": 0.68,
    "quality_check": 0.78,
    "store": 0.95,
}


def fraction(stage: str, current: int, total: int) -> float:
    """Overall progress ``current``/``total`` of the way through ``stage``."""
    i = STAGES.index(stage)
    end = START[STAGES[i + 1]] if i + 1 < len(STAGES) else 1.0
    return START[stage] + (end - START[stage]) * (current / total if total else 0.0)


@dataclass(frozen=True)
class RedrawOptions:
    mode: redraw.Mode
    colour: str | None = None
    preset: str | None = None
    prompt: str | None = None
    blur_radius: float = 18.0
    edge: float = 3.0


@dataclass(frozen=True)
class EraseOptions:
    min_confidence: float = 0.5
    keep: tuple[str, ...] = ()
    roi: Roi | None = None
    inpainter: str | None = None
    segmenter: str | None = None
    mask_margin: int | None = None
    second_pass: bool = True
    redraw: RedrawOptions | None = None
    seed: int = 0


@dataclass
class EraseResult:
    image: U8
    text_mask: U8
    subject_mask: F32 | None
    report: dict[str, Any] = field(default_factory=dict)


class ErasePipeline:
    """Everything the stages need, built once per process and settings."""

    def __init__(self, settings: Settings, *, ocr: OcrEngine | None = None) -> None:
        self.settings = settings
        erase = settings.erase
        self.ocr = ocr or detect.engine(erase.detection_side, erase.onnx_threads)
        self.inpainters = InpaintPolicy(settings)
        self.segmenters = SegmentPolicy(settings)

    # -- the stages -----------------------------------------------------------------------
    def prepare(self, image: Image.Image | U8, roi: Roi | None) -> tuple[U8, Roi | None, float]:
        """The photo as RGB, scaled down to ``erase.max_side``, and the ROI scaled with it."""
        pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
        if pil.mode in ("RGBA", "LA", "PA") or "transparency" in pil.info:
            # transparent parts become white (what a viewer shows), not whatever RGB they hide
            rgba = pil.convert("RGBA")
            pil = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        pil = pil.convert("RGB")
        side = self.settings.erase.max_side
        scale = min(1.0, side / max(pil.size))
        if scale < 1.0:
            size = (max(1, round(pil.width * scale)), max(1, round(pil.height * scale)))
            pil = pil.resize(size, Image.Resampling.LANCZOS)
        rgb = np.ascontiguousarray(np.asarray(pil, np.uint8))
        if roi is not None and scale < 1.0:
            roi = roi.scaled(scale)
        if roi is not None:
            h, w = rgb.shape[:2]
            x0, y0 = max(0, roi.x), max(0, roi.y)
            x1, y1 = min(w, roi.x + roi.width), min(h, roi.y + roi.height)
            if x1 <= x0 or y1 <= y0:
                raise ValueError("the region of interest lies outside the picture")
            roi = Roi(x0, y0, x1 - x0, y1 - y0)
        return rgb, roi, scale

    def run(
        self,
        image: Image.Image | U8,
        options: EraseOptions,
        progress: Progress | None = None,
        *,
        render: redraw.Render | None = None,
    ) -> EraseResult:
        timings: dict[str, float] = {}
        report: dict[str, Any] = {"timings": timings}

        def tell(stage: str, current: int, total: int) -> None:
            if progress is not None:
                progress(stage, current, total, fraction(stage, current, total))

        @contextmanager
        def stage(name: str) -> Iterator[None]:
            tell(name, 0, 1)
            began = time.perf_counter()
            yield
            timings[name] = round(time.perf_counter() - began, 4)

        erase = self.settings.erase
        with stage("validate"):
            rgb, roi, scale = self.prepare(image, options.roi)
            h, w = rgb.shape[:2]
            report["size"] = [w, h]
            report["scale"] = round(scale, 6)

        with stage("text_detection"):
            found = detect.detect(
                self.ocr, rgb, min_confidence=options.min_confidence, keep=options.keep, roi=roi
            )
            lines = found.to_erase
            report["texts"] = found.to_json()

        subject: tuple[F32 | None, dict[str, Any]]
        with stage("subject_segmentation"):
            choice = options.segmenter or erase.segmenter
            if choice == "auto" and not erase.segmenter_model and options.redraw is None:
                # the classical segmenters are slow and rough, and erasing does not need them
                subject = (
                    None,
                    {
                        "segmenter": None,
                        "found": False,
                        "skipped": "no segmentation model is configured and no background redraw "
                        "was asked for",
                    },
                )
            else:
                subject = self._segment(rgb, found, choice)
            report["subject"] = subject[1]

        margin = erase.mask_margin if options.mask_margin is None else options.mask_margin
        with stage("mask"):
            text = mask.text_mask(rgb, lines, margin=margin, roi=roi)
            report["erased"] = [
                {"text": line.text, "polygon": line.to_json()["polygon"], **m.to_json()}
                for line, m in zip(lines, text.lines, strict=True)
            ]

        with stage("erasing"):
            erased = self._inpaint(rgb, text.mask, options, lambda d, t: tell("erasing", d, t))
            report["inpainting"] = erased.to_json()

        background: U8 | None = None
        if options.redraw is not None:
            with stage("background_redraw"):
                final, background, report["redraw"] = self._redraw(
                    erased.image, subject[0], options, render
                )
        else:
            final = erased.image

        with stage("quality_check"):
            tell("quality_check", 0, 2)
            final_mask = text.mask
            residual = quality.residual_text(
                self.ocr, final, lines, min_confidence=options.min_confidence, keep=options.keep
            )
            passes = 1
            first_residual = [r.to_json() for r in residual]
            if residual and options.second_pass:
                passes = 2
                tell("quality_check", 1, 2)
                wider = self._widen(rgb, text, lines, residual, roi)
                final_mask = np.asarray(text.mask | wider, np.uint8)
                erased = self._inpaint(erased.image, wider, options, None)
                final = erased.image
                if options.redraw is not None and subject[0] is not None:
                    assert background is not None
                    spec = options.redraw
                    final = redraw.redraw(
                        final, subject[0], background, edge=spec.edge, match=_match(spec.mode)
                    )
                residual = quality.residual_text(
                    self.ocr, final, lines, min_confidence=options.min_confidence, keep=options.keep
                )
            checks: dict[str, Any] = {
                "passes": passes,
                "residual_text": [r.to_json() for r in residual],
                "residual_after_first_pass": first_residual,
                "lines_erased": len(lines),
                "lines_still_read": len({r.erased for r in residual}),
                "mask": {
                    **quality.mask_stats(final_mask),
                    "glyph_lines": sum(1 for m in text.lines if m.method == "glyph"),
                    "box_lines": sum(1 for m in text.lines if m.method == "box"),
                },
            }
            if passes == 2:
                checks["second_pass_inpainting"] = erased.to_json()
            if erase.quality_score:
                scorer = quality.brisque()
                checks["brisque_input"] = round(scorer.score(rgb), 3)
                checks["brisque_output"] = round(scorer.score(final), 3)
            report["quality"] = checks
            tell("quality_check", 2, 2)
        report["total_seconds"] = round(sum(timings.values()), 4)
        return EraseResult(final, final_mask, subject[0], report)

    # -- helpers --------------------------------------------------------------------------
    def _segment(
        self, rgb: U8, found: Detection, choice: str | None
    ) -> tuple[F32 | None, dict[str, Any]]:
        """The subject, segmented on a reduced copy with every text line filled in."""
        h, w = rgb.shape[:2]
        scale = min(1.0, 512 / max(h, w))
        small = rgb
        if scale < 1.0:
            size = (max(8, round(w * scale)), max(8, round(h * scale)))
            small = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), np.uint8)
        boxes = [
            TextLine(tuple((x * scale, y * scale) for x, y in line.polygon), "", 1.0)
            for line in found.lines
            if line.status != "not_text"
        ]
        if boxes:
            holes = mask.box_mask(small.shape[:2], boxes)
            holes = np.asarray(cv2.dilate(holes, np.ones((5, 5), np.uint8)), np.uint8)
            small = np.asarray(cv2.inpaint(small, holes, 5, cv2.INPAINT_TELEA), np.uint8)
        result = self.segmenters.run(small, choice)
        if result.mask is None:
            return None, result.to_json()
        return segment.refine(result.mask, rgb), result.to_json()

    def _inpaint(
        self,
        rgb: U8,
        holes: U8,
        options: EraseOptions,
        on_step: Callable[[int, int], None] | None,
    ) -> Inpainted:
        if not holes.any():
            return Inpainted(rgb.copy(), "none")
        return self.inpainters.run(rgb, holes, options.inpainter, on_step)

    def _redraw(
        self,
        rgb: U8,
        subject: F32 | None,
        options: EraseOptions,
        render: redraw.Render | None,
    ) -> tuple[U8, U8 | None, dict[str, Any]]:
        spec = options.redraw
        assert spec is not None
        info: dict[str, Any] = {"mode": spec.mode}
        if subject is None:
            info["skipped"] = "no subject was found, so the background was left as it was"
            return rgb, None, info
        new = redraw.background(
            spec.mode,
            rgb,
            subject,
            colour=spec.colour,
            preset=spec.preset,
            prompt=spec.prompt,
            blur_radius=spec.blur_radius,
            seed=options.seed,
            render=render,
        )
        match = _match(spec.mode)
        info.update({"edge": spec.edge, "colour_match": match})
        return redraw.redraw(rgb, subject, new, edge=spec.edge, match=match), new, info

    def _widen(
        self,
        rgb: U8,
        first: mask.TextMask,
        lines: tuple[TextLine, ...],
        residual: list[quality.Residual],
        roi: Roi | None,
    ) -> U8:
        """The second pass's mask: the letters under each reading the OCR still makes,
        separated again in the photo with the reading's own (tighter) box and lower
        thresholds (or that box, when separation fails), and the first mask of those lines
        grown by ``erase.second_pass_dilation``. Kept characters stay out."""
        grow = self.settings.erase.second_pass_dilation
        h, w = rgb.shape[:2]
        hit = sorted({r.erased for r in residual})
        remnants = mask.text_mask(
            rgb, [r.line for r in residual], margin=1, sensitivity=1.5, roi=roi
        ).mask
        around = np.zeros((h, w), np.uint8)
        for i in hit:
            x0, y0, x1, y1 = first.lines[i].box
            around[y0:y1, x0:x1] = first.mask[y0:y1, x0:x1]
        if grow > 0:
            around = np.asarray(cv2.dilate(around, mask.disc(grow)), np.uint8)
        wider = np.asarray(remnants | around, np.uint8)
        kept = [p for i in hit for p in lines[i].keep_regions]
        if kept:
            wider[mask.box_mask((h, w), [_as_line(p) for p in kept]) > 0] = 0
        if roi is not None:
            clip = np.zeros_like(wider)
            clip[roi.y : roi.y + roi.height, roi.x : roi.x + roi.width] = 255
            wider &= clip
        return wider


def _match(mode: str) -> float:
    """How far the subject's colours move towards a new background's: a little for painted
    backgrounds (their light differs), not at all for blur (the same light) or a colour."""
    return 0.25 if mode in ("preset", "prompt") else 0.0


def _as_line(polygon: detect.Polygon) -> TextLine:
    return TextLine(polygon, "", 1.0)


_pipelines: dict[str, ErasePipeline] = {}
_pipelines_lock = threading.Lock()


def pipeline_for(settings: Settings) -> ErasePipeline:
    """The process's pipeline for these settings (models stay loaded between tasks)."""
    key = "|".join(
        (
            settings.erase.model_dump_json(),
            str(settings.providers.models_dir),
            settings.providers.diffusers.device,
        )
    )
    with _pipelines_lock:
        if key not in _pipelines:
            _pipelines[key] = ErasePipeline(settings)
        return _pipelines[key]
