"""Connect the examples to your cluster, or to a local control plane when none is configured."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dynaclient import DynamicClient, NoClientError, auto_detect_client

if TYPE_CHECKING:
    from dynaclient.testing import ControlPlane


@contextlib.contextmanager
def connect() -> Iterator[DynamicClient]:
    """Yield a client for the configured cluster; without one, start a local kube-apiserver + etcd for the run."""
    with connect_with_plane() as (client, _):
        yield client


@contextlib.contextmanager
def connect_with_plane(nodes: int = 0) -> Iterator[tuple[DynamicClient, ControlPlane | None]]:
    """Yield a client and, when no cluster is configured, the local plane started for the run (else ``None``).

    With ``nodes``, the local plane is a whole cluster: controllers, a scheduler and that many kwok nodes.
    """
    try:
        client = auto_detect_client()
    except NoClientError as error:
        reasons = "; ".join(error.reasons)
        what = f"a local cluster with {nodes} kwok node(s)" if nodes else "a local kube-apiserver + etcd"
        print(f"no cluster configured (tried {reasons}): starting {what}...", flush=True)
        from dynaclient.testing import ControlPlane  # the testing extra is only needed on this path

        plane = ControlPlane(controllers=bool(nodes), nodes=nodes)
        with plane, DynamicClient.from_kubeconfig(plane.kubeconfig_path) as local:
            print(f"kube-apiserver {plane.server_url} ready in {plane.startup_seconds:.1f}s", flush=True)
            yield local, plane
        print("local control plane stopped")
        return
    print(f"using {client.api_client.transport.name}: {client.api_client.transport!r}", flush=True)
    with client:
        yield client, None
