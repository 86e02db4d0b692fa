"""P3: how soon an informer's handler sees each write, under a paced writer in another process.

The writer is the client-go program in writer mode (``clientgo-informer --mode=writer``, bench/clientgo/writer.go),
so it shares no interpreter lock with the measured informer. It patches ``data.seq`` of P3's own copy of the
fixture (``target.watch_namespace``: as many objects, never the shared ``target.namespace``, whose objects must stay
as created for P1, P2, P4 and P5) in turn, ``rate`` times a second for ``seconds``, with at most ``writers``
requests in flight. For each sequence number it records on CLOCK_MONOTONIC when the request was sent and when its
response arrived; the informer's ``on_update`` in this process records on the same clock (``time.monotonic_ns``)
when it saw that number. Latency is handler time minus write completion (it can be slightly negative: the watch
event may overtake the response); the same from the send time is reported too. A write that completed and was
never seen after ``drain_seconds`` is a lost event. Values carry a per-run nonce (``<nonce>:<seq>``), so that a
later run never writes a value an object already holds (a no-op patch has no event).

While the writer runs, the CPU time of the writer, this process, kube-apiserver and etcd is sampled; the
``*_cores`` metrics are CPU seconds per wall second (2.0 is both cores of a 2-core machine; ``machine_cores``
counts every process, including any outside the benchmark), which show what limits ``write_rate`` when it falls
short of ``target_rate``; ``server_cpu_ms_per_write`` is the CPU of kube-apiserver and etcd per completed write.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.cases.informing import _client, _synced_factory
from bench.clientgo_build import build_clientgo_informer
from bench.measure import Metrics, case_main, percentile
from bench.target import RESOURCE, BenchTarget
from dynaclient import JSONObject

NS_PER_MS = 1_000_000


class Recorder:
    """When the handler first saw each sequence number of this run (CLOCK_MONOTONIC nanoseconds).

    Thread-safety: thread-safe (the informer's handler thread inserts distinct keys under the GIL; readers only
    test membership and read values already written).
    """

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
        self.seen: dict[int, int] = {}

    def on_update(self, _old: JSONObject, new: JSONObject) -> None:
        """Record when the handler saw the object's sequence number (values of other runs are ignored)."""
        now = time.monotonic_ns()
        nonce, _, seq = str((new.get("data") or {}).get("seq", "")).partition(":")
        if nonce == self.nonce:
            self.seen.setdefault(int(seq), now)

    def wait_seen(self, expected: set[int], timeout: float) -> None:
        """Poll until every number in ``expected`` was seen, or ``timeout`` seconds have passed."""
        deadline = time.monotonic() + timeout
        pending = set(expected)
        while pending and time.monotonic() < deadline:
            pending = {seq for seq in pending if seq not in self.seen}
            time.sleep(0.01)  # a benchmark waiting for stragglers; not test synchronisation


@dataclass(frozen=True, slots=True)
class WriterRun:
    """The writer's result line: its schedule's start and end, and send/completion times per sequence number.

    ``sent_ns[i]`` and ``done_ns[i]`` belong to sequence number ``i + 1``; ``done_ns`` is 0 for a failed write.

    Thread-safety: immutable.
    """

    start_ns: int
    finished_ns: int
    failures: int
    first_error: str
    sent_ns: list[int]
    done_ns: list[int]

    @classmethod
    def parse(cls, stdout: str, stderr: str, returncode: int) -> WriterRun:
        """Read the writer's last stdout line.

        Raises:
            RuntimeError: no line, or the writer reported an error.
        """
        lines = stdout.strip().splitlines()
        if not lines:
            raise RuntimeError(f"the writer printed nothing (exit {returncode}): {stderr[-500:]}")
        line: dict[str, Any] = json.loads(lines[-1])
        if not line.get("ok"):
            raise RuntimeError(f"writer: {line.get('error')}")
        return cls(
            start_ns=int(line["start_ns"]),
            finished_ns=int(line["finished_ns"]),
            failures=int(line["failures"]),
            first_error=str(line.get("first_error", "")),
            sent_ns=[int(t) for t in line["sent_ns"]],
            done_ns=[int(t) for t in line["done_ns"]],
        )

    def completed(self) -> dict[int, int]:
        """Return the completion time of every write that succeeded, by sequence number."""
        return {seq: done for seq, done in enumerate(self.done_ns, start=1) if done}


def writer_command(binary: Path, target: BenchTarget, nonce: str) -> list[str]:
    """Return the command line of the paced writer over ``target.watch_namespace``.

    >>> target = BenchTarget("https://s", "/k", "", "", "", "bench-a", 3, 0, watch_namespace="bench-watch-b")
    >>> writer_command(Path("/bin/w"), target, "n1")[:4]
    ['/bin/w', '--mode=writer', '--kubeconfig=/k', '--namespace=bench-watch-b']
    """
    watch = target.watch
    return [
        str(binary),
        "--mode=writer",
        f"--kubeconfig={target.kubeconfig}",
        f"--namespace={target.watch_namespace}",
        f"--resource={RESOURCE}",
        f"--objects={target.objects}",
        f"--rate={watch.rate:g}",
        f"--seconds={watch.seconds:g}",
        f"--workers={watch.writers}",
        f"--nonce={nonce}",
        f"--timeout={int(watch.seconds + 60)}s",
    ]


def process_cpu_seconds(pid: int) -> float:
    """Return user plus system CPU seconds of process ``pid`` (``/proc/<pid>/stat``), or NaN if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """Return the CPU seconds all cores of the machine spent busy so far (``/proc/stat``: all but idle and iowait)."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def cpu_sample(server_pids: dict[str, int]) -> dict[str, float]:
    """Return CPU seconds so far of the control plane's processes, this process, its children and the machine."""
    sample = {name: process_cpu_seconds(pid) for name, pid in server_pids.items()}
    sample["machine"] = machine_busy_seconds()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    sample["writer"] = children.ru_utime + children.ru_stime  # the writer is the only child
    sample["informer"] = time.process_time()
    sample["wall"] = time.monotonic()
    return sample


def cores(before: dict[str, float], after: dict[str, float]) -> Metrics:
    """Return CPU seconds per wall second of each sampled process between two :func:`cpu_sample` calls.

    >>> cores({"etcd": 1.0, "writer": 0.0, "wall": 10.0}, {"etcd": 2.0, "writer": 3.0, "wall": 12.0})
    {'etcd_cores': 0.5, 'writer_cores': 1.5}
    """
    wall = after["wall"] - before["wall"]
    return {
        f"{name.removeprefix('kube-')}_cores": (after[name] - before[name]) / wall
        for name in before
        if name != "wall" and name in after
    }


def latency_metrics(run: WriterRun, seen: dict[int, int], target: BenchTarget) -> Metrics:
    """Return the P3 metrics of a writer run and the handler's times (both CLOCK_MONOTONIC nanoseconds).

    >>> run = WriterRun(0, 2_000_000_000, 1, "x", [10, 20, 30], [NS_PER_MS, 0, 4 * NS_PER_MS])
    >>> target = BenchTarget("https://s", "/k", "", "", "", "a", 3, 0)
    >>> m = latency_metrics(run, {1: 3 * NS_PER_MS}, target)
    >>> m["writes"], m["write_failures"], m["write_rate"], m["lost_events"], m["latency_p50_ms"]
    (2.0, 1.0, 1.0, 1.0, 2.0)
    """
    completed = run.completed()
    after_write = [(seen[seq] - done) / NS_PER_MS for seq, done in completed.items() if seq in seen]
    after_send = [(seen[seq] - run.sent_ns[seq - 1]) / NS_PER_MS for seq in completed if seq in seen]
    return {
        "writes": float(len(completed)),
        "write_failures": float(run.failures),
        "write_rate": len(completed) / ((run.finished_ns - run.start_ns) / 1e9),
        "target_rate": target.watch.rate,
        "lost_events": float(sum(1 for seq in completed if seq not in seen)),
        "latency_p50_ms": percentile(after_write, 0.50),
        "latency_p99_ms": percentile(after_write, 0.99),
        "latency_max_ms": max(after_write, default=float("nan")),
        "from_send_p50_ms": percentile(after_send, 0.50),
        "from_send_p99_ms": percentile(after_send, 0.99),
    }


def informer_latency(target: BenchTarget) -> Metrics:
    if not target.watch_namespace:
        raise RuntimeError("the target has no watch_namespace: run P3 through bench.run, which creates one")
    watched = replace(target, namespace=target.watch_namespace)  # the informer lists and watches P3's copy
    binary = build_clientgo_informer()
    client = _client(watched)
    recorder = Recorder(uuid.uuid4().hex[:8])
    factory, informer, _, _ = _synced_factory(watched, client)
    try:
        informer.add_event_handler(on_update=recorder.on_update)
        command = writer_command(binary, watched, recorder.nonce)
        before = cpu_sample(target.server_pids)
        finished = subprocess.run(command, capture_output=True, text=True, timeout=target.watch.seconds + 120)
        after = cpu_sample(target.server_pids)
        run = WriterRun.parse(finished.stdout, finished.stderr, finished.returncode)
        recorder.wait_seen(set(run.completed()), target.watch.drain_seconds)
    finally:
        factory.shutdown(30)
    if run.failures:
        print(f"bench: {run.failures} writes failed, first: {run.first_error}", file=sys.stderr, flush=True)
    metrics = latency_metrics(run, recorder.seen, target) | cores(before, after)
    server_seconds = sum(after[name] - before[name] for name in target.server_pids)
    metrics["server_cpu_ms_per_write"] = server_seconds * 1000 / max(1.0, metrics["writes"])
    return metrics


CASES = {"p3-dynaclient-informer": informer_latency}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
