"""``atelier erase`` as a user runs it: a real process, on a file and on a folder (names kept),
locally and against a server with a live worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from erase_support import captioned
from PIL import Image

from atelier.erase import detect
from atelier.erase.synth import Caption
from support.live import LiveServer, WorkerProcess
from support.profiles import Profile, make_env


def atelier(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atelier", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "120", **env},
    )


def write_photo(path: Path, name: str, text: str, fmt: str = "JPEG") -> None:
    drawn = captioned(name, [Caption(text, (30, 60), 40, fill=(255, 255, 255), stroke=2)])
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(drawn.image).save(path, format=fmt)


def reads(ocr: detect.OcrEngine, path: Path) -> list[str]:
    with Image.open(path) as img:
        rgb = np.asarray(img.convert("RGB"))
    return [detect.normalise(t.text)[0] for t in ocr.read(rgb) if t.confidence > 0.5]


def test_erase_a_file(tmp_path: Path, ocr: detect.OcrEngine) -> None:
    write_photo(tmp_path / "in.jpg", "coffee", "SALE 50% OFF")
    out = tmp_path / "out.png"
    r = atelier("erase", str(tmp_path / "in.jpg"), "-o", str(out), "--redraw", "#ffffff",
                env={"ATELIER_DATA_DIR": str(tmp_path / "data")})  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "saved" in r.stderr and "1/1" in r.stderr  # the progress bars ran to the end
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (384, 384)
    assert not any("sale" in t for t in reads(ocr, out))


def test_erase_a_folder_keeps_names_and_writes_masks(tmp_path: Path, ocr: detect.OcrEngine) -> None:
    photos = tmp_path / "photos"
    write_photo(photos / "a.jpg", "astronaut", "Free Shipping")
    write_photo(photos / "sub" / "b.png", "chelsea", "限时特价", fmt="PNG")
    (photos / "notes.txt").write_text("not a photo")
    clean = tmp_path / "clean"
    r = atelier("erase", str(photos), "-o", str(clean), "--masks",
                env={"ATELIER_DATA_DIR": str(tmp_path / "data")})  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "2/2" in r.stderr  # the folder's progress bar reached the end
    assert (clean / "a.jpg").is_file() and (clean / "sub" / "b.png").is_file()
    assert not (clean / "notes.txt").exists()
    with Image.open(clean / "a.jpg") as img:
        assert img.format == "JPEG"
    report = json.loads((clean / "sub" / "b.report.json").read_text())
    assert report["quality"]["lines_erased"] >= 1 and "timings" in report
    assert (clean / "a.text-mask.png").is_file()
    assert not any("shipping" in t for t in reads(ocr, clean / "a.jpg"))


def test_bad_options_are_refused(tmp_path: Path) -> None:
    write_photo(tmp_path / "in.jpg", "coffee", "Best Price")
    env = {"ATELIER_DATA_DIR": str(tmp_path / "data")}
    bad_roi = atelier("erase", str(tmp_path / "in.jpg"), "--roi", "1,2", env=env)
    assert bad_roi.returncode == 2 and "roi" in bad_roi.stderr
    bad_keep = atelier("erase", str(tmp_path / "in.jpg"), "--keep", " ", env=env)
    assert bad_keep.returncode == 2 and "keep" in bad_keep.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert atelier("erase", str(empty), env=env).returncode == 1


def test_erase_against_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ocr: detect.OcrEngine
) -> None:
    class Request:
        param = "embedded"

    mode = Profile("embedded", make_env("embedded", tmp_path, Request()), monkeypatch)  # type: ignore[arg-type]
    write_photo(tmp_path / "in.jpg", "rocket", "Order Now")
    out = tmp_path / "out"
    with (
        LiveServer(mode.settings) as server,
        WorkerProcess(mode.process_env(), tmp_path / "worker.log") as worker,
    ):
        r = atelier(
            "erase", str(tmp_path / "in.jpg"), "-o", str(out), "--masks", "--server", server.url,
            env={**mode.env, "HOME": str(tmp_path)},
        )  # fmt: skip
        assert r.returncode == 0, (r.stderr, worker.output()[-2000:])
    assert (out / "in.jpg").is_file() and (out / "in.text-mask.png").is_file()
    assert json.loads((out / "in.report.json").read_text())["quality"]["lines_still_read"] == 0
    assert not any("order" in t for t in reads(ocr, out / "in.jpg"))


def test_redraw_option_and_output_plan(tmp_path: Path) -> None:
    from atelier.erase.cli import Job, parse_redraw, plan

    assert parse_redraw("blur") == {"mode": "blur"}
    assert parse_redraw("blur:30") == {"mode": "blur", "blur_radius": 30.0}
    assert parse_redraw("#aabbcc") == {"mode": "color", "color": "#aabbcc"}
    assert parse_redraw("preset:studio-grey") == {"mode": "preset", "preset": "studio-grey"}
    assert parse_redraw("a sunny beach") == {"mode": "prompt", "prompt": "a sunny beach"}
    assert parse_redraw(None) is None
    photo = tmp_path / "in.jpg"
    photo.write_bytes(b"")
    assert plan(photo, None) == [Job(photo, tmp_path / "in.erased.png")]
    assert plan(photo, tmp_path / "x.webp") == [Job(photo, tmp_path / "x.webp")]
    assert plan(photo, tmp_path / "outdir") == [Job(photo, tmp_path / "outdir" / "in.jpg")]
