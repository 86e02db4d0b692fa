"""ResourceClient: the Kubernetes verbs on one resource, in one namespace or none; objects are plain dicts.

Arguments are checked, requests built (:mod:`dynaclient.resources.requests`) and answers decoded by
:class:`~dynaclient.resources.verbs.ResourceVerbs`, which the asyncio client shares;
:class:`~dynaclient.client.APIClient` adds authentication, retries (429 and 5xx with ``Retry-After``) and typed
errors. Lists are lazy and paginated (:class:`~dynaclient.resources.listing.ObjectList`); watches are closable
streams (:class:`~dynaclient.watch.stream.Watch`). See :mod:`dynaclient.resources.dynamic` for how namespaces are
chosen.
"""

from __future__ import annotations

from typing import cast

from dynaclient._json_decoding import loads
from dynaclient._types import JSONObject, ObjectT
from dynaclient.client import APIClient
from dynaclient.request import Cancellation, Request
from dynaclient.resources._list_bodies import HEAD_BYTES, ListDecoder
from dynaclient.resources.listing import DEFAULT_PAGE_SIZE, ObjectList
from dynaclient.resources.options import ListOptions, ResourceVersionMatch
from dynaclient.resources.pages import StreamedPage, TokenCallback, fill_list_items
from dynaclient.resources.verbs import (
    DEFAULT_TIMEOUT,
    FieldSelector,
    LabelSelector,
    ResourceVerbs,
    decode_answer,
    streamed_page,
)
from dynaclient.streams.pods import PodStreams
from dynaclient.wait.awaiting import await_condition, await_deletion
from dynaclient.wait.conditions import Predicate
from dynaclient.watch.stream import Watch


class ResourceClient(PodStreams, ResourceVerbs[APIClient, ObjectT, JSONObject, ObjectT]):
    """The verbs on one resource, in one namespace or none; returned objects are plain dicts.

    Build it with :meth:`DynamicClient.resource`; :meth:`namespace` returns a copy bound to a namespace. For pods
    it also reads logs, runs exec and attach, and forwards ports (:class:`~dynaclient.streams.PodStreams`).

    ``ResourceClient[Pod]`` (from ``client.resource("pods", Pod)``, with a generated ``TypedDict``) types the
    objects of ``get``, ``list``, ``watch``, ``create``, ``update``, ``patch`` and ``apply`` as ``Pod`` for the
    type checker; at run time they are the same dicts. A subresource, or ``metadata_only``, answers another kind:
    read those through an untyped client. ``apply`` takes the type's required keys like ``create``: a TypedDict
    has no all-optional form like client-go's apply configurations, so partial intents that leave out a
    required key go through an untyped client.

    Attributes:
        api_resource: the resource addressed, as discovery describes it.

    Thread-safety: immutable; share it between threads.
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
        cancellation: Cancellation | None = None,
    ) -> ObjectList[ObjectT]:
        """Return a lazy list: pages of ``limit`` items are fetched as it is iterated.

        Every item gets the list's ``apiVersion`` and its ``kind`` when the server leaves them out. With
        ``metadata_only`` the items are ``PartialObjectMetadata``. See
        :class:`~dynaclient.resources.listing.ObjectList` for
        :attr:`~dynaclient.resources.listing.ObjectList.resource_version` and for what ``restart_on_expired`` does when
        a continue token expires (otherwise :class:`~dynaclient.exceptions.GoneError` is raised).

        Args:
            label_selector: a selector string or mapping.
            field_selector: a selector string or mapping.
            limit: the page size; ``0`` fetches everything in one request.
            resource_version: the list's resourceVersion semantics (``None``: consistent read).
            resource_version_match: ``NotOlderThan`` or ``Exact``.
            timeout_seconds: the server's time limit for each page.
            metadata_only: list ``PartialObjectMetadata`` items.
            restart_on_expired: relist in full when a continue token expires.
            prefetch: fetch the next page in a background thread while the current one is decoded and consumed.
            cancellation: cancelling it from another thread aborts the page request in flight, which raises
                :class:`~dynaclient.exceptions.RequestCancelled`.

        Raises:
            SelectorError: a selector is invalid.
        """
        options = ListOptions(
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            timeout_seconds=timeout_seconds,
        )
        return ObjectList(
            lambda page, on_token: self._fetch_list_page(page, metadata_only, cancellation, on_token),
            options,
            restart_on_expired=restart_on_expired,
            prefetch=prefetch,
        )

    def list_page(
        self,
        *,
        label_selector: LabelSelector = None,
        field_selector: FieldSelector = None,
        limit: int = DEFAULT_PAGE_SIZE,
        continue_token: str | None = None,
        resource_version: str | None = None,
        resource_version_match: ResourceVersionMatch | None = None,
        metadata_only: bool = False,
        cancellation: Cancellation | None = None,
    ) -> JSONObject:
        """Fetch one page of the list, for callers that follow continue tokens themselves (reflectors, pagers).

        ``cancellation`` aborts the request from another thread (:class:`~dynaclient.exceptions.RequestCancelled`).

        Returns:
            The decoded list object; each item has ``apiVersion`` and ``kind``; ``metadata.continue`` is the next
            page's token (absent or empty on the last page).

        Raises:
            GoneError: the resourceVersion or continue token has expired.
        """
        options = ListOptions(
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_token=continue_token,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
        )
        page = self._fetch_list_page(options, metadata_only, cancellation).decode()
        fill_list_items(page)
        return page

    def _fetch_list_page(
        self,
        options: ListOptions,
        metadata_only: bool,
        cancellation: Cancellation | None = None,
        on_token: TokenCallback | None = None,
    ) -> StreamedPage:
        """Send a list request and read its answer, decoding the items as the body arrives.

        ``on_token`` is told the page's continue token once the body's first 16 KiB are in (where a built-in list
        names it; ``None`` for lists that name it at their end), so the next page can be requested at once.
        """
        request = self._list_request(options, metadata_only, cancellation)
        decoder = ListDecoder(loads)
        page = streamed_page(decoder, request)
        received = 0
        for chunk in self._api_client.send(request).iter_chunks():
            decoder.feed(chunk)
            if on_token is not None and (received := received + len(chunk)) >= HEAD_BYTES:
                on_token(page.continue_token())
                on_token = None
        return page

    def watch(
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
        cancellation: Cancellation | None = None,
    ) -> Watch[ObjectT]:
        """Start a watch and return its open event stream.

        Args:
            label_selector: a selector string or mapping.
            field_selector: a selector string or mapping.
            resource_version: stream the changes after this version; ``None`` or ``"0"`` starts with synthetic
                ``ADDED`` events for the current objects.
            resource_version_match: ``NotOlderThan`` (required with ``send_initial_events``).
            allow_bookmarks: let the server send ``BOOKMARK`` events (it may send none).
            send_initial_events: start with the current objects, then a bookmark annotated
                ``k8s.io/initial-events-end``.
            timeout_seconds: the server ends the stream after this many seconds.
            metadata_only: watch ``PartialObjectMetadata`` objects.
            cancellation: the watch's cancellation, to abort it from another thread even before it is open (its
                :meth:`~dynaclient.watch.stream.Watch.close` cancels it too); a new one by default.

        Raises:
            APIError: the server refused the watch.
        """
        options = ListOptions(
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            allow_bookmarks=allow_bookmarks,
            send_initial_events=send_initial_events,
            timeout_seconds=timeout_seconds,
        )
        cancellation = cancellation or Cancellation()
        request = self._watch_request(options, metadata_only, cancellation)
        return Watch(self._api_client.send(request), cancellation)

    def wait_for(self, name: str, condition: Predicate, timeout: float | None = None) -> ObjectT | None:
        """Wait until object ``name`` satisfies ``condition`` and return that state (see :mod:`dynaclient.wait`).

        Raises:
            WaitTimeoutError: ``timeout`` seconds passed first (``None``: no limit).
        """
        return cast("ObjectT | None", await_condition(self, name, condition, timeout))

    def wait_for_deletion(self, name: str, timeout: float | None = None) -> None:
        """Wait until object ``name`` is gone (or replaced by a new object of that name).

        Raises:
            WaitTimeoutError: ``timeout`` seconds passed first (``None``: no limit).
        """
        await_deletion(self, name, timeout)

    def _send(self, request: Request) -> JSONObject:
        timed = self._timed(request)
        return decode_answer(self._api_client.send(timed).read(), timed)

    def _send_object(self, request: Request) -> ObjectT:
        # The answer is the plain dict; ObjectT only tells the type checker what is in it (a cast costs ~50 ns).
        return cast(ObjectT, self._send(request))


__all__ = ["DEFAULT_TIMEOUT", "FieldSelector", "LabelSelector", "ResourceClient", "decode_answer"]
