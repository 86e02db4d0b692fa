"""The dynaclient demo: a custom resource, a pod list and nested_get, on a local control plane.

Run it with ``scripts/demo``. It starts a local kube-apiserver + etcd (dynaclient.testing.ControlPlane),
creates the seed's ``Sawtooth`` custom resource, lists pods and reads ``spec.size`` with ``nested_get``.
"""

from __future__ import annotations

import time

from dynaclient import APIClient, HTTPTransport, NotFoundError, StaticTokenAuth, nested_get
from dynaclient.testing import ControlPlane

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "sawtooths.sawtooth.hyperledger.org"},
    "spec": {
        "group": "sawtooth.hyperledger.org",
        "scope": "Namespaced",
        "names": {"plural": "sawtooths", "singular": "sawtooth", "kind": "Sawtooth", "shortNames": ["st"]},
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}
SAWTOOTHS = "/apis/sawtooth.hyperledger.org/v1alpha1/namespaces/default/sawtooths"


def run(client: APIClient) -> None:
    client.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body=CRD)
    deadline = time.monotonic() + 30
    while True:  # the CRD's URL is served once it is Established
        try:
            client.request("GET", SAWTOOTHS)
            break
        except NotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    sawtooth = {
        "apiVersion": "sawtooth.hyperledger.org/v1alpha1",
        "kind": "Sawtooth",
        "metadata": {"name": "example-sawtooth"},
        "spec": {"size": 3},
    }
    client.request("POST", SAWTOOTHS, body=sawtooth)
    for item in client.request("GET", SAWTOOTHS)["items"]:
        print(f"sawtooth {item['metadata']['name']}: spec.size = {nested_get(item, 'spec', 'size')}")
    pods = client.request("GET", "/api/v1/namespaces/default/pods")["items"]
    print(f"pods in default: {len(pods)} (a bare control plane runs no workloads)")


def main() -> None:
    print("starting a local control plane (kube-apiserver + etcd on 127.0.0.1)...", flush=True)
    with ControlPlane() as plane:
        print(f"kube-apiserver {plane.server_url} ready in {plane.startup_seconds:.1f}s")
        transport = HTTPTransport(plane.server_url, ca_data=plane.ca_path.read_bytes())
        with APIClient(transport, auth=StaticTokenAuth(plane.token)) as client:
            run(client)
    print("control plane stopped")


if __name__ == "__main__":
    main()
