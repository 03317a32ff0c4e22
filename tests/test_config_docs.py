"""docs/configuration.md documents every setting, as the code defines it."""

from __future__ import annotations

from pathlib import Path

from atelier.config_docs import BEGIN, END, render

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_configuration_doc_is_current() -> None:
    text = DOC.read_text()
    table = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert table == render(), "run: python -m atelier.config_docs and paste into the doc"


def test_every_setting_has_a_description() -> None:
    for line in render().splitlines()[3:-1]:
        assert line.rstrip(" |").split("|")[-1].strip(), line
