"""Build the :class:`~dynaclient.request.Request` of every dynamic-client verb: paths, query, bodies; no I/O.

Paths follow client-go ``dynamic/simple.go`` ``makeURLSegments``: ``/api/{version}`` for the core group, else
``/apis/{group}/{version}``; then ``/namespaces/{namespace}`` when a namespace is given; then the resource, the
name and the subresource segments. Every segment is checked like apimachinery ``pkg/api/validation/path``
``IsValidPathSegmentName`` (client-go ``Request.Name``/``Namespace``/``SubResource``), then percent-escaped as Go's
``url.URL.EscapedPath`` escapes a path: a name such as ``#`` or ``cm?resourceVersion=0`` addresses that object, never
another URL. Query parameters carry their wire names
(spelled only here and in :mod:`dynaclient.resources.options`), sorted by key as Go's ``url.Values.Encode`` sorts.

Scope: with an :class:`~dynaclient.discovery.discovery.APIResource` the builders know whether the resource is
namespaced. A namespace for a cluster-scoped resource is a :class:`NamespaceScopeError`. A namespaced resource without a
namespace means *all namespaces* for list, watch and delete-collection; for the single-object verbs the namespace
comes from ``metadata.namespace`` of the body when there is one (create, update, apply), and is otherwise a
:class:`NamespaceScopeError` (client-go would send a cluster-level URL the server rejects). The client's default
namespace is never filled in silently: pass it explicitly. With a bare
:class:`~dynaclient.gvr.GroupVersionResource` the scope is unknown and nothing is checked, as in client-go.

Example:
    >>> pods = GroupVersionResource("", "v1", "pods")
    >>> get_request(pods, "web", namespace="prod").url_path
    '/api/v1/namespaces/prod/pods/web'
    >>> list_request(pods, options=ListOptions(label_selector={"app": "web"}, limit=500)).url_path
    '/api/v1/pods?labelSelector=app%3Dweb&limit=500'
"""

from __future__ import annotations

import json
from typing import Any, TypeAlias
from urllib.parse import quote

from dynaclient._types import JSONObject
from dynaclient.discovery.discovery import APIResource
from dynaclient.exceptions import NamespaceScopeError, ResourceRequestError
from dynaclient.gvr import GroupVersionResource
from dynaclient.objects import get_name, get_namespace
from dynaclient.request import JSON_CONTENT_TYPE, Cancellation, Request
from dynaclient.resources.options import DeleteOptions, ListOptions, PatchType, WriteOptions, sorted_query

ResourceLike: TypeAlias = APIResource | GroupVersionResource
"""What the builders address: a discovered resource (scope known) or a bare GroupVersionResource."""

PatchBody: TypeAlias = bytes | str | JSONObject | list[Any]
"""A patch: bytes and strings are sent unchanged, dicts and lists encoded as JSON."""

# apimachinery pkg/types/patch.go.
PATCH_CONTENT_TYPES: dict[str, str] = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}
METADATA_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
"""``Accept`` for metadata-only get and watch (client-go ``metadata/metadata.go``, JSON only)."""
METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
"""``Accept`` for metadata-only lists."""


def resource_path(resource: ResourceLike, namespace: str = "", name: str = "", subresource: str = "") -> str:
    """Return the API path of a collection, an object or a subresource (client-go ``makeURLSegments``).

    Args:
        resource: the resource addressed.
        namespace: the namespace, or ``""`` for cluster scope (or all namespaces).
        name: the object name, or ``""`` for the collection.
        subresource: ``status``, ``scale``, or several segments joined by ``/``; needs a name.

    Returns:
        The absolute path.

    Raises:
        ResourceRequestError: a segment is ``.`` or ``..`` or holds ``/`` or ``%``, or a subresource has no name.
            Any other character is escaped: ``#`` becomes ``%23``, ``?`` ``%3F``.
        NamespaceScopeError: ``namespace`` is given for a cluster-scoped :class:`APIResource`.

    >>> resource_path(GroupVersionResource("apps", "v1", "deployments"), "prod", "web", "scale")
    '/apis/apps/v1/namespaces/prod/deployments/web/scale'
    >>> resource_path(GroupVersionResource("", "v1", "pods"), "prod", "a/b")
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.ResourceRequestError: invalid resource name 'a/b': may not contain '/'
    """
    if isinstance(resource, APIResource) and namespace and not resource.namespaced:
        raise NamespaceScopeError(f"{_describe(resource)} is cluster-scoped: it takes no namespace (got {namespace!r})")
    namespace, name = _segment("namespace", namespace), _segment("resource name", name)
    segments = ["/api"] if not resource.group else ["/apis", _segment("group", resource.group)]
    segments.append(_segment("version", resource.version))
    if namespace:
        segments += ["namespaces", namespace]
    segments.append(_segment("resource", resource.resource))
    if name:
        segments.append(name)
    if subresource:
        if not name:
            raise ResourceRequestError(f"subresource {subresource!r} of {_describe(resource)} needs an object name")
        segments += [_segment("subresource", part) for part in subresource.split("/")]
    return "/".join(segments)


def get_request(
    resource: ResourceLike,
    name: str,
    *,
    namespace: str = "",
    subresource: str = "",
    resource_version: str | None = None,
    metadata_only: bool = False,
) -> Request:
    """Build a GET of one object or subresource.

    >>> get_request(GroupVersionResource("", "v1", "namespaces"), "kube-system", resource_version="0").url_path
    '/api/v1/namespaces/kube-system?resourceVersion=0'
    """
    path = _object_path(resource, namespace, name, subresource, verb="get")
    accept = METADATA_ACCEPT if metadata_only else JSON_CONTENT_TYPE
    return Request("GET", path, query=sorted_query([("resourceVersion", resource_version)]), accept=accept)


def list_request(
    resource: ResourceLike, *, namespace: str = "", options: ListOptions | None = None, metadata_only: bool = False
) -> Request:
    """Build a GET of a collection (one page when ``options.limit`` is set).

    Raises:
        ResourceRequestError: the options hold watch-only settings.

    >>> list_request(GroupVersionResource("", "v1", "pods"), namespace="a", metadata_only=True).accept
    'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1'
    """
    options = options or ListOptions()
    if options.allow_bookmarks or options.send_initial_events is not None:
        raise ResourceRequestError("allow_bookmarks and send_initial_events apply to watch, not list")
    path = resource_path(resource, namespace)
    accept = METADATA_LIST_ACCEPT if metadata_only else JSON_CONTENT_TYPE
    return Request("GET", path, query=options.query(), accept=accept)


def watch_request(
    resource: ResourceLike,
    *,
    namespace: str = "",
    options: ListOptions | None = None,
    metadata_only: bool = False,
    cancellation: Cancellation | None = None,
) -> Request:
    """Build a streaming watch of a collection (``watch=true``; no read timeout, cancel it instead).

    Raises:
        ResourceRequestError: the options hold ``limit`` or ``continue``, which watch does not support.

    >>> options = ListOptions(resource_version="42", allow_bookmarks=True)
    >>> watch_request(GroupVersionResource("", "v1", "pods"), namespace="a", options=options).url_path
    '/api/v1/namespaces/a/pods?allowWatchBookmarks=true&resourceVersion=42&watch=true'
    """
    options = options or ListOptions()
    if options.limit or options.continue_token:
        raise ResourceRequestError("limit and continue apply to list, not watch")
    path = resource_path(resource, namespace)
    accept = METADATA_ACCEPT if metadata_only else JSON_CONTENT_TYPE
    return Request(
        "GET", path, query=options.query(watch=True), accept=accept, expect="stream", cancellation=cancellation
    )


def create_request(
    resource: ResourceLike,
    body: JSONObject,
    *,
    namespace: str = "",
    subresource: str = "",
    options: WriteOptions | None = None,
) -> Request:
    """Build a POST of a new object, or of a subresource of the object ``body`` names (``pods/eviction``).

    >>> cm = {"metadata": {"name": "a", "namespace": "prod"}}
    >>> create_request(GroupVersionResource("", "v1", "configmaps"), cm, options=WriteOptions(dry_run=True)).url_path
    '/api/v1/namespaces/prod/configmaps?dryRun=All'
    """
    namespace = _body_namespace(resource, namespace, body, verb="create")
    name = _body_name(resource, body, verb="create") if subresource else ""
    path = resource_path(resource, namespace, name, subresource)
    return Request.with_json("POST", path, body, query=_write_query(options, verb="create"))


def update_request(
    resource: ResourceLike,
    body: JSONObject,
    *,
    namespace: str = "",
    subresource: str = "",
    options: WriteOptions | None = None,
) -> Request:
    """Build a PUT replacing the object ``body`` names (or its ``subresource``, such as ``status``).

    >>> deploy = {"metadata": {"name": "web", "namespace": "prod", "resourceVersion": "7"}}
    >>> update_request(GroupVersionResource("apps", "v1", "deployments"), deploy, subresource="status").path
    '/apis/apps/v1/namespaces/prod/deployments/web/status'
    """
    namespace = _body_namespace(resource, namespace, body, verb="update")
    path = resource_path(resource, namespace, _body_name(resource, body, verb="update"), subresource)
    return Request.with_json("PUT", path, body, query=_write_query(options, verb="update"))


def patch_request(
    resource: ResourceLike,
    name: str,
    patch: PatchBody,
    *,
    patch_type: PatchType,
    namespace: str = "",
    subresource: str = "",
    options: WriteOptions | None = None,
) -> Request:
    """Build a PATCH; bytes and strings are sent unchanged, dicts and lists encoded as JSON.

    >>> r = patch_request(GroupVersionResource("", "v1", "pods"), "a", [], patch_type="json", namespace="n")
    >>> r.url_path, r.content_type, r.body
    ('/api/v1/namespaces/n/pods/a', 'application/json-patch+json', b'[]')
    """
    if patch_type not in PATCH_CONTENT_TYPES:
        raise ResourceRequestError(f"unknown patch type {patch_type!r}: expected one of {sorted(PATCH_CONTENT_TYPES)}")
    path = _object_path(resource, namespace, name, subresource, verb="patch")
    data = patch if isinstance(patch, bytes) else patch.encode() if isinstance(patch, str) else _json_bytes(patch)
    query = _write_query(options, verb="patch" if patch_type != "apply" else "apply")
    return Request("PATCH", path, query=query, body=data, content_type=PATCH_CONTENT_TYPES[patch_type])


def apply_request(
    resource: ResourceLike,
    body: JSONObject,
    *,
    namespace: str = "",
    subresource: str = "",
    options: WriteOptions,
) -> Request:
    """Build a server-side apply of the whole object ``body`` (client-go ``Apply``).

    ``force`` is always sent (``false`` when unset), as client-go's ``ApplyOptions.ToPatchOptions`` does.

    Raises:
        ResourceRequestError: no ``field_manager``, no ``metadata.name``, or ``metadata.managedFields`` is set.

    >>> obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}}
    >>> configmaps = GroupVersionResource("", "v1", "configmaps")
    >>> apply_request(configmaps, obj, options=WriteOptions(field_manager="me")).url_path
    '/api/v1/namespaces/n/configmaps/a?fieldManager=me&force=false'
    """
    if not options.field_manager:
        raise ResourceRequestError(f"apply to {_describe(resource)} needs a field manager")
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and metadata.get("managedFields"):
        raise ResourceRequestError(
            "cannot apply an object with managed fields already set (clear metadata.managedFields)"
        )
    namespace = _body_namespace(resource, namespace, body, verb="apply")
    path = resource_path(resource, namespace, _body_name(resource, body, verb="apply"), subresource)
    query = WriteOptions(options.dry_run, options.field_manager, options.field_validation, bool(options.force)).query()
    return Request("PATCH", path, query=query, body=_json_bytes(body), content_type=PATCH_CONTENT_TYPES["apply"])


def delete_request(
    resource: ResourceLike,
    name: str,
    *,
    namespace: str = "",
    subresource: str = "",
    options: DeleteOptions | None = None,
) -> Request:
    """Build a DELETE of one object; the options travel in the body, as client-go sends them.

    >>> r = delete_request(GroupVersionResource("", "v1", "namespaces"), "old", options=DeleteOptions(dry_run=True))
    >>> r.url_path, r.body
    ('/api/v1/namespaces/old', b'{"kind":"DeleteOptions","apiVersion":"v1","dryRun":["All"]}')
    """
    path = _object_path(resource, namespace, name, subresource, verb="delete")
    return Request.with_json("DELETE", path, (options or DeleteOptions()).body())


def delete_collection_request(
    resource: ResourceLike,
    *,
    namespace: str = "",
    options: DeleteOptions | None = None,
    list_options: ListOptions | None = None,
) -> Request:
    """Build a DELETE of every object a selector matches, in one namespace or (namespaced resources) in all.

    >>> selected = ListOptions(label_selector="app=web")
    >>> delete_collection_request(GroupVersionResource("", "v1", "pods"), list_options=selected).url_path
    '/api/v1/pods?labelSelector=app%3Dweb'
    """
    path = resource_path(resource, namespace)
    query = list_request(resource, namespace=namespace, options=list_options).query
    return Request.with_json("DELETE", path, (options or DeleteOptions()).body(), query=query)


def _object_path(resource: ResourceLike, namespace: str, name: str, subresource: str, *, verb: str) -> str:
    if not name:
        raise ResourceRequestError(f"{verb} of {_describe(resource)} needs an object name")
    _require_namespace(resource, namespace, verb=verb, hint="")
    return resource_path(resource, namespace, name, subresource)


def _body_namespace(resource: ResourceLike, namespace: str, body: JSONObject, *, verb: str) -> str:
    if not isinstance(body, dict):
        raise ResourceRequestError(f"{verb} of {_describe(resource)} needs a JSON object, got {type(body).__name__}")
    if isinstance(resource, APIResource) and not resource.namespaced:
        return namespace  # a cluster-scoped object's metadata.namespace is ignored by the server
    namespace = namespace or get_namespace(body)
    _require_namespace(resource, namespace, verb=verb, hint=" or metadata.namespace")
    return namespace


def _body_name(resource: ResourceLike, body: JSONObject, *, verb: str) -> str:
    name = get_name(body)
    if not name:
        raise ResourceRequestError(f"{verb} of {_describe(resource)} needs metadata.name in the object")
    return name


def _require_namespace(resource: ResourceLike, namespace: str, *, verb: str, hint: str) -> None:
    if not namespace and isinstance(resource, APIResource) and resource.namespaced:
        raise NamespaceScopeError(
            f"{verb} of {_describe(resource)} needs a namespace: {resource.resource} is namespaced; "
            f"use .namespace(name){hint}"
        )


def _write_query(options: WriteOptions | None, *, verb: str) -> tuple[tuple[str, str], ...]:
    options = options or WriteOptions()
    if options.force is not None and verb != "apply":
        raise ResourceRequestError(f"force applies to server-side apply only, not to {verb}")
    return options.query()


def _segment(what: str, value: str) -> str:
    """Check one path segment (apimachinery ``IsValidPathSegmentName``) and return it escaped for a URL path.

    Escaping follows Go's ``url.URL.EscapedPath`` (``shouldEscape`` with ``encodePath``): letters, digits and
    ``-._~$&+,:;=@`` stay as they are, every other byte becomes ``%XX``.

    >>> _segment("resource name", "cm?resourceVersion=0"), _segment("namespace", "prod#x"), _segment("x", "a:b@c")
    ('cm%3FresourceVersion=0', 'prod%23x', 'a:b@c')
    """
    if value in (".", ".."):
        raise ResourceRequestError(f"invalid {what} {value!r}: may not be '.' or '..'")
    for character in "/%":
        if character in value:
            raise ResourceRequestError(f"invalid {what} {value!r}: may not contain {character!r}")
    return quote(value, safe="$&+,:;=@")


def _describe(resource: ResourceLike) -> str:
    return f"{resource.resource}.{resource.group}" if resource.group else resource.resource


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


__all__ = [
    "METADATA_ACCEPT",
    "METADATA_LIST_ACCEPT",
    "PATCH_CONTENT_TYPES",
    "PatchBody",
    "ResourceLike",
    "apply_request",
    "create_request",
    "delete_collection_request",
    "delete_request",
    "get_request",
    "list_request",
    "patch_request",
    "resource_path",
    "update_request",
    "watch_request",
]
