"""Run the benchmarks: one control plane, one fixture, every case in a fresh process, K rounds in alternating order.

Usage: ``python -m bench.run [--quick] [--objects N] [--repeats K] [--cases p1 p2-dynaclient-informer ...]``
(``bench/run.py`` works too). Results go to ``bench/results/latest.{json,md,png}``.
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

from bench.cases import BY_NAME, CATALOG, CaseInfo
from bench.clientgo_build import ClientGoBuildError, build_clientgo_informer, build_controller_runtime_sawtooth
from bench.fixture import create_fixture
from bench.report import write_report
from bench.target import BenchTarget, WatchParameters

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PEERS = ("dynaclient", "kubernetes", "kr8s", "lightkube", "kopf", "requests", "matplotlib")


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
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--readme", type=Path, help="also refresh the Benchmarks table in this README")
    args = parser.parse_args(argv)
    args.objects = args.objects or (1000 if args.quick else 10_000)
    args.repeats = args.repeats or (3 if args.quick else 5)
    args.watch_rate = args.watch_rate or (200.0 if args.quick else 1000.0)
    args.watch_seconds = args.watch_seconds or (5.0 if args.quick else 30.0)
    return args


def select_cases(patterns: list[str]) -> list[CaseInfo]:
    """Return the catalogued cases whose name starts with one of ``patterns`` (all when none), in catalog order.

    Raises:
        SystemExit: a pattern matches no case.
    """
    for pattern in patterns:
        if not any(case.name.startswith(pattern.lower()) for case in CATALOG):
            raise SystemExit(f"bench: no case matches {pattern!r}; cases: {', '.join(BY_NAME)}")
    return [case for case in CATALOG if not patterns or any(case.name.startswith(p.lower()) for p in patterns)]


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


def run_rounds(cases: list[CaseInfo], target: BenchTarget, target_file: Path, repeats: int) -> dict[str, Any]:
    """Run every case ``repeats`` times, reversing the order every other round; return runs per case."""
    runs: dict[str, list[dict[str, Any]]] = {case.name: [] for case in cases}
    for round_index in range(repeats):
        ordered = cases if round_index % 2 == 0 else cases[::-1]
        for case in ordered:
            started = time.monotonic()
            result = run_case(case, target_file, target.timeout + 120)
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


def main(argv: list[str] | None = None) -> int:
    """Run the selected cases and write the results; return 1 if any case failed."""
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
    from dynaclient import DynamicClient
    from dynaclient.testing import ControlPlane

    with ControlPlane() as plane, tempfile.TemporaryDirectory(prefix="dynaclient-bench-") as work:
        client = DynamicClient.from_kubeconfig(plane.kubeconfig_path)
        server_version = str(client.request("GET", "/version").get("gitVersion", "unknown"))
        group_count = max(1, args.objects // 100)
        namespace, json_bytes = create_fixture(client, args.objects, group_count)
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
        )
        target_file = Path(work) / "target.json"
        target.save(target_file)
        results = {
            "environment": {**environment(server_version, args), "json_bytes": json_bytes},
            "parameters": asdict(target)
            | {"server": "", "kubeconfig": "", "ca_path": "", "cert_path": "", "key_path": ""},
            "cases": run_rounds(cases, target, target_file, args.repeats),
        }
    paths = write_report(results, args.output_dir, readme=args.readme)
    print("bench: wrote " + ", ".join(str(path) for path in paths), file=sys.stderr)
    return 0 if all(run.get("ok") for case in results["cases"].values() for run in case["runs"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
