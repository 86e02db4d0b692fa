"""Every error the informers package raises.

The tree (rooted in dynaclient's)::

    DynaclientError(Exception)
    └── InformerError                                  base of every informers error
        ├── IndexNotFoundError(InformerError, LookupError)    a query named an index the store does not have
        ├── IndexConflictError(InformerError, ValueError)     add_indexers named an index that already exists
        ├── KeyFuncError(InformerError, ValueError)           an object has no usable key, or a key is malformed
        ├── AlreadyStartedError(InformerError)                a start-once component was started twice
        ├── LeaderElectionLostError(InformerError)            a leader could not renew its Lease in time
        └── MutationDetectedError(InformerError)              a handed-out cached object was modified (debug mode)

Messages start in lower case, state facts, and name the key or index at fault; they never quote object contents
(a cached Secret must not end up in a log).
"""

from __future__ import annotations

from dynaclient import DynaclientError


class InformerError(DynaclientError):
    """Base class of every error raised by the informers package.

    Thread-safety: immutable once raised.
    """


class IndexNotFoundError(InformerError, LookupError):
    """A query named an index that was never registered (client-go: "Index with name %s does not exist").

    Thread-safety: immutable once raised.
    """


class IndexConflictError(InformerError, ValueError):
    """An index with the same name is already registered (client-go ``AddIndexers``: "indexer conflict").

    Thread-safety: immutable once raised.
    """


class KeyFuncError(InformerError, ValueError):
    """An object has no usable ``namespace/name`` key, or a key string is malformed.

    Thread-safety: immutable once raised.
    """


class LeaderElectionLostError(InformerError):
    """A leader could not renew its Lease within the renew deadline; its work was cancelled.

    controller-runtime's manager returns "leader election lost" here, and the process is expected to exit.

    Thread-safety: immutable once raised.
    """


class AlreadyStartedError(InformerError):
    """A component that can only be started once (or configured before start) was already started.

    Thread-safety: immutable once raised.
    """


class MutationDetectedError(InformerError):
    """An object handed out by a store was modified; cached objects are shared and read-only.

    Raised only when mutation detection is on (``Store(detect_mutation=True)`` or ``DYNACLIENT_DETECT_MUTATION=1``).

    Attributes:
        keys: the keys of the objects found modified, sorted.

    Thread-safety: immutable once raised.
    """

    def __init__(self, keys: list[str]) -> None:
        self.keys = sorted(keys)
        shown = ", ".join(repr(key) for key in self.keys[:10])
        more = f" and {len(self.keys) - 10} more" if len(self.keys) > 10 else ""
        super().__init__(
            f"cached objects were modified after the store handed them out: {shown}{more}; "
            "deep-copy an object before changing it"
        )


__all__ = [
    "AlreadyStartedError",
    "IndexConflictError",
    "IndexNotFoundError",
    "InformerError",
    "KeyFuncError",
    "LeaderElectionLostError",
    "MutationDetectedError",
]
