"""Command line for the local control plane.

``python -m dynaclient.testing up``     start etcd + kube-apiserver, print the kubeconfig, run until Ctrl-C;
                                      ``--controllers`` adds kube-controller-manager and kube-scheduler,
                                      ``--nodes N`` adds kwok with N Ready nodes.
``python -m dynaclient.testing build``  locate or build every binary and print their paths and versions.
``python -m dynaclient.testing startup`` start and stop planes (same options as ``up``); print each start time.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import threading
from collections.abc import Sequence

from dynaclient.exceptions import MissingExtraError
from dynaclient.testing.binaries import ALL_COMPONENTS, binary_version, resolve_binaries


def _build() -> int:
    binaries = resolve_binaries(components=ALL_COMPONENTS)
    for name in ALL_COMPONENTS:
        path = binaries.path(name)
        print(f"{name}: {path} ({binary_version(path)}; from {binaries.sources[name]})")
    return 0


def _up(watch_cache: bool, controllers: bool, nodes: int) -> int:
    # Imported here: a plane needs the testing extra (cryptography); --help and build do not.
    from dynaclient.testing.controlplane import CERT_CONTEXT, TOKEN_CONTEXT, ControlPlane

    stop = threading.Event()
    # Ctrl-C and SIGTERM end the plane alike; handling SIGINT here also works where it was inherited as ignored
    # (a background job of a non-interactive shell).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with ControlPlane(watch_cache=watch_cache, controllers=controllers, nodes=nodes) as plane:
        print(f"kube-apiserver {plane.server_url} ready in {plane.startup_seconds:.1f}s")
        for name, pid in plane.pids.items():
            print(f"  {name} pid {pid}, log {plane.work_dir / (name + '.log')}")
        if plane.nodes:
            print(f"nodes: {', '.join(plane.node_names)}")
        print(f"kubeconfig: {plane.kubeconfig_path} (contexts {CERT_CONTEXT}, {TOKEN_CONTEXT})")
        print(f"export KUBECONFIG={plane.kubeconfig_path}")
        print("Press Ctrl-C to stop.", flush=True)
        while not stop.wait(1.0):
            if not plane.running:
                print("the control plane exited unexpectedly", file=sys.stderr)
                return 1
        print("stopping...", flush=True)
    return 0


def _startup(controllers: bool, nodes: int, repeat: int) -> int:
    from dynaclient.testing.controlplane import ControlPlane  # lazily, as in _up

    binaries = resolve_binaries(components=ControlPlane(controllers=controllers, nodes=nodes).components)
    seconds: list[float] = []
    for _ in range(repeat):  # the binaries are resolved (or built) once, outside the timing
        with ControlPlane(binaries=binaries, controllers=controllers, nodes=nodes) as plane:
            assert plane.startup_seconds is not None
            seconds.append(plane.startup_seconds)
        print(f"ready in {seconds[-1]:.2f}s", flush=True)
    print(
        f"median {statistics.median(seconds):.2f}s, min {min(seconds):.2f}s, max {max(seconds):.2f}s ({repeat} starts)"
    )
    return 0


def _plane_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--controllers", action="store_true", help="also run kube-controller-manager, kube-scheduler")
    parser.add_argument("--nodes", type=int, default=0, metavar="N", help="run kwok with N Ready nodes (default 0)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m dynaclient.testing", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start a local control plane and run until Ctrl-C")
    up.add_argument("--no-watch-cache", action="store_true", help="serve watches from etcd (no apiserver cache)")
    _plane_options(up)
    commands.add_parser("build", help="locate or build every binary of the plane; print paths and versions")
    startup = commands.add_parser("startup", help="measure start times: start and stop planes, print each time")
    _plane_options(startup)
    startup.add_argument("--repeat", type=int, default=5, metavar="K", help="planes to start (default 5)")
    args = parser.parse_args(argv)
    if args.command == "build":
        return _build()
    if args.nodes < 0:
        parser.error(f"--nodes must be >= 0, not {args.nodes}")
    try:
        if args.command == "startup":
            return _startup(args.controllers, args.nodes, max(1, args.repeat))
        return _up(watch_cache=not args.no_watch_cache, controllers=args.controllers, nodes=args.nodes)
    except MissingExtraError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")


if __name__ == "__main__":
    sys.exit(main())
