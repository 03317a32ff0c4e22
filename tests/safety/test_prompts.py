"""The prompt filter: normalised matching in English and Chinese, evasions, word edges, the
operator's file and its hot reload, and the 422 ``prompt_rejected`` on every submission path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from atelier.config import SafetySettings, Settings
from atelier.images.models import ImageRecord
from atelier.safety.errors import PromptRejected
from atelier.safety.prompts import (
    PromptFilter,
    TermListError,
    check_params,
    default_terms,
    match,
    parse,
    texts,
)
from support.api import GEN, api, login
from support.profiles import Profile

TERMS = """
# an operator's list
[animals]
purple giraffe
cat

[places]
禁止之地
cp视频
"""


@pytest.mark.parametrize(
    "text",
    [
        "a purple giraffe",
        "A PURPLE GIRAFFE, please",
        "purple-giraffe",
        "p u r p l e g i r a f f e",
        "p.u.r.p.l.e g.i.r.a.f.f.e",
        "".join(chr(ord(c) + 0xFEE0) for c in "purple") + "\u3000giraffe",  # full-width
        "pürple giråffe",  # accents
        "purpl\u0435 giraffe",  # a Cyrillic look-alike
        "purp\u200ble giraffe",  # a zero-width space
        "purp1e g1raffe",  # digits for letters
        "a black cat sleeping",
        "CAT!",
    ],
)
def test_latin_terms_and_evasions_match(text: str) -> None:
    assert match(parse(TERMS), text) == "animals"


@pytest.mark.parametrize(
    "text",
    ["我要去禁止之地", "禁 止 之 地", "禁.止.之.地", "禁_止-之·地", "看cp视频", "\uff23\uff30视频"],
)
def test_chinese_terms_match_as_substrings(text: str) -> None:
    assert match(parse(TERMS), text) == "places"


@pytest.mark.parametrize(
    "text",
    [
        "a purple giraffes' parade",  # another word
        "a category of concatenated words",  # "cat" inside words
        "scatter the catalogue",
        "禁止吸烟之地",  # the characters, but not in order
        "acp视频",  # a Latin edge inside a word
        "a red sunset over the sea",
    ],
)
def test_innocent_text_passes(text: str) -> None:
    assert match(parse(TERMS), text) is None


def test_the_shipped_list_covers_both_languages() -> None:
    terms = default_terms()
    assert {t.category for t in terms} == {"minors", "extreme"}
    assert match(terms, "C.H.I.L.D P.O.R.N") == "minors"
    assert match(terms, "我想看 儿 童 色 情 的图") == "minors"
    assert match(terms, "兒童色情") == "minors"
    assert match(terms, "b3st1al1ty") == "extreme"
    assert match(terms, "a child playing in a park at sunset") is None
    assert match(terms, "一只猫在花园里") is None


def test_list_format_errors_name_the_line() -> None:
    with pytest.raises(TermListError, match=r"list.txt:3"):
        parse("[ok]\nterm\n[bad category!]\n", "list.txt")
    terms = parse("loose term\n\n# comment\n[Upper]\nX\n")
    assert [(t.key, t.category) for t in terms] == [("looseterm", "custom"), ("x", "upper")]


def test_text_fields_are_found_at_any_depth_and_negative_prompts_are_not() -> None:
    params = {
        "prompt": "a",
        "negative_prompt": "b",
        "redraw": {"prompt": "c", "model": "m"},
        "items": [{"text": "d"}],
        "story": "e",
    }
    assert dict(texts(params)) == {
        "prompt": "a",
        "redraw.prompt": "c",
        "items[0].text": "d",
        "story": "e",
    }


def test_check_params_names_the_field_and_category_but_never_the_term(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_text(TERMS, encoding="utf-8")
    settings = SafetySettings(terms_file=path, terms_reload_seconds=0)
    with pytest.raises(PromptRejected) as refused:
        check_params(settings, {"redraw": {"mode": "prompt", "prompt": "Purple Giraffe"}})
    err = refused.value
    assert (err.code, err.status_code) == ("prompt_rejected", 422)
    assert err.details == {"field": "redraw.prompt", "category": "animals"}
    assert "giraffe" not in err.message.lower()
    check_params(settings, {"prompt": "fine", "negative_prompt": "purple giraffe"})
    check_params(settings.model_copy(update={"prompt_filter": False}), {"prompt": "cat"})


def _bump(path: Path, text: str, step: int) -> None:
    """Rewrite ``path`` and move its modification time on explicitly (no sleeping)."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + step * 1_000_000_000, before + step * 1_000_000_000))


def test_the_operator_file_is_reloaded_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_text("[animals]\npurple giraffe\n", encoding="utf-8")
    live = PromptFilter(use_default=True, path=path, reload_seconds=0)
    assert live.match("a purple giraffe") == "animals"
    assert live.match("child porn") == "minors"  # the shipped list stays on
    _bump(path, "[animals]\ngreen elephant\n", 1)
    assert live.match("a purple giraffe") is None
    assert live.match("a green elephant") == "animals"
    # a broken file keeps the list in force; a fixed one is taken again
    _bump(path, "[not a category]\nwhatever\n", 2)
    assert live.match("a green elephant") == "animals"
    _bump(path, "[birds]\nblue heron\n", 3)
    assert live.match("a blue heron") == "birds"
    # a file that disappears keeps the list too
    path.unlink()
    assert live.match("a blue heron") == "birds"


def test_the_file_is_looked_at_no_more_often_than_configured(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_text("[animals]\npurple giraffe\n", encoding="utf-8")
    slow = PromptFilter(use_default=False, path=path, reload_seconds=3600)
    assert slow.match("purple giraffe") == "animals"
    _bump(path, "[animals]\ngreen elephant\n", 1)
    assert slow.match("purple giraffe") == "animals"  # not looked at again yet
    assert slow.match("child porn") is None  # the shipped list is off


# -- through the API ---------------------------------------------------------------------------
def _with_terms(settings: Settings, path: Path) -> Settings:
    safety = SafetySettings(terms_file=path, terms_reload_seconds=0)
    return settings.model_copy(update={"safety": safety})


def _refused(r: Any, field: str, category: str) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "prompt_rejected", body
    assert body["details"] == {"field": field, "category": category}
    assert "giraffe" not in body["message"] and "elephant" not in body["message"]


def test_every_submission_path_refuses_and_obeys_a_new_list(
    profile: Profile, tmp_path: Path
) -> None:
    path = tmp_path / "terms.txt"
    path.write_text("[animals]\npurple giraffe\n", encoding="utf-8")
    settings = _with_terms(profile.settings, path)
    photo = ("p.png", _png(), "image/png")
    with api(settings) as client:
        h = login(client)
        tasks = "/api/v1/tasks"
        _refused(
            client.post(
                tasks,
                json={"kind": "generate", "params": {**GEN, "prompt": "P u r p l e giraffe"}},
                headers=h,
            ),
            "prompt",
            "animals",
        )
        _refused(
            client.post("/api/v1/generate", json={**GEN, "prompt": "purple-giraffe"}, headers=h),
            "prompt",
            "animals",
        )
        _refused(
            client.post(
                "/api/v1/stylize",
                files={"photo": photo},
                data={"text": "a purple giraffe"},
                headers=h,
            ),
            "text",
            "animals",
        )
        _refused(
            client.post(
                "/api/v1/erase",
                files={"photo": photo},
                data={"redraw": "prompt", "redraw_prompt": "PURPLE GIRAFFE"},
                headers=h,
            ),
            "redraw.prompt",
            "animals",
        )
        r = client.post(
            "/v1/images/edits", files={"image": photo}, data={"prompt": "purple giraffe"}, headers=h
        )
        assert r.status_code == 400 and r.json()["error"]["code"] == "prompt_rejected", r.text
        # the refused submissions' photos were not kept: no row, no stored bytes
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        with runtime.db.read() as s:
            assert s.scalar(select(func.count()).select_from(ImageRecord)) == 0
        assert not [p for p in Path(runtime.settings.storage_root).rglob("*") if p.is_file()]
        _refused(
            client.post("/api/v1/manga", json={"story": "A purple giraffe walks."}, headers=h),
            "story",
            "animals",
        )
        r = client.post(
            "/v1/images/generations",
            json={"prompt": "a purple giraffe", "size": "256x256"},
            headers=h,
        )
        assert r.status_code == 400, r.text  # OpenAI's shape and status
        assert r.json()["error"]["code"] == "prompt_rejected"
        # the shipped list is on beside the operator's
        _refused(
            client.post(
                tasks,
                json={"kind": "generate", "params": {**GEN, "prompt": "儿童 色情"}},
                headers=h,
            ),
            "prompt",
            "minors",
        )
        # a negative prompt may name anything
        ok = client.post(
            tasks,
            json={"kind": "generate", "params": {**GEN, "negative_prompt": "purple giraffe"}},
            headers=h,
        )
        assert ok.status_code == 201, ok.text
        # the operator changes the list: the next request obeys it, no restart
        _bump(path, "[animals]\ngreen elephant\n", 1)
        now_fine = client.post(
            tasks,
            json={"kind": "generate", "params": {**GEN, "prompt": "a purple giraffe"}},
            headers=h,
        )
        assert now_fine.status_code == 201, now_fine.text
        _refused(
            client.post(
                tasks,
                json={"kind": "generate", "params": {**GEN, "prompt": "a green elephant"}},
                headers=h,
            ),
            "prompt",
            "animals",
        )


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()
