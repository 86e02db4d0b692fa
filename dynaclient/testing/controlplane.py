"""A real kube-apiserver and etcd on 127.0.0.1, started for tests the way envtest does (no Docker).

The certificates, flags and kubeconfig are those of :mod:`dynaclient.testing.apiserver`. The plain plane has
no controller-manager: no garbage collection, no namespace deletion, no default service account.
``controllers=True`` and ``nodes=N`` add kube-controller-manager, kube-scheduler and kwok nodes
(:mod:`dynaclient.testing.cluster`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import requests

from dynaclient.testing import kwok
from dynaclient.testing.apiserver import (
    ADMIN_USER,
    CERT_CONTEXT,
    TOKEN_CONTEXT,
    TOKEN_USER,
    apiserver_args,
    build_kubeconfig,
    etcd_args,
    write_kubeconfig,
    write_pki,
)
from dynaclient.testing.binaries import ALL_COMPONENTS, APISERVER_COMPONENTS, ControlPlaneBinaries, resolve_binaries
from dynaclient.testing.certs import KeyPair, TinyCA
from dynaclient.testing.cluster import AdminHTTP, ClusterComponents
from dynaclient.testing.kubeconfigs import base64_text
from dynaclient.testing.process import ControlPlaneError, ManagedProcess, free_port, http_status, wait_until


class ControlPlane:
    """etcd plus kube-apiserver on free loopback ports, with generated certificates and a kubeconfig.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with ControlPlane() as plane:
            print(plane.kubeconfig_path)

    The kubeconfig has two contexts for two users of group ``system:masters``: :data:`CERT_CONTEXT` (client
    certificate, current) and :data:`TOKEN_CONTEXT` (bearer token).

    ``ControlPlane(controllers=True, nodes=2)`` is a whole cluster: kube-controller-manager (garbage collection,
    namespace deletion, Deployments, ReplicaSets, Jobs, ...), kube-scheduler, and kwok with two Ready nodes on which
    pods become Running; what those pods serve for logs, exec, attach and port-forward is set with
    :meth:`serve_pod_logs` and its siblings.

    Args:
        binaries: the binaries to run (default: :func:`~dynaclient.testing.binaries.resolve_binaries`).
        watch_cache: keep the apiserver's watch cache on (as in real clusters). With it off every watch is
            served by etcd, so after :meth:`compact_etcd` every older resourceVersion answers 410 Gone at once.
        start_timeout: seconds to wait for readiness.
        stop_timeout: seconds between SIGTERM and SIGKILL.
        apiserver_args: extra kube-apiserver flags.
        echo_output: send the processes' output to stderr instead of log files in the work directory.
        controllers: also run kube-controller-manager and kube-scheduler.
        nodes: run kwok with this many Ready nodes (and kube-scheduler); 0 for none.

    Thread-safety: thread-safe; lifecycle methods serialise on an internal lock.
    """

    def __init__(
        self,
        *,
        binaries: ControlPlaneBinaries | None = None,
        watch_cache: bool = True,
        start_timeout: float = 90.0,
        stop_timeout: float = 10.0,
        apiserver_args: Sequence[str] = (),
        echo_output: bool | None = None,
        controllers: bool = False,
        nodes: int = 0,
    ) -> None:
        if nodes < 0:
            raise ValueError(f"nodes must be >= 0, not {nodes}")
        self.controllers = controllers
        self.nodes = nodes
        self._binaries = binaries
        self._watch_cache = watch_cache
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._extra_args = list(apiserver_args)
        self._echo = bool(os.environ.get("DYNACLIENT_CONTROLPLANE_OUTPUT")) if echo_output is None else echo_output
        self._lock = threading.RLock()
        self._dir: Path | None = None
        self._etcd: ManagedProcess | None = None
        self._apiserver: ManagedProcess | None = None
        self._client_ca: TinyCA | None = None
        self._serving_ca: TinyCA | None = None
        self._cluster: ClusterComponents | None = None
        self.token = secrets.token_urlsafe(32)
        self.startup_seconds: float | None = None
        self.etcd_url = ""
        self.server_url = ""

    def __repr__(self) -> str:
        extras = (" controllers" if self.controllers else "") + (f" nodes={self.nodes}" if self.nodes else "")
        return f"<ControlPlane {self.server_url or 'stopped'}{extras}>"

    # -- paths -------------------------------------------------------------------------------------------------

    @property
    def work_dir(self) -> Path:
        """The temporary directory holding certificates, logs, etcd data and the kubeconfig."""
        if self._dir is None:
            raise ControlPlaneError("the control plane is not started")
        return self._dir

    @property
    def kubeconfig_path(self) -> Path:
        """The kubeconfig for this control plane (two contexts; see the class docstring)."""
        return self.work_dir / "kubeconfig"

    @property
    def ca_path(self) -> Path:
        """The CA certificate that signed the apiserver's serving certificate."""
        return self.work_dir / "pki" / "serving-ca.crt"

    @property
    def client_cert_path(self) -> Path:
        """The admin client certificate (user ``admin``, group ``system:masters``)."""
        return self.work_dir / "pki" / "admin.crt"

    @property
    def client_key_path(self) -> Path:
        """The admin client certificate's private key."""
        return self.work_dir / "pki" / "admin.key"

    @property
    def node_names(self) -> list[str]:
        """The names of the kwok nodes (empty without nodes)."""
        return kwok.node_names(self.nodes)

    def _processes(self) -> list[ManagedProcess | None]:
        return [self._etcd, self._apiserver, *(self._cluster.processes if self._cluster else [])]

    @property
    def pids(self) -> dict[str, int]:
        """The process ids of the running processes, by name (``etcd``, ``kube-apiserver``, ``kwok``, ...)."""
        return {p.name: p.pid for p in self._processes() if p is not None and p.pid is not None}

    @property
    def running(self) -> bool:
        """Whether every process of the plane is running."""
        return all(p is not None and p.exit_code() is None for p in self._processes())

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> ControlPlane:
        """Start etcd and kube-apiserver and wait until the apiserver is ready and ``default`` exists.

        Raises:
            ControlPlaneError: a process exited or readiness timed out (with the log tail).
            BinaryNotFoundError: the binaries could not be found or built.
        """
        with self._lock:
            if self._dir is not None:
                return self
            started = time.monotonic()
            binaries = self._binaries or resolve_binaries(components=self.components)
            self._dir = Path(tempfile.mkdtemp(prefix="dynaclient-controlplane-"))
            try:
                self._start_locked(binaries)
            except BaseException:
                self.stop()
                raise
            self.startup_seconds = time.monotonic() - started
            return self

    @property
    def components(self) -> tuple[str, ...]:
        """The binaries this plane runs, in :data:`~dynaclient.testing.binaries.ALL_COMPONENTS` order."""
        wanted = {"kube-controller-manager", "kube-scheduler"} if self.controllers else set()
        wanted |= {"kube-scheduler", "kwok"} if self.nodes else set()
        return tuple(name for name in ALL_COMPONENTS if name in wanted or name in APISERVER_COMPONENTS)

    def _start_locked(self, binaries: ControlPlaneBinaries) -> None:
        pki = self.work_dir / "pki"
        pki.mkdir(mode=0o700)
        self._serving_ca, self._client_ca = write_pki(pki, self.token)
        etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{etcd_port}"
        self.server_url = f"https://127.0.0.1:{api_port}"
        cluster_args: list[str] = []
        if self.controllers or self.nodes:
            self._cluster = ClusterComponents(
                binaries=binaries,
                work_dir=self.work_dir,
                controllers=self.controllers,
                nodes=self.nodes,
                start_timeout=self._start_timeout,
                stop_timeout=self._stop_timeout,
                echo=self._echo,
            )
            assert self._serving_ca is not None
            assert self._client_ca is not None
            cluster_args = self._cluster.prepare(self.server_url, self._serving_ca, self._client_ca)
        etcd = etcd_args(binaries, self.etcd_url, self.work_dir / "etcd", peer_port)
        self._etcd = ManagedProcess("etcd", etcd, self.work_dir / "etcd.log", echo=self._echo)
        self._etcd.start()
        self._wait_until(
            lambda: http_status(f"{self.etcd_url}/health", verify=False) == 200, self._etcd, "etcd /health"
        )
        argv = apiserver_args(
            binaries,
            etcd_url=self.etcd_url,
            server_url=self.server_url,
            port=api_port,
            pki=pki,
            watch_cache=self._watch_cache,
            extra_args=[*self._extra_args, *cluster_args],
        )
        self._apiserver = ManagedProcess("kube-apiserver", argv, self.work_dir / "kube-apiserver.log", echo=self._echo)
        self._apiserver.start()
        self._wait_ready()
        write_kubeconfig(self.kubeconfig_path, self.server_url, pki, self.token)
        if self._cluster is not None:
            self._cluster.start(self.admin_http(), self._apiserver)

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL) and remove the work directory. Safe to call twice."""
        with self._lock:
            if self._cluster is not None:
                self._cluster.stop()
                self._cluster = None
            for process in (self._apiserver, self._etcd):
                if process is not None:
                    process.stop(self._stop_timeout)
            self._apiserver = self._etcd = None
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def restart_apiserver(self) -> None:
        """Stop kube-apiserver and start it again on the same port against the same etcd (data is kept).

        Open watches end; clients reconnect to the same URL with the same credentials.
        """
        with self._lock:
            if self._apiserver is None:
                raise ControlPlaneError("the control plane is not started")
            self._apiserver.stop(self._stop_timeout)
            self._apiserver.start()
            self._wait_ready()

    def compact_etcd(self) -> int:
        """Compact etcd's history up to its current revision and return that revision.

        Requests that etcd serves for an older resourceVersion then answer 410 Gone (Expired): continue tokens,
        and watches when the plane runs with ``watch_cache=False``. With the watch cache on, the apiserver
        keeps serving watches from its in-memory window until it relists (for example after
        :meth:`restart_apiserver`).
        """
        response = requests.post(
            f"{self.etcd_url}/v3/kv/range", json={"key": base64_text("\0"), "limit": 1}, timeout=10
        )
        response.raise_for_status()
        revision = int(response.json()["header"]["revision"])
        # etcd's gRPC-gateway: POST /v3/kv/compaction (api/etcdserverpb/rpc.proto CompactionRequest).
        compacted = requests.post(
            f"{self.etcd_url}/v3/kv/compaction", json={"revision": revision, "physical": True}, timeout=30
        )
        # Nothing written since the last compaction: etcd answers "required revision has been compacted".
        if compacted.status_code != 200 and "has been compacted" not in compacted.text:
            raise ControlPlaneError(f"etcd compaction failed: {compacted.status_code} {compacted.text[:200]}")
        return revision

    def issue_client_certificate(self, user: str, groups: Sequence[str] = ()) -> KeyPair:
        """Issue a client certificate for ``user`` in ``groups`` that this apiserver accepts."""
        if self._client_ca is None:
            raise ControlPlaneError("the control plane is not started")
        return self._client_ca.issue(user, organizations=groups)

    # -- internals ---------------------------------------------------------------------------------------------

    def _wait_ready(self) -> None:
        assert self._apiserver is not None
        ca = str(self.ca_path)
        self._wait_until(lambda: http_status(f"{self.server_url}/readyz", verify=ca) == 200, self._apiserver, "/readyz")
        # The apiserver creates the default namespace shortly after it is ready (envtest waitForDefaultNamespace).
        api = self.admin_http()
        self._wait_until(lambda: api.status("/api/v1/namespaces/default") == 200, self._apiserver, "namespace default")

    def admin_http(self) -> AdminHTTP:
        """Return plain HTTP access to the apiserver as the token administrator (for the rig's own requests)."""
        return AdminHTTP(self.server_url, self.ca_path, self.token)

    # -- what pods on kwok nodes serve -------------------------------------------------------------------------

    def serve_pod_logs(
        self, namespace: str, pod: str, logs_file: Path, *, containers: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Make ``pods/log`` of the kwok pod ``namespace/pod`` read ``logs_file``; return the kwok ``Logs`` object.

        The file holds CRI log lines: :func:`~dynaclient.testing.kwok.write_container_log` writes them.
        """
        return self._create_kwok(kwok.pod_logs(namespace, pod, logs_file, containers=containers))

    def serve_pod_exec(
        self, namespace: str, pod: str, *, work_dir: Path | None = None, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Make ``pods/exec`` of the kwok pod run commands in ``work_dir`` with ``env``; return the ``Exec`` object.

        Without one, every kwok pod runs exec'd commands in the plane's work directory.
        """
        return self._create_kwok(kwok.pod_exec(namespace, pod, work_dir=work_dir, env=env))

    def serve_pod_attach(self, namespace: str, pod: str, logs_file: Path) -> dict[str, Any]:
        """Make ``pods/attach`` of the kwok pod stream lines appended to ``logs_file`` (created if missing)."""
        logs_file.touch()
        return self._create_kwok(kwok.pod_attach(namespace, pod, logs_file))

    def serve_pod_port_forward(self, namespace: str, pod: str, ports: dict[int, int]) -> dict[str, Any]:
        """Make ``pods/portforward`` of the kwok pod connect each pod port to a TCP port on 127.0.0.1."""
        return self._create_kwok(kwok.pod_port_forward(namespace, pod, ports))

    def _create_kwok(self, obj: dict[str, Any]) -> dict[str, Any]:
        if not self.nodes:
            raise ControlPlaneError("pods serve logs, exec, attach and port-forward only on kwok nodes: pass nodes=N")
        return self.admin_http().apply(kwok.resource_path(obj["kind"], obj["metadata"].get("namespace")), obj)

    def _wait_until(self, check: Callable[[], bool], process: ManagedProcess, what: str) -> None:
        wait_until(check, process, what, self._start_timeout)


__all__ = [
    "ADMIN_USER",
    "CERT_CONTEXT",
    "TOKEN_CONTEXT",
    "TOKEN_USER",
    "ControlPlane",
    "ControlPlaneError",
    "build_kubeconfig",
]
