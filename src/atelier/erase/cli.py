"""``atelier erase``: erase the text of a photo, or of every photo in a folder.

Locally (the default) the pipeline runs in this process, with a Rich progress bar per stage
and one for the folder; a ``--redraw`` prompt is drawn by the configured text-to-image models.
With ``--server`` each photo goes to ``POST /api/v1/erase`` and the result is downloaded.
Output files keep their names (a folder's layout is kept below the output folder); with
``--masks`` the text mask, the subject mask and the JSON report are written beside each.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from atelier.erase.pipeline import EraseOptions, EraseResult
    from atelier.runtime import Runtime

SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".bmp": "BMP",
           ".tif": "TIFF", ".tiff": "TIFF"}  # fmt: skip


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path


def plan(source: Path, output: Path | None) -> list[Job]:
    """Which file goes where. A folder: every photo below it, to the same relative path under
    ``output`` (default ``<folder>-erased``). A file: to ``output`` when it names a file, into
    it when it is a folder (or has no suffix), else ``<name>.erased.png`` beside the photo."""
    if source.is_dir():
        target_dir = output or source.with_name(f"{source.name}-erased")
        files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        return [Job(p, target_dir / p.relative_to(source)) for p in files]
    if output is None:
        return [Job(source, source.with_name(f"{source.stem}.erased.png"))]
    if output.is_dir() or not output.suffix:
        return [Job(source, output / source.name)]
    return [Job(source, output)]


def parse_redraw(text: str | None) -> dict[str, Any] | None:
    """``blur``, ``blur:30``, ``#rrggbb``, ``color:#rrggbb``, ``preset:<id>``, or any other
    text: a prompt."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    lowered = value.lower()
    if lowered == "blur" or lowered.startswith("blur:"):
        _, _, radius = value.partition(":")
        return {"mode": "blur", **({"blur_radius": float(radius)} if radius else {})}
    if lowered.startswith(("color:", "colour:")):
        return {"mode": "color", "color": value.split(":", 1)[1].strip()}
    if value.startswith("#") and len(value) == 7:
        return {"mode": "color", "color": value}
    if lowered.startswith("preset:"):
        return {"mode": "preset", "preset": value.split(":", 1)[1].strip()}
    if lowered.startswith("prompt:"):
        value = value.split(":", 1)[1].strip()
    return {"mode": "prompt", "prompt": value}


def _save(image: npt.NDArray[np.uint8], path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = FORMATS.get(path.suffix.lower(), "PNG")
    pil = Image.fromarray(image)
    if fmt == "JPEG":
        pil.convert("RGB").save(path, format=fmt, quality=95)
    elif fmt == "WEBP":
        pil.save(path, format=fmt, quality=95)
    else:
        pil.save(path, format=fmt)


def _companions(target: Path) -> tuple[Path, Path, Path]:
    stem = target.with_suffix("")
    return (
        stem.with_name(f"{stem.name}.text-mask.png"),
        stem.with_name(f"{stem.name}.subject-mask.png"),
        stem.with_name(f"{stem.name}.report.json"),
    )


def _write_masks(result: EraseResult, target: Path) -> None:
    import numpy as np

    text_path, subject_path, report_path = _companions(target)
    _save(result.text_mask, text_path)
    if result.subject_mask is not None:
        grey = np.clip(result.subject_mask * 255.0 + 0.5, 0, 255).astype(np.uint8)
        _save(grey, subject_path)
    report_path.write_text(json.dumps(result.report, ensure_ascii=False, indent=2))


@contextmanager
def _bars(count: int) -> Iterator[tuple[Any, Any, Any]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from atelier.cli.run import console

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        files = progress.add_task("photos", total=count, stage="")
        stage = progress.add_task("erase", total=100, stage="pending")
        yield progress, files, stage


def _options(params: dict[str, Any], seed: int) -> EraseOptions:
    from atelier.erase.detect import Roi
    from atelier.erase.pipeline import EraseOptions, RedrawOptions

    spec = params.get("redraw")
    return EraseOptions(
        min_confidence=params["min_confidence"],
        keep=tuple(params.get("keep", ())),
        roi=Roi(**params["roi"]) if params.get("roi") else None,
        inpainter=params.get("inpainter"),
        segmenter=params.get("segmenter"),
        second_pass=params.get("second_pass", True),
        redraw=(
            RedrawOptions(
                mode=spec["mode"],
                colour=spec.get("color"),
                preset=spec.get("preset"),
                prompt=spec.get("prompt"),
                blur_radius=spec.get("blur_radius", 18.0),
            )
            if spec
            else None
        ),
        seed=seed,
    )


def _renderer(runtime: Runtime, model: str) -> Callable[[str, int, int], Any]:
    import random

    from atelier.providers.base import TextToImageRequest
    from atelier.providers.registry import UnknownModel
    from atelier.stylize.segment import cover

    def render(prompt: str, width: int, height: int) -> Any:
        try:
            first = runtime.policy.chain(model, random.Random(0))[0]
            steps = runtime.providers.resolve(first).info.default_steps
        except UnknownModel:
            steps = 8
        scale = min(1.0, 1024 / max(width, height))
        w = max(64, round(width * scale) // 64 * 64)
        h = max(64, round(height * scale) // 64 * 64)
        request = TextToImageRequest(prompt=prompt, width=w, height=h, steps=steps)
        outcome = runtime.policy.run(model, request)
        return cover(outcome.result.images[0].image, (width, height))

    return render


def run_local(jobs: list[Job], params: dict[str, Any], masks: bool) -> int:
    from PIL import Image

    from atelier.cli.run import console
    from atelier.config import get_settings
    from atelier.erase.pipeline import pipeline_for
    from atelier.images.processing import normalize
    from atelier.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    params = {"min_confidence": settings.erase.min_confidence, **params}
    runtime: Runtime | None = None
    render = None
    spec = params.get("redraw")
    if spec and spec["mode"] == "prompt":
        from atelier.db.migrate import upgrade
        from atelier.runtime import build_runtime

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings)
        runtime = build_runtime(settings, worker=True)
        render = _renderer(runtime, spec.get("model") or settings.generation.default_model)
    failures = 0
    try:
        pipeline = pipeline_for(settings)
        with _bars(len(jobs)) as (progress, files, stage):
            for job in jobs:
                progress.update(stage, description=job.source.name, completed=0, stage="")

                def tell(name: str, current: int, total: int, overall: float) -> None:
                    shown = f"{name} {current}/{total}" if total > 1 else name
                    progress.update(stage, completed=round(overall * 100), stage=shown)

                try:
                    with Image.open(job.source) as opened:
                        photo = normalize(opened)  # upright (EXIF), sRGB, RGB
                    result = pipeline.run(photo, _options(params, 0), tell, render=render)
                    progress.update(stage, stage="store")
                    _save(result.image, job.target)
                    if masks:
                        _write_masks(result, job.target)
                except Exception as exc:  # one bad photo does not stop the folder
                    failures += 1
                    console.print(f"[red]{job.source}[/red]: {type(exc).__name__}: {exc}")
                else:
                    still = result.report["quality"]["lines_still_read"]
                    note = f" ({still} line(s) still read)" if still else ""
                    console.print(f"saved {job.target}{note}")
                progress.update(stage, completed=100)
                progress.advance(files)
    finally:
        if runtime is not None:
            runtime.close()
    return 1 if failures else 0


def run_remote(
    server: str, token: str | None, jobs: list[Job], params: dict[str, Any], masks: bool
) -> int:
    from atelier.cli.run import _apply, _client, _fail, _remember, _sse, console

    data: dict[str, str | list[str]] = {}
    for key, value in params.items():
        if key == "keep":
            data["keep"] = list(value)
        elif key == "roi":
            data["roi"] = ",".join(str(value[k]) for k in ("x", "y", "width", "height"))
        elif key == "redraw":
            data["redraw"] = value["mode"]
            for name in ("color", "preset", "prompt", "model"):
                if name in value:
                    data[f"redraw_{name}"] = str(value[name])
            if "blur_radius" in value:
                data["blur_radius"] = str(value["blur_radius"])
        else:
            data[key] = str(value).lower() if isinstance(value, bool) else str(value)
    failures = 0
    with _client(server, token) as client, _bars(len(jobs)) as (progress, files, stage):
        for job in jobs:
            progress.update(stage, description=job.source.name, completed=0, stage="upload")
            photo = (job.source.name, job.source.read_bytes(), "application/octet-stream")
            created = client.post("/api/v1/erase", data=data, files={"photo": photo})
            if created.status_code >= 400:
                failures += 1
                _fail(created)
                progress.advance(files)
                continue
            _remember(created)
            if created.headers.get("X-Atelier-Session"):
                client.headers["Authorization"] = f"Bearer {created.headers['X-Atelier-Session']}"
            final: dict[str, Any] = {}
            for event in _sse(client, f"/api/v1/tasks/{created.json()['task_id']}/stream"):
                _apply(progress, stage, event)
                final = event
            if final.get("status") != "completed":
                failures += 1
                message = (final.get("error") or {}).get("message") or final.get("status")
                console.print(f"[red]{job.source}[/red]: {message}")
            else:
                result = final["result"]
                got = client.get(result["image"]["url"])
                got.raise_for_status()
                _save_bytes(got.content, job.target)
                if masks:
                    text_path, subject_path, report_path = _companions(job.target)
                    links = (
                        (result["text_mask"], text_path),
                        (result["subject_mask"], subject_path),
                    )
                    for link, path in links:
                        if link:
                            fetched = client.get(link["url"])
                            fetched.raise_for_status()
                            path.parent.mkdir(parents=True, exist_ok=True)
                            path.write_bytes(fetched.content)
                    report = json.dumps(result["report"], ensure_ascii=False, indent=2)
                    report_path.write_text(report)
                console.print(f"saved {job.target}")
            progress.advance(files)
    return 1 if failures else 0


def _save_bytes(data: bytes, path: Path) -> None:
    import io

    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        _save(np.asarray(image.convert("RGB")), path)


def erase(
    source: Annotated[Path, typer.Argument(exists=True, help="A photo, or a folder of photos.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Output file, or folder (names are kept)."),
    ] = None,
    redraw: Annotated[
        str | None,
        typer.Option(
            help="New background behind the subject: blur, blur:RADIUS, #rrggbb, "
            "preset:ID (studio-white, beach, ...) or a prompt."
        ),
    ] = None,
    keep: Annotated[
        list[str] | None, typer.Option(help="Text to keep, e.g. a brand (repeatable).")
    ] = None,
    min_confidence: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Leave text read with less.")
    ] = None,
    roi: Annotated[
        str | None, typer.Option(help="Only erase inside x,y,width,height (pixels).")
    ] = None,
    inpainter: Annotated[str | None, typer.Option(help="auto, opencv, lama or diffusers.")] = None,
    masks: Annotated[
        bool, typer.Option("--masks", help="Also write the masks and the JSON report.")
    ] = False,
    server: Annotated[str | None, typer.Option(envvar="ATELIER_SERVER")] = None,
    token: Annotated[str | None, typer.Option(envvar="ATELIER_TOKEN")] = None,
) -> None:
    """Erase the text (captions, prices, watermarks) of a photo or a folder of photos."""
    from pydantic import ValidationError

    from atelier.cli.run import console
    from atelier.erase.endpoints import parse_roi
    from atelier.erase.schemas import EraseParams
    from atelier.errors import ValidationFailed

    try:
        params: dict[str, Any] = {
            "keep": keep or [],
            "min_confidence": min_confidence,
            "roi": parse_roi(roi) if roi else None,
            "inpainter": inpainter,
            "redraw": parse_redraw(redraw),
        }
        params = {k: v for k, v in params.items() if v is not None and v != []}
        EraseParams.model_validate({**params, "image_id": "-"})
    except ValidationFailed as exc:
        console.print(f"[red]{exc.code}[/red]: {exc.message}")
        raise typer.Exit(2) from None
    except (ValidationError, ValueError) as exc:
        console.print(f"[red]validation_error[/red]: {exc}")
        raise typer.Exit(2) from None
    jobs = plan(source, output)
    if not jobs:
        console.print(f"[yellow]no photos in {source}[/yellow]")
        raise typer.Exit(1)
    if server:
        code = run_remote(server, token, jobs, params, masks)
    else:
        code = run_local(jobs, params, masks)
    raise typer.Exit(code)
