"""Lazy, paginated lists for ``async for``: the paging rules of :mod:`dynaclient.resources.listing`, awaited.

Paging, item filling, continue-token expiry and the list's head metadata are the synchronous pager's own helpers
(:func:`~dynaclient.resources.pages.next_page_options`, :func:`~dynaclient.resources.pages.fill_list_items`,
:func:`~dynaclient.resources.pages.list_head`). The next page is requested in a task as soon as the current
page's head names its continue token (client-go ``eachListChunkBuffered`` fetches ahead too, up to ten pages): the
server prepares page N+1 while page N's body is still arriving and its items are consumed. At most one page is
fetched ahead of the one being read; the fetcher reports the token when the head is in, or the page does once read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import replace
from typing import Any, Generic

from dynaclient._types import JSONObject, ObjectT
from dynaclient.exceptions import GoneError
from dynaclient.resources.options import ListOptions
from dynaclient.resources.pages import (
    FetchedPage,
    TokenCallback,
    continue_token,
    fill_list_items,
    ignore_token,
    list_head,
    next_page_options,
)

AsyncPageFetcher = Callable[[ListOptions, TokenCallback], Awaitable[FetchedPage]]
"""Fetches one page of a list for the given options; may call the callback once, with the page's continue token
as soon as the body's head names it, before the body ends."""


class AsyncObjectList(Generic[ObjectT]):
    """A list request that fetches its pages as it is iterated with ``async for``, yielding dicts (typed ``ObjectT``).

    Iterate it once, or await :meth:`to_list` once. ``await objects.first_page()`` fetches the first page early,
    so :attr:`resource_version` is known before the first item is read. See
    :class:`~dynaclient.resources.listing.ObjectList` for ``restart_on_expired``.

    Args:
        fetch: fetches one page for the given options.
        options: the list options; ``limit`` is the page size.
        restart_on_expired: relist in full when a continue token expires, instead of raising.
        prefetch: fetch the next page in a task while the current one is consumed.

    Thread-safety: confined to one event loop; iterated by one task at a time.
    """

    def __init__(
        self, fetch: AsyncPageFetcher, options: ListOptions, *, restart_on_expired: bool = False, prefetch: bool = True
    ) -> None:
        self._fetch = fetch
        self._options = options
        self._restart_on_expired = restart_on_expired
        self._prefetch = prefetch
        self._first: JSONObject | None = None
        self._started = False
        self._ended = False
        self._ahead: tuple[str, asyncio.Task[FetchedPage]] | None = None
        self._metadata: dict[str, Any] = {}
        self.api_version = ""
        self.kind = ""
        self.restarted = False

    def __repr__(self) -> str:
        return f"<AsyncObjectList {self._options.query()}>"

    @property
    def resource_version(self) -> str:
        """The list's resourceVersion, once its first page is in (see :meth:`first_page`); ``""`` before."""
        value = self._metadata.get("resourceVersion")
        return value if isinstance(value, str) else ""

    async def first_page(self) -> JSONObject:
        """Fetch the first page now (iteration then starts with it) and return it."""
        if self._first is None and not self._started:
            self._first = await self._load_head(await self._fetch(self._options, ignore_token))
        if self._first is None:
            raise RuntimeError("the list is already being iterated")
        return self._first

    async def __aiter__(self) -> AsyncGenerator[ObjectT, None]:
        async with contextlib.aclosing(self._pages()) as pages:  # closed with this one: nothing left fetching
            async for page, _ in pages:
                for item in page["items"]:
                    yield item

    async def pages(self) -> AsyncGenerator[JSONObject, None]:
        """Yield each page as its decoded list object, items filled in."""
        async with contextlib.aclosing(self._pages()) as pages:
            async for page, _ in pages:
                yield page

    async def to_list(self) -> JSONObject:
        """Fetch every page and return one list object: first page's metadata without ``continue``, all items."""
        items: list[JSONObject] = []
        async with contextlib.aclosing(self._pages()) as pages:
            async for page, restarted in pages:
                if restarted:
                    items = []
                items.extend(page["items"])
        return {"apiVersion": self.api_version, "kind": self.kind, "metadata": dict(self._metadata), "items": items}

    async def _pages(self) -> AsyncGenerator[tuple[JSONObject, bool], None]:
        if self._started:
            raise RuntimeError("an AsyncObjectList is iterated once; call list() again for a fresh list")
        page = self._first if self._first is not None else None
        self._started = True
        self._first = None
        awaited: asyncio.Future[FetchedPage] | None = None  # the page fetched ahead, once taken
        try:
            if page is None:
                fetched = await self._fetch(self._options, self._fetch_ahead)
                self._fetch_ahead(fetched.continue_token())
                page = await self._load_head(fetched)
            while True:
                yield page, False
                token = continue_token(page)
                if not token:
                    return
                try:
                    ahead, self._ahead = self._ahead, None
                    if ahead is not None and ahead[0] == token:
                        awaited = ahead[1]
                        fetched = await awaited
                    else:
                        _cancel(ahead[1] if ahead is not None else None)
                        fetched = await self._fetch(next_page_options(self._options, token), self._fetch_ahead)
                    awaited = None
                    self._fetch_ahead(fetched.continue_token())
                    page = await load_page(fetched)
                except GoneError:
                    if not self._restart_on_expired:
                        raise
                    self.restarted = True
                    yield await self._load_head(await self._fetch(replace(self._options, limit=0), ignore_token)), True
                    return
        finally:
            self._ended = True
            for task in (awaited, self._ahead[1] if self._ahead is not None else None):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    def _fetch_ahead(self, token: str | None) -> None:
        """Start fetching the page at ``token`` in a task, unless one is already ahead (or prefetch is off)."""
        if token and self._prefetch and self._ahead is None and not self._ended:
            options = next_page_options(self._options, token)
            self._ahead = token, asyncio.ensure_future(self._fetch(options, self._fetch_ahead))

    async def _load_head(self, fetched: FetchedPage) -> JSONObject:
        page = await load_page(fetched)
        self.api_version, self.kind, self._metadata = list_head(page)
        return page


async def load_page(fetched: FetchedPage) -> JSONObject:
    """Decode a fetched page and fill in its items, in a worker thread.

    A page of 500 objects took up to 20 ms to decode (orjson): on the loop that is a slow callback, and under load
    several times that; in a thread the loop keeps running between the interpreter's switches.
    """
    return await asyncio.to_thread(_decode_page, fetched)


def _cancel(task: asyncio.Future[FetchedPage] | None) -> None:
    if task is not None and not task.done():
        task.cancel()


def _decode_page(fetched: FetchedPage) -> JSONObject:
    page = fetched.decode()
    fill_list_items(page)
    return page


__all__ = ["AsyncObjectList", "AsyncPageFetcher", "TokenCallback", "load_page"]
