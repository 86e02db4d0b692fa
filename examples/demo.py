"""The dynaclient demo: the quick start of the README, run end to end.

``scripts/demo`` runs it against your cluster when one is configured (in-cluster, kubeconfig, kubectl proxy or
kubectl), else against a local kube-apiserver + etcd that it starts and stops. It:

1. creates the seed's ``Sawtooth`` custom resource definition and an instance with ``spec.size: 3``;
2. finds the new resource without a new client (discovery refreshes on a miss) and reads ``spec.size`` with
   ``nested_get``;
3. lists pods in ``default``;
4. runs a shared informer whose ``on_delete`` handler pushes deleted pods onto a queue;
5. looks pods up by label through an index.
"""

from __future__ import annotations

import queue
import time
import uuid

from cluster import connect

from dynaclient import AlreadyExistsError, DynamicClient, JSONObject, ResourceClient, nested_get
from informers import DeletedFinalStateUnknown, SharedInformerFactory, label_index

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
    established(crds, "sawtooths.sawtooth.hyperledger.org")
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


def established(crds: ResourceClient, name: str) -> None:
    """Wait until the CustomResourceDefinition ``name`` has the condition Established=True."""
    with crds.watch(field_selector={"metadata.name": name}, timeout_seconds=30) as events:
        for event in events:
            conditions = nested_get(event.object, "status", "conditions") or []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                return
    raise TimeoutError(f"{name} was not established within 30 s")


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


def main() -> None:
    with connect() as client:
        custom_resource(client)
        informer(client)


if __name__ == "__main__":
    main()
