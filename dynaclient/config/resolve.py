"""Turn a (merged) kubeconfig and a context name into a :class:`ClientConfig`, reading the files it names.

Checks follow clientcmd validation.go for the context in use only, as kubectl does: other entries may be
incomplete. Every error is a :class:`KubeconfigError` naming the file and the key of the offending entry.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from dynaclient.auth.base import AuthProvider, BasicAuth, NoAuth, StaticTokenAuth
from dynaclient.auth.exec import EXEC_API_VERSIONS, INTERACTIVE_MODES, ClusterInfo, ExecAuth, ExecSpec
from dynaclient.auth.oidc import OIDCAuth, RefreshFunction
from dynaclient.auth.token_file import TokenFileAuth, read_token_file
from dynaclient.config._fields import Fields
from dynaclient.config.kubeconfig import AuthProviderEntry, ClusterEntry, ContextEntry, Kubeconfig, Location, UserEntry
from dynaclient.config.model import ClientConfig, check_proxy_url, normalize_server
from dynaclient.config.persist import AuthProviderPersister
from dynaclient.exceptions import AuthError, ConfigError, KubeconfigError
from dynaclient.transport.tls import build_ssl_context

logger = logging.getLogger("dynaclient")

_V1 = "client.authentication.k8s.io/v1"
_Entry = TypeVar("_Entry", ClusterEntry, UserEntry)


def resolve_kubeconfig(
    kubeconfig: Kubeconfig,
    context: str | None = None,
    *,
    now: Callable[[], float] = time.time,
    oidc_refresh: RefreshFunction | None = None,
) -> ClientConfig:
    """Resolve ``context`` (default: the current context) of a kubeconfig into a client configuration.

    Args:
        kubeconfig: the parsed and merged kubeconfig.
        context: the context name; ``None`` uses ``current-context``.
        now: the clock of the token, exec and OIDC providers (epoch seconds).
        oidc_refresh: the OIDC refresh function; the default calls the issuer with requests.

    Returns:
        The configuration, with the files it names already read (the token file is re-read later).

    Raises:
        KubeconfigError: the context, its cluster or its user is missing, inconsistent or names an unreadable
            file; the message names the file and the key.
    """
    selected = _select_context(kubeconfig, context)
    cluster = _referenced(kubeconfig.clusters, selected, "cluster")
    if cluster is None:
        raise selected.location.error("cluster", "missing")
    user = _referenced(kubeconfig.users, selected, "user")
    server, settings = _cluster_settings(cluster)
    certificate, key = _client_certificate(user) if user else (None, None)
    auth = _auth(user, settings, certificate is not None, now, oidc_refresh) if user else NoAuth()
    if server.startswith("http://"):
        # clientcmd client_config.go ClientConfig: "only try to read the auth information if we are secure"
        # (rest.IsConfigTransportTLS): over plain HTTP neither the user's credentials nor the cluster's TLS
        # settings are used, and an exec plugin never runs.
        if user and (certificate is not None or not isinstance(auth, NoAuth)):
            logger.warning(
                "%s: the server is plain HTTP (%s); the credentials of user %r are not sent, as with kubectl",
                cluster.location.path,
                server,
                user.name,
            )
        auth, certificate, key = NoAuth(), None, None
        settings = ClusterInfo(settings.server, proxy_url=settings.proxy_url, config=settings.config)
    else:
        _check_tls(cluster, user, settings.certificate_authority_data, certificate, key)
    return ClientConfig(
        server=server,
        auth=auth,
        ca_data=settings.certificate_authority_data,
        insecure_skip_tls_verify=settings.insecure_skip_tls_verify,
        tls_server_name=settings.tls_server_name,
        proxy_url=settings.proxy_url,
        client_certificate_data=certificate,
        client_key_data=key,
        namespace=selected.namespace or "default",
        context=selected.name,
        source=os.pathsep.join(kubeconfig.paths),
        disable_compression=settings.disable_compression,
    )


def _select_context(kubeconfig: Kubeconfig, name: str | None) -> ContextEntry:
    paths = os.pathsep.join(kubeconfig.paths) or None
    if name is not None:
        if name not in kubeconfig.contexts:
            raise KubeconfigError(f'context "{name}" not found', path=paths, key="contexts")
        return kubeconfig.contexts[name]
    if kubeconfig.current_context is None:
        raise KubeconfigError("not set, and no context was given", path=paths, key="current-context")
    if kubeconfig.current_context not in kubeconfig.contexts:
        message = f'context "{kubeconfig.current_context}" not found'
        raise KubeconfigError(message, path=kubeconfig.current_context_path, key="current-context")
    return kubeconfig.contexts[kubeconfig.current_context]


def _referenced(entries: Mapping[str, _Entry], context: ContextEntry, kind: str) -> _Entry | None:
    """Return the cluster or user a context names, ``None`` when it names none."""
    name = context.cluster if kind == "cluster" else context.user
    if name is None:
        return None
    if name not in entries:
        raise context.location.error(kind, f'{kind} "{name}" not found')
    return entries[name]


def _cluster_settings(cluster: ClusterEntry) -> tuple[str, ClusterInfo]:
    """Return the server URL to use, and the cluster as exec plugins see it.

    The plugin's ``spec.cluster.server`` is the kubeconfig's ``server`` verbatim, as client-go passes
    ``rest.Config.Host`` (exec.go ``ConfigToExecCluster``).
    """
    where = cluster.location
    if cluster.server is None:
        raise where.error("server", "missing")
    if cluster.certificate_authority and cluster.certificate_authority_data:
        raise where.error("certificate-authority", "certificate-authority-data is set too; keep one")
    ca_data = cluster.certificate_authority_data or _read(where, "certificate-authority", cluster.certificate_authority)
    if cluster.insecure_skip_tls_verify and ca_data:
        # client-go transport/transport.go: "specifying a root certificates file with the insecure flag is not allowed"
        raise where.error("insecure-skip-tls-verify", "cannot be combined with a certificate authority")
    try:
        server = normalize_server(cluster.server)
    except ValueError as exc:
        raise where.error("server", str(exc)) from None
    try:
        proxy_url = check_proxy_url(cluster.proxy_url) if cluster.proxy_url else None
    except ValueError as exc:
        raise where.error("proxy-url", str(exc)) from None
    return server, ClusterInfo(
        server=cluster.server,
        certificate_authority_data=ca_data,
        insecure_skip_tls_verify=cluster.insecure_skip_tls_verify,
        tls_server_name=cluster.tls_server_name,
        proxy_url=proxy_url,
        disable_compression=cluster.disable_compression,
        config=cluster.exec_config,
    )


def _check_tls(
    cluster: ClusterEntry, user: UserEntry | None, ca_data: bytes | None, certificate: bytes | None, key: bytes | None
) -> None:
    """Load the CA and the client certificate once, so that an unusable one is reported with its file and key."""
    if ca_data is not None:
        name = "certificate-authority" if cluster.certificate_authority else "certificate-authority-data"
        try:
            build_ssl_context(ca_data=ca_data)
        except ConfigError as exc:
            origin = f" ({cluster.certificate_authority})" if cluster.certificate_authority else ""
            raise cluster.location.error(name, f"{exc}{origin}") from None
    if user is not None and certificate is not None and key is not None:
        name = "client-certificate" if user.client_certificate else "client-certificate-data"
        try:
            build_ssl_context(ca_data=ca_data, client_certificate=(certificate, key))
        except ConfigError as exc:
            files = [path for path in (user.client_certificate, user.client_key) if path]
            origin = f" ({', '.join(files)})" if files else ""
            raise user.location.error(name, f"{exc}{origin}") from None


def _read(where: Location, key: str, path: str | None) -> bytes | None:
    """Read a file a kubeconfig names; the error names the key and the file."""
    if path is None:
        return None
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise where.error(key, f"cannot read {path}: {exc.strerror}") from None
    if not data.strip():
        raise where.error(key, f"{path} is empty")
    return data


def _client_certificate(user: UserEntry) -> tuple[bytes | None, bytes | None]:
    where = user.location
    if user.client_certificate and user.client_certificate_data:
        raise where.error("client-certificate", "client-certificate-data is set too; keep one")
    if user.client_key and user.client_key_data:
        raise where.error("client-key", "client-key-data is set too; keep one")
    certificate = user.client_certificate_data or _read(where, "client-certificate", user.client_certificate)
    key = user.client_key_data or _read(where, "client-key", user.client_key)
    if certificate and not key:
        raise where.error("client-key", "client-key or client-key-data must be set with client-certificate")
    if key and not certificate:
        raise where.error("client-certificate", "client-certificate or client-certificate-data must be set with a key")
    return certificate, key


def _auth(
    user: UserEntry,
    cluster: ClusterInfo,
    has_certificate: bool,
    now: Callable[[], float],
    oidc_refresh: RefreshFunction | None,
) -> AuthProvider:
    """Choose the user's credential as client-go does.

    clientcmd validation.go ``validateAuthInfo`` counts only token and basic auth as competing methods, and
    rejects an auth-provider next to exec. A token, basic auth or client certificate next to ``exec`` wins and the
    plugin never runs (client-go exec.go ``UpdateTransportConfig``;
    ``TestAuthorizationHeaderPresentCancelsExecAction``);
    with ``token`` and ``tokenFile`` both set, the file's token goes on the wire while it is readable
    (transport/round_trippers.go ``NewBearerAuthWithRefreshRoundTripper``).
    """
    where = user.location
    _check_methods(user)
    if user.token_file:
        try:
            read_token_file(user.token_file)
        except AuthError as exc:
            if not user.token:
                raise where.error("tokenFile", str(exc)) from None
        return TokenFileAuth(user.token_file, now=now, fallback=user.token)
    if user.token:
        return StaticTokenAuth(user.token)
    if user.username or user.password:
        return BasicAuth(user.username or "", user.password or "")
    if user.exec:
        spec = _checked_exec(where, user.exec)
        return NoAuth() if has_certificate else ExecAuth(spec, cluster, now=now)
    if user.auth_provider:
        return _oidc(user, user.auth_provider, now, oidc_refresh)
    return NoAuth()


def _check_methods(user: UserEntry) -> None:
    where = user.location
    if user.impersonation:
        raise where.error(user.impersonation[0], "impersonation is not supported")
    if (user.token or user.token_file) and (user.username or user.password):
        raise where.error("username", "more than one authentication method: token and basic auth")
    if user.exec and user.auth_provider:
        raise where.error("auth-provider", "cannot be combined with an exec plugin")


def _checked_exec(where: Location, spec: ExecSpec) -> ExecSpec:
    """Check an exec entry as clientcmd validation.go ``validateAuthInfo`` does, defaulting ``interactiveMode``."""
    if not spec.command:
        raise where.error("exec.command", "missing")
    if not spec.api_version:
        raise where.error("exec.apiVersion", "missing")
    if spec.api_version not in EXEC_API_VERSIONS:
        supported = " or ".join(EXEC_API_VERSIONS)
        raise where.error("exec.apiVersion", f'"{spec.api_version}" is not supported; use {supported}')
    if spec.interactive_mode and spec.interactive_mode not in INTERACTIVE_MODES:
        raise where.error(
            "exec.interactiveMode", f'"{spec.interactive_mode}" is not one of {", ".join(INTERACTIVE_MODES)}'
        )
    if spec.interactive_mode:
        return spec
    if spec.api_version == _V1:
        raise where.error("exec.interactiveMode", f"missing (required by {_V1})")
    # clientcmd api/v1 defaults.go: IfAvailable for v1beta1 plugins that do not say.
    return replace(spec, interactive_mode="IfAvailable")


def _oidc(
    user: UserEntry, provider: AuthProviderEntry, now: Callable[[], float], refresh: RefreshFunction | None
) -> AuthProvider:
    where = user.location
    if provider.name is None:
        raise where.error("auth-provider.name", "missing")
    if provider.name != "oidc":
        message = f'auth-provider "{provider.name}" is not supported (only oidc is); use an exec plugin instead'
        raise where.error("auth-provider.name", message)
    for key in OIDCAuth.REQUIRED_KEYS:
        if not provider.config.get(key):
            raise where.error(f"auth-provider.config.{key}", "missing")
    config = Fields(dict(provider.config), path=where.path, key=f"{where.key}.auth-provider.config")
    config.base64("idp-certificate-authority-data")
    return OIDCAuth(provider.config, AuthProviderPersister(where.path, user.name), refresh=refresh, now=now)


__all__ = ["resolve_kubeconfig"]
