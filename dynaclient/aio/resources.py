"""AsyncResourceClient: the verbs of :class:`~dynaclient.resource_client.ResourceClient`, awaited.

Every request is built by the same pure builders of :mod:`dynaclient.resource_request` and every answer decoded
by the same :func:`~dynaclient.resource_client.decode_answer`; only sending is asynchronous. Namespaces follow
:mod:`dynaclient.dynamic`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Generic, cast

from dynaclient._json_decoding import loads
from dynaclient._list_bodies import ListDecoder
from dynaclient._types import JSONObject, ObjectT
from dynaclient.aio.client import AsyncAPIClient
from dynaclient.aio.listing import AsyncObjectList, load_page
from dynaclient.aio.streams.pods import AsyncPodStreams
from dynaclient.aio.watching import AsyncWatch
from dynaclient.discovery import APIResource
from dynaclient.listing import DEFAULT_PAGE_SIZE, StreamedPage
from dynaclient.request import Request
from dynaclient.resource_client import DEFAULT_TIMEOUT, FieldSelector, LabelSelector, decode_answer
from dynaclient.resource_options import (
    DeleteOptions,
    FieldValidation,
    ListOptions,
    PatchType,
    Preconditions,
    PropagationPolicy,
    ResourceVersionMatch,
    WriteOptions,
)
from dynaclient.resource_request import (
    PatchBody,
    apply_request,
    create_request,
    delete_collection_request,
    delete_request,
    get_request,
    list_request,
    patch_request,
    resource_path,
    update_request,
    watch_request,
)


class AsyncResourceClient(AsyncPodStreams, Generic[ObjectT]):
    """The verbs on one resource, in one namespace or none, as coroutines; returned objects are plain dicts.

    Get it with ``await client.resource(...)``; :meth:`namespace` returns a copy bound to a namespace. Arguments,
    results and errors are those of :class:`~dynaclient.resource_client.ResourceClient`. ``list`` returns an
    :class:`~dynaclient.aio.listing.AsyncObjectList` at once (``async for``); ``await watch(...)`` returns an open
    :class:`~dynaclient.aio.watching.AsyncWatch`. For pods it also reads logs, runs exec and attach, and forwards
    ports (:class:`~dynaclient.aio.streams.AsyncPodStreams`).

    Attributes:
        api_resource: the resource addressed, as discovery describes it.

    Thread-safety: immutable; use it from the event loop of its client.
    """

    __slots__ = ("_api_client", "_namespace", "_timeout", "api_resource")

    def __init__(
        self,
        api_client: AsyncAPIClient,
        api_resource: APIResource,
        *,
        namespace: str = "",
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        resource_path(api_resource, namespace)  # rejects a bad namespace, or one for a cluster-scoped resource
        self._api_client = api_client
        self._namespace = namespace
        self._timeout = timeout
        self.api_resource = api_resource

    def __repr__(self) -> str:
        where = f" namespace={self._namespace}" if self._namespace else ""
        return f"<AsyncResourceClient {self.api_resource.gvr}{where}>"

    @property
    def namespace_name(self) -> str:
        """The namespace this client is bound to; ``""`` for none."""
        return self._namespace

    def namespace(self, namespace: str) -> AsyncResourceClient[ObjectT]:
        """Return a copy bound to ``namespace`` (``""``: none); see ``ResourceClient.namespace``."""
        bound = AsyncResourceClient(self._api_client, self.api_resource, namespace=namespace, timeout=self._timeout)
        return cast("AsyncResourceClient[ObjectT]", bound)

    async def get(
        self, name: str, *, subresource: str = "", resource_version: str | None = None, metadata_only: bool = False
    ) -> ObjectT:
        """Return the object ``name`` (or its ``subresource``); see ``ResourceClient.get``."""
        request = get_request(
            self.api_resource,
            name,
            namespace=self._namespace,
            subresource=subresource,
            resource_version=resource_version,
            metadata_only=metadata_only,
        )
        return await self._send_object(request)

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

        async def fetch(page: ListOptions) -> StreamedPage:
            return await self._fetch_list_page(page, metadata_only)

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

    async def _fetch_list_page(self, options: ListOptions, metadata_only: bool) -> StreamedPage:
        """Send a list request, decoding the items as the body arrives (between awaits, so the loop stays free)."""
        request = self._timed(
            list_request(self.api_resource, namespace=self._namespace, options=options, metadata_only=metadata_only)
        )
        decoder = ListDecoder(loads)
        async for chunk in (await self._api_client.send(request)).iter_chunks():
            decoder.feed(chunk)
            await asyncio.sleep(0)  # chunks already buffered arrive without a pause: let other tasks run between them
        return StreamedPage(decoder, lambda body: decode_answer(body, request, pieces=False))

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
        request = watch_request(
            self.api_resource, namespace=self._namespace, options=options, metadata_only=metadata_only
        )
        return AsyncWatch(await self._api_client.send(request))

    async def create(
        self,
        body: ObjectT,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> ObjectT:
        """Create ``body`` and return the server's object; see ``ResourceClient.create``."""
        options = WriteOptions(dry_run=dry_run, field_manager=field_manager, field_validation=field_validation)
        request = create_request(
            self.api_resource, _dict(body), namespace=self._namespace, subresource=subresource, options=options
        )
        return await self._send_object(request)

    async def update(
        self,
        body: ObjectT,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> ObjectT:
        """Replace the object ``body`` names; see ``ResourceClient.update``."""
        options = WriteOptions(dry_run=dry_run, field_manager=field_manager, field_validation=field_validation)
        request = update_request(
            self.api_resource, _dict(body), namespace=self._namespace, subresource=subresource, options=options
        )
        return await self._send_object(request)

    async def update_status(
        self,
        body: ObjectT,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> ObjectT:
        """Replace the ``status`` subresource of the object ``body`` names."""
        return await self.update(
            body, subresource="status", dry_run=dry_run, field_manager=field_manager, field_validation=field_validation
        )

    async def patch(
        self,
        name: str,
        patch: PatchBody,
        *,
        patch_type: PatchType = "merge",
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
        force: bool | None = None,
    ) -> ObjectT:
        """Patch the object ``name`` (or its subresource); see ``ResourceClient.patch``."""
        options = WriteOptions(dry_run, field_manager, field_validation, force)
        request = patch_request(
            self.api_resource,
            name,
            patch,
            patch_type=patch_type,
            namespace=self._namespace,
            subresource=subresource,
            options=options,
        )
        return await self._send_object(request)

    async def apply(
        self,
        body: ObjectT,
        *,
        field_manager: str,
        force: bool = False,
        subresource: str = "",
        dry_run: bool = False,
        field_validation: FieldValidation | None = None,
    ) -> ObjectT:
        """Server-side apply ``body``; see ``ResourceClient.apply``."""
        options = WriteOptions(dry_run, field_manager, field_validation, force)
        request = apply_request(
            self.api_resource, _dict(body), namespace=self._namespace, subresource=subresource, options=options
        )
        return await self._send_object(request)

    async def delete(
        self,
        name: str,
        *,
        subresource: str = "",
        propagation_policy: PropagationPolicy | None = None,
        grace_period_seconds: int | None = None,
        preconditions: Preconditions | None = None,
        dry_run: bool = False,
    ) -> JSONObject:
        """Delete the object ``name``; return the server's answer (the object, or a ``Status``)."""
        options = DeleteOptions(propagation_policy, grace_period_seconds, preconditions, dry_run)
        return await self._send(
            delete_request(self.api_resource, name, namespace=self._namespace, subresource=subresource, options=options)
        )

    async def delete_collection(
        self,
        *,
        label_selector: LabelSelector = None,
        field_selector: FieldSelector = None,
        propagation_policy: PropagationPolicy | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
    ) -> JSONObject:
        """Delete every object the selectors match (in the bound namespace, or all) and return the server's answer."""
        list_options = ListOptions(label_selector=label_selector, field_selector=field_selector)
        options = DeleteOptions(propagation_policy, grace_period_seconds, None, dry_run)
        request = delete_collection_request(
            self.api_resource, namespace=self._namespace, options=options, list_options=list_options
        )
        return await self._send(request)

    async def _send(self, request: Request) -> JSONObject:
        timed = self._timed(request)
        return decode_answer(await (await self._api_client.send(timed)).read(), timed)

    async def _send_object(self, request: Request) -> ObjectT:
        return cast(ObjectT, await self._send(request))

    def _timed(self, request: Request) -> Request:
        return request if self._timeout is None else replace(request, timeout=self._timeout)


def _dict(body: Mapping[str, Any]) -> JSONObject:
    return cast(JSONObject, body)


__all__ = ["AsyncResourceClient"]
