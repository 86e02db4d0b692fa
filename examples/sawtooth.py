"""The client-go seed's Sawtooth custom resource, read untyped and typed with its generated TypedDict.

The types in ``sawtooth_types/`` were generated from the server's OpenAPI v3 with::

    python -m dynaclient.codegen --group-version sawtooth.hyperledger.org/v1alpha1 --import-builtins \\
        --package sawtooth_types --output examples/sawtooth_types

Run: ``.venv/bin/python examples/sawtooth.py`` (uses your cluster, else a local control plane).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import yaml
from cluster import connect
from sawtooth_types.sawtooth_hyperledger_org.v1alpha1 import Sawtooth

from dynaclient import DynamicClient, NotFoundError, ResourceNotFoundError, nested_get, nested_int

CRD = yaml.safe_load((Path(__file__).parent / "sawtooth_crd.yaml").read_text())


def untyped(client: DynamicClient) -> None:
    # client-go's dynamic client: unstructured.NestedInt64(r.Object, "spec", "size")
    for sawtooth in client.resource("sawtooths.sawtooth.hyperledger.org").namespace("default").list():
        size, found = nested_int(sawtooth, "spec", "size")
        print(f"untyped: {sawtooth['metadata']['name']} size={size} (found={found})")


def typed(client: DynamicClient) -> None:
    # client-go's generated clientset: sawtooth.Spec.Size, checked by the compiler; here checked by mypy
    sawtooths = client.resource("sawtooths.sawtooth.hyperledger.org", Sawtooth).namespace("default")
    for sawtooth in sawtooths.list():
        size: int = sawtooth["spec"]["size"]
        print(f"typed:   {sawtooth['metadata']['name']} size={size}")


def main() -> None:
    with connect() as client:
        crds = client.resource("customresourcedefinitions.apiextensions.k8s.io")
        try:
            crds.get(CRD["metadata"]["name"])
            installed = False
        except NotFoundError:
            crds.create(CRD)
            installed = True
        try:
            _wait_until_established(client)
            created = _create(client)
            untyped(client)
            typed(client)
            client.resource("sawtooths.sawtooth.hyperledger.org").namespace("default").delete(created)
        finally:
            if installed:
                crds.delete(CRD["metadata"]["name"])


def _create(client: DynamicClient) -> str:
    sawtooth: Sawtooth = {
        "apiVersion": "sawtooth.hyperledger.org/v1alpha1",
        "kind": "Sawtooth",
        "metadata": {"name": f"example-sawtooth-{uuid.uuid4().hex[:6]}"},
        "spec": {"size": 3},
    }
    for _ in range(40):  # discovery is refreshed at most every 5 s: a CRD installed a moment ago may not be known yet
        try:
            sawtooths = client.resource("sawtooths.sawtooth.hyperledger.org", Sawtooth).namespace("default")
        except ResourceNotFoundError:
            time.sleep(0.5)
            continue
        return sawtooths.create(sawtooth)["metadata"]["name"]
    raise SystemExit("the Sawtooth resource was not discovered within 20 s")


def _wait_until_established(client: DynamicClient) -> None:
    crds = client.resource("customresourcedefinitions.apiextensions.k8s.io")
    with crds.watch(field_selector={"metadata.name": CRD["metadata"]["name"]}, timeout_seconds=30) as events:
        for event in events:
            conditions = nested_get(event.object, "status", "conditions") or []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                return
    raise SystemExit("the Sawtooth CRD was not established within 30 s")


if __name__ == "__main__":
    main()
