"""The contract between a reflector and the API: list pages and watch streams (client-go ``ListerWatcher``).

The reflector depends on this protocol, never on a client, so it can be driven by scripted fakes in tests.
:class:`ResourceListWatch` (added with the dynamic client) adapts a dynaclient resource client to it.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Protocol, cast

from dynaclient import Cancellation, JSONObject, ResourceClient, ResourceVersionMatch, WatchEvent


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a list.

    Attributes:
        items: the objects of this page, each with ``apiVersion`` and ``kind`` filled in.
        resource_version: the list's ``metadata.resourceVersion``.
        continue_token: the token for the next page; ``""`` on the last page.

    Thread-safety: immutable (the item dicts are shared; treat them as read-only).
    """

    items: list[JSONObject]
    resource_version: str
    continue_token: str = ""


class WatchStream(Protocol):
    """An open watch: iterate for events; :meth:`close` may be called from another thread and ends iteration.

    Iteration raises the typed error of an ``ERROR`` frame (``GoneError`` for 410 Expired) and
    :class:`~dynaclient.TransportError` when the connection fails; it ends normally when the server closes the
    stream (for example at ``timeoutSeconds``) or cuts it short (a restart), as client-go's watches do.
    """

    def __iter__(self) -> Iterator[WatchEvent]: ...

    def close(self) -> None:
        """Stop the watch; a blocked iteration returns promptly."""
        ...


class ListerWatcher(Protocol):
    """Lists and watches one resource in one scope (namespace, selectors already applied).

    Every call gets a ``cancellation`` (client-go passes a context): when another thread cancels it, the call
    must return promptly, raising (for example :class:`~dynaclient.RequestCancelled`), whatever it is waiting for:
    a connection, response headers, a body. The reflector cancels the call in flight when it is stopped, and a
    watch that does not open within its stall timeout.
    """

    def list_page(
        self,
        *,
        limit: int | None,
        continue_token: str | None,
        resource_version: str | None,
        resource_version_match: str | None,
        cancellation: Cancellation | None = None,
    ) -> ListPage:
        """Fetch one page of the list.

        Raises:
            GoneError: the resourceVersion or continue token is too old.
            APIError: any other error status.
            TransportError: no response.
        """
        ...

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
        """Open a watch from ``resource_version``; cancelling ``cancellation`` later also closes the watch.

        Raises:
            GoneError: the resourceVersion is too old (also possible later, as an ERROR frame).
            APIError: any other error status.
            TransportError: no response.
        """
        ...


class ReflectorSink(Protocol):
    """Where a reflector delivers what it learns; implemented by the informer (store + handler fan-out).

    The reflector calls these from its own thread, one at a time, in server order.
    """

    def on_replace(self, items: list[JSONObject], resource_version: str) -> None:
        """Replace the whole cache with ``items`` (an initial list or a relist), atomically."""
        ...

    def on_event(self, event: WatchEvent) -> None:
        """Apply one ``ADDED``, ``MODIFIED`` or ``DELETED`` event."""
        ...

    def on_resource_version(self, resource_version: str) -> None:
        """Record progress without a change (a ``BOOKMARK``)."""
        ...


class ResourceListWatch:
    """A :class:`ListerWatcher` over a dynaclient :class:`~dynaclient.ResourceClient`.

    The resource client carries the namespace (or none, for all namespaces); the selectors given here apply to
    every list and watch. A paginated list is read through one :class:`~dynaclient.ObjectList`, which fetches the
    next page while the reflector stores the current one: the call for the continue token the last page returned
    takes that page; any other call starts afresh. Cancelling a call cancels the list it reads, prefetch included.

    Thread-safety: thread-safe (the pending pager is taken and put back under a lock; calls may overlap).
    """

    def __init__(
        self,
        resource: ResourceClient,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        metadata_only: bool = False,
    ) -> None:
        self.resource = resource
        self._label_selector = label_selector
        self._field_selector = field_selector
        self._metadata_only = metadata_only
        self._lock = threading.Lock()
        # (the next page's token, the list's pages, the list's own cancellation)
        self._pager: tuple[str, Generator[JSONObject, None, None], Cancellation] | None = None

    def __repr__(self) -> str:
        return f"<ResourceListWatch {self.resource!r} labels={self._label_selector!r} fields={self._field_selector!r}>"

    def list_page(
        self,
        *,
        limit: int | None,
        continue_token: str | None,
        resource_version: str | None,
        resource_version_match: str | None,
        cancellation: Cancellation | None = None,
    ) -> ListPage:
        """Fetch one page; see :meth:`ListerWatcher.list_page`."""
        with self._lock:
            pager, self._pager = self._pager, None
        if pager is not None and continue_token and pager[0] == continue_token:
            _, pages, list_cancellation = pager
        else:
            if pager is not None:
                pager[2].cancel()
                pager[1].close()
            if continue_token:  # not the page this watcher is reading ahead: fetch just that page
                single = self._page(limit, continue_token, resource_version, resource_version_match, cancellation)
                return _list_page(single)
            list_cancellation = Cancellation()
            pages = self.resource.list(
                label_selector=self._label_selector,
                field_selector=self._field_selector,
                limit=limit or 0,
                resource_version=resource_version or None,  # "" (a consistent read) is the same as none
                resource_version_match=_match(resource_version_match),
                metadata_only=self._metadata_only,
                cancellation=list_cancellation,
            ).pages()
        unlink = cancellation.on_cancel(list_cancellation.cancel) if cancellation is not None else None
        try:
            page = _list_page(next(pages))
        except BaseException:
            pages.close()
            raise
        finally:
            if unlink is not None:
                unlink()
        if page.continue_token:
            with self._lock:
                self._pager = (page.continue_token, pages, list_cancellation)
        else:
            pages.close()
        return page

    def _page(
        self,
        limit: int | None,
        continue_token: str,
        resource_version: str | None,
        match: str | None,
        cancellation: Cancellation | None,
    ) -> JSONObject:
        return self.resource.list_page(
            label_selector=self._label_selector,
            field_selector=self._field_selector,
            limit=limit or 0,
            continue_token=continue_token,
            resource_version=resource_version or None,
            resource_version_match=_match(match),
            metadata_only=self._metadata_only,
            cancellation=cancellation,
        )

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
        """Open a watch; see :meth:`ListerWatcher.watch`."""
        return self.resource.watch(
            label_selector=self._label_selector,
            field_selector=self._field_selector,
            resource_version=resource_version,
            resource_version_match=_match(resource_version_match),
            allow_bookmarks=allow_bookmarks,
            send_initial_events=send_initial_events or None,
            timeout_seconds=timeout_seconds,
            metadata_only=self._metadata_only,
            cancellation=cancellation,
        )


def _list_page(page: JSONObject) -> ListPage:
    metadata = page.get("metadata") or {}
    return ListPage(page.get("items") or [], str(metadata.get("resourceVersion") or ""), metadata.get("continue") or "")


def _match(value: str | None) -> ResourceVersionMatch | None:
    if value in (None, "NotOlderThan", "Exact"):
        return cast("ResourceVersionMatch | None", value)
    raise ValueError(f"resourceVersionMatch {value!r} is not NotOlderThan or Exact")


__all__ = ["ListPage", "ListerWatcher", "ReflectorSink", "ResourceListWatch", "WatchStream"]
