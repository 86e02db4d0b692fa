"""Wait and manifests timings on the local cluster rig: ``.venv/bin/python -m bench.manifests_wait``.

Prints medians of: the time from a CRD's creation until ``wait_for(crd_established)`` returns, next to ``kubectl
wait --for=condition=Established`` on the same plane; a six-kind manifest's apply with ``wait=True`` (first and
second run) and its delete with the wait for deletion. Figures, not assertions: the machine is shared and noisy.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dynaclient import DynamicClient, client_from_config, load_kubeconfig
from dynaclient.manifests import apply_manifests, delete_manifests, load_manifests
from dynaclient.testing import ControlPlane
from dynaclient.wait import crd_established

ROUNDS = 7
SIX_KINDS = Path(__file__).parents[1] / "examples" / "manifests" / "demo.yaml"


def crd(group: str) -> dict[str, Any]:
    version = {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {"type": "object"}}}
    spec = {"group": group, "scope": "Cluster", "names": {"plural": "things", "kind": "Thing"}, "versions": [version]}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"things.{group}"},
        "spec": spec,
    }


def timed(action: Callable[[], object]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def main() -> None:
    with ControlPlane(controllers=True, nodes=2) as plane:
        env = {**os.environ, "KUBECONFIG": str(plane.kubeconfig_path)}
        client = DynamicClient.from_api_client(client_from_config(load_kubeconfig(plane.kubeconfig_path)))
        crds = client.resource("customresourcedefinitions")
        ours, kubectl = [], []
        for _ in range(ROUNDS):
            name = crds.create(crd(f"d{uuid.uuid4().hex[:8]}.example.com"))["metadata"]["name"]
            ours.append(timed(lambda: crds.wait_for(name, crd_established, 30)))  # noqa: B023 (called at once)
            other = crds.create(crd(f"k{uuid.uuid4().hex[:8]}.example.com"))["metadata"]["name"]
            command = ["kubectl", "wait", f"crd/{other}", "--for=condition=Established", "--timeout=30s"]
            kubectl.append(timed(lambda: subprocess.run(command, env=env, check=True, capture_output=True)))  # noqa: B023
        print(
            f"CRD created -> Established seen: dynaclient {statistics.median(ours) * 1000:.0f} ms, "
            f"kubectl wait {statistics.median(kubectl) * 1000:.0f} ms (medians of {ROUNDS})"
        )
        text = SIX_KINDS.read_text()
        first, second, deletes = [], [], []
        for _ in range(ROUNDS):
            suffix = uuid.uuid4().hex[:6]
            manifests = load_manifests(text.replace("demo", f"demo-{suffix}").replace("example.com", f"e{suffix}.com"))
            first.append(timed(lambda: apply_manifests(client, manifests, wait=True, timeout=120)))  # noqa: B023
            second.append(timed(lambda: apply_manifests(client, manifests, wait=True, timeout=120)))  # noqa: B023
            deletes.append(timed(lambda: delete_manifests(client, manifests, timeout=120)))  # noqa: B023
        print(
            f"six kinds (Deployment of 2 on kwok): apply+wait {statistics.median(first):.2f} s, "
            f"again {statistics.median(second):.2f} s, delete+wait {statistics.median(deletes):.2f} s "
            f"(medians of {ROUNDS})"
        )


if __name__ == "__main__":
    main()
