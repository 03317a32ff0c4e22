"""The two refusals of content safety, with their stable codes.

Both are permanent: an upload answers 422, a task fails at once with the code (never retried).
Messages are written for the person who sees them and never quote a listed term.
"""

from __future__ import annotations

from typing import Any

from atelier.errors import AtelierError

UPLOAD_MESSAGE = (
    "This image can't be used: it appears to contain adult content. Please choose another image."
)
OUTPUT_MESSAGE = (
    "The result was withheld because it appears to contain adult content. "
    "Try a different prompt or image."
)
PROMPT_MESSAGE = (
    "This request can't be processed: its text contains words our content policy does not "
    "allow. Please rephrase it."
)


class ContentRejected(AtelierError):
    """An image (an upload, or a task's output) scored at or above its ``reject`` threshold."""

    status_code = 422
    code = "content_rejected"

    def __init__(self, message: str = UPLOAD_MESSAGE, *, details: Any = None) -> None:
        super().__init__(message, details=details)


class PromptRejected(AtelierError):
    """Submitted text matched the prompt filter. ``details`` names the field and the list's
    category, never the term."""

    status_code = 422
    code = "prompt_rejected"

    def __init__(self, *, field: str, category: str) -> None:
        super().__init__(PROMPT_MESSAGE, details={"field": field, "category": category})
        self.field = field
        self.category = category
