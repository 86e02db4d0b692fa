"""ResourceVerbs: everything of a resource client but the I/O, shared by the threaded and the asyncio client.

Each verb validates its arguments, builds its request (:mod:`dynaclient.resources.requests`, pure) and hands it to
the subclass's ``_send_object`` or ``_send``; :class:`~dynaclient.resources.client.ResourceClient` sends it and
returns the object, :class:`~dynaclient.aio.AsyncResourceClient` returns a coroutine that sends it. Answers are
interpreted by :func:`decode_answer` for both.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Generic, Self, TypeVar, cast

from dynaclient._types import JSONObject, ObjectT
from dynaclient.client import decode_json
from dynaclient.discovery.discovery import APIResource
from dynaclient.exceptions import api_error_from_status
from dynaclient.request import Cancellation, Request
from dynaclient.resources._list_bodies import ListDecoder
from dynaclient.resources.options import (
    DeleteOptions,
    FieldValidation,
    ListOptions,
    PatchType,
    Preconditions,
    PropagationPolicy,
    WriteOptions,
)
from dynaclient.resources.pages import StreamedPage
from dynaclient.resources.requests import (
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

DEFAULT_TIMEOUT = 120.0
"""Seconds a response may take in total, body, retries and waits included (watches excepted). Longer than
kube-apiserver's default ``--request-timeout`` (1m), which also bounds lists, so the server's own 504 normally comes
first; it guards against a dead or dripping connection."""

LabelSelector = str | Mapping[str, LabelSpec] | None
FieldSelector = str | Mapping[str, str | NotEqual] | None

ObjectAnswer = TypeVar("ObjectAnswer")
"""What a verb returning an object returns: the object (threaded client) or a coroutine of it (asyncio client)."""
StatusAnswer = TypeVar("StatusAnswer")
"""What ``delete`` and ``delete_collection`` return: the server's answer, or a coroutine of it."""
Sender = TypeVar("Sender")
"""The API client that sends the requests: ``APIClient`` or ``AsyncAPIClient``."""


class ResourceVerbs(Generic[Sender, ObjectAnswer, StatusAnswer, ObjectT]):
    """The verbs on one resource, in one namespace or none, up to the I/O the subclass does.

    Attributes:
        api_resource: the resource addressed, as discovery describes it.

    Thread-safety: immutable; share it between threads.
    """

    __slots__ = ("_api_client", "_namespace", "_timeout", "api_resource")

    def __init__(
        self,
        api_client: Sender,
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
        return f"<{type(self).__name__} {self.api_resource.gvr}{where}>"

    @property
    def namespace_name(self) -> str:
        """The namespace this client is bound to; ``""`` for none (cluster scope, or all namespaces)."""
        return self._namespace

    def namespace(self, namespace: str) -> Self:
        """Return a copy bound to ``namespace`` (``""``: none).

        Raises:
            NamespaceScopeError: the resource is cluster-scoped.
            ResourceRequestError: the namespace is not a valid path segment.
        """
        return type(self)(self._api_client, self.api_resource, namespace=namespace, timeout=self._timeout)

    def get(
        self, name: str, *, subresource: str = "", resource_version: str | None = None, metadata_only: bool = False
    ) -> ObjectAnswer:
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

    def create(
        self,
        body: ObjectT,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> ObjectAnswer:
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
    ) -> ObjectAnswer:
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
    ) -> ObjectAnswer:
        """Replace the ``status`` subresource of the object ``body`` names."""
        return self.update(
            body, subresource="status", dry_run=dry_run, field_manager=field_manager, field_validation=field_validation
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
    ) -> ObjectAnswer:
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
    ) -> ObjectAnswer:
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
    ) -> StatusAnswer:
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
    ) -> StatusAnswer:
        """Delete every object the selectors match (in the bound namespace, or all) and return the server's answer."""
        list_options = ListOptions(label_selector=label_selector, field_selector=field_selector)
        options = DeleteOptions(propagation_policy, grace_period_seconds, None, dry_run)
        request = delete_collection_request(
            self.api_resource, namespace=self._namespace, options=options, list_options=list_options
        )
        return self._send(request)

    @abstractmethod
    def _send(self, request: Request) -> StatusAnswer:
        """Send ``request`` (timed by :meth:`_timed`) and decode its answer with :func:`decode_answer`."""

    @abstractmethod
    def _send_object(self, request: Request) -> ObjectAnswer:
        """:meth:`_send`, typed as the object the client returns."""

    def _timed(self, request: Request) -> Request:
        return request if self._timeout is None else replace(request, timeout=self._timeout)

    def _list_request(
        self, options: ListOptions, metadata_only: bool, cancellation: Cancellation | None = None
    ) -> Request:
        request = list_request(
            self.api_resource, namespace=self._namespace, options=options, metadata_only=metadata_only
        )
        return replace(self._timed(request), cancellation=cancellation)

    def _watch_request(
        self, options: ListOptions, metadata_only: bool, cancellation: Cancellation | None = None
    ) -> Request:
        return watch_request(
            self.api_resource,
            namespace=self._namespace,
            options=options,
            metadata_only=metadata_only,
            cancellation=cancellation,
        )


def streamed_page(decoder: ListDecoder, request: Request) -> StreamedPage:
    """The page ``decoder`` has read in answer to the list ``request``; its envelope is checked by ``decode_answer``."""
    return StreamedPage(decoder, lambda body: decode_answer(body, request, pieces=False))


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


__all__ = [
    "DEFAULT_TIMEOUT",
    "FieldSelector",
    "LabelSelector",
    "ResourceVerbs",
    "decode_answer",
    "streamed_page",
]
