"""P6: discovery, cold (empty cache directory) and warm (a new client over the disk cache the cold one wrote).

Each side resolves ``configmaps`` from nothing, as a fresh process would. dynaclient asks for aggregated
discovery (``/api`` and ``/apis``, apidiscovery.k8s.io/v2) and counts its own requests
(:attr:`dynaclient.Discovery.requests_made`); the official ``DynamicClient`` (legacy walk, lazy by default,
``kubernetes/dynamic/discovery.py``) is counted by wrapping its ``ApiClient.call_api``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import Metrics, case_main
from bench.peers import official
from bench.target import RESOURCE, BenchTarget


def dynaclient_discovery(target: BenchTarget) -> Metrics:
    from dynaclient import Discovery, DynamicClient, client_from_config, load_kubeconfig
    from dynaclient.discovery.restmapper import RESTMapper

    config = load_kubeconfig(target.kubeconfig)
    metrics: Metrics = {}
    with tempfile.TemporaryDirectory(prefix="bench-discovery-") as cache:
        for phase in ("cold", "warm"):
            api_client = client_from_config(config)
            discovery = Discovery(api_client, cache_dir=Path(cache))
            started = time.perf_counter()
            DynamicClient(api_client, RESTMapper(discovery)).resource(RESOURCE)
            metrics[f"{phase}_seconds"] = time.perf_counter() - started
            metrics[f"{phase}_requests"] = float(discovery.requests_made)
            api_client.close()
    metrics["seconds"] = metrics["cold_seconds"]
    return metrics


def official_discovery(target: BenchTarget) -> Metrics:
    kubernetes = official(target.kubeconfig)
    metrics: Metrics = {}
    with tempfile.TemporaryDirectory(prefix="bench-discovery-") as cache:
        for phase in ("cold", "warm"):
            client = kubernetes.client.ApiClient()
            calls = [0]
            call_api = client.call_api

            def counted(*args: Any, _call: Any = call_api, _calls: list[int] = calls, **kwargs: Any) -> Any:
                _calls[0] += 1
                return _call(*args, **kwargs)

            client.call_api = counted
            started = time.perf_counter()
            resources = kubernetes.dynamic.DynamicClient(
                client, cache_file=str(Path(cache) / "discovery.json")
            ).resources
            resources.get(api_version="v1", kind="ConfigMap")
            metrics[f"{phase}_seconds"] = time.perf_counter() - started
            metrics[f"{phase}_requests"] = float(calls[0])
            client.close()
    metrics["seconds"] = metrics["cold_seconds"]
    return metrics


CASES = {"p6-dynaclient-discovery": dynaclient_discovery, "p6-official-discovery": official_discovery}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
