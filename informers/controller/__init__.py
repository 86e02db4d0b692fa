"""The controller runtime: a rate-limited work queue, a reconcile loop over shared informers, and the finalizer flow.

The Prometheus exporter is :mod:`informers.controller.prometheus` (the ``metrics`` extra); it is not imported here.
"""

from __future__ import annotations

from informers.controller.controller import Controller, Reconcile
from informers.controller.finalizer import finalizer
from informers.controller.metrics import ControllerStats, MetricsRecorder, NullRecorder, QueueStats
from informers.controller.predicates import (
    UpdatePredicate,
    all_of,
    annotations_changed,
    any_of,
    generation_changed,
    labels_changed,
    resource_version_changed,
)
from informers.controller.queue import WorkQueue
from informers.controller.ratelimiter import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    default_controller_rate_limiter,
)
from informers.controller.reconcile import Request, Requeue, TerminalError, settle
from informers.controller.sources import EnqueueHandler, MapFunc, request_for_object, requests_for_owner

__all__ = [
    "BucketRateLimiter",
    "Controller",
    "ControllerStats",
    "EnqueueHandler",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "MapFunc",
    "MaxOfRateLimiter",
    "MetricsRecorder",
    "NullRecorder",
    "QueueStats",
    "RateLimiter",
    "Reconcile",
    "Request",
    "Requeue",
    "TerminalError",
    "UpdatePredicate",
    "WorkQueue",
    "all_of",
    "annotations_changed",
    "any_of",
    "default_controller_rate_limiter",
    "finalizer",
    "generation_changed",
    "labels_changed",
    "request_for_object",
    "requests_for_owner",
    "resource_version_changed",
    "settle",
]
