"""Scale series: the P1 list and the P2 informer sync at 1,000, 10,000 and 100,000 ConfigMaps, and 100,000 small ones.

Each case is one client at one size, in a fresh process, against its own namespace (made by the runner for the
``scale`` cases only: ``--cases scale``). It reuses the P1 and P2 measurements on a target narrowed to that
namespace; memory is the peak RSS and the RSS grown per JSON byte held (tracemalloc would slow 100,000 objects
several times). A case that outlives the runner's scale timeout is reported as not finished, and that client's
larger sizes are not attempted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bench.cases import SCALE_CLIENTS, SCALES
from bench.cases.informing import dynaclient_informer_sync, official_informer_sync
from bench.cases.listing import (
    dynaclient_list,
    lightkube_list,
    official_typed_list,
    transfer_floor,
    watch_cache_floor,
)
from bench.measure import Metrics, case_main
from bench.target import BenchTarget

MEASURES: dict[str, Callable[[BenchTarget], Metrics]] = {
    "transfer-floor": transfer_floor,
    "watch-cache-floor": watch_cache_floor,
    "dynaclient-list": dynaclient_list,
    "dynaclient-informer": dynaclient_informer_sync,
    "lightkube-list": lightkube_list,
    "official-typed-list": official_typed_list,
    "official-informer": official_informer_sync,
}


def case_name(client: str, scale: str) -> str:
    """Return the case name of ``client`` at ``scale``.

    >>> case_name("dynaclient-list", "100k")
    'scale-dynaclient-list-100k'
    """
    return f"scale-{client}-{scale}"


def _at_scale(measure: Callable[[BenchTarget], Metrics], scale: str) -> Callable[[BenchTarget], Metrics]:
    def run(target: BenchTarget) -> Metrics:
        namespace, objects, json_bytes = target.scale[scale]
        narrowed = replace(target, namespace=str(namespace), objects=int(objects), json_bytes=int(json_bytes))
        metrics = measure(replace(narrowed, memory=False))
        return metrics | {"objects": float(objects), "json_bytes": float(json_bytes)}

    return run


CASES = {case_name(client, scale): _at_scale(MEASURES[client], scale) for client in SCALE_CLIENTS for scale in SCALES}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
