"""Lazy, paginated lists for ``async for``: the paging rules of :mod:`dynaclient.resources.listing`, awaited.

Paging, item filling, continue-token expiry and the list's head metadata are the synchronous pager's own helpers
(:func:`~dynaclient.resources.listing.next_page_options`, :func:`~dynaclient.resources.listing.fill_list_items`,
:func:`~dynaclient.resources.listing.list_head`). The next page is requested in a task as soon as the current
page's head names its continue token, while that page's items are consumed (client-go ``eachListChunkBuffered``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import replace
from typing import Any, Generic

from dynaclient._types import JSONObject, ObjectT
from dynaclient.exceptions import GoneError
from dynaclient.resources.listing import FetchedPage, continue_token, fill_list_items, list_head, next_page_options
from dynaclient.resources.options import ListOptions

AsyncPageFetcher = Callable[[ListOptions], Awaitable[FetchedPage]]
"""Fetches one page of a list for the given options."""


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
            self._first = await self._load_head(await self._fetch(self._options))
        if self._first is None:
            raise RuntimeError("the list is already being iterated")
        return self._first

    async def __aiter__(self) -> AsyncGenerator[ObjectT, None]:
        async for page, _ in self._pages():
            for item in page["items"]:
                yield item

    async def pages(self) -> AsyncGenerator[JSONObject, None]:
        """Yield each page as its decoded list object, items filled in."""
        async for page, _ in self._pages():
            yield page

    async def to_list(self) -> JSONObject:
        """Fetch every page and return one list object: first page's metadata without ``continue``, all items."""
        items: list[JSONObject] = []
        async for page, restarted in self._pages():
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
        ahead: tuple[str, asyncio.Task[FetchedPage]] | None = None
        try:
            if page is None:
                fetched = await self._fetch(self._options)
                ahead = self._ahead(fetched)
                page = await self._load_head(fetched)
            while True:
                yield page, False
                token = continue_token(page)
                if not token:
                    return
                try:
                    if ahead is not None and ahead[0] == token:
                        fetched = await ahead[1]
                    else:
                        fetched = await self._fetch(next_page_options(self._options, token))
                    ahead = self._ahead(fetched)
                    page = await load_page(fetched)
                except GoneError:
                    if not self._restart_on_expired:
                        raise
                    self.restarted = True
                    yield await self._load_head(await self._fetch(replace(self._options, limit=0))), True
                    return
        finally:
            if ahead is not None and not ahead[1].done():
                ahead[1].cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ahead[1]

    def _ahead(self, fetched: FetchedPage) -> tuple[str, asyncio.Task[FetchedPage]] | None:
        token = fetched.continue_token() if self._prefetch else None
        if not token:
            return None
        return token, asyncio.ensure_future(self._fetch(next_page_options(self._options, token)))

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


def _decode_page(fetched: FetchedPage) -> JSONObject:
    page = fetched.decode()
    fill_list_items(page)
    return page


__all__ = ["AsyncObjectList", "AsyncPageFetcher", "load_page"]
