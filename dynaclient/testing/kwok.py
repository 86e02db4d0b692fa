"""kwok, the simulated node agent of the local cluster: its configuration and what the pods on its nodes serve.

kwok (``sigs.k8s.io/kwok`` v0.7.0) keeps Node objects Ready and moves the pods bound to them to Running, without
containers. Its kubelet-API server on 127.0.0.1 answers the API server's ``pods/log``, ``exec``, ``attach`` and
``portforward`` requests, from objects of group ``kwok.x-k8s.io`` that say what each pod serves:

* ``Logs``: lines read from a file the test writes, in the CRI log format (:func:`write_container_log`);
* ``Exec``: the requested command run **on this machine**, in a work directory, with extra environment;
* ``Attach``: lines appended to a file after the client attached;
* ``PortForward``: a pod port forwarded to a TCP port on 127.0.0.1 (or to a local command's stdin/stdout).

A namespaced object matches the pod of the same name and namespace (``pkg/kwok/server/debugging_logs.go``
``getPodLogs``: namespaced rules first, then the cluster-wide ones). The rig starts kwok with ``enableCRDs`` for
these kinds and installs minimal CustomResourceDefinitions for them, so tests create them through the API. One
``ClusterExec`` in kwok's configuration file (kwok refuses a kind both there and in ``enableCRDs``) lets every pod
exec commands in the plane's work directory.
The rig builds kwok with a patch (:mod:`dynaclient.testing.kwok_patch`) so that exec behaves as on a containerd
kubelet: a non-zero exit is the ``NonZeroExitCode`` Status with the code (unpatched kwok v0.7.0 sends a 500
InternalError), and end-of-file on stdin reaches the command without a terminal (unpatched kwok never closes its
stdin pipe).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

KWOK_GROUP = "kwok.x-k8s.io"
KWOK_API_VERSION = f"{KWOK_GROUP}/v1alpha1"
NODE_LABEL = "dynaclient.dev/kwok-node"
"""Label (value ``"true"``) of the Node objects kwok manages; kwok leaves every other node alone."""
LEASE_SECONDS = 40
"""Node lease duration; kwok v0.7.0 renews nothing without one and kcm then marks the nodes unreachable."""
POD_CIDR = "10.244.0.1/16"
"""Pod IPs kwok hands out (its default overlaps the rig's service range 10.0.0.0/24)."""

# kind -> (plural, namespaced); names as in kwok's kustomize/crd/bases/kwok.x-k8s.io_<plural>.yaml@v0.7.0.
_KINDS: dict[str, tuple[str, bool]] = {
    "Logs": ("logs", True),
    "ClusterLogs": ("clusterlogs", False),
    "Exec": ("execs", True),
    "Attach": ("attaches", True),
    "ClusterAttach": ("clusterattaches", False),
    "PortForward": ("portforwards", True),
    "ClusterPortForward": ("clusterportforwards", False),
}


def kwok_configuration(*, port: int, cert_file: Path, key_file: Path) -> dict[str, Any]:
    """Return kwok's ``KwokConfiguration``: its server on 127.0.0.1:``port``, nodes selected by :data:`NODE_LABEL`.

    Nodes get InternalIP 127.0.0.1 and ``daemonEndpoints.kubeletEndpoint.Port`` = ``port``, which is where the
    API server sends ``pods/log``, ``exec``, ... (``pkg/kubelet/client/kubelet_client.go``).

    >>> options = kwok_configuration(port=4000, cert_file=Path("c"), key_file=Path("k"))["options"]
    >>> options["serverAddress"], options["manageNodesWithLabelSelector"]
    ('127.0.0.1:4000', 'dynaclient.dev/kwok-node=true')
    """
    return {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokConfiguration",
        "options": {
            "manageNodesWithLabelSelector": f"{NODE_LABEL}=true",
            "nodeIP": "127.0.0.1",
            "nodePort": port,
            "serverAddress": f"127.0.0.1:{port}",
            "tlsCertFile": str(cert_file),
            "tlsPrivateKeyFile": str(key_file),
            "nodeLeaseDurationSeconds": LEASE_SECONDS,
            "cidr": POD_CIDR,
            "enableCRDs": list(_KINDS),
        },
    }


def custom_resource_definitions() -> list[dict[str, Any]]:
    """Return CustomResourceDefinitions for the kinds kwok reads through the API (schemas left open).

    >>> sorted(crd["metadata"]["name"] for crd in custom_resource_definitions())[:2]
    ['attaches.kwok.x-k8s.io', 'clusterattaches.kwok.x-k8s.io']
    """
    open_object = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return [
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{KWOK_GROUP}"},
            "spec": {
                "group": KWOK_GROUP,
                "scope": "Namespaced" if namespaced else "Cluster",
                "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": plural},
                "versions": [
                    {
                        "name": "v1alpha1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {"spec": open_object, "status": open_object},
                            }
                        },
                        "subresources": {"status": {}},
                    }
                ],
            },
        }
        for kind, (plural, namespaced) in _KINDS.items()
    ]


def resource_path(kind: str, namespace: str | None = None) -> str:
    """Return the collection path of kwok kind ``kind``.

    >>> resource_path("Logs", "ns"), resource_path("ClusterLogs")
    ('/apis/kwok.x-k8s.io/v1alpha1/namespaces/ns/logs', '/apis/kwok.x-k8s.io/v1alpha1/clusterlogs')
    """
    plural, namespaced = _KINDS[kind]
    scope = f"namespaces/{namespace}/" if namespaced else ""
    return f"/apis/{KWOK_API_VERSION}/{scope}{plural}"


def node_names(count: int) -> list[str]:
    """Return the names of the rig's ``count`` kwok nodes.

    >>> node_names(2)
    ['kwok-node-0', 'kwok-node-1']
    """
    return [f"kwok-node-{index}" for index in range(count)]


def node_manifest(name: str) -> dict[str, Any]:
    """Return a Node that kwok manages (no taints: ordinary pods schedule onto it).

    >>> node_manifest("kwok-node-0")["metadata"]["labels"]["dynaclient.dev/kwok-node"]
    'true'
    """
    labels = {NODE_LABEL: "true", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": {"kwok.x-k8s.io/node": "fake"}},
    }


def _pod_object(kind: str, namespace: str, pod: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": KWOK_API_VERSION,
        "kind": kind,
        "metadata": {"name": pod, "namespace": namespace},
        "spec": spec,
    }


def pod_logs(
    namespace: str,
    pod: str,
    logs_file: Path,
    *,
    containers: Sequence[str] = (),
    previous_logs_file: Path | None = None,
) -> dict[str, Any]:
    """Return a ``Logs`` object: ``pods/log`` of ``pod`` (``containers``, or all) reads ``logs_file``.

    The file holds CRI log lines (:func:`write_container_log`); ``follow=true`` streams what is appended.

    >>> pod_logs("ns", "web", Path("/tmp/web.log"))["spec"]
    {'logs': [{'containers': [], 'logsFile': '/tmp/web.log'}]}
    """
    entry: dict[str, Any] = {"containers": list(containers), "logsFile": str(logs_file)}
    if previous_logs_file is not None:
        entry["previousLogsFile"] = str(previous_logs_file)
    return _pod_object("Logs", namespace, pod, {"logs": [entry]})


def pod_exec(
    namespace: str,
    pod: str,
    *,
    work_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    containers: Sequence[str] = (),
) -> dict[str, Any]:
    """Return an ``Exec`` object: ``pods/exec`` of ``pod`` runs the requested command on this machine.

    >>> pod_exec("ns", "web", env={"A": "1"})["spec"]
    {'execs': [{'containers': [], 'local': {'envs': [{'name': 'A', 'value': '1'}]}}]}
    """
    local: dict[str, Any] = {}
    if work_dir is not None:
        local["workDir"] = str(work_dir)
    if env:
        local["envs"] = [{"name": name, "value": value} for name, value in env.items()]
    return _pod_object("Exec", namespace, pod, {"execs": [{"containers": list(containers), "local": local}]})


def pod_attach(namespace: str, pod: str, logs_file: Path, *, containers: Sequence[str] = ()) -> dict[str, Any]:
    """Return an ``Attach`` object: ``pods/attach`` of ``pod`` streams lines appended to ``logs_file``.

    The file must exist before a client attaches (kwok fails on a missing one).
    """
    entry = {"containers": list(containers), "logsFile": str(logs_file)}
    return _pod_object("Attach", namespace, pod, {"attaches": [entry]})


def pod_port_forward(
    namespace: str, pod: str, ports: Mapping[int, int], *, commands: Mapping[int, Sequence[str]] | None = None
) -> dict[str, Any]:
    """Return a ``PortForward`` object: pod port -> TCP port on 127.0.0.1, or pod port -> a local command.

    A command's stdin and stdout are the forwarded stream.

    >>> pod_port_forward("ns", "web", {8080: 41000})["spec"]["forwards"]
    [{'ports': [8080], 'target': {'address': '127.0.0.1', 'port': 41000}}]
    """
    forwards: list[dict[str, Any]] = [
        {"ports": [pod_port], "target": {"address": "127.0.0.1", "port": local}} for pod_port, local in ports.items()
    ]
    forwards += [{"ports": [pod_port], "command": list(argv)} for pod_port, argv in (commands or {}).items()]
    return _pod_object("PortForward", namespace, pod, {"forwards": forwards})


def cluster_exec(work_dir: Path) -> dict[str, Any]:
    """Return the rig's ``ClusterExec`` (in kwok's configuration file): every pod execs commands in ``work_dir``."""
    spec = {"execs": [{"containers": [], "local": {"workDir": str(work_dir)}}]}
    return {"apiVersion": KWOK_API_VERSION, "kind": "ClusterExec", "metadata": {"name": "dynaclient"}, "spec": spec}


def cri_log_line(text: str, *, stream: str = "stdout", time: datetime.datetime | None = None) -> str:
    r"""Return one line of the CRI container log format that kwok (like the kubelet) reads.

    >>> cri_log_line("hello", time=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC))
    '2026-01-02T03:04:05.000000000Z stdout F hello\n'
    """
    if stream not in ("stdout", "stderr"):
        raise ValueError(f"stream must be 'stdout' or 'stderr', not {stream!r}")
    if "\n" in text:
        raise ValueError("one CRI log line cannot contain a newline; pass each line separately")
    moment = (time or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC)
    return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{moment.microsecond * 1000:09d}Z {stream} F {text}\n"


def write_container_log(path: Path, lines: Iterable[str], *, stream: str = "stdout") -> None:
    """Append ``lines`` to the container log file ``path`` in the CRI format (creating it if missing)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(cri_log_line(line, stream=stream) for line in lines)
        handle.flush()


__all__ = [
    "KWOK_API_VERSION",
    "NODE_LABEL",
    "cluster_exec",
    "cri_log_line",
    "custom_resource_definitions",
    "kwok_configuration",
    "node_manifest",
    "node_names",
    "pod_attach",
    "pod_exec",
    "pod_logs",
    "pod_port_forward",
    "resource_path",
    "write_container_log",
]
