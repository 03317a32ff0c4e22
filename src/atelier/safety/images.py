"""NSFW checks of images: an upload before it is stored, a task's output before it is kept.

Each direction has an action and a threshold (``SafetySettings``). An image scoring at least
the threshold is refused (``reject``), replaced by a heavily blurred copy (``blur``) or kept
as is and marked (``flag``); ``off`` scores nothing. Every scored image gets a
:class:`Verdict`; a task's verdicts go into its result as ``result.safety`` (see
:func:`annotate`), so the UI can say what happened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image, ImageFilter

from atelier.config import SafetySettings
from atelier.safety import nsfw
from atelier.safety.errors import OUTPUT_MESSAGE, UPLOAD_MESSAGE, ContentRejected

log = logging.getLogger(__name__)

Direction = Literal["upload", "output"]
Taken = Literal["none", "flag", "blur", "reject"]
_SEVERITY: dict[str, int] = {"none": 0, "flag": 1, "blur": 2, "reject": 3}
#: The blur: the image shrunk to this many pixels on its longest side, blown up again and
#: smoothed; no detail survives, only the colour layout.
BLUR_CELLS = 12


@dataclass(frozen=True)
class Verdict:
    score: float
    threshold: float
    action: Taken  # what was done: "none" below the threshold

    @property
    def flagged(self) -> bool:
        return self.action != "none"

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "threshold": self.threshold,
            "action": self.action,
            "flagged": self.flagged,
        }


def blur(image: Image.Image) -> Image.Image:
    """A heavily blurred copy of ``image``, same size and mode."""
    width, height = image.size
    scale = BLUR_CELLS / max(width, height)
    small = (max(1, round(width * scale)), max(1, round(height * scale)))
    coarse = image.resize(small, Image.Resampling.BOX).resize(image.size, Image.Resampling.BILINEAR)
    radius = max(2.0, max(width, height) / (BLUR_CELLS * 2))
    return coarse.filter(ImageFilter.GaussianBlur(radius))


def check(
    settings: SafetySettings, direction: Direction, image: Image.Image
) -> tuple[Image.Image, Verdict | None]:
    """Score ``image`` for ``direction`` and apply its action: returns the image to store (a
    blurred copy under ``blur``) and the verdict (``None`` when the direction is ``off``).
    Raises :class:`ContentRejected` under ``reject``."""
    action = settings.upload_action if direction == "upload" else settings.output_action
    threshold = settings.upload_threshold if direction == "upload" else settings.output_threshold
    if action == "off":
        return image, None
    value = nsfw.score(image)
    if value < threshold:
        return image, Verdict(value, threshold, "none")
    verdict = Verdict(value, threshold, action)
    log.warning(
        "%s scored %.4f for NSFW (threshold %.2f): %s",
        direction,
        value,
        threshold,
        action,
        extra={"safety_direction": direction, "safety_score": value, "safety_action": action},
    )
    if action == "reject":
        message = UPLOAD_MESSAGE if direction == "upload" else OUTPUT_MESSAGE
        raise ContentRejected(message, details=verdict.as_dict())
    if action == "blur":
        return blur(image), verdict
    return image, verdict


def summary(verdicts: dict[str, Verdict]) -> dict[str, Any] | None:
    """``{score, threshold, action, flagged, images: {image id: verdict}}``: the highest score
    and the most severe action over a task's images, then each image's own."""
    if not verdicts:
        return None
    worst = max(verdicts.values(), key=lambda v: (_SEVERITY[v.action], v.score))
    top = max(v.score for v in verdicts.values())
    return {
        **worst.as_dict(),
        "score": round(top, 4),
        "images": {image_id: v.as_dict() for image_id, v in verdicts.items()},
    }


def annotate(result: dict[str, Any], verdicts: dict[str, Verdict]) -> dict[str, Any]:
    """``result`` with ``safety`` (:func:`summary`) added, and each image's verdict added to
    its entries: in ``images`` and wherever else the result names it (``image``, manga's
    ``page``, erase's masks), so the same image reads the same everywhere. Returns
    ``result`` itself when there is nothing to add."""
    found = summary(verdicts)
    if found is None:
        return result

    def mark(entry: Any) -> Any:
        if isinstance(entry, dict) and entry.get("image_id") in verdicts:
            return {**entry, "safety": verdicts[entry["image_id"]].as_dict()}
        return entry

    out = {key: mark(value) for key, value in result.items()}
    out["safety"] = found
    if isinstance(result.get("images"), list):
        out["images"] = [mark(e) for e in result["images"]]
    return out
