"""The fake client as users meet it: a handler and an informer-based controller tested without a cluster.

How the fake's server behaves is checked against kube-apiserver in tests/conformance; these tests cover what only
the fake has (seeding, injected time, sharing a server) and that the informers run on it unchanged.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import pytest

from dynaclient import AlreadyExistsError, APIResource, DynamicClient, JSONObject, NotFoundError
from dynaclient.testing import FakeAPIServer, FakeDynamicClient
from dynaclient.testing.fake import BUILTIN_TYPES, ResourceType
from informers import SharedInformerFactory


def ensure_config(client: DynamicClient, namespace: str, app: str, size: int) -> JSONObject:
    """A handler under test: keep one ConfigMap per app whose ``data.size`` follows the app's size."""
    configmaps = client.resource("configmaps").namespace(namespace)
    body = {"metadata": {"name": f"{app}-config", "labels": {"app": app}}, "data": {"size": str(size)}}
    try:
        return configmaps.create(body)
    except AlreadyExistsError:
        return configmaps.patch(f"{app}-config", {"data": body["data"]})


def test_a_handler_creates_then_updates_its_configmap() -> None:
    client = FakeDynamicClient()
    ensure_config(client, "default", "web", 3)
    ensure_config(client, "default", "web", 5)
    [configmap] = client.resource("configmaps").namespace("default").list(label_selector="app=web")
    assert configmap["data"] == {"size": "5"}


def test_an_informer_based_controller_runs_on_the_fake() -> None:
    client = FakeDynamicClient(
        [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}}]
    )
    added: queue.Queue[JSONObject] = queue.Queue()
    deleted: queue.Queue[Any] = queue.Queue()
    with SharedInformerFactory(client, namespace="default") as factory:
        informer = factory.for_resource("configmaps")
        informer.add_event_handler(on_add=lambda obj, is_initial: added.put(obj), on_delete=deleted.put)
        factory.start()
        assert all(factory.wait_for_cache_sync(timeout=10).values())
        assert informer.lister().get("a", "default")["metadata"]["name"] == "a"
        configmaps = client.resource("configmaps").namespace("default")
        configmaps.create({"metadata": {"name": "b"}})
        configmaps.delete("a")
        assert {added.get(timeout=10)["metadata"]["name"] for _ in range(2)} == {"a", "b"}
        assert deleted.get(timeout=10)["metadata"]["name"] == "a"


def test_a_seed_and_a_clock_make_runs_repeatable() -> None:
    def run() -> JSONObject:
        client = FakeDynamicClient(server=FakeAPIServer(seed=7, clock=lambda: 86400.0))
        return client.resource("configmaps").namespace("default").create({"metadata": {"generateName": "x-"}})

    first, second = run(), run()
    assert first["metadata"] == second["metadata"]
    assert first["metadata"]["creationTimestamp"] == "1970-01-02T00:00:00Z"


def test_clients_sharing_a_server_see_each_others_writes_and_watches() -> None:
    server = FakeAPIServer()
    writer, reader = FakeDynamicClient(server=server), FakeDynamicClient(server=server)
    watch = reader.resource("configmaps").namespace("default").watch(resource_version=server.resource_version)
    writer.resource("configmaps").namespace("default").create({"metadata": {"name": "shared"}})
    event = next(watch)
    assert (event.type, event.object["metadata"]["name"]) == ("ADDED", "shared")
    closer = threading.Timer(0.05, watch.close)
    closer.start()
    assert list(watch) == []
    closer.join()


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "sawtooths.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "sawtooths", "singular": "sawtooth", "kind": "Sawtooth"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                "subresources": {"status": {}},
            }
        ],
    },
}


def test_seed_objects_may_include_a_crd_and_its_custom_resources() -> None:
    sawtooth = {"apiVersion": "example.com/v1", "kind": "Sawtooth", "metadata": {"name": "s", "namespace": "default"}}
    client = FakeDynamicClient([CRD, {**sawtooth, "spec": {"size": 3}}])
    stored = client.resource("sawtooths").namespace("default").get("s")
    assert stored["spec"] == {"size": 3}
    assert stored["metadata"]["generation"] == 1


def test_a_resource_type_can_be_served_without_a_crd() -> None:
    widgets = ResourceType(
        APIResource("example.com", "v1", "widgets", "Widget", namespaced=False, subresources=("status",)),
        has_status=True,
        custom=True,
    )
    client = FakeDynamicClient(server=FakeAPIServer([*BUILTIN_TYPES, widgets]))
    created = client.resource("widgets").create(
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    )
    assert "namespace" not in created["metadata"]


def test_the_fake_decodes_escaped_names_as_the_server_does() -> None:
    # The client escapes path segments; the fake must read "%23" as the name "#", like kube-apiserver.
    client = FakeDynamicClient(
        [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep", "namespace": "default"}}]
    )
    configmaps = client.resource("configmaps").namespace("default")

    with pytest.raises(NotFoundError, match='"#" not found'):
        configmaps.delete("#")
    assert [cm["metadata"]["name"] for cm in configmaps.list()] == ["keep"]
