"""Connect the examples to your cluster, or to a local control plane when none is configured."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from dynaclient import DynamicClient, NoClientError, auto_detect_client


@contextlib.contextmanager
def connect() -> Iterator[DynamicClient]:
    """Yield a client for the configured cluster; without one, start a local kube-apiserver + etcd for the run."""
    try:
        client = auto_detect_client()
    except NoClientError as error:
        reasons = "; ".join(error.reasons)
        print(f"no cluster configured (tried {reasons}): starting a local kube-apiserver + etcd...", flush=True)
        from dynaclient.testing import ControlPlane  # the testing extra is only needed on this path

        with ControlPlane() as plane, DynamicClient.from_kubeconfig(plane.kubeconfig_path) as local:
            print(f"kube-apiserver {plane.server_url} ready in {plane.startup_seconds:.1f}s", flush=True)
            yield local
        print("local control plane stopped")
        return
    print(f"using {client.api_client.transport.name}: {client.api_client.transport!r}", flush=True)
    with client:
        yield client
