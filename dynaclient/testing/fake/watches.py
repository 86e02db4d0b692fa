"""Watch streams of the fake API server: filtered changes, encoded as the server's newline-delimited frames.

Filtering follows the apiserver's watch cache (``storage/cacher/cache_watcher.go convertToWatchEvent``): with a
selector, a change that makes an object start matching is ``ADDED``, one that makes it stop matching is
``DELETED`` (carrying the object's previous state at the new resourceVersion), and changes outside the selector are
not sent.
"""

from __future__ import annotations

import copy
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from dynaclient._types import JSONObject
from dynaclient.exceptions import ConnectionLostError
from dynaclient.request import Cancellation, Response
from dynaclient.testing.fake.selection import Selection
from dynaclient.testing.fake.store import Change, GroupResource
from dynaclient.watch.events import WatchEvent


@dataclass(frozen=True, slots=True)
class WatchScope:
    """Which changes a watch receives, and how its objects are rendered.

    Attributes:
        group_resource: the resource watched.
        selection: the namespace and selectors.
        render: turns a stored object into what the client receives (apiVersion, metadata-only).

    Thread-safety: immutable.
    """

    group_resource: GroupResource
    selection: Selection
    render: Callable[[JSONObject], JSONObject]

    def event_for(self, change: Change) -> WatchEvent | None:
        """Return the event this watch sends for ``change``, or ``None``."""
        if change.group_resource != self.group_resource:
            return None
        if not self.selection.in_namespace(change.key):
            return None
        now = change.type != "DELETED" and self.selection.matches(change.object)
        before = change.previous is not None and self.selection.matches(change.previous)
        if change.type == "DELETED":
            return WatchEvent("DELETED", self.render(change.object)) if before else None
        if now and before:
            return WatchEvent("MODIFIED", self.render(change.object))
        if now:
            return WatchEvent("ADDED", self.render(change.object))
        if before and change.previous is not None:
            gone = copy.deepcopy(change.previous)
            gone.setdefault("metadata", {})["resourceVersion"] = str(change.revision)
            return WatchEvent("DELETED", self.render(gone))
        return None


class WatchStream:
    """The frames of one watch: queued by the store's thread under its lock, read by the client's thread.

    Thread-safety: :meth:`offer` and :meth:`stop` may be called from any thread; the body is read by one.
    """

    _END = b""
    _CUT = b"\n"

    def __init__(self, timeout_seconds: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._frames: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._deadline = None if timeout_seconds is None else clock() + timeout_seconds
        self._clock = clock
        self._stopped = threading.Event()
        self._cleanups: list[Callable[[], None]] = []

    def offer(self, event: WatchEvent | None) -> None:
        """Queue ``event`` (nothing for ``None``)."""
        if event is not None and not self._stopped.is_set():
            self._frames.put(event.encode())

    def on_stop(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` once when the stream stops."""
        self._cleanups.append(cleanup)

    def finish(self) -> None:
        """End the stream after the frames already queued (the server closing it)."""
        self._frames.put(self._END)

    def cut(self) -> None:
        """Lose the connection after the frames already queued (the server going away).

        The reader gets a :class:`~dynaclient.exceptions.ConnectionLostError`, as from a connection cut mid-response.
        """
        self._frames.put(self._CUT)

    def stop(self) -> None:
        """End the stream at once (the client closing it); later offers are dropped."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._frames.put(self._END)
        for cleanup in self._cleanups:
            cleanup()

    def response(self, cancellation: Cancellation | None) -> Response:
        """Return the streaming ``200`` response; cancelling the request or closing the response stops it."""
        if cancellation is not None:
            cancellation.on_cancel(self.stop)
        return Response(200, {"content-type": "application/json"}, self._chunks(), close=self.stop)

    def _chunks(self) -> Iterator[bytes]:
        while not self._stopped.is_set():
            remaining = None if self._deadline is None else self._deadline - self._clock()
            if remaining is not None and remaining <= 0:
                break
            try:
                frame = self._frames.get(timeout=remaining)
            except queue.Empty:
                break
            if frame == self._END or self._stopped.is_set():
                break
            if frame == self._CUT:
                self.stop()
                raise ConnectionLostError("watch: the connection was lost in the middle of the response")
            yield frame
        self.stop()


__all__ = ["WatchScope", "WatchStream"]
