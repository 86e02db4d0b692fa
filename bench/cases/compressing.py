"""P1 compression: the P1 list with gzip and with identity responses, on loopback and on a paced 100 Mbit/s link.

The API server gzips every response over 128 KiB when the client accepts gzip (apiserver
``endpoints/handlers/responsewriters``). On loopback that costs the server CPU to compress and the client CPU to
decompress, for bytes that cost almost nothing to move; across a slow link the much smaller body wins. Each case
lists the fixture once (the dynaclient cases decode it, the floor cases only read it) and reports the API server's
and etcd's CPU during the list next to the client's. The paced link is :mod:`bench.pacing_proxy` in its own process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import requests

from bench.cases.listing import PAGE, _dict_name
from bench.measure import Metrics, case_main, expect_count, timed
from bench.target import RESOURCE, BenchTarget

if TYPE_CHECKING:
    from dynaclient.transport.compression import Compression

PACED_MEGABITS = 100.0
"""The paced link's bandwidth: a fast cloud network path between a client and a remote API server is 1-10 Gbit/s;
a VPN or a laptop on Wi-Fi is nearer 100 Mbit/s."""

_TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(target: BenchTarget) -> float:
    """Return the CPU seconds the control plane's processes (kube-apiserver, etcd) have used so far."""
    total = 0.0
    for pid in target.server_pids.values():
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15 of stat)
    return total


@contextmanager
def paced_server(target: BenchTarget, megabits: float | None) -> Iterator[str]:
    """Yield the server URL to use: the target's, or a pacing proxy's in front of it at ``megabits``."""
    if megabits is None:
        yield target.server
        return
    upstream = target.server.split("://", 1)[1].split("/", 1)[0]
    command = [sys.executable, "-m", "bench.pacing_proxy", "--upstream", upstream, "--megabits", str(megabits)]
    proxy = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proxy.stdout is not None
        yield f"https://127.0.0.1:{int(proxy.stdout.readline())}"
    finally:
        proxy.kill()
        proxy.wait()


def _measured(target: BenchTarget, run: Callable[[], int]) -> Metrics:
    server_before = server_cpu_seconds(target)
    with timed() as timing:
        count = run()
    server = server_cpu_seconds(target) - server_before
    expect_count("compression list", count, target.objects)
    return {
        "seconds": timing.seconds,
        "cpu_seconds": timing.cpu_seconds,
        "server_cpu_seconds": server,
        "objects": target.objects,
    }


def _dynaclient(target: BenchTarget, compression: str, megabits: float | None) -> Metrics:
    from dynaclient import DynamicClient, load_kubeconfig
    from dynaclient.connect import client_from_config

    encoding: Compression = "gzip" if compression == "gzip" else "identity"

    with paced_server(target, megabits) as server:
        config = replace(load_kubeconfig(target.kubeconfig), server=server, compression=encoding)
        client = DynamicClient.from_api_client(client_from_config(config))
        configmaps = client.resource(RESOURCE).namespace(target.namespace)
        configmaps.list_page(limit=1)
        return _measured(target, lambda: len({_dict_name(item) for item in configmaps.list(limit=PAGE)}))


def _floor(target: BenchTarget, compression: str, megabits: float | None) -> Metrics:
    """The pages read (and, with gzip, decompressed by urllib3) but not decoded, fetched one after another."""
    from dynaclient.resources.listing import peek_continue_token

    session = requests.Session()
    session.cert = (target.cert_path, target.key_path)
    session.headers["Accept-Encoding"] = compression

    with paced_server(target, megabits) as server:
        url = f"{server}/api/v1/namespaces/{target.namespace}/{RESOURCE}"

        def body(params: dict[str, str]) -> bytes:
            with session.get(url, params=params, verify=target.ca_path, timeout=120, stream=True) as response:
                response.raise_for_status()
                return b"".join(response.iter_content(1 << 20))

        def run() -> int:
            items, token = 0, None
            while True:
                page = body({"limit": str(PAGE), "continue": token} if token else {"limit": str(PAGE)})
                items += page.count(b'"uid":')
                token = peek_continue_token(page)
                if not token:
                    return items

        body({"limit": "1"})
        return _measured(target, run)


def _case(kind: Callable[[BenchTarget, str, float | None], Metrics], compression: str, paced: bool) -> Any:
    return lambda target: kind(target, compression, PACED_MEGABITS if paced else None)


CASES = {
    f"compress-{who}-{compression}{'-paced' if paced else ''}": _case(kind, compression, paced)
    for who, kind in (("dynaclient", _dynaclient), ("floor", _floor))
    for compression in ("gzip", "identity")
    for paced in (False, True)
}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
