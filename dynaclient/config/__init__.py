"""Client configuration: load a kubeconfig or the in-cluster service account into a :class:`ClientConfig`.

Resolution order of :func:`load_kubeconfig`: the ``path`` argument; else the files listed in ``KUBECONFIG``
(merged with kubectl's rules: the first file to define a name wins, ``current-context`` comes from the first file
that sets one, missing files are skipped); else ``~/.kube/config``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from dynaclient.auth.oidc import RefreshFunction
from dynaclient.config.incluster import SERVICE_ACCOUNT_ROOT, load_incluster_config
from dynaclient.config.kubeconfig import Kubeconfig, parse_kubeconfig
from dynaclient.config.loading import kubeconfig_paths, read_kubeconfigs
from dynaclient.config.model import ClientConfig, ClusterInfo
from dynaclient.config.resolve import resolve_kubeconfig


def load_kubeconfig(
    path: str | os.PathLike[str] | None = None,
    context: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    now: Callable[[], float] = time.time,
    oidc_refresh: RefreshFunction | None = None,
) -> ClientConfig:
    """Load a kubeconfig and resolve one of its contexts.

    Args:
        path: the kubeconfig file; ``None`` uses ``KUBECONFIG`` or ``~/.kube/config``.
        context: the context to use; ``None`` uses ``current-context``.
        env: the environment to read ``KUBECONFIG`` and ``HOME`` from; defaults to ``os.environ``.
        now: the clock of token, exec and OIDC credential caching (epoch seconds).
        oidc_refresh: replaces the HTTP call that refreshes an OIDC id-token (for tests).

    Returns:
        The resolved configuration; its ``namespace`` is the context's namespace, else ``default``.

    Raises:
        KubeconfigError: no kubeconfig exists, or it is malformed or inconsistent; the message names the file and
            the key (for example ``users[0].user.client-key-data: not valid base64``).
    """
    return resolve_kubeconfig(read_kubeconfigs(path, environ=env), context, now=now, oidc_refresh=oidc_refresh)


__all__ = [
    "SERVICE_ACCOUNT_ROOT",
    "ClientConfig",
    "ClusterInfo",
    "Kubeconfig",
    "kubeconfig_paths",
    "load_incluster_config",
    "load_kubeconfig",
    "parse_kubeconfig",
    "read_kubeconfigs",
    "resolve_kubeconfig",
]
