"""The asyncio ListerWatcher contract and its adapter over :class:`dynaclient.aio.AsyncResourceClient`.

:class:`AsyncListerWatcher` is :class:`~informers.reflector.listwatch.ListerWatcher` with coroutines: list pages come
as the same :class:`~informers.reflector.listwatch.ListPage` values and watches as
:class:`~dynaclient.aio.AsyncWatch` streams.
The reflector's state machine holds an open watch as an opaque :class:`~informers.reflector.listwatch.WatchStream`;
:class:`HeldWatch` is that handle for an async stream (closing it from the watchdog ends the reading task's wait).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Protocol

from dynaclient import JSONObject, WatchEvent
from dynaclient.aio import AsyncObjectList, AsyncResourceClient, AsyncWatch
from informers.reflector.listwatch import ListPage, _list_page, _match  # the same page reading and option checks


class AsyncEventStream(Protocol):
    """An open async watch: ``async for`` its events; :meth:`close` (from any task) ends the iteration."""

    def __aiter__(self) -> AsyncIterator[WatchEvent]: ...

    def close(self) -> None:
        """Stop the watch; a pending ``async for`` ends promptly."""
        ...


class AsyncListerWatcher(Protocol):
    """Lists and watches one resource in one scope, with coroutines.

    See :class:`~informers.reflector.listwatch.ListerWatcher`.

    Cancelling the awaiting task cancels the request.
    """

    async def list_page(
        self,
        *,
        limit: int | None,
        continue_token: str | None,
        resource_version: str | None,
        resource_version_match: str | None,
    ) -> ListPage:
        """Fetch one page of the list (errors as :meth:`ListerWatcher.list_page`)."""
        ...

    async def watch(
        self,
        *,
        resource_version: str,
        allow_bookmarks: bool,
        timeout_seconds: int | None,
        send_initial_events: bool,
        resource_version_match: str | None,
    ) -> AsyncEventStream:
        """Open a watch from ``resource_version`` (errors as :meth:`ListerWatcher.watch`)."""
        ...


class HeldWatch:
    """An open async watch as the state machine and the watchdog hold it: closable, never iterated synchronously.

    Thread-safety: confined to the reflector's event loop.
    """

    def __init__(self, stream: AsyncEventStream) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[WatchEvent]:
        raise TypeError("an async watch is read with async for (see AsyncReflector)")

    def close(self) -> None:
        """Close the async watch."""
        self.stream.close()


class AsyncResourceListWatch:
    """An :class:`AsyncListerWatcher` over a :class:`~dynaclient.aio.AsyncResourceClient`.

    A paginated list is read through one :class:`~dynaclient.aio.AsyncObjectList`, which fetches the next page while
    the reflector stores the current one: the call for the continue token the last page returned takes that page;
    any other call starts afresh (as :class:`~informers.reflector.listwatch.ResourceListWatch`).

    Thread-safety: confined to one event loop; calls do not overlap (one reflector).
    """

    def __init__(
        self,
        resource: AsyncResourceClient,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        metadata_only: bool = False,
    ) -> None:
        self.resource = resource
        self._label_selector = label_selector
        self._field_selector = field_selector
        self._metadata_only = metadata_only
        self._pager: tuple[str, AsyncIterator[JSONObject]] | None = None

    def __repr__(self) -> str:
        return f"<AsyncResourceListWatch {self.resource!r} labels={self._label_selector!r}>"

    async def list_page(
        self,
        *,
        limit: int | None,
        continue_token: str | None,
        resource_version: str | None,
        resource_version_match: str | None,
    ) -> ListPage:
        """Fetch one page; see :meth:`AsyncListerWatcher.list_page`."""
        pager, self._pager = self._pager, None
        if pager is not None and continue_token and pager[0] == continue_token:
            pages = pager[1]
        elif continue_token:
            single = await self.resource.list_page(
                label_selector=self._label_selector,
                field_selector=self._field_selector,
                limit=limit or 0,
                continue_token=continue_token,
                metadata_only=self._metadata_only,
            )
            return _list_page(single)
        else:
            listing: AsyncObjectList[JSONObject] = self.resource.list(
                label_selector=self._label_selector,
                field_selector=self._field_selector,
                limit=limit or 0,
                resource_version=resource_version or None,
                resource_version_match=_match(resource_version_match),
                metadata_only=self._metadata_only,
            )
            pages = aiter(listing.pages())
        page = _list_page(await anext(pages))
        if page.continue_token:
            self._pager = (page.continue_token, pages)
        return page

    async def watch(
        self,
        *,
        resource_version: str,
        allow_bookmarks: bool,
        timeout_seconds: int | None,
        send_initial_events: bool,
        resource_version_match: str | None,
    ) -> AsyncWatch[JSONObject]:
        """Open a watch; see :meth:`AsyncListerWatcher.watch`."""
        watch: AsyncWatch[JSONObject] = await self.resource.watch(
            label_selector=self._label_selector,
            field_selector=self._field_selector,
            resource_version=resource_version,
            resource_version_match=_match(resource_version_match),
            allow_bookmarks=allow_bookmarks,
            send_initial_events=send_initial_events or None,
            timeout_seconds=timeout_seconds,
            metadata_only=self._metadata_only,
        )
        return watch


__all__ = ["AsyncEventStream", "AsyncListerWatcher", "AsyncResourceListWatch", "HeldWatch"]
