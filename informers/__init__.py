"""informers: shared informers that keep indexed, always-correct caches of Kubernetes objects."""

from __future__ import annotations

from informers.backoff import Backoff
from informers.clock import Clock, FakeClock, RealClock
from informers.exceptions import (
    AlreadyStartedError,
    IndexConflictError,
    IndexNotFoundError,
    InformerError,
    KeyFuncError,
    MutationDetectedError,
)
from informers.factory import InformerKey, ListerWatcherFactory, SharedInformerFactory, client_lister_watcher_factory
from informers.handlers import (
    DeletedFinalStateUnknown,
    EventHandler,
    FilteringEventHandler,
    FunctionHandler,
    annotation_filter,
    label_filter,
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
    "Clock",
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
    "KeyFunc",
    "KeyFuncError",
    "ListPage",
    "Lister",
    "ListerWatcher",
    "ListerWatcherFactory",
    "MutationDetectedError",
    "RealClock",
    "Reflector",
    "ReflectorFactory",
    "ReflectorSink",
    "ReflectorStatus",
    "ReplaceDiff",
    "ResourceListWatch",
    "SharedIndexInformer",
    "SharedInformerFactory",
    "Store",
    "StoreReader",
    "Transform",
    "WatchStream",
    "annotation_filter",
    "chain_transforms",
    "client_lister_watcher_factory",
    "label_filter",
    "label_index",
    "labels_index",
    "meta_namespace_key",
    "namespace_index",
    "split_meta_namespace_key",
    "strip_managed_fields",
]
