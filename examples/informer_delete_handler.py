"""The seed's example: a shared informer whose delete handler pushes deleted pods onto a queue.

client-go::

    podInformer.AddEventHandler(&cache.ResourceEventHandlerFuncs{DeleteFunc: func(obj interface{}) { pods <- obj }})

Run: ``.venv/bin/python examples/informer_delete_handler.py`` (uses your cluster, else a local control plane).
"""

from __future__ import annotations

import queue
import uuid

from cluster import connect

from dynaclient import JSONObject
from informers import DeletedFinalStateUnknown, SharedInformerFactory

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10"}]},
}


def main() -> None:
    with connect() as client:
        deleted: queue.Queue[JSONObject | DeletedFinalStateUnknown] = queue.Queue()
        with SharedInformerFactory(client, namespace="default") as factory:
            pods = factory.for_resource("pods")
            pods.add_event_handler(on_delete=deleted.put)  # a tombstone if the delete happened while disconnected
            factory.start()
            factory.wait_for_cache_sync(timeout=30)

            name = f"example-{uuid.uuid4().hex[:6]}"
            resource = client.resource("pods").namespace("default")
            resource.create({**POD, "metadata": {"name": name}})
            resource.delete(name, grace_period_seconds=0)

            pod = deleted.get(timeout=30)
            obj = pod.obj if isinstance(pod, DeletedFinalStateUnknown) else pod
            print(f"deleted pod: {obj['metadata']['namespace']}/{obj['metadata']['name']}")


if __name__ == "__main__":
    main()
