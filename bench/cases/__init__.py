"""Benchmark cases: one module per family, each runnable as ``python -m bench.cases.<module> <case> --target F``.

:data:`CATALOG` names every case, its module and its family (P1 to P7), in the order the report shows them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CaseInfo:
    """One benchmark case: the module that runs it, its family and what it measures.

    Thread-safety: immutable.
    """

    name: str
    module: str
    family: str
    title: str
    max_rounds: int | None = None
    """Rounds at most, whatever ``--repeats`` says (long cases whose spread is small: P3, P7, P8)."""


_SLOW_PEER_ROUNDS = {"p1-kr8s": 3, "p1-kr8s-async": 3, "p1-kubectl": 3}
"""Peers ten times slower than the rest: three rounds tell as much as five, at a fraction of a full run's time."""


def _family(family: str, module: str, cases: list[tuple[str, str]], max_rounds: int | None = None) -> list[CaseInfo]:
    return [
        CaseInfo(name, f"bench.cases.{module}", family, title, _SLOW_PEER_ROUNDS.get(name, max_rounds))
        for name, title in cases
    ]


CATALOG: tuple[CaseInfo, ...] = (
    *_family(
        "P1",
        "listing",
        [
            ("p1-dynaclient", "dynaclient ResourceClient.list (dicts)"),
            ("p1-dynaclient-typed", "dynaclient ResourceClient[ConfigMap].list (typed dicts)"),
            ("p1-raw-requests", "raw limit: requests + json.loads"),
            ("p1-transfer-floor", "server floor: the same pages read, not decoded"),
            ("p1-official-typed", "kubernetes CoreV1Api typed models"),
            ("p1-official-raw", "kubernetes _preload_content=False + json.loads"),
            ("p1-official-dynamic", "kubernetes DynamicClient"),
            ("p1-kr8s", "kr8s.get (APIObject, pages of 100)"),
            ("p1-lightkube", "lightkube Client.list (chunk_size=500)"),
            ("p1-kubectl", "kubectl get -o json (subprocess)"),
        ],
    ),
    *_family(
        "P1",
        "async_listing",
        [
            ("p1-dynaclient-async", "dynaclient.aio AsyncResourceClient.list (dicts, aiohttp)"),
            ("p1-raw-aiohttp", "raw async limit: aiohttp + json.loads"),
            ("p1-raw-httpx", "raw async limit: httpx + json.loads"),
            ("p1-lightkube-async", "lightkube AsyncClient.list (chunk_size=500)"),
            ("p1-kr8s-async", "kr8s.asyncio get (APIObject, pages of 100)"),
        ],
    ),
    *_family(
        "P1",
        "compressing",
        [
            (f"compress-{who}-{encoding}{'-paced' if paced else ''}", f"{what}, {encoding}, {link}")
            for who, what in (("dynaclient", "dynaclient list"), ("floor", "pages read, not decoded"))
            for encoding in ("gzip", "identity")
            for paced, link in ((False, "loopback"), (True, "100 Mbit/s link"))
        ],
        max_rounds=3,
    ),
    *_family(
        "P2",
        "informing",
        [
            ("p2-dynaclient-informer", "informers SharedInformerFactory to has_synced"),
            ("p2-official-informer", "kubernetes.informer.SharedInformer to all ADDED"),
        ],
    ),
    *_family("P2", "async_listing", [("p2-dynaclient-async-informer", "informers.aio factory to wait_for_cache_sync")]),
    *_family("P2", "clientgo", [("p2-clientgo-informer", "client-go dynamic informer to HasSynced (Go)")]),
    *_family(
        "P3",
        "watching",
        [("p3-dynaclient-informer", "informer handler latency under a paced writer")],
        max_rounds=3,
    ),
    *_family(
        "P4",
        "informing",
        [
            ("p4-dynaclient-cache", "informer cache memory"),
            ("p4-dynaclient-cache-stripped", "informer cache memory, managedFields stripped"),
            ("p4-official-cache", "kubernetes SharedInformer cache memory (typed)"),
        ],
    ),
    *_family("P5", "informing", [("p5-dynaclient-by-index", "by_index lookups by label value")]),
    *_family(
        "P6",
        "discovering",
        [
            ("p6-dynaclient-discovery", "dynaclient Discovery cold and warm (disk cache)"),
            ("p6-official-discovery", "kubernetes DynamicClient discovery cold and warm (cache file)"),
        ],
    ),
    *_family(
        "P8",
        "many_informers",
        [("p8-dynaclient-many-informers", "100 informers, one per namespace: threads, RSS, idle CPU")],
        max_rounds=1,
    ),
    *_family(
        "P7",
        "controlling",
        [
            ("p7-floor-writer", "floor: plain requests, the 3 writes per Sawtooth, no operator"),
            ("p7-dynaclient-operator", "informers Controller: 1,000 Sawtooths to ConfigMaps and status"),
            ("p7-dynaclient-async-operator", "informers.aio AsyncController, the same Sawtooths"),
            ("p7-kopf-operator", "kopf operator, the same Sawtooths"),
            ("p7-controller-runtime-operator", "controller-runtime operator (Go), the same Sawtooths"),
        ],
        max_rounds=3,
    ),
)

SCALE_CLIENTS = {
    "transfer-floor": "server floor: the list's pages read, not decoded",
    "watch-cache-floor": "server floor: the informer's resourceVersion=0 list read, not decoded",
    "dynaclient-list": "dynaclient ResourceClient.list",
    "dynaclient-informer": "informers SharedInformerFactory to has_synced",
    "lightkube-list": "lightkube Client.list",
    "official-typed-list": "kubernetes CoreV1Api typed list",
    "official-informer": "kubernetes.informer.SharedInformer to all ADDED",
}
SCALES = {"1k": (1000, True), "10k": (10_000, True), "100k": (100_000, True), "100k-small": (100_000, False)}
"""Scale label: ConfigMaps at ``--scale-factor`` 1, and whether each carries the fixture's 1 KiB payload."""

SCALE_CATALOG: tuple[CaseInfo, ...] = tuple(
    CaseInfo(f"scale-{client}-{scale}", "bench.cases.scaling", "scale", f"{title}, {scale}")
    for client, title in SCALE_CLIENTS.items()
    for scale in SCALES
)
"""The scale series: run only when selected (``--cases scale``), never in a full run."""

BY_NAME = {case.name: case for case in (*CATALOG, *SCALE_CATALOG)}
