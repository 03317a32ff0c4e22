"""Subject segmentation: what to keep when the background is redrawn, and the subject mask of
the result.

One interface, :class:`Segmenter` (an RGB picture in, a soft mask 0..1 or ``None`` out), and:

- :class:`OnnxSegmenter`: a salient-object or matting model from the models directory, with
  each family's own pre- and post-processing — U²-Net and IS-Net (rembg's exports), BiRefNet,
  MODNet;
- :class:`SamSegmenter`: a Segment Anything image encoder and mask decoder (the official ONNX
  decoder signature), prompted with the centre of the picture;
- :class:`PeopleSegmenter`: faces and bodies found with OpenCV's detectors seeding GrabCut
  (:func:`atelier.stylize.segment.person_mask`, run on a reduced copy);
- :class:`ClassicalSegmenter`: GrabCut seeded with a central ellipse — where the subject of
  most product and portrait photos is — kept only when the result is plausible.

:class:`SegmentPolicy` runs them in the configured order and takes the first answer. The
pipeline hands them a preview with the text already filled in, so captions do not pass for the
subject; :func:`refine` brings a mask back to full size along the photo's edges.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from atelier.config import Settings
from atelier.erase import models
from atelier.providers.errors import NotConfigured
from atelier.providers.runtime_torch import LazyModel
from atelier.stylize.segment import guided_filter, person_mask

log = logging.getLogger(__name__)

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
FamilyName = Literal["u2net", "isnet", "birefnet", "modnet", "sam"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
#: The classical subject must differ this much (CIELAB, median colours) from its surroundings.
MIN_SUBJECT_CONTRAST = 8.0
IMAGENET_STD = (0.229, 0.224, 0.225)


class Segmenter(Protocol):
    name: str

    def segment(self, rgb: U8) -> F32 | None:
        """A soft subject mask (``float32`` 0..1, the picture's size), or ``None``."""
        ...


@dataclass(frozen=True)
class Family:
    """How one family of salient-object / matting models wants its input and gives its
    output. ``side``: the square input side (``None``: MODNet's aspect-keeping 512 reference,
    in multiples of 32); ``scale``: divide by the picture's maximum or by 255; ``output``:
    which output holds the mask; ``activation``: what turns it into 0..1."""

    name: FamilyName
    side: int | None
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    scale: Literal["max", "255"]
    output: Literal["first", "last"]
    activation: Literal["minmax", "sigmoid", "clip"]


FAMILIES: dict[str, Family] = {
    # rembg's u2net / u2netp / u2net_human_seg / silueta: 320x320, img / max, ImageNet
    "u2net": Family("u2net", 320, IMAGENET_MEAN, IMAGENET_STD, "max", "first", "minmax"),
    # rembg's isnet-general-use / isnet-anime: 1024x1024, img / max, mean 0.5, std 1
    "isnet": Family("isnet", 1024, (0.5, 0.5, 0.5), (1.0, 1.0, 1.0), "max", "first", "minmax"),
    # BiRefNet: 1024x1024, /255, ImageNet; the last output holds the logits
    "birefnet": Family("birefnet", 1024, IMAGENET_MEAN, IMAGENET_STD, "255", "last", "sigmoid"),
    # MODNet (portrait matting): short side towards 512, multiples of 32, to -1..1; alpha out
    "modnet": Family("modnet", None, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "255", "first", "clip"),
}


def guess_family(filename: str) -> FamilyName:
    lowered = Path(filename).name.lower()
    for key, family in (
        ("birefnet", "birefnet"),
        ("modnet", "modnet"),
        ("isnet", "isnet"),
        ("u2net", "u2net"),
        ("silueta", "u2net"),
        ("sam", "sam"),
    ):
        if key in lowered:
            return family  # type: ignore[return-value]
    raise NotConfigured(
        f"cannot tell which kind of model {Path(filename).name} is: set erase.segmenter_family"
    )


def _modnet_size(h: int, w: int, reference: int = 512) -> tuple[int, int]:
    if max(h, w) < reference or min(h, w) > reference:
        if w >= h:
            rh, rw = reference, int(w / h * reference)
        else:
            rw, rh = reference, int(h / w * reference)
    else:
        rh, rw = h, w
    return max(32, rh - rh % 32), max(32, rw - rw % 32)


class OnnxSegmenter:
    def __init__(self, model: LazyModel[models.OnnxModel], family: Family) -> None:
        self.model = model
        self.family = family
        self.name = f"onnx-{family.name}"

    def segment(self, rgb: U8) -> F32 | None:
        f = self.family
        h, w = rgb.shape[:2]
        with self.model.use() as onnx:
            port = onnx.inputs[0]
            fixed = port.fixed_hw
            if fixed is not None:
                th, tw = fixed
            elif f.side is not None:
                th = tw = f.side
            else:
                th, tw = _modnet_size(h, w)
            img = np.asarray(cv2.resize(rgb, (tw, th), interpolation=cv2.INTER_AREA), np.float32)
            peak = max(1.0, float(img.max())) if f.scale == "max" else 255.0
            mean, std = np.asarray(f.mean, np.float32), np.asarray(f.std, np.float32)
            img = np.asarray((img / np.float32(peak) - mean) / std, np.float32)
            outputs = onnx.run({port.name: img.transpose(2, 0, 1)[None].astype(np.float32)})
        raw = outputs[0] if f.output == "first" else outputs[-1]
        pred = np.asarray(raw, np.float32).reshape(-1, *raw.shape[-2:])[0]
        if f.activation == "sigmoid":
            pred = 1.0 / (1.0 + np.exp(-np.clip(pred, -40, 40)))
        elif f.activation == "minmax":
            lo, hi = float(pred.min()), float(pred.max())
            pred = (pred - lo) / (hi - lo) if hi - lo > 1e-6 else np.zeros_like(pred)
        pred = np.clip(pred, 0.0, 1.0).astype(np.float32)
        return np.asarray(cv2.resize(pred, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


SAM_MEAN = (123.675, 116.28, 103.53)
SAM_STD = (58.395, 57.12, 57.375)


class SamSegmenter:
    """Segment Anything: the image encoder (1x3xSxS, the long side resized to S and padded,
    normalised with SAM's pixel mean and deviation) gives the embedding; the decoder (inputs
    ``image_embeddings``, ``point_coords``, ``point_labels``, ``mask_input``,
    ``has_mask_input``, ``orig_im_size``) is prompted with one positive point at the centre of
    the picture; the mask with the best predicted IoU is kept."""

    name = "onnx-sam"

    def __init__(
        self,
        encoder: LazyModel[models.OnnxModel],
        decoder: LazyModel[models.OnnxModel],
    ) -> None:
        self.encoder = encoder
        self.decoder = decoder

    def segment(self, rgb: U8) -> F32 | None:
        h, w = rgb.shape[:2]
        with self.encoder.use() as enc:
            port = enc.inputs[0]
            side = (port.fixed_hw or (1024, 1024))[0]
            scale = side / max(h, w)
            rh, rw = max(1, round(h * scale)), max(1, round(w * scale))
            img = np.asarray(cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_AREA), np.float32)
            mean, std = np.asarray(SAM_MEAN, np.float32), np.asarray(SAM_STD, np.float32)
            img = np.asarray((img - mean) / std, np.float32)
            padded = np.zeros((side, side, 3), np.float32)
            padded[:rh, :rw] = img
            embedding = enc.run({port.name: padded.transpose(2, 0, 1)[None]})[0]
        with self.decoder.use() as dec:
            names = {p.name: p for p in dec.inputs}
            mask_port = names.get("mask_input")
            mask_hw = (mask_port.fixed_hw if mask_port else None) or (
                4 * embedding.shape[-2],
                4 * embedding.shape[-1],
            )
            feeds: dict[str, npt.NDArray[Any]] = {
                "image_embeddings": embedding,
                "point_coords": np.array([[[w / 2 * scale, h / 2 * scale], [0, 0]]], np.float32),
                "point_labels": np.array([[1, -1]], np.float32),
                "mask_input": np.zeros((1, 1, *mask_hw), np.float32),
                "has_mask_input": np.zeros((1,), np.float32),
                "orig_im_size": np.array([h, w], np.float32),
            }
            missing = [n for n in names if n not in feeds]
            if missing:
                raise NotConfigured(f"SAM decoder {dec.path.name} wants unknown inputs {missing}")
            outputs = dec.run({n: feeds[n] for n in names})
        masks = outputs[0].reshape(-1, *outputs[0].shape[-2:])
        best = 0
        if len(outputs) > 1 and outputs[1].size == len(masks):
            best = int(np.argmax(outputs[1].reshape(-1)))
        logits = masks[best]
        soft = np.asarray(1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40))), np.float32)
        if soft.shape != (h, w):
            soft = np.asarray(cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)
        return soft


class PeopleSegmenter:
    """People, found by face or body detection, segmented with GrabCut (on a reduced copy)."""

    name = "people"

    def __init__(self, work_side: int = 256) -> None:
        self.work_side = work_side

    def segment(self, rgb: U8) -> F32 | None:
        h, w = rgb.shape[:2]
        scale = min(1.0, self.work_side / max(h, w))
        small = rgb
        if scale < 1.0:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            small = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), np.uint8)
        found = person_mask(small)
        if found is None:
            return None
        return np.asarray(cv2.resize(found, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


def _fill_holes(binary: U8) -> U8:
    h, w = binary.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = binary
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 255)
    return np.asarray(binary | (flood[1:-1, 1:-1] == 0).astype(np.uint8) * 255, np.uint8)


class ClassicalSegmenter:
    """GrabCut seeded with where subjects usually are: a central ellipse is probably the
    subject (its middle certainly), the rest probably background, and the top and side edges
    certainly background (subjects often stand on the bottom edge). The result is cleaned and
    kept only when plausible: it must hold the middle and cover 3-85 % of the picture."""

    name = "classical"

    def __init__(self, work_side: int = 160) -> None:
        self.work_side = work_side

    def segment(self, rgb: U8) -> F32 | None:
        h, w = rgb.shape[:2]
        scale = min(1.0, self.work_side / max(h, w))
        sw, sh = max(16, round(w * scale)), max(16, round(h * scale))
        small = np.ascontiguousarray(cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA))
        gc = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
        centre = (sw // 2, round(sh * 0.55))
        cv2.ellipse(gc, centre, (round(sw * 0.3), round(sh * 0.38)), 0, 0, 360,
                    cv2.GC_PR_FGD, -1)  # fmt: skip
        cv2.ellipse(gc, centre, (max(1, round(sw * 0.08)), max(1, round(sh * 0.1))), 0, 0, 360,
                    cv2.GC_FGD, -1)  # fmt: skip
        edge = max(2, min(sw, sh) // 20)
        gc[:edge, :] = cv2.GC_BGD
        gc[:, :edge] = cv2.GC_BGD
        gc[:, -edge:] = cv2.GC_BGD
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(0)
        try:
            cv2.grabCut(small, gc, (0, 0, 1, 1), bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            return None
        binary = np.where((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
        binary = np.asarray(cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)))
        count, labels = cv2.connectedComponents(binary, connectivity=8)
        if count <= 1:
            return None
        # the piece holding the middle
        middle = labels[centre[1], centre[0]]
        if middle == 0:
            return None
        piece = _fill_holes((labels == middle).astype(np.uint8) * 255)
        area = float(piece.mean()) / 255.0
        if not 0.03 <= area <= 0.85:
            return None
        # a subject looks unlike what is around it (a flat picture has none)
        lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        inner = np.median(lab[piece > 0], axis=0)
        outer = np.median(lab[piece == 0], axis=0)
        if float(np.linalg.norm(inner - outer)) < MIN_SUBJECT_CONTRAST:
            return None
        soft = cv2.GaussianBlur(piece.astype(np.float32) / 255.0, (0, 0), 0.8)
        return np.asarray(cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


def refine(mask: F32, rgb: U8) -> F32:
    """A mask (any size) brought to ``rgb``'s size and fitted to its edges (guided filter)."""
    h, w = rgb.shape[:2]
    soft = mask
    if soft.shape != (h, w):
        soft = np.asarray(cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)
    grey = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), np.float32) / np.float32(255.0)
    radius = max(2, round(min(h, w) / 150))
    fitted = guided_filter(grey, soft.astype(np.float32), radius, 1e-3)
    return np.asarray(np.clip(fitted, 0.0, 1.0), np.float32)


# -- choice and fallback ----------------------------------------------------------------------
@dataclass
class Segmented:
    mask: F32 | None
    segmenter: str | None
    attempts: list[dict[str, str | None]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"segmenter": self.segmenter, "found": self.mask is not None}
        if self.mask is not None:
            out["area"] = round(float((self.mask > 0.5).mean()), 4)
        tried = [a for a in self.attempts if a.get("error") or a.get("result")]
        if tried:
            out["attempts"] = tried
        return out


class SegmentPolicy:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._built: dict[str, Segmenter] = {}
        self._lock = threading.Lock()

    def chain(self, choice: str | None = None) -> list[str]:
        choice = choice or self.settings.erase.segmenter
        if choice == "none":
            return []
        if choice == "auto":
            first = ["onnx"] if self.settings.erase.segmenter_model else []
            return [*first, "people", "classical"]
        if choice == "onnx":
            return ["onnx", "people", "classical"]
        if choice == "people":
            return ["people", "classical"]
        return ["classical"]

    def build(self, name: str) -> Segmenter:
        with self._lock:
            if name not in self._built:
                self._built[name] = self._make(name)
            return self._built[name]

    def _make(self, name: str) -> Segmenter:
        if name == "people":
            return PeopleSegmenter()
        if name == "classical":
            return ClassicalSegmenter()
        erase = self.settings.erase
        where = self.settings.providers.models_dir
        path = models.locate(erase.segmenter_model, where, what="segmentation")
        family = erase.segmenter_family
        if family == "auto":
            family = guess_family(path.name)
        idle, threads = erase.model_idle_seconds, erase.onnx_threads
        lazy = models.lazy(path, threads=threads, idle_seconds=idle)
        if family == "sam":
            decoder = models.locate(erase.sam_decoder_model, where, what="SAM decoder")
            return SamSegmenter(lazy, models.lazy(decoder, threads=threads, idle_seconds=idle))
        return OnnxSegmenter(lazy, FAMILIES[family])

    def run(self, rgb: U8, choice: str | None = None) -> Segmented:
        attempts: list[dict[str, str | None]] = []
        for name in self.chain(choice):
            try:
                mask = self.build(name).segment(rgb)
            except Exception as exc:  # a missing or broken model: the next one
                log.warning("segmenter %s failed (%s); falling back", name, exc)
                attempts.append({"segmenter": name, "error": f"{type(exc).__name__}: {exc}"})
                continue
            if mask is None or float((mask > 0.5).mean()) < 0.005:
                attempts.append({"segmenter": name, "result": "no subject"})
                continue
            attempts.append({"segmenter": name, "error": None})
            return Segmented(mask, self.build(name).name, attempts)
        return Segmented(None, None, attempts)
