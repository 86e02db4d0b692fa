"""AsyncResourceClient: the verbs of :class:`~dynaclient.resources.client.ResourceClient`, awaited.

Both clients are :class:`~dynaclient.resources.verbs.ResourceVerbs`: arguments are checked, requests built and
answers decoded by the same code; this class only sends, awaiting. Namespaces follow
:mod:`dynaclient.resources.dynamic`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Coroutine
from typing import Any, cast

from dynaclient._json_decoding import loads
from dynaclient._types import JSONObject, ObjectT
from dynaclient.aio.client import AsyncAPIClient
from dynaclient.aio.listing import AsyncObjectList, TokenCallback, load_page
from dynaclient.aio.streams.pods import AsyncPodStreams
from dynaclient.aio.watching import AsyncWatch
from dynaclient.request import Request
from dynaclient.resources._list_bodies import HEAD_BYTES, ListDecoder
from dynaclient.resources.listing import DEFAULT_PAGE_SIZE
from dynaclient.resources.options import ListOptions, ResourceVersionMatch
from dynaclient.resources.pages import StreamedPage
from dynaclient.resources.verbs import (
    FieldSelector,
    LabelSelector,
    ResourceVerbs,
    decode_answer,
    streamed_page,
)


class AsyncResourceClient(
    AsyncPodStreams,
    ResourceVerbs[AsyncAPIClient, Coroutine[Any, Any, ObjectT], Coroutine[Any, Any, JSONObject], ObjectT],
):
    """The verbs on one resource, in one namespace or none, as coroutines; returned objects are plain dicts.

    Get it with ``await client.resource(...)``; :meth:`namespace` returns a copy bound to a namespace. Arguments,
    results and errors are those of :class:`~dynaclient.resources.client.ResourceClient`. ``list`` returns an
    :class:`~dynaclient.aio.listing.AsyncObjectList` at once (``async for``); ``await watch(...)`` returns an open
    :class:`~dynaclient.aio.watching.AsyncWatch`. For pods it also reads logs, runs exec and attach, and forwards
    ports (:class:`~dynaclient.aio.streams.AsyncPodStreams`).

    Attributes:
        api_resource: the resource addressed, as discovery describes it.

    Thread-safety: immutable; use it from the event loop of its client.
    """

    __slots__ = ()

    def list(
        self,
        *,
        label_selector: LabelSelector = None,
        field_selector: FieldSelector = None,
        limit: int = DEFAULT_PAGE_SIZE,
        resource_version: str | None = None,
        resource_version_match: ResourceVersionMatch | None = None,
        timeout_seconds: int | None = None,
        metadata_only: bool = False,
        restart_on_expired: bool = False,
        prefetch: bool = True,
    ) -> AsyncObjectList[ObjectT]:
        """Return a lazy list for ``async for``: pages of ``limit`` items are fetched as it is iterated.

        See ``ResourceClient.list`` for the arguments.
        """
        options = ListOptions(
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            timeout_seconds=timeout_seconds,
        )

        async def fetch(page: ListOptions, on_token: TokenCallback) -> StreamedPage:
            return await self._fetch_list_page(page, metadata_only, on_token)

        return AsyncObjectList(fetch, options, restart_on_expired=restart_on_expired, prefetch=prefetch)

    async def list_page(
        self,
        *,
        label_selector: LabelSelector = None,
        field_selector: FieldSelector = None,
        limit: int = DEFAULT_PAGE_SIZE,
        continue_token: str | None = None,
        resource_version: str | None = None,
        resource_version_match: ResourceVersionMatch | None = None,
        metadata_only: bool = False,
    ) -> JSONObject:
        """Fetch one page of the list (reflectors, pagers); see ``ResourceClient.list_page``."""
        options = ListOptions(
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_token=continue_token,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
        )
        return await load_page(await self._fetch_list_page(options, metadata_only))

    async def _fetch_list_page(
        self, options: ListOptions, metadata_only: bool, on_token: TokenCallback | None = None
    ) -> StreamedPage:
        """Send a list request and read its answer, decoding the items as the body arrives.

        ``on_token`` is told the page's continue token once the body's first 16 KiB are in (where a built-in list
        names it; ``None`` for lists that name it at their end), so the next page can be requested at once.
        Each read takes every chunk already buffered (aiohttp ``StreamReader.readany``), so the next one waits for
        the network: other tasks run between chunks without a yield of ours. The response is released however the
        read ends (``aclosing``: a cancelled prefetch task does not leave its connection acquired).
        """
        request = self._list_request(options, metadata_only)
        decoder = ListDecoder(loads)
        page = streamed_page(decoder, request)
        received = 0
        response = await self._api_client.send(request)
        async with contextlib.aclosing(response.iter_chunks()) as chunks:
            async for chunk in chunks:
                decoder.feed(chunk)
                if on_token is not None and (received := received + len(chunk)) >= HEAD_BYTES:
                    on_token(page.continue_token())
                    on_token = None
        return page

    async def watch(
        self,
        *,
        label_selector: LabelSelector = None,
        field_selector: FieldSelector = None,
        resource_version: str | None = None,
        resource_version_match: ResourceVersionMatch | None = None,
        allow_bookmarks: bool = False,
        send_initial_events: bool | None = None,
        timeout_seconds: int | None = None,
        metadata_only: bool = False,
    ) -> AsyncWatch[ObjectT]:
        """Start a watch and return its open event stream; see ``ResourceClient.watch``."""
        options = ListOptions(
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            allow_bookmarks=allow_bookmarks,
            send_initial_events=send_initial_events,
            timeout_seconds=timeout_seconds,
        )
        request = self._watch_request(options, metadata_only)
        return AsyncWatch(await self._api_client.send(request))

    async def _send(self, request: Request) -> JSONObject:
        timed = self._timed(request)
        return decode_answer(await (await self._api_client.send(timed)).read(), timed)

    async def _send_object(self, request: Request) -> ObjectT:
        return cast(ObjectT, await self._send(request))


__all__ = ["AsyncResourceClient"]
