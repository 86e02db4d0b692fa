"""Command line for the local control plane.

``python -m dynaclient.testing up``     start etcd + kube-apiserver, print the kubeconfig, run until Ctrl-C.
``python -m dynaclient.testing build``  locate or build the binaries and print their paths and versions.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from dynaclient.exceptions import MissingExtraError
from dynaclient.testing.binaries import binary_version, resolve_binaries


def _build() -> int:
    binaries = resolve_binaries()
    for name, path in (("kube-apiserver", binaries.kube_apiserver), ("etcd", binaries.etcd)):
        print(f"{name}: {path} ({binary_version(path)}; from {binaries.sources[name]})")
    return 0


def _up(watch_cache: bool) -> int:
    # Imported here: the plane needs the testing extra (cryptography); --help and build do not.
    from dynaclient.testing.controlplane import CERT_CONTEXT, TOKEN_CONTEXT, ControlPlane

    stop = threading.Event()
    # SIGTERM ends the plane as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with ControlPlane(watch_cache=watch_cache) as plane:
        print(f"kube-apiserver {plane.server_url} ready in {plane.startup_seconds:.1f}s")
        print(f"kubeconfig: {plane.kubeconfig_path} (contexts {CERT_CONTEXT}, {TOKEN_CONTEXT})")
        print(f"export KUBECONFIG={plane.kubeconfig_path}")
        print("Press Ctrl-C to stop.", flush=True)
        try:
            while not stop.wait(1.0):
                if not plane.running:
                    print("the control plane exited unexpectedly", file=sys.stderr)
                    return 1
        except KeyboardInterrupt:
            pass
        print("stopping...", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m dynaclient.testing", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start a local control plane and run until Ctrl-C")
    up.add_argument("--no-watch-cache", action="store_true", help="serve watches from etcd (no apiserver cache)")
    commands.add_parser("build", help="locate or build kube-apiserver and etcd; print paths and versions")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            return _build()
        return _up(watch_cache=not args.no_watch_cache)
    except MissingExtraError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")


if __name__ == "__main__":
    sys.exit(main())
