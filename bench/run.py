"""Run the benchmarks: one control plane, one fixture, every case in a fresh process, K rounds in alternating order.

Usage: ``python -m bench.run [--quick] [--objects N] [--repeats K] [--runs R] [--cases p1 p2-dynaclient-informer ...]``
(``bench/run.py`` works too). Results go to ``bench/results/latest.{json,md,png}``; with ``--runs R`` each run goes
to ``run-1/`` ... ``run-R/`` and :mod:`bench.combine` joins them into ``combined.{json,md,png}`` (and the README).
The scale series runs only when selected: ``--cases scale`` (see :mod:`bench.cases.scaling`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cases import BY_NAME, CATALOG, SCALE_CATALOG, SCALES, CaseInfo
from bench.clientgo_build import ClientGoBuildError, build_clientgo_informer, build_controller_runtime_sawtooth
from bench.fixture import create_fixture
from bench.report import write_report
from bench.target import BenchTarget, WatchParameters

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PEERS = ("dynaclient", "orjson", "isal", "kubernetes", "kr8s", "lightkube", "kopf", "requests", "matplotlib")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; ``--quick`` lowers the defaults it does not override."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 objects, 3 rounds, P3 for 5 s at 200/s")
    parser.add_argument("--objects", type=int, help="ConfigMaps to create (default 10,000; quick 1,000)")
    parser.add_argument("--repeats", type=int, help="rounds of every case (default 5; quick 3)")
    parser.add_argument("--cases", nargs="*", default=[], help="case names, or prefixes such as p1 or p2-")
    parser.add_argument("--watch-rate", type=float, help="P3 updates per second (default 1000; quick 200)")
    parser.add_argument("--watch-seconds", type=float, help="P3 writer duration (default 30; quick 5)")
    parser.add_argument("--watch-writers", type=int, help="P3 writer requests in flight at most (default 16)")
    parser.add_argument("--lookups", type=int, default=200_000, help="P5 lookups per label")
    parser.add_argument("--sawtooths", type=int, default=1000, help="P7 Sawtooths created at once")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc passes")
    parser.add_argument("--runs", type=int, default=1, help="full runs, each with its own plane (combined at the end)")
    parser.add_argument("--scale-factor", type=float, default=1.0, help="scale series sizes times this (default 1)")
    parser.add_argument("--scale-timeout", type=float, default=180.0, help="seconds before a scale case did not finish")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--readme", type=Path, help="also refresh the Benchmarks table in this README")
    args = parser.parse_args(argv)
    args.objects = args.objects or (1000 if args.quick else 10_000)
    scale_only = bool(args.cases) and all(pattern.lower().startswith("scale") for pattern in args.cases)
    args.repeats = args.repeats or (1 if scale_only else 3 if args.quick else 5)
    args.watch_rate = args.watch_rate or (200.0 if args.quick else 1000.0)
    args.watch_seconds = args.watch_seconds or (5.0 if args.quick else 30.0)
    return args


def select_cases(patterns: list[str]) -> list[CaseInfo]:
    """Return the catalogued cases whose name starts with one of ``patterns`` (all when none), in catalog order.

    The scale series is never part of the default selection; ``scale`` selects all of it.

    Raises:
        SystemExit: a pattern matches no case.

    >>> any(case.family == "scale" for case in select_cases([])), len(select_cases(["scale"]))
    (False, 28)
    """
    every = (*CATALOG, *SCALE_CATALOG)
    for pattern in patterns:
        if not any(case.name.startswith(pattern.lower()) for case in every):
            raise SystemExit(f"bench: no case matches {pattern!r}; cases: {', '.join(BY_NAME)}")
    if not patterns:
        return list(CATALOG)
    return [case for case in every if any(case.name.startswith(p.lower()) for p in patterns)]


def run_case(case: CaseInfo, target_file: Path, timeout: float) -> dict[str, Any]:
    """Run one case in a fresh interpreter and return its result line (a failed one if it printed none)."""
    command = [sys.executable, "-m", case.module, case.name, "--target", str(target_file)]
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=root)
    except subprocess.TimeoutExpired:
        return {"case": case.name, "ok": False, "error": f"timed out after {timeout:.0f}s"}
    lines = finished.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = finished.stderr.strip().splitlines()[-5:]
        return {"case": case.name, "ok": False, "error": f"exit {finished.returncode}: {' | '.join(tail)}"}
    if not result.get("ok"):
        sys.stderr.write(finished.stderr[-2000:])
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Return median, min and max of every metric over the successful runs.

    >>> summarise([{"ok": True, "metrics": {"seconds": 2.0}}, {"ok": True, "metrics": {"seconds": 1.0}}])
    {'seconds': {'median': 1.5, 'min': 1.0, 'max': 2.0, 'runs': 2}}
    """
    values: dict[str, list[float]] = {}
    for run in runs:
        if run.get("ok"):
            for name, value in run["metrics"].items():
                values.setdefault(name, []).append(float(value))
    return {
        name: {"median": statistics.median(series), "min": min(series), "max": max(series), "runs": len(series)}
        for name, series in values.items()
    }


def environment(server_version: str, args: argparse.Namespace) -> dict[str, Any]:
    """Describe the machine, the server and the client versions (the report header)."""
    versions = {}
    for name in PEERS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    kubectl = subprocess.run(["kubectl", "version", "--client", "-o", "json"], capture_output=True, text=True)
    if kubectl.returncode == 0:
        versions["kubectl"] = json.loads(kubectl.stdout)["clientVersion"]["gitVersion"]
    versions["client-go"] = "v0.34.4"
    versions["controller-runtime"] = "v0.22.4"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "kubernetes": server_version,
        "nproc": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "objects": args.objects,
        "repeats": args.repeats,
        "watch": {"rate": args.watch_rate, "seconds": args.watch_seconds},
    }


def _unfinished_smaller(case: CaseInfo, runs: dict[str, list[dict[str, Any]]]) -> str | None:
    """Return a scale case of the same client with fewer objects that did not finish, if any.

    >>> case = BY_NAME["scale-lightkube-list-100k"]
    >>> _unfinished_smaller(case, {"scale-lightkube-list-10k": [{"ok": False}]})
    'scale-lightkube-list-10k'
    >>> _unfinished_smaller(case, {"scale-lightkube-list-10k": [{"ok": True}]}) is None
    True
    """
    label = next((label for label in SCALES if case.name.endswith(f"-{label}")), None)
    if label is None:
        return None
    prefix = case.name.removesuffix(f"-{label}")
    for smaller, (objects, _) in SCALES.items():
        name = f"{prefix}-{smaller}"
        if objects < SCALES[label][0] and any(not run.get("ok") for run in runs.get(name, [])):
            return name
    return None


def run_rounds(
    cases: list[CaseInfo], target: BenchTarget, target_file: Path, repeats: int, scale_timeout: float = 180.0
) -> dict[str, Any]:
    """Run every case ``repeats`` times, reversing the order every other round; return runs per case.

    The untimed tracemalloc passes (``target.memory``) run in the first round only: what a result holds does not
    vary from round to round, and tracing costs more than the timed list.

    Scale cases run smallest first and get ``scale_timeout``; once one did not finish, the same client's larger
    sizes are reported as not finished without being tried.
    """
    runs: dict[str, list[dict[str, Any]]] = {case.name: [] for case in cases}
    untraced_file = target_file.with_name("target-untraced.json")
    replace(target, memory=False).save(untraced_file)
    for round_index in range(repeats):
        ordered = cases if round_index % 2 == 0 or any(c.family == "scale" for c in cases) else cases[::-1]
        for case in ordered:
            if case.max_rounds is not None and round_index >= case.max_rounds:
                continue
            started = time.monotonic()
            if case.family == "scale" and (smaller := _unfinished_smaller(case, runs)) is not None:
                result = {"case": case.name, "ok": False, "error": f"did not finish: {smaller} did not"}
            else:
                timeout = scale_timeout if case.family == "scale" else target.timeout + 120
                result = run_case(case, target_file if round_index == 0 else untraced_file, timeout)
            runs[case.name].append(result)
            status = "ok" if result.get("ok") else f"FAILED: {result.get('error')}"
            print(
                f"bench: round {round_index + 1}/{repeats} {case.name}: {status} ({time.monotonic() - started:.1f}s)",
                file=sys.stderr,
                flush=True,
            )
    return {
        case.name: {
            "family": case.family,
            "title": case.title,
            "runs": runs[case.name],
            "summary": summarise(runs[case.name]),
        }
        for case in cases
    }


def create_scale_fixtures(client: Any, factor: float) -> dict[str, tuple[str, int, int]]:
    """Create one namespace per scale label (its size times ``factor``); return namespace, objects, JSON bytes."""
    fixtures: dict[str, tuple[str, int, int]] = {}
    for label, (objects, full) in SCALES.items():
        count = max(1, round(objects * factor))
        namespace, json_bytes = create_fixture(
            client, count, max(1, count // 100), prefix=f"bench-scale-{label}-", small=not full, workers=16
        )
        fixtures[label] = (namespace, count, json_bytes)
    return fixtures


def run_once(args: argparse.Namespace, cases: list[CaseInfo], output_dir: Path, readme: Path | None) -> int:
    """Start a plane, create the fixtures, run the cases and write the report into ``output_dir``."""
    from dynaclient import DynamicClient
    from dynaclient.testing import ControlPlane

    began = time.monotonic()
    with ControlPlane() as plane, tempfile.TemporaryDirectory(prefix="dynaclient-bench-") as work:
        client = DynamicClient.from_kubeconfig(plane.kubeconfig_path)
        server_version = str(client.request("GET", "/version").get("gitVersion", "unknown"))
        scale = create_scale_fixtures(client, args.scale_factor) if any(c.family == "scale" for c in cases) else {}
        if scale and all(case.family == "scale" for case in cases):
            namespace, args.objects, json_bytes = scale["10k"]  # no other fixture needed
        else:
            namespace, json_bytes = create_fixture(client, args.objects, max(1, args.objects // 100))
        group_count = max(1, args.objects // 100)
        watch_namespace = ""
        if any(case.family == "P3" for case in cases):  # P3 writes to its own copy, never to the shared fixture
            watch_namespace, _ = create_fixture(client, args.objects, group_count, prefix="bench-watch-")
        target = BenchTarget.on_plane(
            plane,
            namespace=namespace,
            objects=args.objects,
            json_bytes=json_bytes,
            watch=replace(
                WatchParameters(),
                rate=args.watch_rate,
                seconds=args.watch_seconds,
                writers=args.watch_writers or WatchParameters().writers,
            ),
            watch_namespace=watch_namespace,
            lookups=args.lookups,
            sawtooths=args.sawtooths,
            memory=not args.no_memory,
            timeout=180.0 if args.quick else 600.0,
            scale=scale,
        )
        target_file = Path(work) / "target.json"
        target.save(target_file)
        results = {
            "environment": {**environment(server_version, args), "json_bytes": json_bytes},
            "parameters": asdict(target)
            | {"server": "", "kubeconfig": "", "ca_path": "", "cert_path": "", "key_path": ""},
            "cases": run_rounds(cases, target, target_file, args.repeats, args.scale_timeout),
        }
    results["environment"]["run_seconds"] = round(time.monotonic() - began)
    paths = write_report(results, output_dir, readme=readme)
    print(f"bench: the run took {results['environment']['run_seconds']}s", file=sys.stderr)
    print("bench: wrote " + ", ".join(str(path) for path in paths), file=sys.stderr)
    return 0 if all(run.get("ok") for case in results["cases"].values() for run in case["runs"]) else 1


def main(argv: list[str] | None = None) -> int:
    """Run the selected cases (``--runs`` times, then combined) and write the results; return 1 if any failed."""
    args = parse_args(argv)
    cases = select_cases(args.cases)
    if any(case.module.endswith(("clientgo", "watching")) for case in cases):  # P3's writer is the same program
        try:
            print(f"bench: client-go reference at {build_clientgo_informer()}", file=sys.stderr, flush=True)
        except ClientGoBuildError as exc:
            print(f"bench: {exc}", file=sys.stderr)  # its case fails and says so in the report
    if any(case.name == "p7-controller-runtime-operator" for case in cases):
        try:
            print(f"bench: controller-runtime reference at {build_controller_runtime_sawtooth()}", file=sys.stderr)
        except ClientGoBuildError as exc:
            print(f"bench: {exc}", file=sys.stderr)
    if args.runs <= 1:
        return run_once(args, cases, args.output_dir, args.readme)
    from bench.combine import main as combine

    failed = 0
    for index in range(args.runs):
        started = time.monotonic()
        failed |= run_once(args, cases, args.output_dir / f"run-{index + 1}", None)
        print(f"bench: run {index + 1}/{args.runs} took {time.monotonic() - started:.0f}s", file=sys.stderr)
    files = [str(args.output_dir / f"run-{index + 1}" / "latest.json") for index in range(args.runs)]
    readme = ["--readme", str(args.readme)] if args.readme else []
    # The scale series runs on its own (--cases scale, into <output-dir>/scale): its latest result joins the report.
    scale = args.output_dir / "scale" / "latest.json"
    with_scale = ["--scale", str(scale)] if scale.is_file() else []
    return combine([*files, "--output-dir", str(args.output_dir), *readme, *with_scale]) | failed


if __name__ == "__main__":
    raise SystemExit(main())
