"""Where an informer's reflector delivers: apply each change to the store, then queue it for every handler.

client-go tools/cache/the_real_fifo.go (atomic Replace, the default since client-go 1.33) and controller.go
``processDeltas``, without a queue in between: the reflector's thread applies a change and fans it out in one step
under one lock (client-go ``blockDeltas``). A handler being registered takes the same lock to receive the cache, so
it sees every object exactly once before live events. No user code runs under that lock: the transform runs before
it is taken, handlers on their own threads.

The objects of a paginated list are prepared (transformed, interned, keyed) page by page as they arrive
(:class:`PreparingListerWatcher`), while the next page is still being fetched, instead of all at once when the
last page completes the list; :meth:`CacheSink.on_replace` then takes each prepared object as it is. When the
transform raises, the list's later objects are not prepared and the replace raises that error when it reaches the
object, leaving the cache as it was; objects it did not see prepared (a streaming list's) are prepared there.
"""

from __future__ import annotations

import operator
import threading
from typing import TypeAlias

from dynaclient import Cancellation, JSONObject, WatchEvent, collection_paused, get_resource_version, get_uid
from informers.cache.interning import intern_repeated_strings
from informers.cache.store import ReplaceDiff, Store
from informers.cache.transform import Transform
from informers.handlers import DeletedFinalStateUnknown
from informers.notifications import AddNotification, DeleteNotification, Notification, UpdateNotification
from informers.processor import Listener, SharedProcessor
from informers.reflector.listwatch import ListerWatcher, ListPage, WatchStream

_PreparedPage: TypeAlias = tuple[list[JSONObject], list[str], list[JSONObject]]
"""A list page's objects as listed, their keys and their prepared objects (the last two may stop short)."""


class SinkCounts:
    """Counters of what a sink applied.

    Thread-safety: thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lists = self._events = self._bookmarks = self._resyncs = 0

    def add(self, *, lists: int = 0, events: int = 0, bookmarks: int = 0, resyncs: int = 0) -> None:
        """Add to the counters."""
        with self._lock:
            self._lists += lists
            self._events += events
            self._bookmarks += bookmarks
            self._resyncs += resyncs

    def snapshot(self) -> tuple[int, int, int, int]:
        """Return ``(lists, events, bookmarks, resyncs)``."""
        with self._lock:
            return self._lists, self._events, self._bookmarks, self._resyncs


class CacheSink:
    """A :class:`~informers.reflector.listwatch.ReflectorSink` that keeps a store and notifies a processor's handlers.

    Thread-safety: thread-safe; the reflector calls the sink methods from one thread at a time.
    """

    def __init__(self, store: Store, processor: SharedProcessor, *, name: str, transform: Transform | None) -> None:
        """Feed ``store`` and ``processor``; ``name`` names the informer in errors."""
        self.store = store
        self.counts = SinkCounts()
        self.synced = threading.Event()
        self._processor = processor
        self._name = name
        self._transform = transform
        self._lock = threading.Lock()  # client-go blockDeltas: a change and its fan-out are one step
        # The pages of the list being received, each as (its listed objects, their keys, their prepared objects),
        # the last two cut short at an object whose preparation raised. Holding the listed objects keeps their ids
        # from being reused by other objects while they are here.
        self._prepared: list[_PreparedPage] = []
        self._prepare_failure: tuple[JSONObject, Exception] | None = None  # the object whose preparation raised
        self._prepared_lock = threading.Lock()

    def prepare(self, items: list[JSONObject], *, first_page: bool) -> None:
        """Transform, intern and key a list page's objects now, for the :meth:`on_replace` that completes the list.

        Args:
            items: the page's objects, as listed.
            first_page: the page starts a new list: what was prepared for an earlier, unfinished list is dropped.
        """
        with self._prepared_lock:
            if first_page:
                self._prepared, self._prepare_failure = [], None
            elif self._prepare_failure is not None:
                return  # the list already failed at an object; on_replace raises there
        keys: list[str] = []
        prepared: list[JSONObject] = []
        failure: tuple[JSONObject, Exception] | None = None
        key_of, transformed = self.store.key_of, self._transformed
        for item in items:
            try:
                obj = transformed(item)
                keys.append(key_of(obj))
            except Exception as error:  # raised by on_replace when it reaches this object, as without this step
                failure = (item, error)
                break
            prepared.append(obj)
        with self._prepared_lock:
            self._prepared.append((list(items), keys, prepared))
            self._prepare_failure = failure

    def add_listener(self, listener: Listener) -> None:
        """Register ``listener`` and queue the whole cache to it as initial adds, with no change in between.

        client-go shared_informer.go ``AddEventHandlerWithOptions`` after start: the handler gets
        ``on_add(obj, True)`` for every cached object, and these count towards its ``has_synced``.
        """
        with self._lock:
            self._processor.add(listener)
            listener.add_all([AddNotification(obj, is_initial=True) for obj in self.store.list()], initial=True)

    def remove_listener(self, listener: Listener) -> None:
        """Unregister ``listener``; nothing more is queued to it."""
        with self._lock:
            self._processor.remove(listener)

    def resync(self, now: float) -> None:
        """Queue ``on_update(obj, obj)`` for every cached object to the listeners due for a resync at ``now``."""
        with self._lock:
            due = self._processor.due_for_resync(now)
            if not due:
                return
            resyncs = [UpdateNotification(obj, obj) for obj in self.store.list()]
            for listener in due:
                listener.add_all(resyncs)
            self.counts.add(resyncs=1)

    def on_replace(self, items: list[JSONObject], resource_version: str) -> None:
        """Replace the cache with ``items`` and notify: tombstones for the missing, then changes in list order.

        client-go the_real_fifo.go atomic Replace and controller.go processDeltas: deletes first (a
        :class:`~informers.handlers.DeletedFinalStateUnknown` holding the last known object), then updates and
        adds in list order; objects whose resourceVersion did not change are not notified. The notifications of
        the first replace count towards each handler's ``has_synced`` and its adds have ``is_initial=True``.

        An object listed under a cached key but with another uid was deleted and created again while the watch
        was down: it is notified as a tombstone of the cached object, then an add (see :func:`_recreated`).

        Raises:
            KeyFuncError: an object has no name; the cache is unchanged.
            Exception: whatever the transform raises; the cache is unchanged.
        """
        with self._prepared_lock:
            pages, self._prepared = self._prepared, []
            failure, self._prepare_failure = self._prepare_failure, None
        # The cache's new entries, indices and notifications (several containers per object) go straight to the
        # collector's oldest generation, as the decoded pages did. Reaching it through the young collections, they
        # counted as new long-lived objects while the decoded pages did not: at 100,000 objects that count passed
        # a quarter of the last full collection's and set off one more, which walked every cached object (0.4 to
        # 0.7 s, a quarter of the sync's CPU).
        with collection_paused():
            keyed = self._keyed(items, pages, failure)
            with self._lock:
                initial = not self.synced.is_set()
                diff = self.store.replace(keyed, resource_version)
                if self._processor.has_listeners():  # else nobody to notify: a handler added later gets the cache
                    self._processor.distribute_all(_replace_notifications(keyed, diff, initial), initial=initial)
                self.synced.set()
                self.counts.add(lists=1)

    def _keyed(
        self, items: list[JSONObject], pages: list[_PreparedPage], failure: tuple[JSONObject, Exception] | None
    ) -> dict[str, JSONObject]:
        """Return ``items`` prepared, by key, in list order, taking what :meth:`prepare` did for them."""
        listed: list[JSONObject] = []
        keys: list[str] = []
        prepared: list[JSONObject] = []
        for page_items, page_keys, page_prepared in pages:
            listed += page_items
            keys += page_keys
            prepared += page_prepared
        if failure is None and len(listed) == len(items) and all(map(operator.is_, listed, items)):
            return dict(zip(keys, prepared, strict=True))  # the usual case: the list is the pages prepared, in order
        by_id = {id(item): (item, key, obj) for item, key, obj in zip(listed, keys, prepared, strict=False)}
        keyed: dict[str, JSONObject] = {}
        for item in items:
            if failure is not None and item is failure[0]:
                raise failure[1]
            entry = by_id.get(id(item))
            if entry is not None and entry[0] is item:
                keyed[entry[1]] = entry[2]
            else:
                obj = self._transformed(item)
                keyed[self.store.key_of(obj)] = obj
        return keyed

    def on_event(self, event: WatchEvent) -> None:
        """Apply an ``ADDED``, ``MODIFIED`` or ``DELETED`` event (a ``BOOKMARK`` only records its resourceVersion).

        As in client-go processDeltas, the store decides between add and update, not the event type; an update
        with an unchanged resourceVersion is not notified; a delete is notified with the event's object even when
        the cache did not hold it.

        Raises:
            ValueError: an ``ERROR`` event (the reflector raises those).
            KeyFuncError: the object has no name.
        """
        if event.type == "BOOKMARK":
            self.on_resource_version(event.resource_version)
            return
        if event.type == "ERROR":
            raise ValueError(f"informer {self._name} cannot apply an ERROR event; the reflector raises it")
        obj = self._transformed(event.object)
        with self._lock:
            if event.type == "DELETED":
                self.store.delete(obj)
                self._processor.distribute(DeleteNotification(obj))
            elif (old := self.store.add(obj)) is None:
                self._processor.distribute(AddNotification(obj))
            elif _changed(old, obj):
                key = self.store.key_of(obj)
                self._processor.distribute_all(_update_notifications(key, old, obj, initial=False))
            self.counts.add(events=1)

    def on_resource_version(self, resource_version: str) -> None:
        """Record a bookmark's resourceVersion."""
        with self._lock:
            self.store.update_resource_version(resource_version)
            self.counts.add(bookmarks=1)

    def _transformed(self, obj: JSONObject) -> JSONObject:
        if self._transform is None:
            return intern_repeated_strings(obj)
        result = self._transform(obj)
        if not isinstance(result, dict):
            raise TypeError(f"the transform of informer {self._name} returned a {type(result).__name__}, not an object")
        return intern_repeated_strings(result)


def _replace_notifications(keyed: dict[str, JSONObject], diff: ReplaceDiff, initial: bool) -> list[Notification]:
    """Tombstones for the deleted, then the adds and updates in list order (see :meth:`CacheSink.on_replace`)."""
    notifications: list[Notification] = [
        DeleteNotification(DeletedFinalStateUnknown(key, old)) for key, old in diff.deleted
    ]
    if diff.updated:
        changes: dict[str, tuple[Notification, ...]] = {
            key: (AddNotification(new, initial),) for key, new in diff.added
        }
        changes.update((key, _update_notifications(key, old, new, initial)) for key, old, new in diff.updated)
        notifications.extend(notification for key in keyed for notification in changes.get(key, ()))
    else:  # diff.added follows the list order already
        notifications.extend(AddNotification(new, initial) for _, new in diff.added)
    return notifications


def _recreated(old: JSONObject, new: JSONObject) -> bool:
    """Whether ``new`` is another object than ``old`` under the same name: both have uids, and they differ.

    A watch that resumes in time reports the delete and the create; a relist (after the resourceVersion expired)
    sees only the new object under the old key. client-go then notifies an update from the old uid to the new one;
    handlers that key external state by uid never see the delete, so it is notified as one here, with the
    tombstone of the cached object (its final state is unknown), then the new object as an add.
    """
    old_uid, new_uid = get_uid(old), get_uid(new)
    return bool(old_uid and new_uid and old_uid != new_uid)


def _update_notifications(key: str, old: JSONObject, new: JSONObject, initial: bool) -> tuple[Notification, ...]:
    if _recreated(old, new):
        return DeleteNotification(DeletedFinalStateUnknown(key, old)), AddNotification(new, initial)
    return (UpdateNotification(old, new),)


def _changed(old: JSONObject, new: JSONObject) -> bool:
    # client-go shared_informer.go OnUpdate: an equal resourceVersion is a resync, which reaches only the handlers
    # being resynced; outside a resync, none. Without resourceVersions (test objects), compare the objects, as
    # Store.replace does.
    old_version, new_version = get_resource_version(old), get_resource_version(new)
    if old_version and new_version:
        return old_version != new_version
    return old != new


__all__ = ["CacheSink", "SinkCounts"]


class PreparingListerWatcher:
    """A :class:`~informers.reflector.listwatch.ListerWatcher` that has the sink prepare each list page as it arrives.

    Thread-safety: as thread-safe as the wrapped lister-watcher; the sink's preparation is thread-safe.
    """

    def __init__(self, inner: ListerWatcher, sink: CacheSink) -> None:
        self._inner = inner
        self._sink = sink

    def list_page(
        self,
        *,
        limit: int | None,
        continue_token: str | None,
        resource_version: str | None,
        resource_version_match: str | None,
        cancellation: Cancellation | None = None,
    ) -> ListPage:
        """Fetch one page from the wrapped lister-watcher and prepare its objects."""
        page = self._inner.list_page(
            limit=limit,
            continue_token=continue_token,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            cancellation=cancellation,
        )
        self._sink.prepare(page.items, first_page=not continue_token)
        return page

    def watch(
        self,
        *,
        resource_version: str,
        allow_bookmarks: bool,
        timeout_seconds: int | None,
        send_initial_events: bool,
        resource_version_match: str | None,
        cancellation: Cancellation | None = None,
    ) -> WatchStream:
        """Open a watch on the wrapped lister-watcher (events are prepared when applied)."""
        return self._inner.watch(
            resource_version=resource_version,
            allow_bookmarks=allow_bookmarks,
            timeout_seconds=timeout_seconds,
            send_initial_events=send_initial_events,
            resource_version_match=resource_version_match,
            cancellation=cancellation,
        )
