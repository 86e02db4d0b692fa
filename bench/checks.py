"""The benchmark targets of issue 6, checked against one run's medians: each a value, its goal, met or not.

Targets are ratios against the raw limit and peers measured in the same run (the developers' guide), never wall
times alone; :mod:`bench.report` renders them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Check:
    """One target of issue 6, as measured: a value, the goal it is held to, and whether it was met.

    ``passed`` is ``None`` when a figure it needs is missing (a case failed or was not run) or the row only informs.

    Thread-safety: immutable.
    """

    family: str
    what: str
    value: float | None
    unit: str
    goal: str
    passed: bool | None


def median(cases: dict[str, Any], case: str, metric: str) -> float | None:
    """Return the median of ``metric`` for ``case``, or ``None`` when it has no successful run."""
    summary = cases.get(case, {}).get("summary", {}).get(metric)
    return None if summary is None else float(summary["median"])


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """Return ``numerator / denominator``, or ``None`` when either is missing or the denominator is zero.

    >>> ratio(3.0, 1.5), ratio(None, 1.0), ratio(1.0, 0.0)
    (2.0, None, None)
    """
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "==": lambda a, b: a == b,
}


def meets(value: float, goal: str) -> bool | None:
    """Return whether ``value`` meets ``goal`` (``"<= 1.10"``, ``">= 200,000"``, ``"== 0"``); ``None`` for ``"info"``.

    >>> meets(1.05, "<= 1.10"), meets(150_000, ">= 200,000"), meets(0, "== 0"), meets(3, "info")
    (True, False, True, None)
    """
    operator, _, bound = goal.partition(" ")
    compare = _COMPARISONS.get(operator)
    return None if compare is None else compare(value, float(bound.replace(",", "")))


def _check(family: str, what: str, value: float | None, unit: str, goal: str) -> Check:
    return Check(family, what, value, unit, goal, None if value is None else meets(value, goal))


def checks(cases: dict[str, Any]) -> list[Check]:
    """Return every target of issue 6 (and the informative ratios) computed from the medians of one run."""

    def seconds(case: str) -> float | None:
        return median(cases, case, "seconds")

    def cpu(case: str) -> float | None:
        return median(cases, case, "cpu_seconds")

    def p3(metric: str) -> float | None:
        return median(cases, "p3-dynaclient-informer", metric)

    def p5(metric: str) -> float | None:
        return median(cases, "p5-dynaclient-by-index", metric)

    def server(case: str) -> float | None:
        return median(cases, case, "server_cpu_seconds")

    p1, informer = seconds("p1-dynaclient"), seconds("p2-dynaclient-informer")
    aio = seconds("p1-dynaclient-async")
    floor_of = "compress-floor-"
    p7, p8 = "p7-dynaclient-operator", "p8-dynaclient-many-informers"
    floor, lightkube = seconds("p1-transfer-floor"), seconds("p1-lightkube")
    held = "traced_held_per_json_byte"
    rows: list[tuple[str, str, float | None, str, str]] = [
        ("P1", "dynaclient / raw requests+json.loads", ratio(p1, seconds("p1-raw-requests")), "x", "<= 1.10"),
        ("P1", "official typed / dynaclient", ratio(seconds("p1-official-typed"), p1), "x", ">= 3"),
        ("P1", "kr8s / dynaclient", ratio(seconds("p1-kr8s"), p1), "x", ">= 5"),
        ("P1", "lightkube / dynaclient", ratio(lightkube, p1), "x", ">= 1.5"),
        ("P1", "dynaclient / server floor (pages read, not decoded)", ratio(p1, floor), "x", "<= 1.05"),
        ("P1", "lightkube / server floor: the most any client can gain on it", ratio(lightkube, floor), "x", "info"),
        ("P1", "official raw JSON / dynaclient", ratio(seconds("p1-official-raw"), p1), "x", "info"),
        ("P1", "official dynamic / dynaclient", ratio(seconds("p1-official-dynamic"), p1), "x", "info"),
        ("P1", "kubectl get -o json / dynaclient", ratio(seconds("p1-kubectl"), p1), "x", "info"),
        (
            "P1",
            "client CPU: dynaclient / raw requests",
            ratio(cpu("p1-dynaclient"), cpu("p1-raw-requests")),
            "x",
            "info",
        ),
        (
            "P1",
            "client CPU: official typed / dynaclient",
            ratio(cpu("p1-official-typed"), cpu("p1-dynaclient")),
            "x",
            "info",
        ),
        ("P1", "client CPU: dynaclient / lightkube", ratio(cpu("p1-dynaclient"), cpu("p1-lightkube")), "x", "<= 0.6"),
        ("P1", "spread: dynaclient slowest / fastest round", _spread(cases, "p1-dynaclient"), "x", "< 1.5"),
        ("P1", "spread: server floor slowest / fastest round", _spread(cases, "p1-transfer-floor"), "x", "info"),
        ("P1", "spread: lightkube slowest / fastest round", _spread(cases, "p1-lightkube"), "x", "info"),
        (
            "P1",
            "dynaclient / identity floor (pages read uncompressed)",
            ratio(p1, seconds(f"{floor_of}identity")),
            "x",
            "info",
        ),
        (
            "P1",
            "gzip floor / identity floor, loopback",
            ratio(seconds(f"{floor_of}gzip"), seconds(f"{floor_of}identity")),
            "x",
            "info",
        ),
        (
            "P1",
            "server CPU per list: gzip / identity",
            ratio(server(f"{floor_of}gzip"), server(f"{floor_of}identity")),
            "x",
            "info",
        ),
        (
            "P1",
            "client CPU per list: gzip / identity",
            ratio(cpu("compress-dynaclient-gzip"), cpu("compress-dynaclient-identity")),
            "x",
            "info",
        ),
        (
            "P1",
            "100 Mbit/s link: identity / gzip",
            ratio(seconds(f"{floor_of}identity-paced"), seconds(f"{floor_of}gzip-paced")),
            "x",
            "info",
        ),
        ("P2", "informer sync / dynaclient list (P1)", ratio(informer, p1), "x", "<= 1.15"),
        # Issue 15's targets for dynaclient.aio and informers.aio, against the async peers on the same plane.
        ("P1", "async: lightkube AsyncClient / dynaclient.aio", ratio(seconds("p1-lightkube-async"), aio), "x", "> 1"),
        ("P1", "async: kr8s asyncio / dynaclient.aio", ratio(seconds("p1-kr8s-async"), aio), "x", "> 1"),
        (
            "P1",
            "async client CPU: dynaclient.aio / lightkube AsyncClient",
            ratio(cpu("p1-dynaclient-async"), cpu("p1-lightkube-async")),
            "x",
            "info",
        ),
        (
            "P2",
            "async informer sync / sync informer",
            ratio(seconds("p2-dynaclient-async-informer"), informer),
            "x",
            "<= 1.2",
        ),
        (
            "P2",
            "official SharedInformer / dynaclient informer",
            ratio(seconds("p2-official-informer"), informer),
            "x",
            "> 1",
        ),
        (
            "P2",
            "dynaclient informer / client-go informer",
            ratio(informer, seconds("p2-clientgo-informer")),
            "x",
            "info",
        ),
        ("P3", "writes per second achieved", p3("write_rate"), "/s", "info"),
        ("P3", "handler latency p50 after the write completed", p3("latency_p50_ms"), " ms", "info"),
        ("P3", "handler latency p99 after the write completed", p3("latency_p99_ms"), " ms", "< 200"),
        ("P3", "lost events (worst run)", _worst(cases, "p3-dynaclient-informer", "lost_events"), "", "== 0"),
        ("P3", "control plane CPU per write (kube-apiserver + etcd)", p3("server_cpu_ms_per_write"), " ms", "info"),
        ("P3", "CPU cores busy on the machine while writing", p3("machine_cores"), "", "info"),
        ("P4", "informer cache / JSON bytes", median(cases, "p4-dynaclient-cache", held), "x", "<= 2.5"),
        (
            "P4",
            "stripped cache / JSON bytes as served",
            median(cases, "p4-dynaclient-cache-stripped", held),
            "x",
            "<= 1.5",
        ),
        ("P4", "official SharedInformer cache / JSON bytes", median(cases, "p4-official-cache", held), "x", "info"),
        ("P5", "by_index lookups/s, 1 match", p5("unique_lookups_per_second"), "/s", ">= 200,000"),
        ("P5", "by_index lookups/s, 100 matches", p5("group_lookups_per_second"), "/s", "info"),
        ("P5", "cost per match, 100 matches vs 1 (proportional: <= 1)", p5("per_match_cost_ratio"), "x", "<= 1.5"),
        ("P6", "cold discovery requests", median(cases, "p6-dynaclient-discovery", "cold_requests"), "", "<= 2"),
        (
            "P6",
            "warm discovery requests (worst run)",
            _worst(cases, "p6-dynaclient-discovery", "warm_requests"),
            "",
            "== 0",
        ),
        *(
            row
            for what, client, floor in (
                ("list", "dynaclient-list", "transfer-floor"),
                ("informer", "dynaclient-informer", "watch-cache-floor"),
            )
            for row in (
                ("scale", f"{what} cost per object: 100k / 10k", _per_object(cases, client), "x", "<= 1.1"),
                ("scale", f"{what}: server floor per object, 100k / 10k", _per_object(cases, floor), "x", "info"),
                (
                    "scale",
                    f"{what}: client CPU per object, 100k / 10k",
                    _per_object(cases, client, "cpu_seconds"),
                    "x",
                    "<= 1.1",
                ),
                *(
                    (
                        "scale",
                        f"{what} / its server floor, {label}",
                        ratio(
                            median(cases, f"scale-{client}-{label}", "seconds"),
                            median(cases, f"scale-{floor}-{label}", "seconds"),
                        ),
                        "x",
                        "info",
                    )
                    for label in ("10k", "100k")
                ),
            )
        ),
        ("P8", "threads per informer (100 informers)", median(cases, p8, "threads_per_informer"), "", "<= 2"),
        ("P8", "RSS per informer", _kib(median(cases, p8, "rss_bytes_per_informer")), " KiB", "info"),
        ("P8", "idle CPU, 100 informers (share of a core)", median(cases, p8, "idle_cpu_share"), "", "< 0.01"),
        ("P7", "convergence: kopf / dynaclient", ratio(seconds("p7-kopf-operator"), seconds(p7)), "x", ">= 2"),
        (
            "P7",
            "convergence: dynaclient / controller-runtime",
            ratio(seconds(p7), seconds("p7-controller-runtime-operator")),
            "x",
            "<= 1.3",
        ),
        ("P7", "dynaclient operator: seconds to converge", seconds(p7), " s", "info"),
        ("P7", "floor (plain writer, 3 writes per Sawtooth): seconds", seconds("p7-floor-writer"), " s", "info"),
        *(
            (
                "P7",
                f"convergence: {peer} / floor",
                ratio(seconds(f"p7-{peer}-operator"), seconds("p7-floor-writer")),
                "x",
                "info",
            )
            for peer in ("dynaclient", "kopf", "controller-runtime")
        ),
        *(
            (
                "P7",
                f"API requests per Sawtooth: {peer}",
                median(cases, f"p7-{peer}-operator", "requests_per_sawtooth"),
                "",
                "info",
            )
            for peer in ("dynaclient", "kopf", "controller-runtime")
        ),
        ("P7", "operator CPU: dynaclient", median(cases, p7, "operator_cpu_seconds"), " s", "info"),
        ("P7", "operator CPU: kopf", median(cases, "p7-kopf-operator", "operator_cpu_seconds"), " s", "info"),
        (
            "P7",
            "operator CPU: controller-runtime",
            median(cases, "p7-controller-runtime-operator", "operator_cpu_seconds"),
            " s",
            "info",
        ),
    ]
    return [_check(*row) for row in rows]


def _worst(cases: dict[str, Any], case: str, metric: str) -> float | None:
    summary = cases.get(case, {}).get("summary", {}).get(metric)
    return None if summary is None else float(summary["max"])


def _spread(cases: dict[str, Any], case: str) -> float | None:
    summary = cases.get(case, {}).get("summary", {}).get("seconds")
    return None if summary is None else ratio(summary["max"], summary["min"])


def _per_object(cases: dict[str, Any], client: str, metric: str = "seconds") -> float | None:
    large, small = (median(cases, f"scale-{client}-{label}", metric) for label in ("100k", "10k"))
    objects = [median(cases, f"scale-{client}-{label}", "objects") for label in ("100k", "10k")]
    if None in (large, small, *objects):
        return None
    return ratio(ratio(large, objects[0]), ratio(small, objects[1]))


def _kib(value: float | None) -> float | None:
    return None if value is None else value / 1024
