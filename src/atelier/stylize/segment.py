"""Find the person in a photo and put them in front of another background. Classical only.

:func:`person_mask` looks for faces with OpenCV's bundled Haar cascades (frontal, then
profile), or failing that for a standing figure with the HOG people detector. Each detection
seeds GrabCut: the face core is certainly the person, head, hair, neck and a torso below the
face are probably the person, the image margins beside and above the head certainly not. The
GrabCut result is cleaned (opening, closing, pieces not touching a seed dropped, holes
filled), feathered, and fitted to the full-size picture's edges with a guided filter.

Quality limits (honest): the mask is only as good as the detection. Faces must be roughly
frontal or in profile, upright, whole (a head cut by the frame edge is usually missed) and at
least ~5 % of the short side; backs of heads, tilted or heavily occluded faces, and people
smaller than the HOG window (64x128 px at the working scale) are missed, and then
:func:`person_mask` returns ``None``. Faces are looked for after local contrast equalisation
(CLAHE), which helps with darker skin and dim light, but Haar cascades remain weaker on
low-contrast faces. GrabCut follows colour, so clothes close in colour to the background are
cut into or leak, hair edges are soft rather than strand-accurate, and objects held or
touching the person (or of the same colour beside them) may be included. Detection can also
fire on face-like patterns (posters, statues) and HOG on tall narrow shapes (a pagoda, a
pole). A learned matting model does much better; this is the weight-free default.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from atelier.stylize.filters import F32, U8, as_rgb

WORK_SIDE = 320  # detection and GrabCut run at most this large
Box = tuple[int, int, int, int]  # x, y, width, height

_local = threading.local()  # a classifier is not safe to share between threads


def _cascade(name: str) -> cv2.CascadeClassifier:
    cache: dict[str, cv2.CascadeClassifier] = _local.__dict__.setdefault("cascades", {})
    if name not in cache:
        path = str(cv2.data.haarcascades) + name  # type: ignore[attr-defined]
        classifier = cv2.CascadeClassifier(path)
        if classifier.empty():  # pragma: no cover - the files ship inside the wheel
            raise RuntimeError(f"OpenCV cascade {name} could not be loaded from {path}")
        cache[name] = classifier
    return cache[name]


def _boxes(found: object) -> list[Box]:
    arr = np.asarray(found, dtype=np.int64).reshape(-1, 4)
    return [(int(x), int(y), int(w), int(h)) for x, y, w, h in arr]


def _iou(a: Box, b: Box) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def _skin_fraction(rgb: U8, box: Box) -> float:
    """Share of skin-coloured pixels (a broad YCrCb range) in the middle of a face box."""
    x, y, w, h = box
    core = rgb[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
    if core.size == 0:
        return 0.0
    ycc = cv2.cvtColor(core, cv2.COLOR_RGB2YCrCb)
    cr, cb = ycc[:, :, 1], ycc[:, :, 2]
    skin = (cr >= 133) & (cr <= 180) & (cb >= 70) & (cb <= 135)
    return float(skin.mean())


def detect_faces(rgb: U8) -> list[Box]:
    """Face boxes (largest first) on an RGB image. A frontal face is kept only when a second
    cascade agrees and, in a colour photo, its middle is partly skin-coloured: this cuts false
    positives (clothes, fur, posters) at some cost in recall."""
    # local contrast equalisation (CLAHE) finds darker faces that a global one flattens
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    grey = clahe.apply(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    min_side = max(20, round(min(grey.shape) * 0.05))
    size = (min_side, min_side)
    main = _boxes(_cascade("haarcascade_frontalface_default.xml").detectMultiScale(grey, 1.1, 5,
                  minSize=size))  # fmt: skip
    alt = _boxes(_cascade("haarcascade_frontalface_alt2.xml").detectMultiScale(grey, 1.1, 3,
                 minSize=size))  # fmt: skip
    sat = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[:, :, 1]
    colourful = float(sat.mean()) > 20
    faces = [
        f
        for f in main
        if any(_iou(f, a) > 0.3 for a in alt) and (not colourful or _skin_fraction(rgb, f) > 0.25)
    ]
    if not faces:
        profile = _cascade("haarcascade_profileface.xml")
        faces = _boxes(profile.detectMultiScale(grey, 1.1, 5, minSize=size))
        width = grey.shape[1]
        flipped = _boxes(profile.detectMultiScale(cv2.flip(grey, 1), 1.1, 5, minSize=size))
        faces += [(width - x - w, y, w, h) for x, y, w, h in flipped]
    faces.sort(key=lambda b: -b[2] * b[3])
    kept: list[Box] = []
    for f in faces:
        if all(_iou(f, k) < 0.3 for k in kept) and f[2] >= 0.5 * (kept[0][2] if kept else 0):
            kept.append(f)
    return kept[:4]


def detect_bodies(rgb: U8) -> list[Box]:
    """Standing people (HOG + linear SVM, 64x128 window), most confident first."""
    if rgb.shape[0] < 128 + 16 or rgb.shape[1] < 64 + 16:
        return []  # smaller than the window and its padding: OpenCV crashes (SIGSEGV) on it
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))
    found, weights = hog.detectMultiScale(
        cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), winStride=(8, 8), padding=(8, 8), scale=1.05
    )
    scores = np.asarray(weights, np.float64).reshape(-1)
    boxes = _boxes(found)
    colourful = float(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[:, :, 1].mean()) > 20
    kept = []
    for i in np.argsort(-scores):
        x, y, w, h = boxes[i]
        head = (x + w // 4, y + h // 16, w // 2, h // 5)  # where the face should be
        if scores[i] > 0.8 and (not colourful or _skin_fraction(rgb, head) > 0.15):
            kept.append(boxes[i])
    return kept[:2]


def _seed_face(mask: U8, box: Box) -> None:
    h, w = mask.shape
    x, y, fw, fh = box
    cx, cy = x + fw / 2, y + fh / 2
    # probable person: head with hair, neck, and a torso widening below the face
    cv2.ellipse(mask, (round(cx), round(cy - fh * 0.05)), (round(fw * 0.7), round(fh * 0.75)),
                0, 0, 360, cv2.GC_PR_FGD, -1)  # fmt: skip
    shoulders = y + fh * 1.25
    chest = shoulders + fh * 0.4
    torso = np.array([[cx - fw * 0.35, y + fh * 0.9], [cx + fw * 0.35, y + fh * 0.9],
                      [cx + fw * 1.15, chest], [cx + fw * 1.4, h], [cx - fw * 1.4, h],
                      [cx - fw * 1.15, chest]], np.int32)  # fmt: skip
    cv2.fillPoly(mask, [torso], cv2.GC_PR_FGD)
    # certainly not the person: above the head, beside the head, and far beside the neck
    top = max(0, round(y - fh * 0.8))
    mask[:top, :] = cv2.GC_BGD
    for level, reach in ((y + fh * 1.1, 1.35), (shoulders + fh * 0.4, 1.9)):
        row = min(h, round(level))
        left, right = max(0, round(cx - fw * reach)), min(w, round(cx + fw * reach))
        mask[:row, :left] = cv2.GC_BGD
        mask[:row, right:] = cv2.GC_BGD
    # certainly the person: the face core, and a narrow strip down the neck and upper chest
    cv2.ellipse(mask, (round(cx), round(cy)), (max(1, round(fw * 0.3)), max(1, round(fh * 0.35))),
                0, 0, 360, cv2.GC_FGD, -1)  # fmt: skip
    x0, x1 = max(0, round(cx - fw * 0.12)), min(w, round(cx + fw * 0.12) + 1)
    mask[round(cy) : min(h, round(y + fh * 2.2)), x0:x1] = cv2.GC_FGD


def _seed_body(mask: U8, box: Box) -> None:
    x, y, bw, bh = box
    cv2.rectangle(mask, (x + bw // 8, y + bh // 16), (x + bw - bw // 8, y + bh), cv2.GC_PR_FGD, -1)
    cv2.ellipse(mask, (x + bw // 2, y + bh // 2), (max(1, bw // 10), max(1, bh // 4)), 0, 0, 360,
                cv2.GC_FGD, -1)  # fmt: skip


def _fill_holes(binary: U8) -> U8:
    h, w = binary.shape
    flood = binary.copy()
    ff_mask = np.zeros((h + 2, w + 2), np.uint8)
    for x, y in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)):
        if flood[y, x] == 0:
            cv2.floodFill(flood, ff_mask, (x, y), 255)
    return np.asarray(binary | np.asarray(cv2.bitwise_not(flood), np.uint8), dtype=np.uint8)


def guided_filter(guide: F32, src: F32, radius: int, eps: float) -> F32:
    """He et al.'s guided filter with a grey guide: ``src`` smoothed, but following the
    guide's edges (used to fit a coarse mask to the real outline)."""
    k = (2 * radius + 1, 2 * radius + 1)

    def box(a: F32) -> F32:
        return np.asarray(cv2.boxFilter(a, -1, k, borderType=cv2.BORDER_REFLECT), np.float32)

    mean_i, mean_p = box(guide), box(src)
    cov = box(guide * src) - mean_i * mean_p
    var = box(guide * guide) - mean_i * mean_i
    a = np.asarray(cov / (var + eps), np.float32)
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)


def person_mask(image: Image.Image | npt.NDArray[np.uint8]) -> F32 | None:
    """A soft person mask (``float32`` 0..1, the image's size), or ``None`` when no person is
    detected or the segmentation is implausible (almost empty or almost everything)."""
    rgb = as_rgb(image)
    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_SIDE / max(h, w))
    small = rgb if scale == 1.0 else np.asarray(
        cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA),
        np.uint8)  # fmt: skip
    sh, sw = small.shape[:2]
    faces = detect_faces(small)
    bodies = [] if faces else detect_bodies(small)
    if not faces and not bodies:
        return None
    gc = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    for box in faces:
        _seed_face(gc, box)
    for box in bodies:
        _seed_body(gc, box)
    seeds = (gc == cv2.GC_FGD).astype(np.uint8)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    # run GrabCut only around what might be the person (plus a margin of background)
    ys, xs = np.nonzero(gc != cv2.GC_BGD)
    pad = max(8, round(min(sh, sw) * 0.05))
    y0, y1 = max(0, int(ys.min()) - pad), min(sh, int(ys.max()) + pad + 1)
    x0, x1 = max(0, int(xs.min()) - pad), min(sw, int(xs.max()) + pad + 1)
    crop = np.ascontiguousarray(gc[y0:y1, x0:x1])
    cv2.setRNGSeed(0)  # GrabCut's colour models start from k-means: keep it repeatable
    cv2.grabCut(np.ascontiguousarray(small[y0:y1, x0:x1]), crop, (0, 0, 1, 1), bgd, fgd, 4,
                cv2.GC_INIT_WITH_MASK)  # fmt: skip
    gc[y0:y1, x0:x1] = crop
    binary = np.where((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    k = max(3, round(min(sh, sw) / 100)) | 1
    binary = np.asarray(
        cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((k, k), np.uint8)), np.uint8
    )
    binary = np.asarray(
        cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8)), np.uint8
    )
    _, labels = cv2.connectedComponents(binary, connectivity=8)
    touching = np.unique(labels[(seeds > 0) & (labels > 0)])
    binary = np.where(np.isin(labels, touching), 255, 0).astype(np.uint8)
    binary = _fill_holes(binary)
    area = float(binary.mean()) / 255.0
    if not 0.02 <= area <= 0.92:
        return None
    soft = np.asarray(cv2.GaussianBlur(binary.astype(np.float32) / 255.0, (0, 0), 1.0), np.float32)
    soft = np.asarray(cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)
    grey = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), np.float32) / np.float32(255.0)
    radius = max(2, round(min(h, w) / 150))
    fitted = guided_filter(grey, soft, radius, 1e-3)
    # a slightly tightened ramp keeps the old background's fringe out of the edge
    return np.asarray(np.clip((fitted - 0.25) / 0.6, 0.0, 1.0), np.float32)


def cover(background: Image.Image | npt.NDArray[np.uint8], size: tuple[int, int]) -> U8:
    """``background`` scaled to cover ``size`` (width, height) and centre-cropped to it."""
    bg = as_rgb(background)
    w, h = size
    bh, bw = bg.shape[:2]
    scale = max(w / bw, h / bh)
    nw, nh = max(w, round(bw * scale)), max(h, round(bh * scale))
    if (nw, nh) != (bw, bh):
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        bg = np.asarray(cv2.resize(bg, (nw, nh), interpolation=interp), np.uint8)
    x0, y0 = (nw - w) // 2, (nh - h) // 2
    return np.ascontiguousarray(bg[y0 : y0 + h, x0 : x0 + w])


def match_colours(person: U8, mask: F32, background: U8, amount: float = 0.5) -> U8:
    """Move the person's colour statistics (LAB mean and spread, measured under the mask)
    ``amount`` of the way towards the background's, so they sit in its light. Lightness
    moves half as far as colour, to keep faces readable."""
    weight = mask > 0.5
    if amount <= 0 or not weight.any():
        return person.copy()

    def lab(rgb: U8) -> F32:
        return np.asarray(cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB))

    lab_p, lab_b = lab(person), lab(background[::3, ::3]).reshape(-1, 3)
    inside = lab_p[::3, ::3][weight[::3, ::3]] if weight[::3, ::3].any() else lab_p[weight]
    mp, sp = inside.mean(axis=0), inside.std(axis=0) + 1e-3
    mb, sb = lab_b.mean(axis=0), lab_b.std(axis=0) + 1e-3
    k = np.array([0.5, 1.0, 1.0], np.float32) * amount
    ratio = np.clip(sb / sp, 0.5, 2.0)
    out = (lab_p - mp) * (1.0 + (ratio - 1.0) * k) + mp + (mb - mp) * k
    rgb = np.asarray(cv2.cvtColor(out.astype(np.float32), cv2.COLOR_LAB2RGB), np.float32)
    return np.asarray(np.clip(rgb * 255.0 + 0.5, 0, 255), np.uint8)


def composite(
    person_image: Image.Image | npt.NDArray[np.uint8],
    mask: F32,
    background: Image.Image | npt.NDArray[np.uint8],
    *,
    match: float = 0.35,
    shadow: float = 0.0,
) -> Image.Image:
    """The person (under ``mask``) over ``background`` covering the photo's frame.

    ``match`` (0..1) moves the person's colours towards the background's; ``shadow`` (0..1)
    darkens the background with a soft shadow cast down and to the side of the person.
    With ``shadow=0`` every pixel where the mask is 0 is exactly the covered background."""
    person = as_rgb(person_image)
    h, w = person.shape[:2]
    if mask.shape != (h, w):
        raise ValueError(f"mask shape {mask.shape} does not match the image {(h, w)}")
    bg = cover(background, (w, h))
    if match > 0:
        person = match_colours(person, mask, bg, match)
    alpha = np.clip(mask, 0.0, 1.0).astype(np.float32)[:, :, None]
    base = bg.astype(np.float32)
    if shadow > 0:
        # a blurred, shifted copy of the mask, computed at a quarter of the size
        qw, qh = max(1, w // 4), max(1, h // 4)
        small = cv2.resize(alpha[:, :, 0], (qw, qh), interpolation=cv2.INTER_AREA)
        sigma = min(qw, qh) * 0.025
        shift = np.array([[1, 0, sigma * 0.8], [0, 1, sigma * 1.2]], np.float32)
        cast = cv2.warpAffine(small, shift, (qw, qh), borderMode=cv2.BORDER_REPLICATE)
        cast = cv2.resize(cv2.GaussianBlur(cast, (0, 0), max(0.5, sigma)), (w, h))
        cast = np.asarray(cast, np.float32)[:, :, None]
        base = base * (1.0 - shadow * 0.6 * cast)
    out = base * (1.0 - alpha) + person.astype(np.float32) * alpha
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")
