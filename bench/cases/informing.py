"""P2, P4 and P5: shared informers over the fixture: time to sync, cache memory, and index lookups.

P2 times ``factory.start()`` to ``wait_for_cache_sync`` (has_synced: the initial paginated list is in the store),
and separately until the handler has seen every ``on_add``. The official ``kubernetes.informer.SharedInformer``
has no has_synced: it is timed until its ADDED handler has seen every object (its initial list is one
unpaginated request, ``kubernetes/informer/informer.py _initial_list``). P4 holds the synced cache under
tracemalloc; P5 times ``by_index`` lookups on a synced cache.
"""

from __future__ import annotations

import gc
import importlib
import random
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench.measure import Metrics, case_main, current_rss_bytes, expect_count, json_size, peak_rss_bytes, timed
from bench.peers import official
from bench.target import GROUP_LABEL, ID_LABEL, RESOURCE, BenchTarget
from dynaclient import DynamicClient, JSONObject


class Countdown:
    """Counts handler calls and sets :attr:`done` at the expected number.

    Thread-safety: thread-safe.
    """

    def __init__(self, expected: int) -> None:
        self._lock = threading.Lock()
        self._left = expected
        self.done = threading.Event()
        if expected <= 0:
            self.done.set()

    def tick(self, *_: object) -> None:
        """Count one call."""
        with self._lock:
            self._left -= 1
            if self._left == 0:
                self.done.set()


def _client(target: BenchTarget) -> DynamicClient:
    client = DynamicClient.from_kubeconfig(target.kubeconfig)
    client.resource(RESOURCE)  # discovery before the clock starts, as in P1
    return client


def _synced_factory(target: BenchTarget, client: DynamicClient, **options: Any) -> tuple[Any, Any, Countdown, float]:
    """Start a factory with one configmaps informer; return it, the informer, the add countdown and sync seconds."""
    from informers import SharedInformerFactory

    indexers = options.pop("indexers", None)
    factory = SharedInformerFactory(client, namespace=target.namespace, **options)
    informer = factory.for_resource(RESOURCE)
    if indexers:
        informer.add_indexers(indexers)
    adds = Countdown(target.objects)
    informer.add_event_handler(on_add=adds.tick)
    started = time.perf_counter()
    factory.start()
    if not all(factory.wait_for_cache_sync(target.timeout).values()):
        raise TimeoutError(f"the informer did not sync within {target.timeout:.0f}s")
    return factory, informer, adds, time.perf_counter() - started


def dynaclient_informer_sync(target: BenchTarget) -> Metrics:
    client = _client(target)
    # Imported before the clock, as the async case imports informers.aio and every peer its package: importing
    # informers costs 0.05 s of CPU in a fresh process, which belongs to no sync.
    importlib.import_module("informers")
    rss_before = current_rss_bytes()
    with timed() as timing:
        factory, informer, adds, synced = _synced_factory(target, client)
        if not adds.done.wait(target.timeout):
            raise TimeoutError("the handler did not see every object")
    handled = timing.seconds
    expect_count("informer cache", len(informer.store.list_keys()), target.objects)
    factory.shutdown(30)
    return {
        "seconds": synced,
        "handler_seconds": handled,
        "cpu_seconds": timing.cpu_seconds,
        "objects": target.objects,
        "peak_rss_bytes": peak_rss_bytes(),
        "rss_growth_per_json_byte": (peak_rss_bytes() - rss_before) / target.json_bytes,
    }


def _official_informer(target: BenchTarget) -> tuple[Any, Countdown]:
    kubernetes = official(target.kubeconfig)
    core = kubernetes.client.CoreV1Api()
    core.list_namespaced_config_map(target.namespace, limit=1)  # connection and model imports, as in P1
    informer = kubernetes.informer.SharedInformer(list_func=core.list_namespaced_config_map, namespace=target.namespace)
    adds = Countdown(target.objects)
    informer.add_event_handler(kubernetes.informer.ADDED, adds.tick)
    return informer, adds


def official_informer_sync(target: BenchTarget) -> Metrics:
    informer, adds = _official_informer(target)
    rss_before = current_rss_bytes()
    with timed() as timing:
        informer.start()
        if not adds.done.wait(target.timeout):
            raise TimeoutError("the official informer did not see every object")
    expect_count("official informer cache", len(informer.cache.list_keys()), target.objects)
    # No informer.stop(): it joins a thread blocked in a quiet watch stream (Watch.stop is only checked between
    # events, kubernetes/watch/watch.py), which can take minutes. The thread is a daemon; the process exits.
    return {
        "seconds": timing.seconds,
        "cpu_seconds": timing.cpu_seconds,
        "objects": target.objects,
        "peak_rss_bytes": peak_rss_bytes(),
        "rss_growth_per_json_byte": (peak_rss_bytes() - rss_before) / target.json_bytes,
    }


def _traced_cache(
    target: BenchTarget, build: Callable[[], tuple[list[JSONObject] | None, Callable[[], None]]]
) -> Metrics:
    """Trace allocations while ``build`` syncs a cache; return held bytes per JSON byte (served and as cached).

    The denominator is the objects' JSON as the server serves them now, listed before tracing starts (a case that
    ran earlier may have changed them since the fixture was made).
    """
    objects = list(_client(target).resource(RESOURCE).namespace(target.namespace).list())
    expect_count("objects served", len(objects), target.objects)
    served = json_size(objects)
    del objects
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    cached, stop = build()
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    metrics: Metrics = {
        "objects": target.objects,
        "traced_held_bytes": float(held - base),
        "traced_peak_bytes": float(peak - base),
        "served_json_bytes": float(served),
        "traced_held_per_json_byte": (held - base) / served,
        "peak_rss_bytes": peak_rss_bytes(),
    }
    if cached is not None:
        cached_bytes = json_size(cached)
        metrics["cached_json_bytes"] = float(cached_bytes)
        metrics["traced_held_per_cached_json_byte"] = (held - base) / cached_bytes
    stop()
    return metrics


def _dynaclient_cache(target: BenchTarget, *, strip: bool) -> Metrics:
    from informers import strip_managed_fields

    client = _client(target)

    def build() -> tuple[list[JSONObject], Callable[[], None]]:
        transform = strip_managed_fields if strip else None
        factory, informer, adds, _ = _synced_factory(target, client, transform=transform)
        adds.done.wait(target.timeout)  # the handler's queue is drained: only the cache holds objects
        return informer.store.list(), lambda: factory.shutdown(30)

    return _traced_cache(target, build)


def dynaclient_cache(target: BenchTarget) -> Metrics:
    return _dynaclient_cache(target, strip=False)


def dynaclient_cache_stripped(target: BenchTarget) -> Metrics:
    return _dynaclient_cache(target, strip=True)


def official_cache(target: BenchTarget) -> Metrics:
    informer, adds = _official_informer(target)  # imports and client set-up before tracing starts

    def build() -> tuple[None, Callable[[], None]]:
        informer.start()
        if not adds.done.wait(target.timeout):
            raise TimeoutError("the official informer did not see every object")
        return None, lambda: None  # no informer.stop(): see official_informer_sync

    return _traced_cache(target, build)


def _lookups_per_second(
    lookup: Callable[[str, str], list[JSONObject]], index: str, values: list[str]
) -> tuple[float, float]:
    """Return lookups per second over ``values`` and the mean matches per lookup."""
    matches = 0
    started = time.perf_counter()
    for value in values:
        matches += len(lookup(index, value))
    elapsed = time.perf_counter() - started
    return len(values) / elapsed, matches / len(values)


def dynaclient_by_index(target: BenchTarget) -> Metrics:
    from informers import label_index

    client = _client(target)
    indexers = {"group": label_index(GROUP_LABEL), "id": label_index(ID_LABEL)}
    factory, informer, _, _ = _synced_factory(target, client, indexers=indexers)
    chooser = random.Random(6)
    unique = [f"o{chooser.randrange(target.objects)}" for _ in range(target.lookups)]
    groups = [f"g{chooser.randrange(target.group_count)}" for _ in range(max(1, target.lookups // 10))]
    unique_rate, unique_matches = _lookups_per_second(informer.by_index, "id", unique)
    group_rate, group_matches = _lookups_per_second(informer.by_index, "group", groups)
    factory.shutdown(30)
    per_match_unique = 1 / (unique_rate * unique_matches)
    per_match_group = 1 / (group_rate * group_matches)
    return {
        "unique_lookups_per_second": unique_rate,
        "unique_matches": unique_matches,
        "group_lookups_per_second": group_rate,
        "group_matches": group_matches,
        "ns_per_match_unique": per_match_unique * 1e9,
        "ns_per_match_group": per_match_group * 1e9,
        "per_match_cost_ratio": per_match_group / per_match_unique,
    }


CASES = {
    "p2-dynaclient-informer": dynaclient_informer_sync,
    "p2-official-informer": official_informer_sync,
    "p4-dynaclient-cache": dynaclient_cache,
    "p4-dynaclient-cache-stripped": dynaclient_cache_stripped,
    "p4-official-cache": official_cache,
    "p5-dynaclient-by-index": dynaclient_by_index,
}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
