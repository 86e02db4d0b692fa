"""P7: an operator converging on 1,000 Sawtooths at once: dynaclient (threads, asyncio), kopf, controller-runtime.

Each operator runs as its own process, scoped to a fresh namespace, and is the same Sawtooth operator
(examples/sawtooth_operator.py and its async twin sawtooth_operator_async.py; bench/operators/kopf_sawtooth.py;
bench/controllerruntime/main.go): a finalizer and an external record, a ConfigMap with ``data.size``,
``status.observedSize``. The case process:

1. starts the operator and waits until it has handled a warm-up Sawtooth (so start-up is not measured);
2. creates N Sawtooths with 16 requests in flight (the same creator for every operator);
3. waits, through its own informers, until every ConfigMap and every ``status.observedSize`` is written.

``seconds`` is the time from the first create to the last write; ``operator_cpu_seconds`` is the CPU the operator
process used meanwhile (from /proc, user + system). ``requests_per_sawtooth`` counts the operator's API requests
on Sawtooths and ConfigMaps from the first create until 2 s after convergence, per Sawtooth (the API server's
``apiserver_request_total`` before and after, less the creator's POSTs; ``req_<VERB>_<resource>`` breaks it down,
codes other than 2xx named). ``server_cpu_seconds`` is the CPU kube-apiserver and etcd used in the window.

``p7-floor-writer`` is the floor of the same run: no operator, no informer, no queue; a plain requests session
creates each Sawtooth and issues the three writes the operator's semantics require (finalizer patch, ConfigMap
create, status patch) at once, at several concurrencies; ``seconds`` is the best of them (a lower bound).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from bench.clientgo_build import build_controller_runtime_sawtooth
from bench.measure import Metrics, case_main
from bench.target import BenchTarget
from dynaclient import DynamicClient, JSONObject
from informers import SharedInformerFactory

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
from sawtooth_operator import FINALIZER, GROUP, SAWTOOTHS, install_crd  # noqa: E402 - the example lives outside the package

Launch = Callable[[BenchTarget, str, Path], list[str]]
"""Return the command that runs an operator on ``namespace`` with its records in a directory."""
WORKERS = int(os.environ.get("BENCH_P7_WORKERS", "16"))
"""Concurrent reconciles of every operator (kopf: its handler thread pool); ``BENCH_P7_WORKERS`` overrides."""
FLOOR_CONCURRENCY = (16, 32, 64)
"""Requests in flight the floor writer tries; it reports the fastest."""
SETTLE_SECONDS = 2.0
"""After convergence, how long requests are still counted (trailing no-op writes cost the server too)."""
_COUNTED = ("sawtooths", "configmaps")
_SAMPLE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$", re.MULTILINE)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


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
    return [
        str(binary),
        f"--kubeconfig={target.kubeconfig}",
        f"--namespace={namespace}",
        f"--records={records}",
        f"--workers={WORKERS}",
    ]


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


def server_cpu_seconds(target: BenchTarget) -> float:
    """Return the CPU seconds kube-apiserver and etcd have used so far."""
    return sum(cpu_seconds(pid) for pid in target.server_pids.values())


def _session(target: BenchTarget, pool: int) -> requests.Session:
    session = requests.Session()
    session.cert, session.verify = (target.cert_path, target.key_path), target.ca_path
    session.trust_env = False  # else REQUESTS_CA_BUNDLE in the environment overrides verify
    session.mount("https://", HTTPAdapter(pool_connections=1, pool_maxsize=pool))
    return session


def api_requests(session: requests.Session, server: str) -> Counter[str]:
    """Return the API server's request counts on Sawtooths and ConfigMaps, by ``VERB resource[/sub][ code]``.

    From ``apiserver_request_total`` on ``/metrics``; the code is named only when it is not 2xx.
    """
    response = session.get(f"{server}/metrics", timeout=30)
    response.raise_for_status()
    counts: Counter[str] = Counter()
    for sample in _SAMPLE.finditer(response.text):
        labels = dict(_LABEL.findall(sample["labels"]))
        if labels.get("resource") not in _COUNTED:
            continue
        key = f"{labels['verb']} {labels['resource']}" + (
            f"/{labels['subresource']}" if labels.get("subresource") else ""
        )
        if not labels.get("code", "200").startswith("2"):
            key += f" {labels['code']}"
        counts[key] += int(float(sample["value"]))
    return counts


def request_metrics(before: Counter[str], after: Counter[str], created: int) -> Metrics:
    """Return the requests made between two snapshots, less ``created`` Sawtooth POSTs, per Sawtooth.

    >>> request_metrics(Counter(), Counter({"POST sawtooths": 10, "PATCH sawtooths/status": 10}), 10)
    {'requests_per_sawtooth': 1.0, 'req_PATCH_sawtooths/status': 1.0}
    """
    delta = after - before
    delta["POST sawtooths"] -= created
    delta = +delta
    metrics: Metrics = {"requests_per_sawtooth": sum(delta.values()) / created}
    for key, count in sorted(delta.items()):
        metrics["req_" + key.replace(" ", "_")] = count / created
    return metrics


def _sawtooth(name: str, size: int) -> JSONObject:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Sawtooth", "metadata": {"name": name}, "spec": {"size": size}}


def converge(target: BenchTarget, launch: Launch) -> Metrics:
    client = DynamicClient.from_kubeconfig(target.kubeconfig)
    install_crd(client)
    namespace = f"bench-p7-{uuid.uuid4().hex[:8]}"
    client.resource("namespaces").create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    with tempfile.TemporaryDirectory(prefix="bench-p7-") as records:
        env = {**os.environ, "KUBECONFIG": target.kubeconfig, "SAWTOOTH_RECORDS": records, "PYTHONPATH": str(ROOT)}
        env["SAWTOOTH_WORKERS"] = str(WORKERS)
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
    metrics_session = _session(target, 1)
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
        requests_before = api_requests(metrics_session, target.server)
        cpu_before, server_before = cpu_seconds(operator.pid), server_cpu_seconds(target)
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda item: resource.create(_sawtooth(*item)), names.items()))
        created = time.perf_counter() - started
        if not convergence.wait(target.timeout):
            missing = [n for n, size in names.items() if convergence.observed.get(n) != size][:5]
            raise RuntimeError(f"not converged within {target.timeout}s; e.g. {missing}")
        seconds = time.perf_counter() - started
        cpu, server_cpu = cpu_seconds(operator.pid) - cpu_before, server_cpu_seconds(target) - server_before
        time.sleep(SETTLE_SECONDS)  # trailing writes of the operator, if any, are counted too
        requests_after = api_requests(metrics_session, target.server)
    return {
        "seconds": seconds,
        "create_seconds": created,
        "operator_cpu_seconds": cpu,
        "server_cpu_seconds": server_cpu,
        "objects_per_second": len(names) / seconds,
        **request_metrics(requests_before, requests_after, len(names)),
    }


def floor(target: BenchTarget) -> Metrics:
    """Create N Sawtooths and issue the three writes each requires, with no operator: the fastest of a few pools."""
    client = DynamicClient.from_kubeconfig(target.kubeconfig)
    install_crd(client)
    runs = [_floor_run(target, client, concurrency) for concurrency in FLOOR_CONCURRENCY]
    best = min(runs, key=lambda run: run["seconds"])
    return {**best, "best_of_seconds": max(run["seconds"] for run in runs)}


def _floor_run(target: BenchTarget, client: DynamicClient, concurrency: int) -> Metrics:
    namespace = f"bench-p7-floor-{uuid.uuid4().hex[:8]}"
    client.resource("namespaces").create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    session = _session(target, concurrency)
    sawtooths = f"{target.server}/apis/{GROUP}/v1/namespaces/{namespace}/sawtooths"
    configmaps = f"{target.server}/api/v1/namespaces/{namespace}/configmaps"
    merge = {"Content-Type": "application/merge-patch+json"}

    def write(item: tuple[str, int]) -> None:
        name, size = item
        session.post(sawtooths, json=_sawtooth(name, size), timeout=60).raise_for_status()
        created = session.patch(
            f"{sawtooths}/{name}", json={"metadata": {"finalizers": [FINALIZER]}}, headers=merge, timeout=60
        )
        created.raise_for_status()
        sawtooth = created.json()
        owner = {
            "apiVersion": sawtooth["apiVersion"],
            "kind": "Sawtooth",
            "name": name,
            "uid": sawtooth["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        configmap = {"metadata": {"name": name, "ownerReferences": [owner]}, "data": {"size": str(size)}}
        session.post(configmaps, json=configmap, timeout=60).raise_for_status()
        status = {"status": {"observedSize": size}}
        session.patch(f"{sawtooths}/{name}/status", json=status, headers=merge, timeout=60).raise_for_status()

    names = {f"st-{index:05d}": 1 + index % 7 for index in range(target.sawtooths)}
    before, server_before = api_requests(session, target.server), server_cpu_seconds(target)
    started, cpu_before = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(write, names.items()))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    server_cpu = server_cpu_seconds(target) - server_before
    after = api_requests(session, target.server)
    _release(session, sawtooths, names)
    return {
        "seconds": seconds,
        "concurrency": concurrency,
        "operator_cpu_seconds": cpu,
        "server_cpu_seconds": server_cpu,
        "objects_per_second": len(names) / seconds,
        **request_metrics(before, after, len(names)),
    }


def _release(session: requests.Session, sawtooths: str, names: dict[str, int]) -> None:
    # The floor's Sawtooths keep their finalizer (nothing reconciles them); drop it so the namespace can go later.
    merge = {"Content-Type": "application/merge-patch+json"}
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda name: session.patch(
                    f"{sawtooths}/{name}", json={"metadata": {"finalizers": None}}, headers=merge, timeout=60
                ),
                names,
            )
        )


CASES = {
    "p7-floor-writer": floor,
    "p7-dynaclient-operator": lambda target: converge(target, dynaclient_command),
    "p7-dynaclient-async-operator": lambda target: converge(target, dynaclient_async_command),
    "p7-kopf-operator": lambda target: converge(target, kopf_command),
    "p7-controller-runtime-operator": lambda target: converge(target, controller_runtime_command),
}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
