"""P8: many informers in one process: 100 namespaces, one configmaps informer each, from one factory.

Creates its own namespaces (10 ConfigMaps each, labelled for clean-up), starts every informer, waits for all to
sync, then lets them idle for :data:`IDLE_SECONDS` (the watches open, nothing changing) and reports per informer:
the threads added, the RSS added, and the CPU spent while idle (busy-waiting would show there). The namespaces
are deleted at the end.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from bench.measure import Metrics, case_main, current_rss_bytes, expect_count
from bench.target import RESOURCE, BenchTarget

INFORMERS = 100
OBJECTS_PER_NAMESPACE = 10
IDLE_SECONDS = 10.0
_LABEL = "bench.dynaclient.dev/many-informers"


def many_informers(target: BenchTarget) -> Metrics:
    from dynaclient import DynamicClient
    from informers import SharedInformerFactory

    client = DynamicClient.from_kubeconfig(target.kubeconfig)
    run = uuid.uuid4().hex[:6]
    names = [f"bench-many-{run}-{index:03d}" for index in range(INFORMERS)]
    namespaces = client.resource("namespaces")

    def populate(name: str) -> None:
        namespaces.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {_LABEL: run}}}
        )
        configmaps = client.resource(RESOURCE).namespace(name)
        for index in range(OBJECTS_PER_NAMESPACE):
            configmaps.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{index}"}})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(populate, names))
    try:
        threads_before, rss_before = threading.active_count(), current_rss_bytes()
        factory = SharedInformerFactory(client)
        informers = [factory.for_resource(RESOURCE, namespace=name) for name in names]
        started = time.perf_counter()
        factory.start()
        synced = factory.wait_for_cache_sync(timeout=target.timeout)
        sync_seconds = time.perf_counter() - started
        if not all(synced.values()):
            raise TimeoutError(f"{sum(not ok for ok in synced.values())} informers did not sync")
        expect_count("cached objects", sum(len(i.store.list_keys()) for i in informers), INFORMERS * 10)
        threads = threading.active_count() - threads_before
        rss = current_rss_bytes() - rss_before
        cpu = time.process_time()
        time.sleep(IDLE_SECONDS)
        idle_cpu = time.process_time() - cpu
        factory.shutdown(timeout=30)
    finally:
        with ThreadPoolExecutor(8) as pool:  # namespaces have no deletecollection
            list(pool.map(namespaces.delete, names))
    return {
        "informers": float(INFORMERS),
        "seconds": sync_seconds,
        "threads_per_informer": threads / INFORMERS,
        "rss_bytes_per_informer": rss / INFORMERS,
        "idle_cpu_share": idle_cpu / IDLE_SECONDS,
        "idle_cpu_share_per_informer": idle_cpu / IDLE_SECONDS / INFORMERS,
    }


CASES = {"p8-dynaclient-many-informers": many_informers}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
