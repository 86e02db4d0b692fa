"""A watch that does not stop: list, watch from the list's resourceVersion, resume, relist after expiry.

This is the stream under :func:`~dynaclient.wait.await_condition` and ``dynaclient watch``. It follows kube-rs
``watcher`` (``kube-runtime/src/watcher.rs``) reduced to what one caller needs, without a cache:

* The list's objects come first, as ``ADDED`` events, then a ``BOOKMARK`` carrying the list's resourceVersion:
  the caller has seen the current state (with ``None`` objects, that the object does not exist).
* A watch stream the server ends (its ``timeoutSeconds``, or a cut connection) is resumed from the last
  resourceVersion seen, bookmarks included, so no event is missed or repeated.
* ``410 Gone`` (the resourceVersion was compacted) relists: objects of the new list come as ``ADDED`` (unseen) or
  ``MODIFIED``, and objects that vanished meanwhile as a synthetic ``DELETED`` with their last known state, so a
  missed delete is still seen.
* With a ``timeout``, the stream ends once it has passed (each watch asks the server to end by then).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

from dynaclient._types import JSONObject
from dynaclient.exceptions import GoneError, TransportError
from dynaclient.objects import get_name, get_namespace, get_resource_version
from dynaclient.watch.events import WatchEvent

if TYPE_CHECKING:
    from dynaclient.resources.client import FieldSelector, LabelSelector
    from dynaclient.watch.stream import Watch

WATCH_TIMEOUT_SECONDS = 300
"""The longest a single watch request asks the server to stay open before it is resumed."""
_FIRST_RETRY, _LAST_RETRY = 0.2, 5.0

logger = logging.getLogger("dynaclient")


class WatchableResource(Protocol):
    """What the stream needs of a :class:`~dynaclient.resources.client.ResourceClient`.

    Thread-safety: implementations are shared; each stream uses its own watch.
    """

    def list_page(
        self, *, label_selector: LabelSelector = None, field_selector: FieldSelector = None, limit: int = ...
    ) -> JSONObject:
        """Return one page of the list."""
        ...

    def watch(
        self,
        *,
        label_selector: LabelSelector = None,
        field_selector: FieldSelector = None,
        resource_version: str | None = None,
        allow_bookmarks: bool = False,
        timeout_seconds: int | None = None,
    ) -> Watch:
        """Open a watch stream."""
        ...


def resumed_watch(
    resource: WatchableResource,
    *,
    label_selector: LabelSelector = None,
    field_selector: FieldSelector = None,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[WatchEvent]:
    """Yield the current objects as ``ADDED`` and a ``BOOKMARK``, then every change, until ``timeout`` has passed.

    A request that cannot reach the server (:class:`~dynaclient.exceptions.TransportError`: the API server is
    restarting, the connection was refused) is retried after a backoff of 0.2 s doubling to 5 s, logged at
    WARNING; the error is raised once the timeout has passed.

    Args:
        resource: the resource client (bound to a namespace, or not for all namespaces / cluster scope).
        label_selector: only objects with these labels.
        field_selector: only objects with these fields (``{"metadata.name": name}`` for one object).
        timeout: seconds after which the stream ends; ``None``: never.
        clock: monotonic seconds (injectable for tests).
        sleep: waits between retries (injectable for tests).

    Raises:
        APIError: the server refused the list or the watch (other than with 410 Gone).
        TransportError: the server could not be reached until the timeout passed.
    """
    deadline = None if timeout is None else clock() + timeout
    retry = _Backoff(deadline, clock, sleep)
    known: dict[tuple[str, str], JSONObject] = {}
    while True:
        try:
            page = resource.list_page(label_selector=label_selector, field_selector=field_selector, limit=0)
        except TransportError as exc:
            retry.after(exc)
            continue
        yield from _relisted(page, known)
        resource_version = str((page.get("metadata") or {}).get("resourceVersion") or "")
        yield WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": resource_version}})
        try:
            while True:
                remaining = WATCH_TIMEOUT_SECONDS if deadline is None else deadline - clock()
                if remaining <= 0:
                    return
                try:
                    with resource.watch(
                        label_selector=label_selector,
                        field_selector=field_selector,
                        resource_version=resource_version,
                        allow_bookmarks=True,
                        timeout_seconds=max(1, min(WATCH_TIMEOUT_SECONDS, math.ceil(remaining))),
                    ) as stream:
                        for event in stream:
                            event.raise_for_error()
                            if event.type != "BOOKMARK":
                                _remember(known, event)
                                yield event
                        resource_version = stream.resource_version or resource_version
                except TransportError as exc:
                    retry.after(exc)
                    continue
                retry.reset()
        except GoneError:
            continue  # the resourceVersion is too old: relist


class _Backoff:
    """Sleeps between retries of unreachable requests: 0.2 s doubling to 5 s, never past the deadline.

    Thread-safety: confined to one stream.
    """

    def __init__(self, deadline: float | None, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._deadline, self._clock, self._sleep = deadline, clock, sleep
        self._delay = _FIRST_RETRY

    def after(self, error: TransportError) -> None:
        """Sleep before the next attempt, or raise ``error`` when the deadline does not leave time for one."""
        remaining = math.inf if self._deadline is None else self._deadline - self._clock()
        if remaining <= self._delay:
            raise error
        logger.warning("watch: %s; retrying in %.1fs", error, self._delay)
        self._sleep(self._delay)
        self._delay = min(self._delay * 2, _LAST_RETRY)

    def reset(self) -> None:
        """Start from the shortest delay again (a request went through)."""
        self._delay = _FIRST_RETRY


def _key(obj: JSONObject) -> tuple[str, str]:
    return get_namespace(obj), get_name(obj)


def _remember(known: dict[tuple[str, str], JSONObject], event: WatchEvent) -> None:
    if event.type == "DELETED":
        known.pop(_key(event.object), None)
    else:
        known[_key(event.object)] = event.object


def _relisted(page: JSONObject, known: dict[tuple[str, str], JSONObject]) -> Iterator[WatchEvent]:
    """Turn a (re)list into events against what was known: ``ADDED``, ``MODIFIED``, or a synthetic ``DELETED``."""
    items = [item for item in page.get("items") or () if isinstance(item, dict)]
    listed = {_key(item) for item in items}
    for key in [key for key in known if key not in listed]:
        yield WatchEvent("DELETED", known.pop(key))
    for item in items:
        previous = known.get(_key(item))
        known[_key(item)] = item
        if previous is None:
            yield WatchEvent("ADDED", item)
        elif get_resource_version(previous) != get_resource_version(item):
            yield WatchEvent("MODIFIED", item)


__all__ = ["WATCH_TIMEOUT_SECONDS", "WatchableResource", "resumed_watch"]
