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
from informers.handlers import DeletedFinalStateUnknown
from informers.index import (
    LABELS_INDEX,
    NAMESPACE_INDEX,
    Indexers,
    IndexFunc,
    label_index,
    labels_index,
    namespace_index,
)
from informers.keys import KeyFunc, meta_namespace_key, split_meta_namespace_key
from informers.store import ReplaceDiff, Store, StoreReader

__all__ = [
    "LABELS_INDEX",
    "NAMESPACE_INDEX",
    "AlreadyStartedError",
    "Backoff",
    "Clock",
    "DeletedFinalStateUnknown",
    "FakeClock",
    "IndexConflictError",
    "IndexFunc",
    "IndexNotFoundError",
    "Indexers",
    "InformerError",
    "KeyFunc",
    "KeyFuncError",
    "MutationDetectedError",
    "RealClock",
    "ReplaceDiff",
    "Store",
    "StoreReader",
    "label_index",
    "labels_index",
    "meta_namespace_key",
    "namespace_index",
    "split_meta_namespace_key",
]
