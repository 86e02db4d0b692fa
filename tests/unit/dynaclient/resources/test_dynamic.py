"""DynamicClient over a scripted transport: single-object verbs, errors, resource resolution, namespaces, watches.

Lists are tested in test_dynamic_lists.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from dynaclient.client import APIClient
from dynaclient.discovery.discovery import APIResource
from dynaclient.discovery.restmapper import RESTMapper
from dynaclient.exceptions import (
    ConflictError,
    GoneError,
    NamespaceScopeError,
    NotFoundError,
    RequestCancelled,
    ResourceNotFoundError,
)
from dynaclient.gvr import GroupVersionKind
from dynaclient.request import Cancellation, Request, Response
from dynaclient.resources.dynamic import DynamicClient
from dynaclient.resources.options import Preconditions
from dynaclient.watch.events import WatchEvent
from tests.unit.dynaclient.resources.scripted_client import DEPLOYMENTS, PODS, Mapper, Scripted, answer, client, page


def test_throttled_requests_are_retried_after_retry_after_by_the_api_client() -> None:
    throttled = answer({"kind": "Status", "status": "Failure", "code": 429}, 429, {"Retry-After": "3"})
    sleeps: list[float] = []
    dyn, _ = client(
        ("GET", "/api/v1/namespaces/ns/pods/a", throttled),
        ("GET", "/api/v1/namespaces/ns/pods/a", answer({"kind": "Pod", "metadata": {"name": "a"}})),
        sleeps=sleeps,
    )
    assert dyn.resource("pods").namespace("ns").get("a")["metadata"]["name"] == "a"
    assert sleeps == [3]


def test_single_object_verbs_send_the_built_requests_and_return_the_answer() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "ns"}}
    dyn, transport = client(
        ("POST", "/api/v1/namespaces/ns/pods?fieldManager=me", answer(pod)),
        ("PUT", "/api/v1/namespaces/ns/pods/a/status?dryRun=All", answer(pod)),
        ("PATCH", "/api/v1/namespaces/ns/pods/a", answer(pod)),
        ("PATCH", "/api/v1/namespaces/ns/pods/a?fieldManager=me&force=true", answer(pod)),
        ("DELETE", "/api/v1/namespaces/ns/pods/a", answer({"kind": "Status", "status": "Success"})),
    )
    pods = dyn.resource("pods")
    assert pods.create(pod, field_manager="me") == pod
    assert pods.update_status(pod, dry_run=True) == pod
    assert pods.namespace("ns").patch("a", {"metadata": {"labels": {"x": "y"}}}) == pod
    assert pods.apply(pod, field_manager="me", force=True) == pod
    deleted = pods.namespace("ns").delete("a", preconditions=Preconditions(uid="u"), propagation_policy="Orphan")
    assert deleted["status"] == "Success"
    assert transport.sent[2].content_type == "application/merge-patch+json"
    assert json.loads(transport.sent[4].body or b"")["preconditions"] == {"uid": "u"}


def test_delete_collection_sends_selectors_as_query_and_options_as_body() -> None:
    dyn, transport = client(
        ("DELETE", "/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb", answer({"kind": "PodList"}))
    )
    dyn.resource("pods").namespace("ns").delete_collection(label_selector={"app": "web"}, grace_period_seconds=0)
    assert json.loads(transport.sent[0].body or b"")["gracePeriodSeconds"] == 0


def test_error_answers_raise_typed_errors() -> None:
    missing = {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}
    dyn, _ = client(("GET", "/apis/apps/v1/namespaces/ns/deployments/web/scale", answer(missing, 404)))
    with pytest.raises(NotFoundError):
        dyn.resource("deployments").namespace("ns").get("web", subresource="scale")


def test_a_success_code_carrying_a_failure_status_is_an_error() -> None:
    failure = {"kind": "Status", "status": "Failure", "reason": "Conflict", "code": 409}
    dyn, _ = client(("DELETE", "/api/v1/namespaces/a", answer(failure)))
    with pytest.raises(ConflictError):
        dyn.resource("namespaces").delete("a")


def test_requests_carry_the_client_timeout_except_watches() -> None:
    dyn, transport = client(
        ("GET", "/api/v1/namespaces/a", answer({"kind": "Namespace"})),
        ("GET", "/api/v1/namespaces?watch=true", Response(200, {}, [])),
    )
    dyn.resource("namespaces").get("a")
    dyn.resource("namespaces").watch().close()
    assert [request.timeout for request in transport.sent] == [dyn.timeout, None]


def test_resource_resolves_names_through_the_mapper_and_takes_api_resources_as_they_are() -> None:
    dyn, _ = client()
    mapper = dyn.mapper
    assert isinstance(mapper, Mapper)
    assert dyn.resource("deployments").api_resource == DEPLOYMENTS
    assert dyn.resource(GroupVersionKind("", "v1", "Pod")).api_resource == PODS
    custom = APIResource("x.dev", "v1", "widgets", "Widget", namespaced=True)
    assert dyn.resource(custom).api_resource is custom
    assert mapper.asked == ["deployments", GroupVersionKind("", "v1", "Pod")]
    with pytest.raises(ResourceNotFoundError):
        dyn.resource("gadgets")


def test_namespace_returns_a_bound_copy_and_cluster_scoped_resources_refuse_one() -> None:
    dyn, _ = client()
    pods = dyn.resource("pods")
    bound = pods.namespace("ns")
    assert (pods.namespace_name, bound.namespace_name) == ("", "ns")
    assert bound.namespace("").namespace_name == ""
    with pytest.raises(NamespaceScopeError, match="namespaces is cluster-scoped"):
        dyn.resource("namespaces").namespace("ns")


def test_a_namespaced_single_object_verb_without_namespace_fails_before_sending() -> None:
    dyn, transport = client()
    with pytest.raises(NamespaceScopeError, match="get of pods needs a namespace"):
        dyn.resource("pods").get("a")
    assert transport.sent == []


def test_the_default_namespace_is_exposed_but_never_applied_implicitly() -> None:
    dyn, transport = client(("GET", "/api/v1/pods?limit=500", page([])))
    assert dyn.namespace == "default"
    list(dyn.resource("pods").list())
    assert transport.sent[0].path == "/api/v1/pods"


def test_request_passes_through_to_the_api_client_and_close_closes_the_transport() -> None:
    dyn, transport = client(("GET", "/version", answer({"major": "1"})))
    with dyn:
        assert dyn.request("GET", "/version") == {"major": "1"}
    assert transport.closed


def test_from_api_client_sends_nothing_until_a_resource_is_resolved() -> None:
    transport = Scripted()
    dyn = DynamicClient.from_api_client(APIClient(transport))
    assert isinstance(dyn.mapper, RESTMapper)
    assert transport.sent == []
    assert dyn.namespace == "default"


def frames(*events: dict[str, Any]) -> list[bytes]:
    return [json.dumps(event).encode() + b"\n" for event in events]


def test_watch_yields_typed_events_and_tracks_the_last_resource_version() -> None:
    stream = frames(
        {"type": "ADDED", "object": {"kind": "Pod", "metadata": {"name": "a", "resourceVersion": "11"}}},
        {"type": "MODIFIED", "object": {"kind": "Pod", "metadata": {"name": "a", "resourceVersion": "12"}}},
        {"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {"resourceVersion": "15"}}},
        {"type": "DELETED", "object": {"kind": "Pod", "metadata": {"name": "a", "resourceVersion": "16"}}},
    )
    url = "/api/v1/namespaces/ns/pods?allowWatchBookmarks=true&resourceVersion=10&watch=true"
    dyn, _ = client(("GET", url, Response(200, {}, stream)))
    with dyn.resource("pods").namespace("ns").watch(resource_version="10", allow_bookmarks=True) as watch:
        events = list(watch)
        assert [event.type for event in events] == ["ADDED", "MODIFIED", "BOOKMARK", "DELETED"]
        assert all(isinstance(event, WatchEvent) for event in events)
        assert watch.resource_version == "16"
    assert watch.closed


def test_an_error_frame_raises_its_typed_error() -> None:
    stream = frames(
        {"type": "ADDED", "object": {"metadata": {"resourceVersion": "11"}}},
        {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}},
    )
    dyn, _ = client(("GET", "/api/v1/pods?resourceVersion=1&watch=true", Response(200, {}, stream)))
    watch = dyn.resource("pods").watch(resource_version="1")
    assert next(watch).type == "ADDED"
    with pytest.raises(GoneError, match="too old"):
        next(watch)


class BlockingStream:
    """A streamed body that yields one frame, then blocks until the request is cancelled (like a socket)."""

    def __init__(self) -> None:
        self.cancellation: Cancellation | None = None
        self.first_read = threading.Event()

    def chunks(self) -> Iterator[bytes]:
        yield frames({"type": "ADDED", "object": {"metadata": {"resourceVersion": "1"}}})[0]
        assert self.cancellation is not None
        self.first_read.set()
        self.cancellation.wait()
        raise RequestCancelled("cancelled")


class StreamingTransport(Scripted):
    def __init__(self, stream: BlockingStream) -> None:
        super().__init__()
        self.stream = stream

    def send(self, request: Request) -> Response:
        self.stream.cancellation = request.cancellation
        return Response(200, {}, self.stream.chunks())


def test_closing_a_watch_from_another_thread_ends_the_blocked_iteration_quietly() -> None:
    stream = BlockingStream()
    dyn = DynamicClient(APIClient(StreamingTransport(stream)), Mapper(PODS))
    watch = dyn.resource("pods").watch()
    received: list[str] = []
    failures: list[BaseException] = []

    def consume() -> None:
        try:
            received.extend(event.type for event in watch)
        except BaseException as exc:  # reported to the test thread
            failures.append(exc)

    consumer = threading.Thread(target=consume, name="watch-consumer")
    consumer.start()
    assert stream.first_read.wait(5)
    watch.close()
    consumer.join(5)
    assert not consumer.is_alive()
    assert (received, failures) == (["ADDED"], [])
    assert list(watch) == []


def test_a_transport_error_while_open_is_raised() -> None:
    def broken() -> Iterator[bytes]:
        yield b""
        raise RequestCancelled("connection reset")

    dyn, _ = client(("GET", "/api/v1/pods?watch=true", Response(200, {}, broken())))
    with pytest.raises(RequestCancelled):
        list(dyn.resource("pods").watch())
