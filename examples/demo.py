"""The dynaclient demo: the quick start of the README, run end to end.

``scripts/demo`` runs it against your cluster when one is configured (in-cluster, kubeconfig, kubectl proxy or
kubectl), else against a local cluster that it starts and stops (kube-apiserver, etcd, controllers, scheduler and
one kwok node). It:

1. creates the seed's ``Sawtooth`` custom resource definition and an instance with ``spec.size: 3``;
2. finds the new resource without a new client (discovery refreshes on a miss) and reads ``spec.size`` with
   ``nested_get``;
3. lists pods in ``default``;
4. runs a shared informer whose ``on_delete`` handler pushes deleted pods onto a queue;
5. looks pods up by label through an index;
6. on the local cluster, watches a pod turn Running on a kwok node and reads its log.
"""

from __future__ import annotations

import queue
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from cluster import connect_with_plane

from dynaclient import AlreadyExistsError, DynamicClient, JSONObject, nested_get
from dynaclient.request import Request
from dynaclient.testing.kwok import write_container_log
from dynaclient.wait import crd_established, pod_running
from informers import DeletedFinalStateUnknown, SharedInformerFactory, label_index

if TYPE_CHECKING:
    from dynaclient.testing import ControlPlane  # needs the testing extra; only the local cluster has one

CRD: JSONObject = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "sawtooths.sawtooth.hyperledger.org"},
    "spec": {
        "group": "sawtooth.hyperledger.org",
        "scope": "Namespaced",
        "names": {"plural": "sawtooths", "singular": "sawtooth", "kind": "Sawtooth", "shortNames": ["st"]},
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}},
                    }
                },
            }
        ],
    },
}


def pod(name: str, app: str) -> JSONObject:
    container = {"name": "main", "image": "registry.k8s.io/pause:3.10"}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [container]},
    }


def custom_resource(client: DynamicClient) -> None:
    crds = client.resource("customresourcedefinitions")
    created = False
    try:
        crds.create(CRD)
        created = True
        print("created CustomResourceDefinition sawtooths.sawtooth.hyperledger.org")
    except AlreadyExistsError:
        print("CustomResourceDefinition sawtooths.sawtooth.hyperledger.org exists already")
    crds.wait_for("sawtooths.sawtooth.hyperledger.org", crd_established, timeout=30)
    # Served from the moment it is Established: the RESTMapper refreshes discovery at once on a miss.
    sawtooths = client.resource("sawtooths").namespace("default")
    name = f"example-sawtooth-{uuid.uuid4().hex[:4]}"
    sawtooths.create(
        {
            "apiVersion": "sawtooth.hyperledger.org/v1alpha1",
            "kind": "Sawtooth",
            "metadata": {"name": name},
            "spec": {"size": 3},
        }
    )
    for obj in sawtooths.list():
        print(f"Sawtooth {obj['metadata']['name']}: spec.size = {nested_get(obj, 'spec', 'size')}")
    sawtooths.delete(name)
    if created:  # leave a definition that was there before alone
        crds.delete("sawtooths.sawtooth.hyperledger.org")


def informer(client: DynamicClient) -> None:
    pods = client.resource("pods").namespace("default")
    run = uuid.uuid4().hex[:4]
    deleted: queue.Queue[JSONObject | DeletedFinalStateUnknown] = queue.Queue()
    with SharedInformerFactory(client, namespace="default") as factory:
        informer = factory.for_resource("pods")
        informer.add_indexers({"app": label_index("app")})
        informer.add_event_handler(on_delete=deleted.put)
        factory.start()
        factory.wait_for_cache_sync(timeout=30)
        print(f"pods in default: {len(list(pods.list()))}")

        names = [f"web-{run}-1", f"web-{run}-2", f"db-{run}"]
        for name in names:
            pods.create(pod(name, name.split("-")[0]))
        deadline = time.monotonic() + 30
        while len(informer.by_index("app", "web")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        web = [p["metadata"]["name"] for p in informer.by_index("app", "web")]
        print(f"pods with label app=web (from the index): {web}")

        pods.delete(names[-1], grace_period_seconds=0)
        gone = deleted.get(timeout=30)
        obj = gone.obj if isinstance(gone, DeletedFinalStateUnknown) else gone
        print(f"on_delete: {obj['metadata']['namespace']}/{obj['metadata']['name']}")
        for name in names[:-1]:
            pods.delete(name, grace_period_seconds=0)


def running_pod(client: DynamicClient, plane: ControlPlane) -> None:
    pods = client.resource("pods").namespace("default")
    name = f"hello-{uuid.uuid4().hex[:4]}"
    created = pods.create(pod(name, "hello"))
    print(f"pod default/{name}: {nested_get(created, 'status', 'phase')}")
    running = pods.wait_for(name, pod_running, timeout=30)
    print(f"pod default/{name}: Running on {nested_get(running or {}, 'spec', 'nodeName')}")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / f"{name}.log"
        write_container_log(log, ["hello from a kwok pod", "its log is a file the demo wrote"])
        plane.serve_pod_logs("default", name, log)  # kwok serves pods/log from this file
        request = Request("GET", f"/api/v1/namespaces/default/pods/{name}/log", accept="*/*", expect="bytes")
        text = b"".join(client.api_client.send(request).iter_chunks()).decode()
    for line in text.splitlines():
        print(f"log of {name}: {line}")
    pods.delete(name)


def main() -> None:
    with connect_with_plane(nodes=1) as (client, plane):
        custom_resource(client)
        informer(client)
        if plane is not None:
            running_pod(client, plane)


if __name__ == "__main__":
    main()
