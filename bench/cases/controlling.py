"""P7: an operator converging on 1,000 Sawtooths at once: dynaclient (threads, asyncio), kopf, controller-runtime.

Each operator runs as its own process, scoped to a fresh namespace, and is the same Sawtooth operator
(examples/sawtooth_operator.py and its async twin sawtooth_operator_async.py; bench/operators/kopf_sawtooth.py;
bench/controllerruntime/main.go): a finalizer and an external record, a ConfigMap with ``data.size``,
``status.observedSize``. The case process:

1. starts the operator and waits until it has handled a warm-up Sawtooth (so start-up is not measured);
2. creates N Sawtooths with 16 requests in flight (the same creator for every operator);
3. waits, through its own informers, until every ConfigMap and every ``status.observedSize`` is written.

``seconds`` is the time from the first create to the last write; ``operator_cpu_seconds`` is the CPU the operator
process used meanwhile (from /proc, user + system).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.clientgo_build import build_controller_runtime_sawtooth
from bench.measure import Metrics, case_main
from bench.target import BenchTarget
from dynaclient import DynamicClient, JSONObject
from informers import SharedInformerFactory

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
from sawtooth_operator import GROUP, SAWTOOTHS, install_crd  # noqa: E402 - the example lives outside the package

Launch = Callable[[BenchTarget, str, Path], list[str]]
"""Return the command that runs an operator on ``namespace`` with its records in a directory."""
WORKERS = 8
"""Concurrent reconciles of the dynaclient and controller-runtime operators (kopf: its handler thread pool)."""


def dynaclient_command(target: BenchTarget, namespace: str, records: Path) -> list[str]:
    script = ROOT / "examples" / "sawtooth_operator.py"
    return [sys.executable, str(script), f"--namespace={namespace}", f"--records={records}", f"--workers={WORKERS}"]


def dynaclient_async_command(target: BenchTarget, namespace: str, records: Path) -> list[str]:
    script = ROOT / "examples" / "sawtooth_operator_async.py"
    return [sys.executable, str(script), f"--namespace={namespace}", f"--records={records}", f"--workers={WORKERS}"]


def kopf_command(target: BenchTarget, namespace: str, records: Path) -> list[str]:
    script = ROOT / "bench" / "operators" / "kopf_sawtooth.py"
    return [sys.executable, "-m", "kopf", "run", "--standalone", f"--namespace={namespace}", "--quiet", str(script)]


def controller_runtime_command(target: BenchTarget, namespace: str, records: Path) -> list[str]:
    binary = build_controller_runtime_sawtooth()
    return [str(binary), f"--kubeconfig={target.kubeconfig}", f"--namespace={namespace}", f"--records={records}"]


class Convergence:
    """Counts the Sawtooths whose ConfigMap and status both show the expected size.

    Thread-safety: thread-safe.
    """

    def __init__(self, expected: dict[str, int]) -> None:
        self.expected = expected
        self.configmaps: dict[str, str] = {}
        self.observed: dict[str, int] = {}
        self._done = threading.Event()
        self._lock = threading.Lock()

    def configmap(self, obj: JSONObject, *_: object) -> None:
        with self._lock:
            self.configmaps[obj["metadata"]["name"]] = (obj.get("data") or {}).get("size", "")
            self._check()

    def configmap_update(self, old: JSONObject, new: JSONObject) -> None:
        self.configmap(new)

    def sawtooth(self, obj: JSONObject, *_: object) -> None:
        with self._lock:
            self.observed[obj["metadata"]["name"]] = (obj.get("status") or {}).get("observedSize", -1)
            self._check()

    def sawtooth_update(self, old: JSONObject, new: JSONObject) -> None:
        self.sawtooth(new)

    def _check(self) -> None:
        if all(
            self.configmaps.get(name) == str(size) and self.observed.get(name) == size
            for name, size in self.expected.items()
        ):
            self._done.set()

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sawtooth(name: str, size: int) -> JSONObject:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Sawtooth", "metadata": {"name": name}, "spec": {"size": size}}


def converge(target: BenchTarget, launch: Launch) -> Metrics:
    client = DynamicClient.from_kubeconfig(target.kubeconfig)
    install_crd(client)
    namespace = f"bench-p7-{uuid.uuid4().hex[:8]}"
    client.resource("namespaces").create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    with tempfile.TemporaryDirectory(prefix="bench-p7-") as records:
        env = {**os.environ, "KUBECONFIG": target.kubeconfig, "SAWTOOTH_RECORDS": records, "PYTHONPATH": str(ROOT)}
        command = launch(target, namespace, Path(records))
        operator = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        try:
            return _measure(target, client, namespace, operator)
        finally:
            operator.send_signal(signal.SIGINT)
            try:
                operator.wait(30)
            except subprocess.TimeoutExpired:
                operator.kill()
                operator.wait()


def _measure(target: BenchTarget, client: DynamicClient, namespace: str, operator: subprocess.Popen[bytes]) -> Metrics:
    resource = client.resource(SAWTOOTHS).namespace(namespace)
    names = {f"st-{index:05d}": 1 + index % 7 for index in range(target.sawtooths)}
    warmup = Convergence({"warmup": 3})
    convergence = Convergence(names)
    factory = SharedInformerFactory(client, namespace=namespace)
    for tracker in (warmup, convergence):
        factory.for_resource("configmaps").add_event_handler(
            on_add=tracker.configmap, on_update=tracker.configmap_update
        )
        factory.for_resource(SAWTOOTHS).add_event_handler(on_add=tracker.sawtooth, on_update=tracker.sawtooth_update)
    with factory:
        factory.start()
        factory.wait_for_cache_sync(60)
        resource.create(_sawtooth("warmup", 3))
        if not warmup.wait(120):
            stderr = operator.stderr.read().decode()[-2000:] if operator.poll() is not None and operator.stderr else ""
            raise RuntimeError(f"the operator did not handle a warm-up Sawtooth within 120s {stderr}")
        cpu_before = cpu_seconds(operator.pid)
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda item: resource.create(_sawtooth(*item)), names.items()))
        created = time.perf_counter() - started
        if not convergence.wait(target.timeout):
            missing = [n for n, size in names.items() if convergence.observed.get(n) != size][:5]
            raise RuntimeError(f"not converged within {target.timeout}s; e.g. {missing}")
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(operator.pid) - cpu_before
    return {
        "seconds": seconds,
        "create_seconds": created,
        "operator_cpu_seconds": cpu,
        "objects_per_second": len(names) / seconds,
    }


CASES = {
    "p7-dynaclient-operator": lambda target: converge(target, dynaclient_command),
    "p7-dynaclient-async-operator": lambda target: converge(target, dynaclient_async_command),
    "p7-kopf-operator": lambda target: converge(target, kopf_command),
    "p7-controller-runtime-operator": lambda target: converge(target, controller_runtime_command),
}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
