"""Export controller metrics to Prometheus (needs the ``metrics`` extra: ``pip install 'dynaclient[metrics]'``).

>>> from prometheus_client import CollectorRegistry, generate_latest
>>> registry = CollectorRegistry()
>>> recorder = PrometheusRecorder(registry)
>>> recorder.reconciled("sawtooths", "success", 0.01)
>>> b'controller_runtime_reconcile_total{controller="sawtooths",result="success"} 1.0' in generate_latest(registry)
True

Counters and histograms are pushed as events happen; gauges (queue depth, unfinished work, the longest running
reconcile, active workers, informer lag) are read from each watched controller at scrape time. Names follow
client-go's workqueue metrics and controller-runtime's.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from informers.controller.controller import Controller

# client-go's ExponentialBuckets(10e-9, 10, 12) is nanosecond-grained; Python work starts near 10 microseconds.
_LATENCY_BUCKETS = (1e-5, 1e-4, 1e-3, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0, 600.0)


class PrometheusRecorder:
    """A :class:`~informers.controller.MetricsRecorder` that keeps Prometheus counters and histograms.

    Thread-safety: thread-safe (prometheus_client metrics are).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Register the metrics in ``registry`` (default: prometheus_client's global registry)."""
        self._registry = registry if registry is not None else REGISTRY
        self._adds = Counter("workqueue_adds_total", "Keys added to the work queue.", ["name"], registry=self._registry)
        self._retries = Counter("workqueue_retries_total", "Delayed adds.", ["name"], registry=self._registry)
        self._queue_latency = Histogram(
            "workqueue_queue_duration_seconds",
            "How long a key waited before a worker took it.",
            ["name"],
            buckets=_LATENCY_BUCKETS,
            registry=self._registry,
        )
        self._work_duration = Histogram(
            "workqueue_work_duration_seconds",
            "How long a worker held a key.",
            ["name"],
            buckets=_LATENCY_BUCKETS,
            registry=self._registry,
        )
        self._reconciles = Counter(
            "controller_runtime_reconcile_total",
            "Reconciles by result.",
            ["controller", "result"],
            registry=self._registry,
        )
        self._errors = Counter(
            "controller_runtime_reconcile_errors_total", "Failed reconciles.", ["controller"], registry=self._registry
        )
        self._reconcile_time = Histogram(
            "controller_runtime_reconcile_time_seconds",
            "How long reconciles took.",
            ["controller"],
            buckets=_LATENCY_BUCKETS,
            registry=self._registry,
        )

    def queue_added(self, queue: str) -> None:
        """Count an add."""
        self._adds.labels(queue).inc()

    def queue_retried(self, queue: str) -> None:
        """Count a delayed add."""
        self._retries.labels(queue).inc()

    def queue_latency(self, queue: str, seconds: float) -> None:
        """Observe a queue wait."""
        self._queue_latency.labels(queue).observe(seconds)

    def work_duration(self, queue: str, seconds: float) -> None:
        """Observe a work duration."""
        self._work_duration.labels(queue).observe(seconds)

    def reconciled(self, controller: str, result: str, seconds: float) -> None:
        """Count a reconcile by result and observe its duration."""
        self._reconciles.labels(controller, result).inc()
        if result in ("error", "terminal_error"):
            self._errors.labels(controller).inc()
        self._reconcile_time.labels(controller).observe(seconds)

    def watch(self, controller: Controller) -> None:
        """Export ``controller``'s gauges (queue depth, unfinished work, workers, informer lag) at scrape time."""
        self._registry.register(_ControllerCollector(controller))


class _ControllerCollector(Collector):
    def __init__(self, controller: Controller) -> None:
        self._controller = controller

    def collect(self) -> Iterator[Metric]:
        stats = self._controller.stats()
        queue = stats.queue
        gauges = [
            ("workqueue_depth", "Keys waiting for a worker.", queue.depth),
            ("workqueue_unfinished_work_seconds", "Time spent so far on held keys.", queue.unfinished_seconds),
            (
                "workqueue_longest_running_processor_seconds",
                "How long the longest running worker has held its key.",
                queue.longest_running_seconds,
            ),
        ]
        for name, documentation, value in gauges:
            family = GaugeMetricFamily(name, documentation, labels=["name"])
            family.add_metric([queue.name], value)
            yield family
        active = GaugeMetricFamily(
            "controller_runtime_active_workers", "Workers reconciling now.", labels=["controller"]
        )
        active.add_metric([stats.name], stats.active_workers)
        yield active
        most = GaugeMetricFamily("controller_runtime_max_concurrent_reconciles", "Workers.", labels=["controller"])
        most.add_metric([stats.name], stats.workers)
        yield most
        lag = GaugeMetricFamily(
            "informer_handler_pending_notifications",
            "Notifications an informer has not yet delivered to the controller.",
            labels=["controller", "informer"],
        )
        for informer, pending in stats.informer_lag.items():
            lag.add_metric([stats.name, informer], pending)
        yield lag


__all__ = ["PrometheusRecorder"]
