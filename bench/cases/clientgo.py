"""P2 reference: client-go's dynamic shared informer, run as a Go program that prints its own result line."""

from __future__ import annotations

import json
import subprocess

from bench.clientgo_build import build_clientgo_informer
from bench.measure import Metrics, case_main
from bench.target import RESOURCE, BenchTarget


def clientgo_informer(target: BenchTarget) -> Metrics:
    command = [str(build_clientgo_informer()), f"--kubeconfig={target.kubeconfig}", f"--namespace={target.namespace}"]
    command += [f"--resource={RESOURCE}", f"--objects={target.objects}", f"--timeout={int(target.timeout)}s"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=target.timeout + 30, check=False)
    lines = finished.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(
            f"the client-go program printed nothing (exit {finished.returncode}): {finished.stderr[-500:]}"
        )
    line = json.loads(lines[-1])
    if not line.get("ok"):
        raise RuntimeError(f"client-go: {line.get('error')}")
    metrics: Metrics = {key: float(value) for key, value in line["metrics"].items()}
    metrics["heap_per_json_byte"] = metrics["heap_bytes"] / target.json_bytes
    return metrics


CASES = {"p2-clientgo-informer": clientgo_informer}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
