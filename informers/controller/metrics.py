"""Controller metrics: what the queue and the reconcile loop report, and the snapshots read at scrape time.

Events (an add, a retry, a latency, a reconcile) are pushed to a :class:`MetricsRecorder` as they happen; levels
(depth, unfinished work, the longest running reconcile, how far the controller's informer handlers are behind) are
read when asked for, from :meth:`WorkQueue.stats() <informers.controller.WorkQueue.stats>` and
:meth:`Controller.stats() <informers.controller.Controller.stats>`. The names follow client-go's workqueue metrics
and controller-runtime's ``controller_runtime_reconcile_*``; :mod:`informers.controller.prometheus` exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class MetricsRecorder(Protocol):
    """Receives the events of work queues and controllers; calls must be cheap and must not raise.

    Thread-safety: implementations are thread-safe (workers call them concurrently).
    """

    def queue_added(self, queue: str) -> None:
        """A key entered ``queue`` (``workqueue_adds_total``); deduplicated adds are not counted."""
        ...

    def queue_retried(self, queue: str) -> None:
        """A key was added to ``queue`` with a delay (``workqueue_retries_total``)."""
        ...

    def queue_latency(self, queue: str, seconds: float) -> None:
        """A key waited ``seconds`` in ``queue`` before a worker took it (``workqueue_queue_duration_seconds``)."""
        ...

    def work_duration(self, queue: str, seconds: float) -> None:
        """A worker held a key of ``queue`` for ``seconds`` (``workqueue_work_duration_seconds``)."""
        ...

    def reconciled(self, controller: str, result: str, seconds: float) -> None:
        """A reconcile of ``controller`` ended with ``result`` after ``seconds``.

        ``result`` is ``success``, ``requeue_after``, ``error`` or ``terminal_error``
        (``controller_runtime_reconcile_total``, ``..._errors_total``, ``..._time_seconds``).
        """
        ...


class NullRecorder:
    """A recorder that records nothing (the default).

    Thread-safety: thread-safe (stateless).
    """

    def queue_added(self, queue: str) -> None:
        """Do nothing."""

    def queue_retried(self, queue: str) -> None:
        """Do nothing."""

    def queue_latency(self, queue: str, seconds: float) -> None:
        """Do nothing."""

    def work_duration(self, queue: str, seconds: float) -> None:
        """Do nothing."""

    def reconciled(self, controller: str, result: str, seconds: float) -> None:
        """Do nothing."""


@dataclass(frozen=True, slots=True)
class QueueStats:
    """A snapshot of a work queue.

    Attributes:
        name: the queue's name.
        depth: keys waiting for a worker (``workqueue_depth``); delayed keys not yet due are not counted.
        delayed: keys waiting for their delay to pass.
        processing: keys held by workers.
        adds: keys added so far (``workqueue_adds_total``).
        retries: delayed adds so far (``workqueue_retries_total``).
        unfinished_seconds: the time workers have spent so far on the keys they hold
            (``workqueue_unfinished_work_seconds``).
        longest_running_seconds: how long the longest running worker has held its key
            (``workqueue_longest_running_processor_seconds``).
        shutting_down: whether the queue was shut down.
        next_delayed_in: seconds of the queue's clock until the earliest delayed key is due; ``None``: none is.

    Thread-safety: immutable.
    """

    name: str
    depth: int
    delayed: int
    processing: int
    adds: int
    retries: int
    unfinished_seconds: float
    longest_running_seconds: float
    shutting_down: bool
    next_delayed_in: float | None = None


@dataclass(frozen=True, slots=True)
class ControllerStats:
    """A snapshot of a controller.

    Attributes:
        name: the controller's name.
        queue: its queue's snapshot.
        reconciles: reconciles finished, by result (``success``, ``requeue_after``, ``error``, ``terminal_error``).
        active_workers: workers running a reconcile now.
        workers: the number of workers.
        informer_lag: per watched informer, the notifications its handler for this controller has not yet
            received: how far the controller is behind the cache.

    Thread-safety: immutable (the mappings are fresh copies).
    """

    name: str
    queue: QueueStats
    reconciles: dict[str, int]
    active_workers: int
    workers: int
    informer_lag: dict[str, int]


__all__ = ["ControllerStats", "MetricsRecorder", "NullRecorder", "QueueStats"]
