"""Renders the table of every setting for ``docs/configuration.md``.

``python -m atelier.config_docs`` prints it; a test fails when the document is out of date.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from atelier.config import Settings

BEGIN = "<!-- settings:begin -->"
END = "<!-- settings:end -->"


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return ""
    value: Any = field.default
    if isinstance(value, SecretStr):
        return "*(secret)*"
    if value is None or value == "":
        return "*(empty)*"
    return f"`{value}`"


def _rows(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str, str]]:
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _rows(ann, f"{prefix}{name.upper()}__")
            continue
        yield f"`{prefix}{name.upper()}`", _default(field), field.description or ""


def render() -> str:
    lines = [BEGIN, "| variable | default | meaning |", "|---|---|---|"]
    for var, default, desc in _rows(Settings, "ATELIER_"):
        escaped = desc.replace("|", "\\|")
        lines.append(f"| {var} | {default} | {escaped} |")
    lines.append(END)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
