"""GPU diffusion: latency and images/s of the full-size Z-Image-Turbo and SDXL-Turbo
architectures with random weights, in bfloat16, with and without ``torch.compile``.

    python -m bench.gpu_diffusion [--only z-image-turbo,sdxl-turbo] [--batches 1,4] [--runs 3]
                                  [--no-compile] [--no-record] [--tiny]

The pipelines are built from the published architecture configs by
``atelier.providers.tiny_pipelines`` (nothing is downloaded), so the numbers are those of the
real models' compute, not of their weights. Each case is warmed up (which also compiles), then
timed over ``--runs`` calls of the whole pipeline (prompt encoding, denoising, VAE decode, PIL
conversion). Results go to the "GPU diffusion" section of ``docs/benchmarks.md``.

Without CUDA this prints that it needs a GPU and exits 0 without touching the document.
``--tiny`` runs the tiny architectures on whatever device there is and records nothing: a smoke
test of this script.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import re
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:gpu_diffusion start -->", "<!-- bench:gpu_diffusion end -->"
DATA = re.compile(r"<!-- data: (.*?) -->")
PROMPT = "a lighthouse on a cliff at dusk, oil painting, warm light, gulls over the sea"
#: architecture -> (side in pixels, denoising steps): each model's recommended turbo setting.
CASES: dict[str, tuple[int, int]] = {"z-image-turbo": (1024, 8), "sdxl-turbo": (512, 1)}
console = Console()


@dataclass(frozen=True)
class Result:
    model: str
    side: int
    steps: int
    batch: int
    compiled: bool
    latency_s: float
    images_per_s: float
    warmup_s: float
    peak_gib: float
    runs: int

    @property
    def key(self) -> str:
        return f"{self.model}|{self.batch}|{'compiled' if self.compiled else 'eager'}"


def cuda_machine(torch: Any) -> dict[str, str]:
    import diffusers

    props = torch.cuda.get_device_properties(0)
    return {
        "gpu": f"{torch.cuda.get_device_name(0)} ({props.total_memory / 1024**3:.0f} GiB)",
        "torch": torch.__version__,
        "cuda": str(torch.version.cuda),
        "diffusers": diffusers.__version__,
        "python": platform.python_version(),
    }


def time_case(
    pipe: Any, torch: Any, device: str, side: int, steps: int, batch: int, runs: int
) -> tuple[float, float, float]:
    """(median latency, warm-up seconds, peak GiB) of ``runs`` warm calls."""

    def call(seed: int) -> None:
        pipe(
            prompt=PROMPT,
            width=side,
            height=side,
            num_inference_steps=steps,
            guidance_scale=0.0,
            num_images_per_prompt=batch,
            generator=[torch.Generator(device).manual_seed(seed + i) for i in range(batch)],
            output_type="pil",
        )

    cuda = device.startswith("cuda")

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    began = time.perf_counter()
    for seed in range(2):  # the first call compiles (when asked) and fills caches
        call(seed)
    sync()
    warmup = time.perf_counter() - began
    latencies = []
    for seed in range(runs):
        sync()
        began = time.perf_counter()
        call(100 + seed)
        sync()
        latencies.append(time.perf_counter() - began)
    peak = torch.cuda.max_memory_allocated() / 1024**3 if cuda else 0.0
    return statistics.median(latencies), warmup, peak


def run(args: argparse.Namespace, torch: Any, device: str) -> list[Result]:
    from atelier.providers.runtime_torch import Placement, apply_hardware_extras
    from atelier.providers.tiny_pipelines import build_pipeline

    results: list[Result] = []
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    for model in args.only:
        side, steps = CASES[model]
        if args.tiny:
            side = 64
        console.rule(f"{model} · {side}² · {steps} step(s)")
        began = time.perf_counter()
        pipe = build_pipeline(
            model,  # type: ignore[arg-type]
            size="tiny" if args.tiny else "full",
            device=device,
            dtype=dtype,
        )
        console.print(f"built with random weights in {time.perf_counter() - began:.1f}s")
        denoiser = getattr(pipe, "transformer", None) or pipe.unet
        for compiled in [False, True] if args.compile and device.startswith("cuda") else [False]:
            if compiled:
                placement = Placement(
                    device, "bfloat16" if device.startswith("cuda") else "float32"
                )
                apply_hardware_extras(denoiser, placement, compile=True)
            for batch in args.batches:
                latency, warmup, peak = time_case(
                    pipe, torch, device, side, steps, batch, args.runs
                )
                result = Result(
                    model,
                    side,
                    steps,
                    batch,
                    compiled,
                    latency,
                    batch / latency,
                    warmup,
                    peak,
                    args.runs,
                )
                console.print(
                    f"batch {batch} {'compiled' if compiled else 'eager'}: "
                    f"{latency:.3f}s, {result.images_per_s:.2f} images/s"
                )
                results.append(result)
        del pipe, denoiser
        gc.collect()
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    return results


def show(results: list[Result]) -> None:
    table = Table(title="GPU diffusion (random weights)")
    for column in ("Model", "Size", "Steps", "Batch", "compile", "Latency s", "Images/s"):
        table.add_column(column, justify="left" if column == "Model" else "right")
    table.add_column("Peak GiB", justify="right")
    for r in results:
        table.add_row(
            r.model,
            f"{r.side}²",
            str(r.steps),
            str(r.batch),
            "yes" if r.compiled else "no",
            f"{r.latency_s:.3f}",
            f"{r.images_per_s:.2f}",
            f"{r.peak_gib:.1f}",
        )
    console.print(table)


def render(data: dict[str, Any]) -> str:
    rows = sorted(
        data.get("results", {}).values(), key=lambda r: (r["model"], r["compiled"], r["batch"])
    )
    lines = [
        "## GPU diffusion",
        "",
        "Full-size architectures with random weights (built from the published configs by "
        "`atelier.providers.tiny_pipelines`), bfloat16, guidance 0, one pipeline call per "
        "measurement (prompt encoding, denoising, VAE decode, PIL conversion). Latency is the "
        "median of warm runs; images/s is batch / latency. Generated by "
        "`python -m bench.gpu_diffusion`.",
        "",
        "| Model | Size | Steps | Batch | torch.compile | Latency (s) | Images/s | Peak GiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['side']}² | {r['steps']} | {r['batch']} | "
            f"{'yes' if r['compiled'] else 'no'} | {r['latency_s']:.3f} | "
            f"{r['images_per_s']:.2f} | {r['peak_gib']:.1f} |"
        )
    facts = ", ".join(f"{k} {v}" for k, v in data.get("machine", {}).items())
    lines += ["", f"Machine: {facts}. Recorded {data.get('date', '?')}."]
    return "\n".join(lines)


def record(results: list[Result], machine: dict[str, str]) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    data: dict[str, Any] = {}
    if START in text and END in text:
        match = DATA.search(text.split(START, 1)[1].split(END, 1)[0])
        data = json.loads(match.group(1)) if match else {}
    if data.get("machine") != machine:
        data["results"] = {}  # numbers from another machine are not comparable
    data["machine"] = machine
    data["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    data.setdefault("results", {}).update({r.key: asdict(r) for r in results})
    comment = f"<!-- data: {json.dumps(data, separators=(',', ':'), sort_keys=True)} -->"
    block = f"{START}\n{render(data)}\n\n{comment}\n{END}"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + block + rest.split(END, 1)[1]
    elif "<!-- bench:end -->" in text:
        text = text.replace("<!-- bench:end -->", f"{block}\n\n<!-- bench:end -->", 1)
    else:
        text = f"{text.rstrip()}\n\n{block}\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--only", default=",".join(CASES), help="comma-separated models")
    p.add_argument("--batches", default="1,4", help="comma-separated batch sizes")
    p.add_argument("--runs", type=int, default=3, help="timed runs per case (after 2 warm-ups)")
    p.add_argument("--no-compile", dest="compile", action="store_false", help="eager only")
    p.add_argument("--no-record", action="store_true", help="do not update docs/benchmarks.md")
    p.add_argument("--tiny", action="store_true", help="smoke test: tiny models, nothing recorded")
    args = p.parse_args(argv)
    args.only = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = sorted(set(args.only) - set(CASES))
    if unknown:
        p.error(f"unknown model(s) {unknown}; known: {', '.join(CASES)}")
    args.batches = [int(b) for b in args.batches.split(",") if b.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import torch
    except ImportError:
        console.print("bench.gpu_diffusion needs torch (the [diffusers] extra) and a CUDA GPU.")
        return 0
    if not torch.cuda.is_available() and not args.tiny:
        console.print("bench.gpu_diffusion needs a CUDA GPU; none here, nothing recorded.")
        return 0
    device = "cuda" if torch.cuda.is_available() else "cpu"
    results = run(args, torch, device)
    show(results)
    if args.tiny or args.no_record or device != "cuda":
        console.print("not recorded")
        return 0
    record(results, cuda_machine(torch))
    console.print(f"recorded in {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
