"""Fixtures shared by the integration modules: the loopback proxy in front of the session's API server, the informer
chaos rig's (tests/integration/chaos_rig.py), the whole-cluster rig's (cluster_rig.py) and the pod-streams rig's
(pod_streams_rig.py)."""

from tests.integration.chaos_rig import restartable_plane, writer_client, writer_configmaps
from tests.integration.cluster_rig import cluster, http
from tests.integration.loopback_proxy import proxy
from tests.integration.pod_streams_rig import async_pods, client, echo_port, log_file, pods, streams

__all__ = [
    "async_pods",
    "client",
    "cluster",
    "echo_port",
    "http",
    "log_file",
    "pods",
    "proxy",
    "restartable_plane",
    "streams",
    "writer_client",
    "writer_configmaps",
]
