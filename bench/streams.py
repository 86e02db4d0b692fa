"""Pod stream throughput: follow a 100 MB log, and a 100 MB round trip through a forwarded port.

Usage: ``python -m bench.streams [--megabytes 100] [--repeats 3]``. It starts a plane with one kwok node, a pod whose
log is a file written here and whose port 8080 is a local echo server, then times, in alternating order:

* logs: dynaclient ``pods.logs(follow=True)`` (and its asyncio client's), ``kubectl logs -f`` (over HTTP/2,
  client-go's default, and over HTTP/1.1 as every Python client speaks), the official client's
  ``read_namespaced_pod_log(follow=True, _preload_content=False)``, and ``requests`` streaming the same URL (the raw
  limit: no client logic at all). Each stops once it has the whole log (kwok never ends a follow).
* port-forward: dynaclient's socket-like ``connect_port`` and its local listener ``port_forward`` (in this
  process, and in a process of its own as kubectl runs in its own),
  ``kubectl port-forward``, the official client's ``portforward``, and a direct connection to the echo server (the
  limit without Kubernetes). Each sends the payload while reading the echo back.

Results (medians, MB/s of payload) go to stdout and ``bench/results/streams-<cases>.md``. Wall-clock rates move
with the load of a shared machine, so the two forwarders that run in a process of their own (dynaclient's listener
and ``kubectl port-forward``) also get the CPU seconds that process spent on the transfer (``/proc/<pid>/stat``,
read before and after it): the same measure for both, and far steadier than the rates. Each log follow gets the
CPU seconds of its client (this process, and ``kubectl`` as a child waited for) and of the API server and kwok.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):  # run as a script: bench/streams.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from bench.peers import official, peer
from dynaclient import DynamicClient, client_from_config, load_kubeconfig
from dynaclient.aio import AsyncDynamicClient
from dynaclient.resources.client import ResourceClient
from dynaclient.testing import ControlPlane
from dynaclient.testing.kwok import cri_log_line

KUBECTL = "/usr/bin/kubectl"
POD = "bench"
RESULTS = Path(__file__).resolve().parent / "results"
MB = 1_000_000


def write_log(path: Path, size: int) -> int:
    """Write a CRI log of about ``size`` bytes of container output; return the exact count of output bytes."""
    line = "x" * 99
    record = cri_log_line(line)
    count = size // (len(line) + 1)
    with open(path, "w", encoding="ascii") as handle:
        for _ in range(count // 1000):
            handle.write(record * 1000)
    return (count // 1000) * 1000 * (len(line) + 1)


class EchoServer:
    """A local TCP echo server, one thread per connection."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(connection,), daemon=True).start()

    @staticmethod
    def _echo(connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(262144):
                connection.sendall(data)


def round_trip(send: Callable[[bytes], object], receive: Callable[[int], bytes], data: bytes) -> float:
    """Send ``data`` from a thread while reading its echo; return the seconds it took (all of it must come back)."""
    started = time.perf_counter()
    sender = threading.Thread(target=send, args=(data,))
    sender.start()
    got = 0
    while got < len(data):
        chunk = receive(1 << 20)
        if not chunk:
            raise RuntimeError(f"the connection ended after {got} of {len(data)} bytes")
        got += len(chunk)
    sender.join()
    return time.perf_counter() - started


def read_exactly(chunks: Iterator[bytes], total: int) -> None:
    got = 0
    for chunk in chunks:
        got += len(chunk)
        if got >= total:
            return
    raise RuntimeError(f"the log ended after {got} of {total} bytes")


def serve_forward(kubeconfig: str, namespace: str) -> None:
    """Run dynaclient's listener in this process, like ``kubectl port-forward``, until stdin closes."""
    api_client = client_from_config(load_kubeconfig(kubeconfig))
    pods = DynamicClient.from_api_client(api_client).resource("pods").namespace(namespace)
    with pods.port_forward(POD, [":8080"]) as forwarder:
        print(f"Forwarding from 127.0.0.1:{forwarder.ports[8080]} -> 8080", flush=True)
        sys.stdin.read()


def process_cpu(pid: int) -> float:
    """Return the CPU seconds (user and system) process ``pid`` has spent so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """Return the CPU seconds process ``pid`` and its descendants have spent so far (kwok runs under a guard)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # the process ended meanwhile
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += process_cpu(current)
        except OSError:
            continue
        pending += children.get(current, [])
    return total


@contextmanager
def kubectl_port_forward(
    kubeconfig: str, namespace: str, *, dynaclient: bool = False
) -> Iterator[tuple[int, Callable[[], float]]]:
    """Run ``kubectl port-forward`` (or dynaclient's listener in a process of its own); yield its local port and a
    function returning the CPU seconds the process has spent so far."""
    argv = [KUBECTL, f"--kubeconfig={kubeconfig}", "-n", namespace, "port-forward", POD, ":8080"]
    if dynaclient:
        argv = [sys.executable, "-m", "bench.streams", "--serve-forward", kubeconfig, namespace]
    process = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        match = re.search(r"127\.0\.0\.1:(\d+)", process.stdout.readline())
        assert match, "kubectl port-forward printed no port"
        yield int(match.group(1)), lambda: process_cpu(process.pid)
    finally:
        process.kill()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()


class Bench:
    """The plane, the pod and one function per case."""

    def __init__(self, plane: ControlPlane, pods: ResourceClient, log_bytes: int, echo: EchoServer) -> None:
        self.kubeconfig = str(plane.kubeconfig_path)
        self.namespace = pods.namespace_name
        self.pods = pods
        self.log_bytes = log_bytes
        self.echo = echo
        self.official = official(self.kubeconfig)
        self.core = self.official.client.CoreV1Api()
        self.server, self.token = plane.server_url, plane.token
        self.ca = str(plane.ca_path)
        self.cpu: dict[str, list[float]] = {}
        """CPU seconds of the forwarding process per transfer, for the forwarders that run in their own."""

    # -- logs ----------------------------------------------------------------------------------------------------

    def logs_dynaclient(self) -> None:
        with self.pods.logs(POD, follow=True) as log:
            read_exactly(log.iter_bytes(), self.log_bytes)

    def logs_dynaclient_async(self) -> None:
        async def follow() -> None:
            async with AsyncDynamicClient.from_kubeconfig(self.kubeconfig) as client:
                pods = (await client.resource("pods")).namespace(self.namespace)
                async with await pods.logs(POD, follow=True) as log:
                    got = 0
                    async for chunk in log.iter_bytes():
                        got += len(chunk)
                        if got >= self.log_bytes:
                            return
            raise RuntimeError(f"the log ended after {got} of {self.log_bytes} bytes")

        asyncio.run(follow())

    def logs_kubectl(self, *, http1: bool = False) -> None:
        """Follow with ``kubectl logs -f``; ``http1`` turns client-go's HTTP/2 off.

        client-go offers HTTP/2 through ALPN unless ``DISABLE_HTTP2`` is set (apimachinery ``pkg/util/net/http.go``
        ``SetTransportDefaults``); Go's ``GODEBUG=http2client=0`` does not reach it.
        """
        argv = [KUBECTL, f"--kubeconfig={self.kubeconfig}", "-n", self.namespace, "logs", "-f", POD]
        env = {**os.environ, "DISABLE_HTTP2": "1"} if http1 else None
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        assert process.stdout is not None
        read_exactly(iter(lambda: os.read(process.stdout.fileno(), 1 << 20), b""), self.log_bytes)  # type: ignore[union-attr]
        process.kill()
        process.wait()

    def logs_official(self) -> None:
        response = self.core.read_namespaced_pod_log(POD, self.namespace, follow=True, _preload_content=False)
        read_exactly(response.stream(1 << 20), self.log_bytes)
        response.release_conn()

    def logs_raw(self) -> None:
        url = f"{self.server}/api/v1/namespaces/{self.namespace}/pods/{POD}/log?follow=true"
        headers = {"Authorization": f"Bearer {self.token}"}
        with requests.get(url, headers=headers, verify=self.ca, stream=True, timeout=60) as response:
            read_exactly(response.iter_content(None), self.log_bytes)

    # -- port-forward --------------------------------------------------------------------------------------------

    def forward_dynaclient_stream(self, data: bytes) -> float:
        with self.pods.connect_port(POD, 8080) as stream:
            return round_trip(stream.sendall, stream.recv, data)

    def forward_dynaclient_listener(self, data: bytes) -> float:
        forwarder = self.pods.port_forward(POD, [":8080"])
        with forwarder, socket.create_connection(("127.0.0.1", forwarder.ports[8080])) as connection:
            return round_trip(connection.sendall, connection.recv, data)

    def forward_kubectl(self, data: bytes) -> float:
        return self._forward_process("kubectl port-forward", data, dynaclient=False)

    def forward_dynaclient_process(self, data: bytes) -> float:
        return self._forward_process("dynaclient port_forward (own process)", data, dynaclient=True)

    def _forward_process(self, name: str, data: bytes, *, dynaclient: bool) -> float:
        with kubectl_port_forward(self.kubeconfig, self.namespace, dynaclient=dynaclient) as (port, cpu):
            before = cpu()
            seconds = self._direct(port, data)
            self.cpu.setdefault(name, []).append(cpu() - before)
            return seconds

    def forward_official(self, data: bytes) -> float:
        stream = peer("kubernetes.stream")
        forward = stream.portforward(
            self.core.connect_get_namespaced_pod_portforward, POD, self.namespace, ports="8080"
        )
        connection = forward.socket(8080)
        connection.settimeout(30)  # its proxy thread can block in a send while the echo waits to be read
        try:
            return round_trip(connection.sendall, connection.recv, data)
        finally:
            connection.close()
            forward.close()

    def forward_direct(self, data: bytes) -> float:
        return self._direct(self.echo.port, data)

    @staticmethod
    def _direct(port: int, data: bytes) -> float:
        with socket.create_connection(("127.0.0.1", port)) as connection:
            return round_trip(connection.sendall, connection.recv, data)


def with_cpu(
    case: Callable[[], None], name: str, pids: list[int], client: dict[str, list[float]], server: dict[str, list[float]]
) -> Callable[[], None]:
    """Wrap ``case`` to record the CPU seconds spent during it: by the client (this process and the children it
    waited for, so ``kubectl``) in ``client[name]``, and by processes ``pids`` (the API server, kwok) in
    ``server[name]``.

    How a client reads a followed log changes what serving it costs, not only what reading it costs.
    """

    def client_cpu() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def timed() -> None:
        before, server_before = client_cpu(), sum(tree_cpu(pid) for pid in pids)
        case()
        client.setdefault(name, []).append(client_cpu() - before)
        server.setdefault(name, []).append(sum(tree_cpu(pid) for pid in pids) - server_before)

    return timed


def measure(cases: Mapping[str, Callable[[], float | None]], size: int, repeats: int) -> dict[str, list[float]]:
    """Run every case ``repeats`` times, alternating the order each round; return MB/s per run.

    A case returns the seconds of its transfer alone (port-forward: from the first byte sent, once the
    forwarder, kubectl's included, is listening), or ``None`` to be timed whole.
    """
    rates: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for round_index in range(repeats):
        for name in names if round_index % 2 == 0 else reversed(names):
            started = time.perf_counter()
            try:
                seconds = cases[name]()
            except (OSError, RuntimeError) as exc:  # a timeout: no byte moved for 30 s
                rates[name].append(float("nan"))
                print(f"  {name}: did not finish ({type(exc).__name__}: {exc})", file=sys.stderr)
                continue
            rates[name].append(size / MB / (seconds or time.perf_counter() - started))
            print(f"  {name}: {rates[name][-1]:.1f} MB/s", file=sys.stderr)
    return rates


def table(
    title: str,
    rates: dict[str, list[float]],
    reference: str,
    cpu: Mapping[str, Mapping[str, list[float]]] | None = None,
) -> str:
    """A Markdown table of the median rates against ``reference``'s, and a column of median CPU seconds for each
    entry of ``cpu`` (its title: CPU seconds by case)."""
    base = statistics.median(rates[reference])
    cpu = cpu or {}
    heads = "".join(f" {column} (median) |" for column in cpu)
    lines = [
        f"| {title} | MB/s (median) | min-max | vs {reference} |{heads}",
        f"|---|---:|---:|---:|{'---:|' * len(cpu)}",
    ]
    for name, all_values in rates.items():
        values = [value for value in all_values if not math.isnan(value)]
        cells = "".join(f" {statistics.median(by[name]):.2f} |" if by.get(name) else " |" for by in cpu.values())
        if not values:
            lines.append(f"| {name} | did not finish ({len(all_values)} of {len(all_values)} runs) | | |{cells}")
            continue
        median = statistics.median(values)
        failed = f" ({len(all_values) - len(values)} runs did not finish)" if len(values) < len(all_values) else ""
        ratio = f"{median / base:.2f}x"
        lines.append(f"| {name}{failed} | {median:.1f} | {min(values):.1f}-{max(values):.1f} | {ratio} |{cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=100, help="log size and round-trip payload (default 100)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", choices=["all", "logs", "forward"], default="all")
    parser.add_argument("--serve-forward", nargs=2, metavar=("KUBECONFIG", "NAMESPACE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_forward:
        serve_forward(*args.serve_forward)
        return
    echo = EchoServer()
    with ControlPlane(nodes=1) as plane:
        api_client = client_from_config(load_kubeconfig(plane.kubeconfig_path))
        dynamic = DynamicClient.from_api_client(api_client)
        namespace = "bench-streams"
        dynamic.request("POST", "/api/v1/namespaces", body={"metadata": {"name": namespace}})
        pods = dynamic.resource("pods").namespace(namespace)
        container = {"name": "main", "image": "registry.k8s.io/pause:3.10"}
        pods.create({"metadata": {"name": POD}, "spec": {"nodeName": plane.node_names[0], "containers": [container]}})
        while pods.get(POD).get("status", {}).get("phase") != "Running":
            time.sleep(0.05)
        log_bytes = write_log(plane.work_dir / "bench.log", args.megabytes * MB)
        plane.serve_pod_logs(namespace, POD, plane.work_dir / "bench.log")
        plane.serve_pod_port_forward(namespace, POD, {8080: echo.port})
        bench = Bench(plane, pods, log_bytes, echo)
        tables = [f"Pod streams, {args.megabytes} MB, {args.repeats} rounds, {os.cpu_count()} cores"]
        if args.cases in ("all", "logs"):
            print(f"logs: follow {log_bytes / MB:.0f} MB", file=sys.stderr)
            logs = {
                "raw requests (limit)": bench.logs_raw,
                "dynaclient": bench.logs_dynaclient,
                "dynaclient.aio": bench.logs_dynaclient_async,
                "kubectl logs -f": bench.logs_kubectl,
                "kubectl logs -f over HTTP/1.1": lambda: bench.logs_kubectl(http1=True),
                "kubernetes (official)": bench.logs_official,
            }
            server = [plane.pids[name] for name in ("kube-apiserver", "kwok")]
            client_cpu: dict[str, list[float]] = {}
            server_cpu: dict[str, list[float]] = {}
            rates = measure(
                {name: with_cpu(case, name, server, client_cpu, server_cpu) for name, case in logs.items()},
                log_bytes,
                args.repeats,
            )
            tables.append(
                table(
                    "follow a log",
                    rates,
                    "kubectl logs -f",
                    {"client CPU-s": client_cpu, "API server + kwok CPU-s": server_cpu},
                )
            )
        if args.cases in ("all", "forward"):
            payload = os.urandom(MB) * args.megabytes
            print(f"port-forward: {len(payload) / MB:.0f} MB round trip", file=sys.stderr)
            forward: dict[str, Callable[[], float | None]] = {
                "direct to the echo server (limit)": lambda: bench.forward_direct(payload),
                "dynaclient connect_port": lambda: bench.forward_dynaclient_stream(payload),
                "dynaclient port_forward (listener)": lambda: bench.forward_dynaclient_listener(payload),
                "dynaclient port_forward (own process)": lambda: bench.forward_dynaclient_process(payload),
                "kubectl port-forward": lambda: bench.forward_kubectl(payload),
                "kubernetes (official)": lambda: bench.forward_official(payload),
            }
            rates = measure(forward, len(payload), args.repeats)
            tables.append(table("port-forward round trip", rates, "kubectl port-forward", {"process CPU-s": bench.cpu}))
        api_client.close()
    report = "\n\n".join(tables)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"streams-{args.cases}.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
