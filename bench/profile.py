"""Profile benchmark cases in one process, against a control plane that stays up between runs.

Usage::

    python -m bench.profile serve --objects 10000 --target /tmp/bench-target.json   # until Ctrl-C
    python -m bench.profile time p1-dynaclient p1-raw-requests --target /tmp/bench-target.json --repeats 7
    python -m bench.profile profile p1-dynaclient --target /tmp/bench-target.json [--html out.html]

``time`` runs each case ``--repeats`` times in this process, alternating the cases, and prints the median and
minimum of every metric (memory passes off): quicker and less noisy than fresh processes for an A/B comparison of
one change. ``profile`` runs one case under pyinstrument (install it into .venv; it is not a dependency), which
samples the calling thread only: for informer cases, whose work runs on the reflector and handler threads, use
``py-spy record -o out.svg -- python -m bench.profile time p2-dynaclient-informer --target ...`` instead.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import statistics
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: bench/profile.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cases import BY_NAME
from bench.fixture import create_fixture
from bench.measure import Case, Metrics
from bench.target import BenchTarget


def case_function(name: str) -> Case:
    """Return the function that runs the catalogued case ``name``.

    Raises:
        SystemExit: no case has that name.
    """
    info = BY_NAME.get(name)
    if info is None:
        raise SystemExit(f"bench.profile: no case {name!r}; cases: {', '.join(BY_NAME)}")
    cases: dict[str, Case] = importlib.import_module(info.module).CASES
    return cases[name]


def serve(objects: int, target_file: Path) -> None:
    """Start a control plane with the fixture, write the target file, and hold both until interrupted."""
    from dynaclient import DynamicClient
    from dynaclient.testing import ControlPlane

    with ControlPlane() as plane:
        client = DynamicClient.from_kubeconfig(plane.kubeconfig_path)
        namespace, json_bytes = create_fixture(client, objects, max(1, objects // 100))
        BenchTarget.on_plane(plane, namespace=namespace, objects=objects, json_bytes=json_bytes).save(target_file)
        print(f"bench.profile: serving {objects} objects; target in {target_file}", file=sys.stderr, flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


def time_cases(names: list[str], target: BenchTarget, repeats: int) -> dict[str, dict[str, tuple[float, float]]]:
    """Run the cases ``repeats`` times each, alternating their order; return (median, min) of every metric."""
    functions = {name: case_function(name) for name in names}
    runs: dict[str, list[Metrics]] = {name: [] for name in names}
    for round_index in range(repeats):
        for name in names if round_index % 2 == 0 else names[::-1]:
            runs[name].append(functions[name](target))
    summary: dict[str, dict[str, tuple[float, float]]] = {}
    for name, metrics in runs.items():
        keys = metrics[0].keys()
        summary[name] = {
            key: (statistics.median(m[key] for m in metrics), min(m[key] for m in metrics)) for key in keys
        }
    return summary


def profile_case(name: str, target: BenchTarget, html: Path | None) -> None:
    """Run one case under pyinstrument and print (or write as HTML) where its thread spent its time."""
    profiler_module: Any = importlib.import_module("pyinstrument")
    function = case_function(name)
    profiler = profiler_module.Profiler(interval=0.0005)
    with profiler:
        metrics = function(target)
    print(metrics)
    if html is not None:
        html.write_text(profiler.output_html())
    else:
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def main(argv: list[str] | None = None) -> int:
    """Serve, time or profile; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["serve", "time", "profile"])
    parser.add_argument("cases", nargs="*", default=[])
    parser.add_argument("--target", type=Path, required=True, help="target JSON (written by serve)")
    parser.add_argument("--objects", type=int, default=10_000, help="serve: ConfigMaps to create")
    parser.add_argument("--repeats", type=int, default=5, help="time: rounds of every case")
    parser.add_argument("--html", type=Path, help="profile: write pyinstrument's HTML here")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.objects, args.target)
        return 0
    target = replace(BenchTarget.load(args.target), memory=False)
    if args.command == "profile":
        for name in args.cases:
            profile_case(name, target, args.html)
        return 0
    for name, metrics in time_cases(args.cases, target, args.repeats).items():
        shown = ", ".join(f"{key} {median:.4g} (min {low:.4g})" for key, (median, low) in metrics.items())
        print(f"{name}: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
