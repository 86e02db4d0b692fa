"""Find, read and merge kubeconfig files as kubectl does: ``path``, else the ``KUBECONFIG`` list, else the default.

Parsing one file is :func:`~dynaclient.config.kubeconfig.parse_kubeconfig`.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Mapping, Sequence

from dynaclient.config.kubeconfig import ClusterEntry, ContextEntry, Kubeconfig, UserEntry, parse_kubeconfig
from dynaclient.exceptions import KubeconfigError


def merge_kubeconfigs(configs: Sequence[Kubeconfig]) -> Kubeconfig:
    """Merge kubeconfigs in precedence order with kubectl's rules (clientcmd loader.go ``Load``).

    The first file to define a cluster, user or context name wins that whole entry; ``current-context`` comes
    from the first file that sets one.

    >>> a = Kubeconfig(("a",), current_context=None)
    >>> b = Kubeconfig(("b",), current_context="dev", current_context_path="b")
    >>> merge_kubeconfigs([a, b]).current_context, merge_kubeconfigs([a, b]).paths
    ('dev', ('a', 'b'))
    """
    clusters: dict[str, ClusterEntry] = {}
    users: dict[str, UserEntry] = {}
    contexts: dict[str, ContextEntry] = {}
    current = current_path = None
    for config in configs:
        for name, cluster in config.clusters.items():
            clusters.setdefault(name, cluster)
        for name, user in config.users.items():
            users.setdefault(name, user)
        for name, context in config.contexts.items():
            contexts.setdefault(name, context)
        if current is None and config.current_context:
            current, current_path = config.current_context, config.current_context_path
    paths = tuple(path for config in configs for path in config.paths)
    return Kubeconfig(paths, clusters, users, contexts, current, current_path)


def read_kubeconfig_file(path: str | os.PathLike[str]) -> Kubeconfig:
    """Read and parse one kubeconfig file.

    Raises:
        KubeconfigError: the file cannot be read or is malformed; a missing file raises it too.
    """
    absolute = os.path.abspath(os.path.expanduser(os.fspath(path)))
    try:
        with open(absolute, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        raise KubeconfigError("file does not exist", path=absolute) from None
    except OSError as exc:
        raise KubeconfigError(f"cannot read file: {exc.strerror}", path=absolute) from None
    try:
        text = decode_text(data)
    except UnicodeDecodeError:
        raise KubeconfigError(
            "cannot read file: not UTF-8 (or UTF-16 with a byte-order mark) text", path=absolute
        ) from None
    return parse_kubeconfig(text, absolute)


def decode_text(data: bytes) -> str:
    """Decode a kubeconfig as kubectl does: UTF-16 when it starts with a byte-order mark, else UTF-8 (BOM or not).

    >>> decode_text("kind".encode("utf-16")), decode_text("kind".encode("utf-8-sig")), decode_text(b"kind")
    ('kind', 'kind', 'kind')
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def kubeconfig_paths(environ: Mapping[str, str] | None = None) -> list[str]:
    """Return the files named by ``KUBECONFIG`` (deduplicated, in order), or ``[~/.kube/config]`` when unset.

    >>> kubeconfig_paths({"KUBECONFIG": os.pathsep.join(["/a", "", "/b", "/a"])})
    ['/a', '/b']
    >>> kubeconfig_paths({"HOME": "/home/me"})
    ['/home/me/.kube/config']
    """
    env = os.environ if environ is None else environ
    listed = [os.path.abspath(p) for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        return list(dict.fromkeys(listed))
    home = env.get("HOME") or os.path.expanduser("~")
    return [os.path.join(home, ".kube", "config")]


def read_kubeconfigs(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> Kubeconfig:
    """Read the kubeconfig at ``path``, or merge the ``KUBECONFIG`` list, or read ``~/.kube/config``.

    Files of the ``KUBECONFIG`` list that do not exist are skipped, as kubectl does; a file named by ``path``,
    or the default file, must exist.

    Raises:
        KubeconfigError: no file exists, or one is unreadable or malformed.
    """
    if path is not None:
        return read_kubeconfig_file(path)
    env = os.environ if environ is None else environ
    paths = kubeconfig_paths(env)
    if not any(p for p in env.get("KUBECONFIG", "").split(os.pathsep)):
        return read_kubeconfig_file(paths[0])
    configs = [read_kubeconfig_file(p) for p in paths if os.path.exists(p)]
    if not configs:
        raise KubeconfigError("none of the files listed in KUBECONFIG exists", path=os.pathsep.join(paths))
    return merge_kubeconfigs(configs)


__all__ = ["decode_text", "kubeconfig_paths", "merge_kubeconfigs", "read_kubeconfig_file", "read_kubeconfigs"]
