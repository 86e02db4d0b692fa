"""Credentials from an exec plugin (``client.authentication.k8s.io`` ExecCredential), cached until they expire.

The protocol follows client-go plugin/pkg/client/auth/exec/exec.go: the command runs without a shell, with the
kubeconfig ``env`` merged over the process environment and ``KUBERNETES_EXEC_INFO`` holding an ExecCredential
whose ``spec.interactive`` is false (dynaclient never gives plugins a terminal) and, with ``provideClusterInfo``,
whose ``spec.cluster`` describes the cluster. The plugin prints (JSON or YAML) an ExecCredential of the same
apiVersion whose ``status`` holds a bearer token or a PEM client certificate and key, and optionally an
``expirationTimestamp``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from dynaclient._types import JSONObject
from dynaclient.auth.base import AuthProvider, CredentialCache
from dynaclient.exceptions import AuthError

#: The ExecCredential versions client-go still accepts (v1alpha1 was removed in Kubernetes 1.24).
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")

#: The ``interactiveMode`` values of clientcmd/api/types.go ExecInteractiveMode.
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")

_STDERR_LIMIT = 2000


@dataclass(frozen=True, slots=True, repr=False)
class ClusterInfo:
    """The cluster an exec plugin is told about when its kubeconfig entry sets ``provideClusterInfo``.

    Attributes:
        server: the API server URL.
        certificate_authority_data: the PEM CA bundle, or ``None``.
        insecure_skip_tls_verify: whether server certificates are not verified.
        tls_server_name: the name to verify the server certificate against, or ``None``.
        proxy_url: the proxy to reach the server through (may hold credentials, so never shown).
        disable_compression: whether responses are requested uncompressed.
        config: the cluster's ``client.authentication.k8s.io/exec`` extension, passed to the plugin as is.

    Thread-safety: immutable.
    """

    server: str
    certificate_authority_data: bytes | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = None
    disable_compression: bool = False
    config: Any = None

    def to_exec_cluster(self) -> JSONObject:
        """Return the ``spec.cluster`` object of the ExecCredential (clientauthentication v1 ``Cluster``).

        >>> ClusterInfo("https://[::1]:6443", certificate_authority_data=b"PEM").to_exec_cluster()
        {'server': 'https://[::1]:6443', 'certificate-authority-data': 'UEVN'}
        """
        cluster: JSONObject = {"server": self.server}
        if self.tls_server_name:
            cluster["tls-server-name"] = self.tls_server_name
        if self.insecure_skip_tls_verify:
            cluster["insecure-skip-tls-verify"] = True
        if self.certificate_authority_data:
            cluster["certificate-authority-data"] = base64.b64encode(self.certificate_authority_data).decode("ascii")
        if self.proxy_url:
            cluster["proxy-url"] = self.proxy_url
        if self.disable_compression:
            cluster["disable-compression"] = True
        if self.config is not None:
            cluster["config"] = self.config
        return cluster

    def __repr__(self) -> str:
        return f"ClusterInfo(server={self.server!r})"


@dataclass(frozen=True, slots=True, repr=False)
class ExecSpec:
    """What to run for an exec plugin (a kubeconfig ``users[].user.exec`` entry, paths already resolved).

    Attributes:
        command: the executable; a bare name is looked up on ``PATH``.
        api_version: the ExecCredential version, one of :data:`EXEC_API_VERSIONS`.
        args: the arguments (never shown: they may carry secrets).
        env: extra environment variables as ``(name, value)`` pairs (only the names are shown).
        install_hint: text shown when the command is not found.
        provide_cluster_info: whether ``KUBERNETES_EXEC_INFO`` carries ``spec.cluster``.
        interactive_mode: ``Never``, ``IfAvailable`` or ``Always``; ``Always`` cannot be honoured.

    Thread-safety: immutable.
    """

    command: str
    api_version: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    install_hint: str | None = None
    provide_cluster_info: bool = False
    interactive_mode: str = "IfAvailable"

    def __repr__(self) -> str:
        names = [name for name, _ in self.env]
        return f"ExecSpec(command={self.command!r}, api_version={self.api_version!r}, env names={names!r})"


@dataclass(frozen=True, slots=True, repr=False)
class ExecCredential:
    """The credential an exec plugin returned.

    Attributes:
        token: the bearer token, or ``None``.
        client_certificate: the PEM certificate and key, or ``None``.
        expires_at: epoch seconds after which the credential must be obtained again; ``None`` for never.

    Thread-safety: immutable.
    """

    token: str | None = None
    client_certificate: tuple[bytes, bytes] | None = None
    expires_at: float | None = None

    def __repr__(self) -> str:
        kind = "token" if self.token else "client certificate"
        return f"ExecCredential(<{kind}>, expires_at={self.expires_at!r})"


class ExecAuth(AuthProvider):
    """Runs an exec plugin for a token or client certificate, and caches it until its ``expirationTimestamp``.

    The plugin runs again when the credential has expired (client-go exec.go ``isExpired``: no margin) and after
    :meth:`on_unauthorized`, which the client calls on a 401. While one thread runs the plugin, others that need
    the credential wait for its result rather than start the plugin again; no lock is held while it runs.

    Thread-safety: thread-safe.
    """

    def __init__(
        self,
        spec: ExecSpec,
        cluster_info: ClusterInfo | None = None,
        *,
        now: Callable[[], float] = time.time,
        environ: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        self._spec = spec
        self._cluster_info = cluster_info
        self._now = now
        self._environ = environ
        self._timeout = timeout
        self._cache = CredentialCache(self._run, self._is_valid)

    @property
    def spec(self) -> ExecSpec:
        """The plugin this provider runs."""
        return self._spec

    def headers(self) -> dict[str, str]:
        """Return the ``Authorization: Bearer`` header when the plugin returned a token.

        Raises:
            AuthError: the plugin is missing, failed or returned something unusable.
        """
        token = self._cache.get().token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def cached_headers(self) -> dict[str, str] | None:
        """Return the headers of the cached credential while it is valid; ``None`` when the plugin must run."""
        credential = self._cache.peek()
        if credential is None:
            return None
        return {"Authorization": f"Bearer {credential.token}"} if credential.token else {}

    def client_certificate(self) -> tuple[bytes, bytes] | None:
        """Return the client certificate and key when the plugin returned them.

        Raises:
            AuthError: the plugin is missing, failed or returned something unusable.
        """
        return self._cache.get().client_certificate

    def client_certificate_ready(self) -> bool:
        """Tell whether a valid credential is cached, so that :meth:`client_certificate` runs no plugin."""
        return self._cache.peek() is not None

    def on_unauthorized(self) -> bool:
        """Forget the cached credential; the next request runs the plugin again (client-go does this on 401)."""
        self._cache.invalidate()
        return True

    def _is_valid(self, credential: ExecCredential) -> bool:
        return credential.expires_at is None or self._now() < credential.expires_at

    def exec_info(self) -> JSONObject:
        """Return the ExecCredential passed to the plugin in ``KUBERNETES_EXEC_INFO``."""
        spec: JSONObject = {"interactive": False}
        if self._spec.provide_cluster_info and self._cluster_info is not None:
            spec["cluster"] = self._cluster_info.to_exec_cluster()
        return {"apiVersion": self._spec.api_version, "kind": "ExecCredential", "spec": spec}

    def _run(self) -> ExecCredential:
        spec = self._spec
        if spec.interactive_mode == "Always":
            raise AuthError(f"exec plugin {spec.command} requires interactiveMode Always, but plugins get no terminal")
        env = dict(os.environ if self._environ is None else self._environ)
        env.update(spec.env)
        env["KUBERNETES_EXEC_INFO"] = json.dumps(self.exec_info())
        try:
            result = subprocess.run(  # no shell: the command and args go to execve as is
                [spec.command, *spec.args],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self._timeout,
                check=False,
            )
        # "from None" throughout: subprocess's exceptions carry the whole command line, and the arguments may hold
        # secrets (ExecSpec hides them from its repr for the same reason).
        except FileNotFoundError:
            hint = f"\n\n{spec.install_hint}" if spec.install_hint else ""
            raise AuthError(f"exec: executable {spec.command} not found{hint}") from None
        except subprocess.TimeoutExpired:
            raise AuthError(f"exec: executable {spec.command} did not finish within {self._timeout} s") from None
        except OSError as exc:
            raise AuthError(f"exec: executable {spec.command} could not be started: {exc.strerror}") from None
        if result.returncode != 0:
            # Only stderr is shown: stdout may hold a credential.
            stderr = result.stderr.decode("utf-8", "replace").strip()[-_STDERR_LIMIT:]
            detail = f": {stderr}" if stderr else ""
            raise AuthError(f"exec: executable {spec.command} failed with exit code {result.returncode}{detail}")
        return parse_exec_credential(result.stdout, api_version=spec.api_version, command=spec.command)

    def __repr__(self) -> str:
        return f"ExecAuth(command={self._spec.command!r})"


def parse_exec_credential(output: bytes, *, api_version: str, command: str) -> ExecCredential:
    """Parse what an exec plugin printed into an :class:`ExecCredential`.

    Args:
        output: the plugin's standard output.
        api_version: the ExecCredential version the kubeconfig asked for; the plugin must answer with it.
        command: the plugin, for error messages.

    Returns:
        The credential.

    Raises:
        AuthError: the output is not an ExecCredential of ``api_version`` with a usable status. The message
            never quotes the output.
    """
    try:
        # client-go decodes with the universal decoder, which reads YAML as well as JSON (YAML is a superset).
        credential = json.loads(output) if output.lstrip().startswith(b"{") else yaml.safe_load(output)
    except (ValueError, yaml.YAMLError, RecursionError):
        # "from None": the decoder's exception keeps the whole output, credential included, as its document.
        raise AuthError(f"exec plugin {command} did not print valid JSON or YAML") from None
    if not isinstance(credential, dict) or credential.get("kind") != "ExecCredential":
        raise AuthError(f"exec plugin {command} did not print an ExecCredential")
    returned = credential.get("apiVersion")
    if returned != api_version:
        raise AuthError(
            f"exec plugin {command} is configured to use API version {api_version}, plugin returned version "
            f"{returned if isinstance(returned, str) else '(none)'}"
        )
    status = credential.get("status")
    if not isinstance(status, dict):
        raise AuthError(f"exec plugin {command} didn't return a status field")
    token, cert, key = (_status_string(status, name, command) for name in _STATUS_FIELDS)
    if not (token or cert or key):
        raise AuthError(f"exec plugin {command} didn't return a token or cert/key pair")
    if bool(cert) != bool(key):
        raise AuthError(f"exec plugin {command} returned only certificate or key, not both")
    for name, value in (("clientCertificateData", cert), ("clientKeyData", key)):
        if value and "-----BEGIN " not in value:  # the TLS layer would only say "not usable", naming nothing
            raise AuthError(f"exec plugin {command} returned a status.{name} that is not PEM")
    return ExecCredential(
        token=token,
        client_certificate=(cert.encode(), key.encode()) if cert and key else None,
        expires_at=_expiration(status.get("expirationTimestamp"), command),
    )


_STATUS_FIELDS = ("token", "clientCertificateData", "clientKeyData")


def _status_string(status: JSONObject, name: str, command: str) -> str | None:
    value = status.get(name)
    if value is None or isinstance(value, str):
        return value or None
    raise AuthError(f"exec plugin {command} returned a non-string status.{name}")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _expiration(value: object, command: str) -> float | None:
    """Parse an RFC 3339 ``expirationTimestamp`` into epoch seconds.

    >>> _expiration("2024-01-02T03:04:05Z", "p")
    1704164645.0
    """
    if value is None:
        return None
    # YAML output gives a timestamp already parsed; RFC 3339 requires an offset, which YAML writes as Z.
    moment = value if isinstance(value, datetime) else _parse_time(value)
    if moment is None or moment.tzinfo is None:
        raise AuthError(f"exec plugin {command} returned an invalid status.expirationTimestamp")
    return moment.timestamp()


__all__ = [
    "EXEC_API_VERSIONS",
    "INTERACTIVE_MODES",
    "ClusterInfo",
    "ExecAuth",
    "ExecCredential",
    "ExecSpec",
    "parse_exec_credential",
]
