"""ResourceClient: the Kubernetes verbs on one resource, in one namespace or none; objects are plain dicts.

Requests are built by :mod:`dynaclient.resource_request`; :class:`~dynaclient.client.APIClient` adds
authentication, retries (429 and 5xx with ``Retry-After``) and typed errors. Lists are lazy and paginated
(:class:`~dynaclient.listing.ObjectList`); watches are closable streams (:class:`~dynaclient.watching.Watch`).
See :mod:`dynaclient.dynamic` for how namespaces are chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Generic, cast

from dynaclient._json_decoding import loads
from dynaclient._list_bodies import ListDecoder
from dynaclient._types import JSONObject, ObjectT
from dynaclient.client import APIClient, decode_json
from dynaclient.discovery import APIResource
from dynaclient.exceptions import api_error_from_status
from dynaclient.listing import DEFAULT_PAGE_SIZE, ObjectList, StreamedPage, fill_list_items
from dynaclient.request import Cancellation, Request
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
from dynaclient.selectors import LabelSpec, NotEqual
from dynaclient.streams.pods import PodStreams
from dynaclient.wait.awaiting import await_condition, await_deletion
from dynaclient.wait.conditions import Predicate
from dynaclient.watching import Watch

DEFAULT_TIMEOUT = 120.0
"""Seconds a response may take in total, body, retries and waits included (watches excepted). Longer than
kube-apiserver's default ``--request-timeout`` (1m), which also bounds lists, so the server's own 504 normally comes
first; it guards against a dead or dripping connection."""

LabelSelector = str | Mapping[str, LabelSpec] | None
FieldSelector = str | Mapping[str, str | NotEqual] | None


class ResourceClient(PodStreams, Generic[ObjectT]):
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

    __slots__ = ("_api_client", "_namespace", "_timeout", "api_resource")

    def __init__(
        self,
        api_client: APIClient,
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
        return f"<ResourceClient {self.api_resource.gvr}{where}>"

    @property
    def namespace_name(self) -> str:
        """The namespace this client is bound to; ``""`` for none (cluster scope, or all namespaces)."""
        return self._namespace

    def namespace(self, namespace: str) -> ResourceClient[ObjectT]:
        """Return a copy bound to ``namespace`` (``""``: none).

        Raises:
            NamespaceScopeError: the resource is cluster-scoped.
            ResourceRequestError: the namespace is not a valid path segment.
        """
        bound = ResourceClient(self._api_client, self.api_resource, namespace=namespace, timeout=self._timeout)
        return cast("ResourceClient[ObjectT]", bound)

    def get(
        self, name: str, *, subresource: str = "", resource_version: str | None = None, metadata_only: bool = False
    ) -> ObjectT:
        """Return the object ``name`` (or its ``subresource``, for example ``scale``).

        Args:
            name: the object name.
            subresource: a subresource to read instead of the object.
            resource_version: ``"0"`` accepts any cached state; by default the read is consistent.
            metadata_only: return a ``PartialObjectMetadata`` (metadata only, no spec or status).

        Raises:
            NotFoundError: no such object.
            NamespaceScopeError: the resource is namespaced and no namespace is bound.
        """
        request = get_request(
            self.api_resource,
            name,
            namespace=self._namespace,
            subresource=subresource,
            resource_version=resource_version,
            metadata_only=metadata_only,
        )
        return self._send_object(request)

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
        ``metadata_only`` the items are ``PartialObjectMetadata``. See :class:`~dynaclient.listing.ObjectList` for
        :attr:`~dynaclient.listing.ObjectList.resource_version` and for what ``restart_on_expired`` does when a
        continue token expires (otherwise :class:`~dynaclient.exceptions.GoneError` is raised).

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
            lambda page: self._fetch_list_page(page, metadata_only, cancellation),
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
        self, options: ListOptions, metadata_only: bool, cancellation: Cancellation | None = None
    ) -> StreamedPage:
        """Send a list request and read its answer, decoding the items as the body arrives."""
        request = replace(self._timed(self._list_request(options, metadata_only)), cancellation=cancellation)
        decoder = ListDecoder(loads)
        for chunk in self._api_client.send(request).iter_chunks():
            decoder.feed(chunk)
        return StreamedPage(decoder, lambda body: self._decode(body, request, pieces=False))

    def _list_request(self, options: ListOptions, metadata_only: bool) -> Request:
        return list_request(self.api_resource, namespace=self._namespace, options=options, metadata_only=metadata_only)

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
                :meth:`~dynaclient.watching.Watch.close` cancels it too); a new one by default.

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
        request = watch_request(
            self.api_resource,
            namespace=self._namespace,
            options=options,
            metadata_only=metadata_only,
            cancellation=cancellation,
        )
        return Watch(self._api_client.send(request), cancellation)

    def create(
        self,
        body: ObjectT,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> ObjectT:
        """Create ``body`` (or post it to a subresource of the object it names) and return the server's object.

        Raises:
            AlreadyExistsError: an object of that name exists.
            InvalidError: the object failed validation; see ``causes``.
        """
        options = WriteOptions(dry_run=dry_run, field_manager=field_manager, field_validation=field_validation)
        request = create_request(
            self.api_resource, _dict(body), namespace=self._namespace, subresource=subresource, options=options
        )
        return self._send_object(request)

    def update(
        self,
        body: ObjectT,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> ObjectT:
        """Replace the object ``body`` names; a ``metadata.resourceVersion`` in ``body`` makes it conditional.

        Raises:
            ConflictError: ``body``'s resourceVersion is stale.
            InvalidError: the object failed validation.
        """
        options = WriteOptions(dry_run=dry_run, field_manager=field_manager, field_validation=field_validation)
        request = update_request(
            self.api_resource, _dict(body), namespace=self._namespace, subresource=subresource, options=options
        )
        return self._send_object(request)

    def update_status(
        self,
        body: ObjectT,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> ObjectT:
        """Replace the ``status`` subresource of the object ``body`` names."""
        return self.update(
            body,
            subresource="status",
            dry_run=dry_run,
            field_manager=field_manager,
            field_validation=field_validation,
        )

    def patch(
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
        """Patch the object ``name`` (or its subresource) and return the result.

        Args:
            name: the object name.
            patch: the patch; bytes and strings are sent as they are, dicts and lists as JSON.
            patch_type: ``merge`` (JSON merge patch), ``json`` (JSON patch), ``strategic`` (built-in kinds only)
                or ``apply`` (server-side apply; needs ``field_manager``).
            subresource: a subresource to patch instead of the object.
            dry_run: check without persisting.
            field_manager: the manager recorded in ``managedFields``.
            field_validation: how unknown fields are treated.
            force: apply patches only: take over fields other managers own.

        Raises:
            UnsupportedMediaTypeError: the resource does not take this patch type (strategic on a custom resource).
            ConflictError: an apply patch conflicts with another field manager.
        """
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
        return self._send_object(request)

    def apply(
        self,
        body: ObjectT,
        *,
        field_manager: str,
        force: bool = False,
        subresource: str = "",
        dry_run: bool = False,
        field_validation: FieldValidation | None = None,
    ) -> ObjectT:
        """Server-side apply ``body`` (a whole, partial intent: the fields ``field_manager`` owns).

        Raises:
            ConflictError: another manager owns a field ``body`` sets; resolve it, or apply with ``force``.
        """
        options = WriteOptions(dry_run, field_manager, field_validation, force)
        request = apply_request(
            self.api_resource, _dict(body), namespace=self._namespace, subresource=subresource, options=options
        )
        return self._send_object(request)

    def delete(
        self,
        name: str,
        *,
        subresource: str = "",
        propagation_policy: PropagationPolicy | None = None,
        grace_period_seconds: int | None = None,
        preconditions: Preconditions | None = None,
        dry_run: bool = False,
    ) -> JSONObject:
        """Delete the object ``name``; return what the server answers (the object, or a ``Status``).

        Raises:
            NotFoundError: no such object.
            ConflictError: a precondition failed.
        """
        options = DeleteOptions(propagation_policy, grace_period_seconds, preconditions, dry_run)
        return self._send(
            delete_request(self.api_resource, name, namespace=self._namespace, subresource=subresource, options=options)
        )

    def delete_collection(
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
        return self._send(request)

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
        return self._decode(self._read(request), request)

    def _send_object(self, request: Request) -> ObjectT:
        # The answer is the plain dict; ObjectT only tells the type checker what is in it (a cast costs ~50 ns).
        return cast(ObjectT, self._send(request))

    def _read(self, request: Request) -> bytes:
        return self._api_client.send(self._timed(request)).read()

    def _timed(self, request: Request) -> Request:
        return request if self._timeout is None else replace(request, timeout=self._timeout)

    def _decode(self, body: bytes, request: Request, *, pieces: bool = True) -> JSONObject:
        return decode_answer(body, request, pieces=pieces)


def decode_answer(body: bytes, request: Request, *, pieces: bool = True) -> JSONObject:
    """Decode a 2xx answer to ``request``; a ``Status`` whose status is ``Failure`` raises its typed error.

    A 2xx Status whose status is Failure is an error too (client-go rest/request.go Result.Into).

    >>> decode_answer(b'{"kind": "Pod"}', Request("GET", "/api/v1/namespaces/a/pods/b"))
    {'kind': 'Pod'}
    """
    answer = decode_json(body, what=f"{request.method} {request.path}", pieces=pieces)
    if answer.get("kind") == "Status" and answer.get("status") == "Failure":
        raise api_error_from_status(answer, method=request.method, path=request.path)
    return answer


def _dict(body: Mapping[str, Any]) -> JSONObject:
    # A typed body is the same dict at run time; request building takes it as decoded JSON.
    return cast(JSONObject, body)


__all__ = ["DEFAULT_TIMEOUT", "FieldSelector", "LabelSelector", "ResourceClient", "decode_answer"]
