"""Names, namespaces and subresources holding URL syntax address exactly that object, over HTTP and over kubectl.

Before the fix ``delete("#")`` deleted every ConfigMap of the namespace, ``namespace("prod#x").delete(name)``
deleted from ``prod``, ``get("cm?resourceVersion=0")`` smuggled a query, and over kubectl a name starting with
``-`` became a kubectl flag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dynaclient import APIClient, Discovery, DynamicClient, RESTMapper
from dynaclient.connect import kubectl_raw_client
from dynaclient.exceptions import APIError
from dynaclient.testing import ControlPlane


def _over_kubectl(plane: ControlPlane) -> APIClient:
    return kubectl_raw_client(plane.kubeconfig_path)


@pytest.fixture(scope="module", params=["http", "kubectl-raw"])
def dyn(request: pytest.FixtureRequest, api_client: APIClient, kube_apiserver: ControlPlane) -> DynamicClient:
    client = api_client if request.param == "http" else _over_kubectl(kube_apiserver)
    return DynamicClient(client, RESTMapper(Discovery(client, cache_dir=False), min_refresh_interval=0))


def _configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "b"}}


HOSTILE: list[tuple[str, Callable[[Any, str], object]]] = [
    ("delete '#'", lambda cms, ns: cms.namespace(ns).delete("#")),
    ("delete '?'", lambda cms, ns: cms.namespace(ns).delete("?")),
    ("delete in 'ns#x'", lambda cms, ns: cms.namespace(f"{ns}#x").delete("keep")),
    ("get 'keep?resourceVersion=0'", lambda cms, ns: cms.namespace(ns).get("keep?resourceVersion=0")),
    ("patch '--field-manager'", lambda cms, ns: cms.namespace(ns).patch("--field-manager", {"data": {"a": "x"}})),
    ("patch '-n' in 'ns#x'", lambda cms, ns: cms.namespace(f"{ns}#x").patch("keep", {"data": {"a": "x"}})),
]


@pytest.mark.parametrize("act", [h[1] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_a_hostile_name_reaches_only_the_object_of_that_name(
    dyn: DynamicClient, namespace: str, act: Callable[[Any, str], object]
) -> None:
    configmaps = dyn.resource("configmaps")
    configmaps.namespace(namespace).create(_configmap("keep"))
    configmaps.namespace(namespace).create(_configmap("field-manager"))
    # Before: "patch configmaps.v1. --field-manager -n <namespace>" patched the ConfigMap named like the namespace
    # in "default" (the namespace had become the field manager).
    configmaps.namespace("default").create(_configmap(namespace))
    try:
        _assert_untouched(dyn, namespace, act)
    finally:
        configmaps.namespace("default").delete(namespace)


def _assert_untouched(dyn: DynamicClient, namespace: str, act: Callable[[Any, str], object]) -> None:
    configmaps = dyn.resource("configmaps")

    with pytest.raises(APIError) as raised:  # no object has that name: 404 (or 400 for an invalid namespace)
        act(configmaps, namespace)

    assert raised.value.code in (400, 404)
    kept = configmaps.namespace(namespace).list().to_list()["items"]
    assert sorted((cm["metadata"]["name"], cm["data"]["a"]) for cm in kept) == [("field-manager", "b"), ("keep", "b")]
    assert configmaps.namespace("default").get(namespace)["data"] == {"a": "b"}
