"""Test doubles for code built on informers: a recording event handler and an idle reflector.

Drive an informer without a server: build it with ``reflector_factory=IdleReflector``, :meth:`start` it, then call
its sink methods (``on_replace``, ``on_event``, ``on_resource_version``) as a reflector would.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from dynaclient import JSONObject, get_resource_version
from informers.cache.keys import meta_namespace_key
from informers.clock import Clock
from informers.handlers import DeletedFinalStateUnknown
from informers.reflector.listwatch import ListerWatcher, ReflectorSink

HandlerCall = tuple[str, str, str, str | bool]
"""A recorded callback: ``("add", key, rv, is_initial)``, ``("update", key, old_rv, new_rv)``,
``("delete", key, rv, False)`` or, for a tombstone, ``("delete", key, last_known_rv, True)``."""


class RecordingHandler:
    """An event handler that records its calls, and lets a test wait for a number of them.

    Thread-safety: thread-safe.

    >>> handler = RecordingHandler()
    >>> handler.on_add({"metadata": {"name": "web", "namespace": "prod", "resourceVersion": "3"}}, True)
    >>> handler.on_delete(DeletedFinalStateUnknown("prod/web", {"metadata": {"resourceVersion": "3"}}))
    >>> handler.calls
    [('add', 'prod/web', '3', True), ('delete', 'prod/web', '3', True)]
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._calls: list[HandlerCall] = []
        self._objects: list[JSONObject | DeletedFinalStateUnknown] = []

    @property
    def calls(self) -> list[HandlerCall]:
        """The calls so far, in order."""
        with self._condition:
            return list(self._calls)

    @property
    def objects(self) -> list[JSONObject | DeletedFinalStateUnknown]:
        """The object of each call (the new one for an update), in order."""
        with self._condition:
            return list(self._objects)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[HandlerCall]:
        """Block until at least ``count`` calls were recorded (or ``timeout`` seconds pass); return the calls."""
        with self._condition:
            self._condition.wait_for(lambda: len(self._calls) >= count, timeout)
            return list(self._calls)

    def on_add(self, obj: JSONObject, is_initial: bool) -> None:
        """Record ``("add", key, rv, is_initial)``."""
        self._record(("add", meta_namespace_key(obj), get_resource_version(obj), is_initial), obj)

    def on_update(self, old: JSONObject, new: JSONObject) -> None:
        """Record ``("update", key, old_rv, new_rv)``."""
        self._record(("update", meta_namespace_key(new), get_resource_version(old), get_resource_version(new)), new)

    def on_delete(self, obj: JSONObject | DeletedFinalStateUnknown) -> None:
        """Record ``("delete", key, rv, is_tombstone)``."""
        tombstone = isinstance(obj, DeletedFinalStateUnknown)
        last_known = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        self._record(("delete", meta_namespace_key(obj), get_resource_version(last_known), tombstone), obj)

    def _record(self, call: HandlerCall, obj: JSONObject | DeletedFinalStateUnknown) -> None:
        with self._condition:
            self._calls.append(call)
            self._objects.append(obj)
            self._condition.notify_all()


@dataclass(frozen=True, slots=True)
class IdleReflectorStatus:
    """The status an :class:`IdleReflector` reports; tests set it with :meth:`IdleReflector.set_status`.

    Thread-safety: immutable.
    """

    watching: bool = False
    last_error: str | None = None
    watch_restarts: int = 0
    consecutive_failures: int = 0
    last_error_at: float | None = None
    last_confirmed_at: float | None = None


class IdleReflector:
    """A reflector that lists and watches nothing: :meth:`run` blocks until stopped; the test feeds the sink.

    The class fits ``reflector_factory``; use an :class:`IdleReflectorFactory` to reach the instances built.

    Thread-safety: thread-safe.
    """

    def __init__(self, lister_watcher: ListerWatcher, sink: ReflectorSink, /, *, name: str, clock: Clock) -> None:
        """Keep the arguments; start nothing."""
        self.lister_watcher = lister_watcher
        self.sink = sink
        self.name = name
        self.clock = clock
        self.running = threading.Event()
        self._status = IdleReflectorStatus()

    def run(self, stop: threading.Event) -> None:
        """Set :attr:`running`, then block until ``stop`` is set."""
        self.running.set()
        stop.wait()

    def status(self) -> IdleReflectorStatus:
        """Return the status set last."""
        return self._status

    def set_status(self, status: IdleReflectorStatus) -> None:
        """Report ``status`` from now on."""
        self._status = status


class IdleReflectorFactory:
    """A ``reflector_factory`` that builds :class:`IdleReflector` instances and keeps them in :attr:`built`.

    Thread-safety: thread-safe.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._built: list[IdleReflector] = []

    @property
    def built(self) -> list[IdleReflector]:
        """The reflectors built so far, in order."""
        with self._condition:
            return list(self._built)

    def wait_built(self, count: int, timeout: float = 10.0) -> list[IdleReflector]:
        """Block until at least ``count`` reflectors were built (or ``timeout`` seconds pass); return them."""
        with self._condition:
            self._condition.wait_for(lambda: len(self._built) >= count, timeout)
            return list(self._built)

    def __call__(
        self, lister_watcher: ListerWatcher, sink: ReflectorSink, /, *, name: str, clock: Clock
    ) -> IdleReflector:
        """Build and keep an :class:`IdleReflector`."""
        reflector = IdleReflector(lister_watcher, sink, name=name, clock=clock)
        with self._condition:
            self._built.append(reflector)
            self._condition.notify_all()
        return reflector


def make_object(
    name: str, namespace: str = "default", resource_version: str = "1", labels: dict[str, str] | None = None
) -> JSONObject:
    """Return a minimal object with the given metadata.

    >>> make_object("web", resource_version="7")
    {'metadata': {'name': 'web', 'namespace': 'default', 'resourceVersion': '7', 'labels': {}}}
    """
    metadata: JSONObject = {"name": name, "namespace": namespace, "resourceVersion": resource_version}
    metadata["labels"] = dict(labels or {})
    if not namespace:
        del metadata["namespace"]
    return {"metadata": metadata}


__all__ = [
    "HandlerCall",
    "IdleReflector",
    "IdleReflectorFactory",
    "IdleReflectorStatus",
    "RecordingHandler",
    "make_object",
]
