"""kube-controller-manager, kube-scheduler and kwok nodes beside the local kube-apiserver: a whole cluster.

Each component authenticates with its own client certificate from the plane's client CA and has its own
kubeconfig; each serves HTTPS on a free 127.0.0.1 port with a certificate from the plane's serving CA, so the
readiness probes verify it. Flags follow kwokctl's binary runtime (``pkg/kwokctl/components/*.go@v0.7.0``) with
the loopback changes of the research notes: ``--leader-elect=false`` (no wait for an old lease after a restart).
Every controller acts as kcm itself (``--use-service-account-credentials=false``, kcm in ``system:masters``, like
kwokctl's single admin identity): with a service account per controller, as kubeadm does, kcm fetches ~40 tokens
before its last controller starts, which took 4.5 s of a 13 s start on 2 shared cores.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import yaml

from dynaclient.testing import kwok
from dynaclient.testing.binaries import ControlPlaneBinaries
from dynaclient.testing.certs import TinyCA
from dynaclient.testing.kubeconfigs import certificate_user, kubeconfig, write_private
from dynaclient.testing.process import ControlPlaneError, ManagedProcess, free_port, http_status, wait_until

CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
SCHEDULER_USER = "system:kube-scheduler"
KWOK_USER = "dynaclient:kwok"
KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client"


class AdminHTTP:
    """Plain HTTP calls to the apiserver as the plane's token admin (the rig's own set-up requests).

    Thread-safety: thread-safe (one ``requests`` call per method call, no shared session).
    """

    def __init__(self, server_url: str, ca_path: Path, token: str) -> None:
        self._base = server_url
        self._verify = str(ca_path)  # per request: REQUESTS_CA_BUNDLE would override a session setting
        self._headers = {"Authorization": f"Bearer {token}"}

    def status(self, path: str) -> int:
        """Return the status code of ``GET path`` (0 when the server cannot be reached)."""
        return http_status(self._base + path, verify=self._verify, headers=self._headers)

    def get(self, path: str) -> dict[str, Any]:
        """Return the JSON body of ``GET path``; raises ``ControlPlaneError`` on an error status."""
        return self._call("GET", path, None)

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST body`` to the collection ``path``; an object that already exists is left as it is."""
        return self._call("POST", path, body, allow_conflict=True)

    def merge_patch(self, path: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Apply the JSON merge patch ``patch`` to the object at ``path``."""
        return self._call("PATCH", path, patch, content_type="application/merge-patch+json")

    def apply(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace ``body`` in ``collection`` by server-side apply; return the object as stored."""
        path = f"{collection}/{body['metadata']['name']}?fieldManager=dynaclient-testing&force=true"
        return self._call("PATCH", path, body, content_type="application/apply-patch+yaml")  # JSON is YAML

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        allow_conflict: bool = False,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        response = requests.request(
            method,
            self._base + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={**self._headers, "Content-Type": content_type},
            verify=self._verify,
            timeout=30,
        )
        if response.status_code == 409 and allow_conflict:
            return {}
        if response.status_code >= 400:
            raise ControlPlaneError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result


class ClusterComponents:
    """The processes that make the plane a cluster: kcm and the scheduler, and kwok with ``nodes`` Nodes.

    Life cycle: :meth:`prepare` (certificates, kubeconfigs; returns the apiserver flags it needs) before
    kube-apiserver starts, :meth:`start` once it is ready, :meth:`stop` before it stops.

    Thread-safety: not thread-safe; the owning ``ControlPlane`` calls it under its lock.
    """

    def __init__(
        self,
        *,
        binaries: ControlPlaneBinaries,
        work_dir: Path,
        controllers: bool,
        nodes: int,
        start_timeout: float,
        stop_timeout: float,
        echo: bool,
    ) -> None:
        self._binaries = binaries
        self._dir = work_dir
        self._controllers = controllers
        self._nodes = nodes
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._echo = echo
        self._processes: list[ManagedProcess] = []
        self._ports: dict[str, int] = {}
        self.node_names = kwok.node_names(nodes)

    @property
    def processes(self) -> list[ManagedProcess]:
        """The component processes, in start order."""
        return list(self._processes)

    def prepare(self, server_url: str, serving_ca: TinyCA, client_ca: TinyCA) -> list[str]:
        """Write the components' certificates, kubeconfigs and configuration; return extra apiserver flags."""
        pki = self._dir / "pki"
        serving = serving_ca.issue("localhost", dns_names=["localhost"], ip_addresses=["127.0.0.1"], server=True)
        write_private(pki / "components.crt", serving.cert_pem)
        write_private(pki / "components.key", serving.key_pem)
        users: dict[str, tuple[str, tuple[str, ...]]] = {
            "kube-controller-manager": (CONTROLLER_MANAGER_USER, ("system:masters",)),  # see the module docstring
            "kube-scheduler": (SCHEDULER_USER, ()),
            # kwok writes node and pod status, leases and deletions for every pod: an administrator, as in kwokctl.
            "kwok": (KWOK_USER, ("system:masters",)),
        }
        for name, (user, groups) in users.items():
            entry = certificate_user(client_ca.issue(user, organizations=groups))
            config = kubeconfig(server_url, serving_ca.cert_pem, {name: (user, entry)})
            write_private(self._dir / f"{name}.kubeconfig", yaml.safe_dump(config).encode())
        if not self._nodes:
            return []
        kubelet_client = client_ca.issue(KUBELET_CLIENT_USER, organizations=("system:masters",))
        write_private(pki / "kubelet-client.crt", kubelet_client.cert_pem)
        write_private(pki / "kubelet-client.key", kubelet_client.key_pem)
        return [
            # kwok's nodes have InternalIP 127.0.0.1; the default order tries the (unresolvable) Hostname first.
            "--kubelet-preferred-address-types=InternalIP",
            f"--kubelet-certificate-authority={pki / 'serving-ca.crt'}",
            f"--kubelet-client-certificate={pki / 'kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'kubelet-client.key'}",
        ]

    def start(self, api: AdminHTTP, apiserver: ManagedProcess) -> None:
        """Start the components and wait until controllers run, the scheduler is ready and every node is Ready.

        Raises:
            ControlPlaneError: a component exited or was not ready in time (named, with its log tail).
        """
        if self._nodes:
            for crd in kwok.custom_resource_definitions():
                api.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
            for name in self.node_names:
                api.create("/api/v1/nodes", kwok.node_manifest(name))
        if self._controllers:
            self._launch("kube-controller-manager", self._controller_manager_args())
        if self._controllers or self._nodes:
            self._launch("kube-scheduler", self._scheduler_args())
        if self._nodes:
            self._start_kwok(api, apiserver)
        self._wait_ready(api)

    def stop(self) -> None:
        """Stop every component (process group: SIGTERM, then SIGKILL), the last started first."""
        for process in reversed(self._processes):
            process.stop(self._stop_timeout)
        self._processes.clear()

    # -- internals ---------------------------------------------------------------------------------------------

    def _launch(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, *, guard_group: bool = False
    ) -> ManagedProcess:
        log = self._dir / f"{name}.log"
        process = ManagedProcess(name, argv, log, echo=self._echo, env=env, guard_group=guard_group)
        self._processes.append(process)
        process.start()
        return process

    def _serving_args(self, name: str) -> list[str]:
        self._ports[name] = free_port()
        pki = self._dir / "pki"
        return [
            "--bind-address=127.0.0.1",
            f"--secure-port={self._ports[name]}",
            f"--tls-cert-file={pki / 'components.crt'}",
            f"--tls-private-key-file={pki / 'components.key'}",
        ]

    def _controller_manager_args(self) -> list[str]:
        pki = self._dir / "pki"
        return [
            str(self._binaries.path("kube-controller-manager")),
            f"--kubeconfig={self._dir / 'kube-controller-manager.kubeconfig'}",
            *self._serving_args("kube-controller-manager"),
            "--leader-elect=false",
            "--use-service-account-credentials=false",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'serving-ca.crt'}",
            "--controllers=*",
            # The node lifecycle controller lifts a new node's not-ready taint on its next pass (default every
            # 5 s); each pass reads a handful of nodes here.
            "--node-monitor-period=1s",
            "--profiling=false",
        ]

    def _scheduler_args(self) -> list[str]:
        config = {
            "apiVersion": "kubescheduler.config.k8s.io/v1",
            "kind": "KubeSchedulerConfiguration",
            "clientConnection": {"kubeconfig": str(self._dir / "kube-scheduler.kubeconfig")},
            "leaderElection": {"leaderElect": False},
        }
        path = self._dir / "kube-scheduler.yaml"
        write_private(path, yaml.safe_dump(config).encode())
        return [str(self._binaries.path("kube-scheduler")), f"--config={path}", *self._serving_args("kube-scheduler")]

    def _start_kwok(self, api: AdminHTTP, apiserver: ManagedProcess) -> None:
        for crd in kwok.custom_resource_definitions():
            path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}"
            self._wait(functools.partial(_established, api, path), apiserver, f"CustomResourceDefinition {path}")
        self._ports["kwok"] = port = free_port()
        pki = self._dir / "pki"
        config = kwok.kwok_configuration(port=port, cert_file=pki / "components.crt", key_file=pki / "components.key")
        documents = [config, kwok.cluster_exec(self._dir)]
        write_private(self._dir / "kwok.yaml", yaml.safe_dump_all(documents).encode())
        (self._dir / "kwok").mkdir(exist_ok=True)
        argv = [
            str(self._binaries.path("kwok")),
            f"--kubeconfig={self._dir / 'kwok.kubeconfig'}",
            f"--config={self._dir / 'kwok.yaml'}",
        ]
        # KWOK_WORKDIR keeps a ~/.kwok/kwok.yaml of this machine out (kwok loads it before --config). kwok forks
        # the commands pods exec: its group is guarded so that they die with a crashed test process too.
        self._launch("kwok", argv, env={"KWOK_WORKDIR": str(self._dir / "kwok")}, guard_group=True)

    def _wait_ready(self, api: AdminHTTP) -> None:
        ca = str(self._dir / "pki" / "serving-ca.crt")
        probes = {"kube-controller-manager": "/healthz", "kube-scheduler": "/readyz", "kwok": "/healthz"}
        for process in self._processes:
            url = f"https://127.0.0.1:{self._ports[process.name]}{probes[process.name]}"
            self._wait(functools.partial(_ok, url, ca), process, f"{process.name} {probes[process.name]}")
        if self._nodes:
            kwok_process = self._processes[-1]
            self._wait(lambda: self._nodes_ready(api), kwok_process, f"{self._nodes} Ready kwok nodes")
        if self._controllers:
            # The serviceaccount controller creates "default" in every namespace: controllers are running.
            path = "/api/v1/namespaces/default/serviceaccounts/default"
            self._wait(lambda: api.status(path) == 200, self._processes[0], "service account default/default")

    def _nodes_ready(self, api: AdminHTTP) -> bool:
        nodes = api.get(f"/api/v1/nodes?labelSelector={kwok.NODE_LABEL}%3Dtrue")["items"]
        ready = [n for n in nodes if any(c["type"] == "Ready" and c["status"] == "True" for c in _conditions(n))]
        # The TaintNodesByCondition admission plugin taints every new node not-ready:NoSchedule; kcm's node
        # lifecycle controller lifts the taint once the node is Ready. Without kcm, the rig lifts it.
        if not self._controllers:
            for node in ready:
                if node.get("spec", {}).get("taints"):
                    api.merge_patch(f"/api/v1/nodes/{node['metadata']['name']}", {"spec": {"taints": None}})
                    node["spec"]["taints"] = None
        schedulable = [n for n in ready if not n.get("spec", {}).get("taints")]
        return len(schedulable) >= self._nodes

    def _wait(self, check: Callable[[], bool], process: ManagedProcess, what: str) -> None:
        wait_until(check, process, what, self._start_timeout)


def _conditions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    conditions: list[dict[str, Any]] = obj.get("status", {}).get("conditions") or []
    return conditions


def _established(api: AdminHTTP, path: str) -> bool:
    if api.status(path) != 200:
        return False
    return any(c["type"] == "Established" and c["status"] == "True" for c in _conditions(api.get(path)))


def _ok(url: str, ca: str) -> bool:
    return http_status(url, verify=ca) == 200


__all__ = ["AdminHTTP", "ClusterComponents"]
