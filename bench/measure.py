"""Measuring inside a case process: wall and CPU time, peak RSS, tracemalloc, JSON size, and the result line.

Every case process prints exactly one JSON line on stdout (``{"case", "ok", "metrics"|"error"}``); the runner
reads the last line. Nothing else may go to stdout.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.target import BenchTarget

Metrics = dict[str, float]
Case = Callable[[BenchTarget], Metrics]


@dataclass(slots=True)
class Timing:
    """Wall and CPU seconds of a measured block, filled in when the block ends.

    Thread-safety: confined.
    """

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    extra: Metrics = field(default_factory=dict)


@contextmanager
def timed() -> Iterator[Timing]:
    """Measure the wall time (``perf_counter``) and process CPU time of the block."""
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    yield timing
    timing.seconds = time.perf_counter() - wall
    timing.cpu_seconds = time.process_time() - cpu


def peak_rss_bytes() -> float:
    """Return this process's peak resident set size in bytes: ``VmHWM``, the high-water mark of its own memory.

    Not ``ru_maxrss``: Linux carries it across ``execve``, so a case process started by a runner holding
    hundreds of megabytes reported the runner's peak, whatever the case did.
    """
    return high_water_rss_bytes(Path("/proc/self/status").read_text())


def high_water_rss_bytes(status: str) -> float:
    """Return the ``VmHWM`` line of a ``/proc/<pid>/status`` text in bytes.

    >>> high_water_rss_bytes("Name:\\tpython\\nVmHWM:\\t  2048 kB\\nVmRSS:\\t 1024 kB\\n")
    2097152.0
    """
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return float(int(line.split()[1]) * 1024)
    raise ValueError("no VmHWM line in the process status")


def children_peak_rss_bytes() -> float:
    """Return the largest peak RSS of the waited-for child processes, in bytes."""
    return float(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)


def current_rss_bytes() -> float:
    """Return this process's resident set size now, in bytes."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return float(pages * resource.getpagesize())


def json_size(objects: Iterable[Any]) -> int:
    """Return the compact JSON bytes of ``objects``, one by one (what a server sends for them, give or take).

    >>> json_size([{"a": 1}, {"b": "x"}])
    16
    """
    return sum(len(json.dumps(obj, separators=(",", ":")).encode()) for obj in objects)


def traced_bytes(build: Callable[[], object]) -> tuple[object, Metrics]:
    """Run ``build`` under tracemalloc; return what it built and the bytes still held by it and at the peak.

    The result stays referenced while memory is read, so ``held_bytes`` is what keeping it costs.
    """
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        built = build()
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return built, {"traced_held_bytes": float(held - base), "traced_peak_bytes": float(peak - base)}


def memory_metrics(target: BenchTarget, build: Callable[[], object], rss_before: float) -> Metrics:
    """Return peak RSS growth, and (when the target asks for it) tracemalloc figures of a second ``build``.

    Ratios are per JSON byte of the objects held (``target.json_bytes``).
    """
    rss_growth = peak_rss_bytes() - rss_before
    metrics: Metrics = {"peak_rss_bytes": peak_rss_bytes(), "rss_growth_per_json_byte": rss_growth / target.json_bytes}
    if target.memory:
        _, traced = traced_bytes(build)
        metrics.update(traced)
        metrics["traced_held_per_json_byte"] = traced["traced_held_bytes"] / target.json_bytes
    return metrics


def expect_count(what: str, got: int, expected: int) -> None:
    """Raise unless a case saw exactly the fixture's objects (a fast wrong answer is not a result).

    Raises:
        AssertionError: the counts differ.
    """
    if got != expected:
        raise AssertionError(f"{what}: got {got} objects, expected {expected}")


def percentile(values: list[float], fraction: float) -> float:
    """Return the ``fraction`` percentile of ``values`` (nearest rank), or NaN for none.

    >>> percentile([3.0, 1.0, 2.0, 4.0], 0.5), percentile([3.0, 1.0, 2.0, 4.0], 0.99)
    (2.0, 4.0)
    """
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def emit(line: Mapping[str, Any]) -> None:
    """Print the result line."""
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def case_main(cases: Mapping[str, Case], argv: list[str] | None = None) -> int:
    """Run the case named on the command line against ``--target`` and print its result line; return the exit code."""
    parser = argparse.ArgumentParser(description="Run one benchmark case and print one JSON result line.")
    parser.add_argument("case", choices=sorted(cases))
    parser.add_argument("--target", type=Path, required=True, help="target JSON written by bench.run")
    args = parser.parse_args(argv)
    try:
        metrics = cases[args.case](BenchTarget.load(args.target))
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        emit({"case": args.case, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]})
        return 1
    emit({"case": args.case, "ok": True, "metrics": metrics})
    return 0
