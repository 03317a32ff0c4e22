"""Prometheus metrics, read from the database at scrape time, so one scrape of any API
process covers every worker: queue depth per queue, tasks finished per kind and status,
success rate, run time p50/p95 per kind and provider, failure classes, provider-call latency
and outcomes, live workers per queue and what their GPUs hold; plus this API process's own
memory and CPU (``process_*``).

The figures over time (finished, success, latency, failures) cover the last
``WINDOW_SECONDS``; counts of what exists now (queue depth, workers) are instantaneous.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from atelier.db.base import utcnow
from atelier.providers.models import ProviderCall
from atelier.runtime import Runtime
from atelier.system.heartbeat import STALE_AFTER
from atelier.system.models import WorkerBeat
from atelier.tasks.lifecycle import TERMINAL, TaskStatus
from atelier.tasks.models import Task
from atelier.worker.celery_app import QUEUES

WINDOW_SECONDS = 3600
SAMPLE_LIMIT = 20_000  # rows read for the latency quantiles per scrape, newest first
WAITING = [TaskStatus.PENDING.value, TaskStatus.RETRYING.value]


def _quantiles(values: list[float]) -> dict[str, float]:
    if len(values) == 1:
        return {"0.5": values[0], "0.95": values[0]}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"0.5": cuts[49], "0.95": cuts[94]}


class AtelierCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        since = utcnow() - timedelta(seconds=WINDOW_SECONDS)
        with self.runtime.db.read() as s:
            yield from self._queues(s)
            yield from self._tasks(s, since)
            yield from self._providers(s, since)
            yield from self._workers(s)

    def _queues(self, s: Any) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "atelier_queue_depth",
            "Tasks waiting (pending or retrying) per queue.",
            labels=["queue"],
        )
        running = GaugeMetricFamily(
            "atelier_tasks_running", "Tasks being processed per queue.", labels=["queue"]
        )
        counts: dict[tuple[str, str], int] = {
            (q, st): int(n)
            for q, st, n in s.execute(
                select(Task.queue, Task.status, func.count())
                .where(Task.status.in_([*WAITING, TaskStatus.PROCESSING.value]))
                .group_by(Task.queue, Task.status)
            )
        }
        queues = sorted({*QUEUES, *(q for q, _ in counts)})
        for queue in queues:
            depth.add_metric([queue], sum(counts.get((queue, st), 0) for st in WAITING))
            running.add_metric([queue], counts.get((queue, TaskStatus.PROCESSING.value), 0))
        yield depth
        yield running

    def _tasks(self, s: Any, since: Any) -> Iterator[Metric]:
        finished = GaugeMetricFamily(
            "atelier_tasks_finished",
            f"Tasks that finished in the last {WINDOW_SECONDS}s, per kind and final status.",
            labels=["kind", "status"],
        )
        success = GaugeMetricFamily(
            "atelier_task_success_ratio",
            f"Completed / (completed + partial + failed) over the last {WINDOW_SECONDS}s.",
            labels=["kind"],
        )
        failures = GaugeMetricFamily(
            "atelier_task_failures",
            f"Failed or partial tasks in the last {WINDOW_SECONDS}s per kind and error code.",
            labels=["kind", "code"],
        )
        duration = GaugeMetricFamily(
            "atelier_task_run_seconds",
            f"Run time of tasks completed in the last {WINDOW_SECONDS}s (quantiles).",
            labels=["kind", "provider", "quantile"],
        )
        total = GaugeMetricFamily(
            "atelier_task_total_seconds",
            "Submission to completion of tasks completed in the window (quantiles), queueing "
            "included.",
            labels=["kind", "quantile"],
        )
        terminal = [t.value for t in TERMINAL]
        per_kind: dict[str, dict[str, int]] = defaultdict(dict)
        for kind, status, n in s.execute(
            select(Task.kind, Task.status, func.count())
            .where(Task.status.in_(terminal), Task.completed_at >= since)
            .group_by(Task.kind, Task.status)
        ):
            finished.add_metric([kind, status], int(n))
            per_kind[kind][status] = int(n)
        for kind, by_status in sorted(per_kind.items()):
            judged = sum(by_status.get(k, 0) for k in ("completed", "partial", "failed"))
            if judged:
                success.add_metric([kind], by_status.get("completed", 0) / judged)
        for kind, code, n in s.execute(
            select(Task.kind, Task.error_code, func.count())
            .where(
                Task.status.in_([TaskStatus.FAILED.value, TaskStatus.PARTIAL.value]),
                Task.completed_at >= since,
            )
            .group_by(Task.kind, Task.error_code)
        ):
            failures.add_metric([kind, code or "unknown"], int(n))
        runs: dict[tuple[str, str], list[float]] = defaultdict(list)
        totals: dict[str, list[float]] = defaultdict(list)
        for kind, provider, run, created, completed in s.execute(
            select(Task.kind, Task.provider, Task.run_seconds, Task.created_at, Task.completed_at)
            .where(Task.status == TaskStatus.COMPLETED.value, Task.completed_at >= since)
            .order_by(Task.completed_at.desc())
            .limit(SAMPLE_LIMIT)
        ):
            if run is not None:
                runs[(kind, provider or "none")].append(float(run))
            if created is not None and completed is not None:
                totals[kind].append((completed - created).total_seconds())
        for (kind, provider), values in sorted(runs.items()):
            for q, v in _quantiles(values).items():
                duration.add_metric([kind, provider, q], v)
        for kind, values in sorted(totals.items()):
            for q, v in _quantiles(values).items():
                total.add_metric([kind, q], v)
        yield from (finished, success, failures, duration, total)

    def _providers(self, s: Any, since: Any) -> Iterator[Metric]:
        calls = GaugeMetricFamily(
            "atelier_provider_calls",
            f"Provider calls in the last {WINDOW_SECONDS}s per provider and outcome.",
            labels=["provider", "outcome"],
        )
        latency = GaugeMetricFamily(
            "atelier_provider_latency_seconds",
            "Latency of successful provider calls in the window (quantiles).",
            labels=["provider", "quantile"],
        )
        for provider, outcome, n in s.execute(
            select(ProviderCall.provider, ProviderCall.outcome, func.count())
            .where(ProviderCall.created_at >= since)
            .group_by(ProviderCall.provider, ProviderCall.outcome)
        ):
            calls.add_metric([provider, outcome], int(n))
        per_provider: dict[str, list[float]] = defaultdict(list)
        for provider, ms in s.execute(
            select(ProviderCall.provider, ProviderCall.latency_ms)
            .where(ProviderCall.created_at >= since, ProviderCall.outcome == "ok")
            .order_by(ProviderCall.created_at.desc())
            .limit(SAMPLE_LIMIT)
        ):
            per_provider[provider].append(ms / 1000.0)
        for provider, values in sorted(per_provider.items()):
            for q, v in _quantiles(values).items():
                latency.add_metric([provider, q], v)
        yield calls
        yield latency

    def _workers(self, s: Any) -> Iterator[Metric]:
        workers = GaugeMetricFamily(
            "atelier_workers", "Live worker processes per queue they consume.", labels=["queue"]
        )
        memory = GaugeMetricFamily(
            "atelier_gpu_memory_used_bytes",
            "GPU memory in use per worker and device.",
            labels=["worker", "device", "name"],
        )
        memory_total = GaugeMetricFamily(
            "atelier_gpu_memory_total_bytes",
            "GPU memory per worker and device.",
            labels=["worker", "device", "name"],
        )
        utilization = GaugeMetricFamily(
            "atelier_gpu_utilization_ratio",
            "GPU utilisation (0-1) per worker and device, where the driver reports it.",
            labels=["worker", "device", "name"],
        )
        alive = utcnow() - timedelta(seconds=STALE_AFTER)
        per_queue: dict[str, int] = dict.fromkeys(QUEUES, 0)
        for beat in s.scalars(select(WorkerBeat).where(WorkerBeat.last_seen >= alive)):
            for queue in filter(None, beat.queues.split(",")):
                per_queue[queue] = per_queue.get(queue, 0) + 1
            for gpu in beat.gpus or []:
                labels = [beat.id, str(gpu.get("index", 0)), str(gpu.get("name", ""))]
                if "memory_used_bytes" in gpu:
                    memory.add_metric(labels, float(gpu["memory_used_bytes"]))
                if "memory_total_bytes" in gpu:
                    memory_total.add_metric(labels, float(gpu["memory_total_bytes"]))
                if "utilization" in gpu:
                    utilization.add_metric(labels, float(gpu["utilization"]))
        for queue, n in sorted(per_queue.items()):
            workers.add_metric([queue], n)
        yield from (workers, memory, memory_total, utilization)


class ApiProcessCollector(Collector):
    """Counters of the API process that answers the scrape (each process has its own)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        fail_open = CounterMetricFamily(
            "atelier_rate_limit_fail_open",
            "Rate-limit checks this API process let through because the shared store (Redis) "
            "did not answer",
        )
        fail_open.add_metric([], float(getattr(self.state.limiter.backend, "failures", 0)))
        yield fail_open
        fast = CounterMetricFamily(
            "atelier_fast_submits",
            "Task submissions this API process answered on the fast path (ADR 0006)",
        )
        fast.add_metric([], float(getattr(self.state, "fast_submits", 0)))
        yield fast


def build_registry(runtime: Runtime, state: Any = None) -> CollectorRegistry:
    """The scrape's collectors; with ``state`` (the app's), the API process's own counters."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AtelierCollector(runtime))
    if state is not None:
        registry.register(ApiProcessCollector(state))
    ProcessCollector(registry=registry)
    return registry
