"""informers: shared informers that keep indexed, always-correct caches of Kubernetes objects."""

from __future__ import annotations

from informers.backoff import Backoff
from informers.clock import Clock, FakeClock, RealClock
from informers.controller import (
    BucketRateLimiter,
    Controller,
    ControllerStats,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    MetricsRecorder,
    RateLimiter,
    Request,
    Requeue,
    TerminalError,
    WorkQueue,
    all_of,
    annotations_changed,
    any_of,
    default_controller_rate_limiter,
    finalizer,
    generation_changed,
    labels_changed,
    requests_for_owner,
    resource_version_changed,
)
from informers.exceptions import (
    AlreadyStartedError,
    IndexConflictError,
    IndexNotFoundError,
    InformerError,
    KeyFuncError,
    LeaderElectionLostError,
    MutationDetectedError,
)
from informers.factory import InformerKey, ListerWatcherFactory, SharedInformerFactory, client_lister_watcher_factory
from informers.handlers import (
    DeletedFinalStateUnknown,
    EventHandler,
    FilteringEventHandler,
    FunctionHandler,
)
from informers.health import InformerHealth
from informers.index import (
    LABELS_INDEX,
    NAMESPACE_INDEX,
    Indexers,
    IndexFunc,
    label_index,
    labels_index,
    namespace_index,
)
from informers.informer import ReflectorFactory, SharedIndexInformer
from informers.keys import KeyFunc, meta_namespace_key, split_meta_namespace_key
from informers.leaderelection import LeaderElection, LeaderElectionHealth, ShardHealth, Shards
from informers.lister import Lister
from informers.listwatch import ListerWatcher, ListPage, ReflectorSink, ResourceListWatch, WatchStream
from informers.processor import MINIMUM_RESYNC_PERIOD, HandlerHealth, HandlerRegistration
from informers.reflector import Reflector, ReflectorStatus
from informers.store import ReplaceDiff, Store, StoreReader
from informers.transform import Transform, chain_transforms, strip_managed_fields

__all__ = [
    "LABELS_INDEX",
    "MINIMUM_RESYNC_PERIOD",
    "NAMESPACE_INDEX",
    "AlreadyStartedError",
    "Backoff",
    "BucketRateLimiter",
    "Clock",
    "Controller",
    "ControllerStats",
    "DeletedFinalStateUnknown",
    "EventHandler",
    "FakeClock",
    "FilteringEventHandler",
    "FunctionHandler",
    "HandlerHealth",
    "HandlerRegistration",
    "IndexConflictError",
    "IndexFunc",
    "IndexNotFoundError",
    "Indexers",
    "InformerError",
    "InformerHealth",
    "InformerKey",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "KeyFunc",
    "KeyFuncError",
    "LeaderElection",
    "LeaderElectionHealth",
    "LeaderElectionLostError",
    "ListPage",
    "Lister",
    "ListerWatcher",
    "ListerWatcherFactory",
    "MaxOfRateLimiter",
    "MetricsRecorder",
    "MutationDetectedError",
    "RateLimiter",
    "RealClock",
    "Reflector",
    "ReflectorFactory",
    "ReflectorSink",
    "ReflectorStatus",
    "ReplaceDiff",
    "Request",
    "Requeue",
    "ResourceListWatch",
    "ShardHealth",
    "Shards",
    "SharedIndexInformer",
    "SharedInformerFactory",
    "Store",
    "StoreReader",
    "TerminalError",
    "Transform",
    "WatchStream",
    "WorkQueue",
    "all_of",
    "annotations_changed",
    "any_of",
    "chain_transforms",
    "client_lister_watcher_factory",
    "default_controller_rate_limiter",
    "finalizer",
    "generation_changed",
    "label_index",
    "labels_changed",
    "labels_index",
    "meta_namespace_key",
    "namespace_index",
    "requests_for_owner",
    "resource_version_changed",
    "split_meta_namespace_key",
    "strip_managed_fields",
]
