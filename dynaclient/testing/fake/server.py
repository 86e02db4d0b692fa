"""FakeAPIServer: an in-memory Kubernetes API server answering dynaclient's requests in-process.

It answers the requests :class:`~dynaclient.DynamicClient` builds, as kube-apiserver would: discovery
(aggregated), get, list (selectors, pagination with continue tokens, ``resourceVersion`` and
``resourceVersionMatch=Exact``), watch, create, update, patch, apply and delete, with ``Status`` errors the client
turns into its typed exceptions. Reads are here; writes are in :mod:`dynaclient.testing.fake.writes`, object
rules in :mod:`dynaclient.testing.fake.lifecycle`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable

from dynaclient._types import JSONObject
from dynaclient.request import Request, Response
from dynaclient.resources.requests import METADATA_ACCEPT, METADATA_LIST_ACCEPT
from dynaclient.testing.fake import statuses
from dynaclient.testing.fake.lifecycle import metadata, timestamp
from dynaclient.testing.fake.registry import (
    AGGREGATED_CONTENT_TYPE,
    BUILTIN_TYPES,
    CRD_GROUP_RESOURCE,
    ResourceType,
    aggregated_discovery,
    crd_status,
    is_established,
    types_from_crd,
)
from dynaclient.testing.fake.routing import Query, Route, parse_route
from dynaclient.testing.fake.selection import Selection, decode_continue, encode_continue, key_text
from dynaclient.testing.fake.statuses import StatusError, bad_request
from dynaclient.testing.fake.store import ObjectStore, RevisionGone
from dynaclient.testing.fake.strategies import CRD_CLEANUP_FINALIZER, RETURNS_DELETED_OBJECT
from dynaclient.testing.fake.watches import WatchScope, WatchStream
from dynaclient.testing.fake.writes import DEFAULT_FIELD_MANAGER, ObjectWriter, Write
from dynaclient.watch.events import WatchEvent

BOOTSTRAP_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
"""The namespaces kube-apiserver creates when it starts."""

_JSON_HEADERS = {"content-type": "application/json"}
_INITIAL_EVENTS_END = "k8s.io/initial-events-end"


class FakeAPIServer:
    """An in-memory API server: the objects, their history and the rules that change them.

    Start it with the built-in resources (:data:`~dynaclient.testing.fake.registry.BUILTIN_TYPES`) and the
    namespaces kube-apiserver creates; creating a CustomResourceDefinition serves its resource at once (its
    ``Established`` condition is already true). :meth:`handle` answers one request; use it through
    :class:`~dynaclient.testing.FakeDynamicClient`.

    Args:
        resource_types: the resources served besides those of CRDs created later.
        clock: epoch seconds for ``creationTimestamp`` and ``deletionTimestamp``.
        seed: seeds generated names and uids, so a test can be repeated exactly.

    Thread-safety: thread-safe. Each request runs under the store's lock from read to write; watches are fed
    under it and read outside it.
    """

    def __init__(
        self,
        resource_types: Iterable[ResourceType] = BUILTIN_TYPES,
        *,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
    ) -> None:
        self.store = ObjectStore()
        self._clock = clock
        self._streams: set[WatchStream] = set()
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self._crd_types: dict[str, list[ResourceType]] = {}
        for resource_type in resource_types:
            self._register(resource_type)
        self._writer = ObjectWriter(self.store, clock=clock, rng=random.Random(seed), on_commit=self._committed)
        namespaces = self._types[("", "v1", "namespaces")]
        for name in BOOTSTRAP_NAMESPACES:
            write = Write(Route("", "v1", "namespaces"), manager=DEFAULT_FIELD_MANAGER, dry_run=False)
            self._writer.create(namespaces, write, {"metadata": {"name": name}})

    def __repr__(self) -> str:
        return f"<FakeAPIServer revision={self.store.revision} resources={len(self._types)}>"

    @property
    def resource_version(self) -> str:
        """The current revision: the ``resourceVersion`` of the last write."""
        return str(self.store.revision)

    @property
    def resource_types(self) -> list[ResourceType]:
        """Every resource type served (each once, whatever its number of versions)."""
        with self.store.locked():
            return list(dict.fromkeys(self._types.values()))

    def compact(self) -> int:
        """Forget the history up to now, as etcd compaction does; return the compacted revision.

        From then on, watches from an older resourceVersion, continue tokens and ``Exact`` lists of older
        revisions answer 410 Gone. A real cluster's history moves on by itself (the watch cache keeps a window of
        recent events; etcd is compacted every five minutes): use this to test the code that handles it.
        """
        return self.store.compact()

    def restart(self) -> int:
        """Cut every open watch, as an API server restart does; return how many were cut.

        Their readers get the events already sent, then the stream ends (a
        :class:`~dynaclient.exceptions.ConnectionLostError` underneath); they watch again from the last
        resourceVersion they saw, which after
        :meth:`compact` answers 410 Gone and makes an informer relist. Objects and history are kept.
        """
        with self.store.locked():
            streams, self._streams = self._streams, set()
        for stream in streams:
            stream.cut()
        return len(streams)

    def handle(self, request: Request) -> Response:
        """Answer ``request`` as kube-apiserver would."""
        try:
            return self._handle(request)
        except StatusError as exc:
            return _json_response(exc.code, exc.status)

    def _handle(self, request: Request) -> Response:
        route = parse_route(request.path)
        if route is None:
            return self._discovery(request)
        resource_type = self._resource_type(route)
        query = Query(request.query)
        if request.method == "GET":
            return self._read(resource_type, route, query, request)
        body = _decode_body(request) if request.method in ("POST", "PUT", "DELETE") else {}
        write = Write(
            route,
            manager=query.get("fieldManager") or DEFAULT_FIELD_MANAGER,
            dry_run=query.get("dryRun") == "All" or body.get("dryRun") == ["All"],
        )
        writer = self._writer
        if request.method == "POST" and not route.name:
            return _json_response(201, _render(writer.create(resource_type, write, body), route))
        if request.method == "PUT" and route.name:
            return _json_response(200, _render(writer.update(resource_type, write, body), route))
        if request.method == "PATCH" and route.name:
            content_type, data = request.content_type or "", request.body or b""
            if content_type.startswith("application/apply-patch"):
                patched = writer.apply(resource_type, write, data, force=query.flag("force"))
            else:
                patched = writer.patch(resource_type, write, data, content_type=content_type)
            return _json_response(200, _render(patched, route))
        if request.method == "DELETE" and route.name:
            deleted, gone = writer.delete(resource_type, write, body)
            if gone and resource_type.api_resource.kind not in RETURNS_DELETED_OBJECT:
                return _json_response(200, _deleted_status(resource_type, deleted))
            return _json_response(200, _render(deleted, route))
        if request.method == "DELETE":
            return _json_response(200, self._delete_collection(resource_type, write, query, body))
        raise statuses.method_not_allowed("the server does not allow this method on the requested resource")

    def _read(self, rt: ResourceType, route: Route, query: Query, request: Request) -> Response:
        if route.name:
            found = self.store.get(rt.group_resource, (route.namespace, route.name))
            if found is None:
                raise _not_found(rt, route.name)
            return _json_response(200, _render(found, route, metadata_only=request.accept == METADATA_ACCEPT))
        if query.flag("watch"):
            return self._watch(rt, route, query, request)
        return _json_response(200, self._list(rt, route, query, request.accept))

    def _resource_type(self, route: Route) -> ResourceType:
        with self.store.locked():
            found = self._types.get((route.group, route.version, route.resource))
        if found is None or route.subresource not in ("", *found.api_resource.subresources):
            raise statuses.failure(404, "NotFound", "the server could not find the requested resource", {})
        if route.namespace and not found.api_resource.namespaced:
            raise _not_found(found, route.name)
        return found

    def _list(self, rt: ResourceType, route: Route, query: Query, accept: str) -> JSONObject:
        selection = Selection.from_query(rt, route.namespace, query)
        limit = query.integer("limit") or 0
        token = query.get("continue")
        version = query.get("resourceVersion")
        match = query.get("resourceVersionMatch")
        start = ""
        with self.store.locked():
            revision = self.store.revision
            if token:
                if version:
                    raise bad_request("specifying resource version is not allowed when using continue")
                revision, start = decode_continue(token)
            elif match == "Exact":
                if not version or not version.isdigit():
                    raise bad_request("resourceVersionMatch=Exact needs a resourceVersion")
                revision = int(version)
            try:
                items = self.store.items(rt.group_resource, revision)
            except RevisionGone:
                raise statuses.expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start "
                    "a new list without the continue parameter."
                    if token
                    else "The resourceVersion for the provided list is too old."
                ) from None
        selected = [
            obj
            for key, obj in items
            if selection.in_namespace(key) and key_text(key) > start and selection.matches(obj)
        ]
        page_metadata: JSONObject = {"resourceVersion": str(revision)}
        if limit and len(selected) > limit:
            selected, rest = selected[:limit], len(selected) - limit
            last = metadata(selected[-1])
            page_metadata["continue"] = encode_continue(revision, key_text((last.get("namespace", ""), last["name"])))
            if not selection.filters:
                page_metadata["remainingItemCount"] = rest
        metadata_only = accept == METADATA_LIST_ACCEPT
        kind = "PartialObjectMetadataList" if metadata_only else f"{rt.api_resource.kind}List"
        api_version = "meta.k8s.io/v1" if metadata_only else _api_version(route)
        rendered = [_render(obj, route, metadata_only=metadata_only) for obj in selected]
        return {"kind": kind, "apiVersion": api_version, "metadata": page_metadata, "items": rendered}

    def _watch(self, rt: ResourceType, route: Route, query: Query, request: Request) -> Response:
        selection = Selection.from_query(rt, route.namespace, query)
        metadata_only = request.accept == METADATA_ACCEPT
        scope = WatchScope(rt.group_resource, selection, lambda obj: _render(obj, route, metadata_only=metadata_only))
        version = query.get("resourceVersion") or ""
        initial = query.get("sendInitialEvents")
        if initial == "true":
            _check_initial_events(query)
        stream = WatchStream(query.integer("timeoutSeconds"))
        with self.store.locked():
            if initial == "true" or (initial is None and version in ("", "0")):
                since = self.store.revision
                for key, obj in self.store.items(rt.group_resource):
                    if selection.in_namespace(key) and selection.matches(obj):
                        stream.offer(WatchEvent("ADDED", scope.render(obj)))
                if initial == "true":
                    stream.offer(_initial_events_end(rt, route, since))
            else:
                since = int(version) if version.isdigit() else self.store.revision
            self._streams.add(stream)
            stream.on_stop(lambda: self._forget(stream))
            try:
                stream.on_stop(self.store.subscribe(since, lambda change: stream.offer(scope.event_for(change))))
            except RevisionGone as gone:
                # The watch cache's answer (storage/cacher/watch_cache.go): an ERROR event, then the end.
                status = statuses.expired(f"too old resource version: {version} ({gone.compacted})").status
                stream.offer(WatchEvent("ERROR", status))
                stream.finish()
        return stream.response(request.cancellation)

    def _forget(self, stream: WatchStream) -> None:
        with self.store.locked():
            self._streams.discard(stream)

    def _delete_collection(self, rt: ResourceType, write: Write, query: Query, options: JSONObject) -> JSONObject:
        route = write.route
        selection = Selection.from_query(rt, route.namespace, query)
        deleted = []
        with self.store.locked():
            for key, obj in self.store.items(rt.group_resource):
                if selection.in_namespace(key) and selection.matches(obj):
                    target = Route(route.group, route.version, route.resource, key[0], key[1])
                    one = Write(target, manager=write.manager, dry_run=write.dry_run)
                    deleted.append(_render(self._writer.delete(rt, one, options)[0], route))
            revision = self.store.revision
        return {
            "kind": f"{rt.api_resource.kind}List",
            "apiVersion": _api_version(route),
            "metadata": {"resourceVersion": str(revision)},
            "items": deleted,
        }

    def _discovery(self, request: Request) -> Response:
        if request.method != "GET" or request.path not in ("/api", "/apis"):
            raise _not_found(None, request.path)
        document = aggregated_discovery(self.resource_types, core=request.path == "/api")
        return Response.from_bytes(200, json.dumps(document).encode(), {"content-type": AGGREGATED_CONTENT_TYPE})

    def _register(self, resource_type: ResourceType) -> None:
        api = resource_type.api_resource
        for version in resource_type.versions:
            self._types[(api.group, version, api.resource)] = resource_type

    def _committed(self, rt: ResourceType, obj: JSONObject, deleted: bool) -> None:
        """Serve the resources of a CRD as soon as it is created (the server's establishing controller)."""
        if rt.group_resource != CRD_GROUP_RESOURCE:
            return
        name = str(metadata(obj)["name"])
        for old in self._crd_types.pop(name, []):
            api = old.api_resource
            for version in old.versions:
                self._types.pop((api.group, version, api.resource), None)
        if deleted:
            return
        if CRD_CLEANUP_FINALIZER in (metadata(obj).get("finalizers") or []) and metadata(obj).get("deletionTimestamp"):
            # The finalizing controller deletes every custom resource of the CRD, then its finalizer.
            for resource_type in types_from_crd(obj):
                self._writer.delete_all(resource_type)
            self._writer.remove_finalizer(rt, obj, CRD_CLEANUP_FINALIZER)
            return
        defined = types_from_crd(obj)
        self._crd_types[name] = defined
        for resource_type in defined:
            self._register(resource_type)
        if not is_established(obj):
            self._writer.set_status(rt, obj, crd_status(obj, timestamp(self._clock())))


def _check_initial_events(query: Query) -> None:
    # apimachinery pkg/apis/meta/v1/validation ValidateListOptions.
    if query.get("resourceVersionMatch") != "NotOlderThan" or not query.flag("allowWatchBookmarks"):
        message = "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
        raise statuses.invalid(
            "ListOptions", "meta.k8s.io", "", [("sendInitialEvents", "FieldValueForbidden", message)]
        )


def _initial_events_end(rt: ResourceType, route: Route, revision: int) -> WatchEvent:
    marker = {"resourceVersion": str(revision), "annotations": {_INITIAL_EVENTS_END: "true"}}
    return WatchEvent("BOOKMARK", {"kind": rt.api_resource.kind, "apiVersion": _api_version(route), "metadata": marker})


def _api_version(route: Route) -> str:
    return f"{route.group}/{route.version}" if route.group else route.version


def _render(obj: JSONObject, route: Route, *, metadata_only: bool = False) -> JSONObject:
    if metadata_only:
        return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
    return {**obj, "apiVersion": _api_version(route)}


def _deleted_status(rt: ResourceType, obj: JSONObject) -> JSONObject:
    meta = metadata(obj)
    details: JSONObject = {"name": meta["name"], "kind": rt.api_resource.resource, "uid": meta.get("uid", "")}
    if rt.api_resource.group:
        details["group"] = rt.api_resource.group
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def _not_found(rt: ResourceType | None, name: str) -> StatusError:
    if rt is None:
        return statuses.not_found("", "", name)
    return statuses.not_found(rt.api_resource.group, rt.api_resource.resource, name)


def _decode_body(request: Request) -> JSONObject:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise bad_request("the body of the request is not JSON") from None
    if not isinstance(body, dict):
        raise bad_request("the body of the request must be a JSON object")
    return body


def _json_response(code: int, body: JSONObject) -> Response:
    return Response.from_bytes(code, json.dumps(body, separators=(",", ":")).encode(), _JSON_HEADERS)


__all__ = ["BOOTSTRAP_NAMESPACES", "FakeAPIServer"]
