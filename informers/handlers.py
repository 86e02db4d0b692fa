"""Event-handler types: the ``DeletedFinalStateUnknown`` tombstone delivered to ``on_delete``."""

from __future__ import annotations

from dataclasses import dataclass, field

from dynaclient import JSONObject


@dataclass(frozen=True, slots=True)
class DeletedFinalStateUnknown:
    """A delete the informer inferred from a relist instead of seeing it on the watch.

    When the watch is interrupted and the relist no longer contains an object, its final state is unknown: it may
    have been changed before it was deleted. Handlers then receive this tombstone in ``on_delete`` instead of the
    object; ``obj`` is the last state the cache knew, which may be stale (client-go
    tools/cache/delta_fifo.go ``DeletedFinalStateUnknown``, same name and meaning so client-go code ports directly).

    The repr shows the key only: the object may be a Secret.

    Attributes:
        key: the ``namespace/name`` key of the deleted object.
        obj: the last known state of the object; shared with the cache, do not modify.

    Thread-safety: immutable (the object it carries is read-only by contract).

    >>> DeletedFinalStateUnknown("default/web", {"metadata": {"name": "web", "namespace": "default"}})
    DeletedFinalStateUnknown(key='default/web')
    """

    key: str
    obj: JSONObject = field(repr=False)


__all__ = ["DeletedFinalStateUnknown"]
