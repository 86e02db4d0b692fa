"""Look cached objects up by label through an index: "all pods with label app=web".

Run: ``.venv/bin/python examples/label_index.py`` (uses your cluster, else a local control plane).
"""

from __future__ import annotations

import uuid

from cluster import connect

from informers import SharedInformerFactory, label_index


def main() -> None:
    with connect() as client:
        run = uuid.uuid4().hex[:6]
        configmaps = client.resource("configmaps").namespace("default")
        apps = ["web", "web", "db", "web", "cache"]
        names = [f"example-{run}-{i}" for i in range(len(apps))]
        for name, app in zip(names, apps, strict=True):
            configmaps.create({"metadata": {"name": name, "labels": {"app": app, "run": run}}})
        try:
            with SharedInformerFactory(client, namespace="default", label_selector={"run": run}) as factory:
                informer = factory.for_resource("configmaps")
                informer.add_indexers({"app": label_index("app")})
                factory.start()
                factory.wait_for_cache_sync(timeout=30)
                web = informer.by_index("app", "web")  # cost proportional to the matches, not the cache size
                print(f"app=web: {[obj['metadata']['name'] for obj in web]}")
                print(f"app values: {informer.indexer.list_index_values('app')}")
        finally:
            for name in names:
                configmaps.delete(name)


if __name__ == "__main__":
    main()
