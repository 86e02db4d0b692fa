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
    DecodeError,
    GoneError,
    NamespaceScopeError,
    NotFoundError,
    RequestCancelled,
    ResourceNotFoundError,
)
from dynaclient.gvr import GroupVersionKind, GroupVersionResource
from dynaclient.request import Cancellation, Request, Response
from dynaclient.resources.dynamic import DynamicClient
from dynaclient.resources.listing import DEFAULT_PAGE_SIZE
from dynaclient.resources.options import Preconditions
from dynaclient.resources.requests import METADATA_LIST_ACCEPT
from dynaclient.transport.base import BaseTransport
from dynaclient.watch.events import WatchEvent

PODS = APIResource("", "v1", "pods", "Pod", namespaced=True)
NAMESPACES = APIResource("", "v1", "namespaces", "Namespace", namespaced=False)
DEPLOYMENTS = APIResource("apps", "v1", "deployments", "Deployment", namespaced=True)


class Scripted(BaseTransport):
    """Answers each request with the next scripted response, after checking its method and URL."""

    name = "scripted"

    def __init__(self, *steps: tuple[str, str, Response]) -> None:
        self.steps = list(steps)
        self.sent: list[Request] = []
        self.closed = False

    def send(self, request: Request) -> Response:
        number = len(self.sent) + 1
        self.sent.append(request)
        assert self.steps, f"unexpected request {number}: {request.method} {request.url_path}"
        method, url_path, response = self.steps.pop(0)
        assert (request.method, request.url_path) == (method, url_path), f"request {number}"
        return response

    def close(self) -> None:
        self.closed = True


class Mapper:
    def __init__(self, *resources: APIResource) -> None:
        self.resources = {resource.resource: resource for resource in resources}
        self.asked: list[object] = []

    def resource_for(self, resource: str | GroupVersionResource | GroupVersionKind) -> APIResource:
        self.asked.append(resource)
        name = resource if isinstance(resource, str) else str(resource).split(".")[0].lower() + "s"
        if name not in self.resources:
            raise ResourceNotFoundError(f"the server doesn't have a resource type {name!r}")
        return self.resources[name]


def answer(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response.from_bytes(status, json.dumps(body).encode(), headers)


def page(names: list[str], rv: str = "10", token: str = "", kind: str = "PodList") -> Response:
    metadata = {"resourceVersion": rv, **({"continue": token} if token else {})}
    items = [{"metadata": {"name": name}} for name in names]
    return answer({"kind": kind, "apiVersion": "v1", "metadata": metadata, "items": items})


def expired() -> Response:
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410}
    return answer(status, 410)


def client(*steps: tuple[str, str, Response], sleeps: list[float] | None = None) -> tuple[DynamicClient, Scripted]:
    transport = Scripted(*steps)

    def wait(_: object, seconds: float) -> bool:
        if sleeps is not None:
            sleeps.append(seconds)
        return False

    api = APIClient(transport, wait=wait, clock=lambda: 100.0)  # a frozen clock: deadlines never pass
    return DynamicClient(api, Mapper(PODS, NAMESPACES, DEPLOYMENTS)), transport


def test_list_follows_continue_tokens_and_drops_the_resource_version_on_later_pages() -> None:
    dyn, transport = client(
        ("GET", "/api/v1/namespaces/ns/pods?limit=2&resourceVersion=5", page(["a", "b"], token="t1")),
        ("GET", "/api/v1/namespaces/ns/pods?continue=t1&limit=2", page(["c", "d"], rv="11", token="t2")),
        ("GET", "/api/v1/namespaces/ns/pods?continue=t2&limit=2", page([], rv="12")),
    )
    pods = dyn.resource("pods").namespace("ns").list(limit=2, resource_version="5")
    assert [pod["metadata"]["name"] for pod in pods] == ["a", "b", "c", "d"]
    assert pods.resource_version == "10"
    assert transport.steps == []


def test_list_uses_client_go_page_size_by_default_and_fills_api_version_and_kind() -> None:
    body = {
        "kind": "DeploymentList",
        "apiVersion": "apps/v1",
        "metadata": {"resourceVersion": "3"},
        "items": [{"metadata": {"name": "a"}}, {"kind": "Other", "metadata": {"name": "b"}}],
    }
    dyn, _ = client(("GET", f"/apis/apps/v1/deployments?limit={DEFAULT_PAGE_SIZE}", answer(body)))
    items = list(dyn.resource("deployments").list())
    assert [(item.get("apiVersion"), item["kind"]) for item in items] == [("apps/v1", "Deployment"), (None, "Other")]


def test_list_resource_version_is_known_after_one_request_and_iteration_reuses_that_page() -> None:
    dyn, transport = client(
        ("GET", "/api/v1/pods?limit=1", page(["a"], rv="7", token="t")),
        ("GET", "/api/v1/pods?continue=t&limit=1", page(["b"], rv="8")),
    )
    pods = dyn.resource("pods").list(limit=1)
    assert transport.sent == []
    assert pods.resource_version == "7"
    assert len(transport.sent) == 1
    assert [pod["metadata"]["name"] for pod in pods] == ["a", "b"]
    assert pods.resource_version == "7"


def test_to_list_returns_one_list_with_the_first_page_metadata_and_every_item() -> None:
    dyn, _ = client(
        ("GET", "/api/v1/pods?limit=1", page(["a"], rv="7", token="t")),
        ("GET", "/api/v1/pods?continue=t&limit=1", page(["b"], rv="8")),
    )
    whole = dyn.resource("pods").list(limit=1).to_list()
    assert whole["kind"] == "PodList"
    assert whole["metadata"] == {"resourceVersion": "7"}
    assert [item["metadata"]["name"] for item in whole["items"]] == ["a", "b"]


def test_an_expired_continue_token_raises_gone_by_default() -> None:
    dyn, _ = client(
        ("GET", "/api/v1/pods?limit=1", page(["a"], token="t")),
        ("GET", "/api/v1/pods?continue=t&limit=1", expired()),
    )
    pods = iter(dyn.resource("pods").list(limit=1))
    assert next(pods)["metadata"]["name"] == "a"
    with pytest.raises(GoneError):
        next(pods)


def test_an_expired_continue_token_restarts_with_one_unpaged_list_when_asked() -> None:
    dyn, transport = client(
        ("GET", "/api/v1/pods?limit=1&resourceVersion=0", page(["a"], rv="7", token="t")),
        ("GET", "/api/v1/pods?continue=t&limit=1", expired()),
        ("GET", "/api/v1/pods?resourceVersion=0", page(["a", "b"], rv="9")),
    )
    pods = dyn.resource("pods").list(limit=1, resource_version="0", restart_on_expired=True)
    assert [pod["metadata"]["name"] for pod in pods] == ["a", "a", "b"]
    assert pods.restarted
    assert pods.resource_version == "9"
    assert transport.steps == []


def test_to_list_after_a_restart_holds_only_the_fresh_list() -> None:
    dyn, _ = client(
        ("GET", "/api/v1/pods?limit=1", page(["a"], rv="7", token="t")),
        ("GET", "/api/v1/pods?continue=t&limit=1", expired()),
        ("GET", "/api/v1/pods", page(["a", "b"], rv="9")),
    )
    whole = dyn.resource("pods").list(limit=1, restart_on_expired=True).to_list()
    assert [item["metadata"]["name"] for item in whole["items"]] == ["a", "b"]
    assert whole["metadata"]["resourceVersion"] == "9"


def test_an_expired_first_page_is_never_restarted() -> None:
    dyn, _ = client(("GET", "/api/v1/pods?limit=1&resourceVersion=3&resourceVersionMatch=Exact", expired()))
    pods = dyn.resource("pods").list(limit=1, resource_version="3", resource_version_match="Exact")
    with pytest.raises(GoneError):
        list(pods)


def test_a_list_is_iterated_once() -> None:
    dyn, _ = client(("GET", "/api/v1/pods?limit=500", page([])))
    pods = dyn.resource("pods").list()
    assert list(pods) == []
    with pytest.raises(RuntimeError, match="iterated once"):
        list(pods)


def test_a_list_whose_items_are_not_objects_is_a_decode_error() -> None:
    dyn, _ = client(("GET", "/api/v1/pods?limit=500", answer({"kind": "PodList", "items": ["x"]})))
    with pytest.raises(DecodeError, match="an item is not a JSON object"):
        list(dyn.resource("pods").list())


def test_a_null_items_list_reads_as_empty() -> None:
    dyn, _ = client(("GET", "/api/v1/pods?limit=500", answer({"kind": "PodList", "items": None})))
    assert dyn.resource("pods").list().to_list()["items"] == []


def test_metadata_only_list_asks_for_partial_object_metadata() -> None:
    dyn, transport = client(("GET", "/api/v1/pods?limit=500", page([], kind="PartialObjectMetadataList")))
    list(dyn.resource("pods").list(metadata_only=True))
    assert transport.sent[0].accept == METADATA_LIST_ACCEPT


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
