"""The raw kubeconfig model: parse a file and check its shape.

Nothing here finds, reads or merges the files (:mod:`dynaclient.config.loading`), decides which context is used
or reads the files a kubeconfig names (:mod:`dynaclient.config.resolve`). Relative paths are made absolute against
the directory of the file that names them (clientcmd loader.go ``ResolveLocalPaths``), so an entry keeps its
meaning after a merge.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml

from dynaclient.auth.exec import ExecSpec
from dynaclient.config._fields import Fields
from dynaclient.exceptions import KubeconfigError

_IMPERSONATION_KEYS = ("as", "as-uid", "as-groups", "as-user-extra")

#: The cluster extension whose value is passed to exec plugins as ``spec.cluster.config``
#: (client-go plugin/pkg/client/auth/exec/exec.go ``execInfo``).
EXEC_EXTENSION_NAME = "client.authentication.k8s.io/exec"


@dataclass(frozen=True, slots=True)
class Location:
    """Where an entry was written: the file and its key path (``users[0].user``).

    Thread-safety: immutable.
    """

    path: str
    key: str

    def error(self, name: str, message: str) -> KubeconfigError:
        """Build the error for field ``name`` of this entry (not raised)."""
        return KubeconfigError(message, path=self.path, key=f"{self.key}.{name}")


@dataclass(frozen=True, slots=True)
class ClusterEntry:
    """A ``clusters[]`` entry as written (paths made absolute, base64 decoded).

    Thread-safety: immutable.
    """

    name: str
    location: Location
    server: str | None = None
    certificate_authority: str | None = None
    certificate_authority_data: bytes | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = field(default=None, repr=False)
    disable_compression: bool = False
    exec_config: Any = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class AuthProviderEntry:
    """A ``users[].user.auth-provider`` entry.

    Thread-safety: immutable.
    """

    name: str | None
    config: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class UserEntry:
    """A ``users[]`` entry as written (paths made absolute, base64 decoded); secrets are left out of its repr.

    Thread-safety: immutable.
    """

    name: str
    location: Location
    client_certificate: str | None = None
    client_certificate_data: bytes | None = None
    client_key: str | None = None
    client_key_data: bytes | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    token_file: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    exec: ExecSpec | None = None
    auth_provider: AuthProviderEntry | None = None
    impersonation: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContextEntry:
    """A ``contexts[]`` entry.

    Thread-safety: immutable.
    """

    name: str
    location: Location
    cluster: str | None = None
    user: str | None = None
    namespace: str | None = None


@dataclass(frozen=True, slots=True)
class Kubeconfig:
    """One kubeconfig file, or several merged: entries by name, and the current context.

    Attributes:
        paths: the files read, in precedence order.
        clusters: cluster entries by name.
        users: user entries by name.
        contexts: context entries by name.
        current_context: the ``current-context``, or ``None``.
        current_context_path: the file that set ``current-context``.

    Thread-safety: immutable.
    """

    paths: tuple[str, ...] = ()
    clusters: Mapping[str, ClusterEntry] = field(default_factory=dict)
    users: Mapping[str, UserEntry] = field(default_factory=dict)
    contexts: Mapping[str, ContextEntry] = field(default_factory=dict)
    current_context: str | None = None
    current_context_path: str | None = None


_Entry = TypeVar("_Entry")


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate keys, as the Go YAML decoder behind kubectl does."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            key = loader.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_kubeconfig(text: str, path: str) -> Kubeconfig:
    """Parse the text of one kubeconfig file.

    Args:
        text: the file's content; empty means an empty configuration, as for clientcmd.
        path: the file, for error messages and to resolve the relative paths it names.

    Returns:
        The file's entries.

    Raises:
        KubeconfigError: the YAML is invalid, or a key has the wrong type or value. The error names the file
            and the key (``users[0].user.client-key-data``), never a secret.
    """
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise KubeconfigError(f"invalid YAML{where}: {exc.problem}", path=path) from None
    except yaml.YAMLError as exc:
        raise KubeconfigError(f"invalid YAML: {type(exc).__name__}", path=path) from None
    except RecursionError:
        raise KubeconfigError("invalid YAML: nested too deeply", path=path) from None
    top = Fields(document, path=path, key="")
    _check_header(top)
    base = os.path.dirname(path)
    clusters = _by_name(top, "clusters", lambda entry, name: _cluster(entry, name, base))
    users = _by_name(top, "users", lambda entry, name: _user(entry, name, base))
    contexts = _by_name(top, "contexts", _context)
    current = top.string("current-context")
    return Kubeconfig((path,), clusters, users, contexts, current, path if current else None)


def _check_header(top: Fields) -> None:
    kind, api_version = top.string("kind"), top.string("apiVersion")
    if kind not in (None, "Config"):
        raise top.error("kind", f'expected "Config", got "{kind}"')
    if api_version not in (None, "v1"):
        raise top.error("apiVersion", f'expected "v1", got "{api_version}"')


def _by_name(top: Fields, section: str, build: Callable[[Fields, str], _Entry]) -> dict[str, _Entry]:
    """Build the named entries of ``section``; a repeated name is an error (clientcmd api/v1 conversion.go)."""
    inner = section[:-1]  # clusters -> cluster
    entries: dict[str, _Entry] = {}
    for entry in top.children(section):
        name = entry.string("name")
        if name is None:
            raise entry.error("name", "missing")
        if name in entries:
            raise entry.error("name", f'duplicate name "{name}" in {section}')
        entries[name] = build(entry.child(inner), name)
    return entries


def _absolute(base: str, value: str | None) -> str | None:
    """Resolve a path named in a kubeconfig against the directory of that file (clientcmd ``ResolvePaths``).

    >>> _absolute("/home/me/.kube", "certs/ca.crt"), _absolute("/home/me/.kube", "/etc/ca.crt")
    ('/home/me/.kube/certs/ca.crt', '/etc/ca.crt')
    """
    if not value or os.path.isabs(value):
        return value
    return os.path.join(base, value)


def _location(fields: Fields) -> Location:
    return Location(fields.path, fields.key)


def _cluster(fields: Fields, name: str, base: str) -> ClusterEntry:
    exec_config = None
    for extension in fields.children("extensions"):
        if extension.string("name") == EXEC_EXTENSION_NAME:
            exec_config = extension.raw("extension")
    return ClusterEntry(
        name=name,
        location=_location(fields),
        server=fields.string("server"),
        certificate_authority=_absolute(base, fields.string("certificate-authority")),
        certificate_authority_data=fields.base64("certificate-authority-data"),
        insecure_skip_tls_verify=fields.boolean("insecure-skip-tls-verify"),
        tls_server_name=fields.string("tls-server-name"),
        proxy_url=fields.string("proxy-url"),
        disable_compression=fields.boolean("disable-compression"),
        exec_config=exec_config,
    )


def _user(fields: Fields, name: str, base: str) -> UserEntry:
    provider = None
    if fields.has("auth-provider"):
        provider_fields = fields.child("auth-provider")
        provider = AuthProviderEntry(provider_fields.string("name"), provider_fields.string_map("config"))
    return UserEntry(
        name=name,
        location=_location(fields),
        client_certificate=_absolute(base, fields.string("client-certificate")),
        client_certificate_data=fields.base64("client-certificate-data"),
        client_key=_absolute(base, fields.string("client-key")),
        client_key_data=fields.base64("client-key-data"),
        token=fields.string("token"),
        token_file=_absolute(base, fields.string("tokenFile")),
        username=fields.string("username"),
        password=fields.string("password"),
        exec=_exec(fields.child("exec"), base) if fields.has("exec") else None,
        auth_provider=provider,
        impersonation=tuple(key for key in _IMPERSONATION_KEYS if fields.has(key)),
    )


def _exec(fields: Fields, base: str) -> ExecSpec:
    """Read an exec entry; the command is resolved only when it contains a path separator (clientcmd loader.go)."""
    command = fields.string("command") or ""
    if os.sep in command:
        command = _absolute(base, command) or command
    env = []
    for variable in fields.children("env"):
        variable_name = variable.string("name")
        if variable_name is None:
            raise variable.error("name", "missing")
        env.append((variable_name, variable.string("value") or ""))
    return ExecSpec(
        command=command,
        api_version=fields.string("apiVersion") or "",
        args=fields.strings("args"),
        env=tuple(env),
        install_hint=fields.string("installHint"),
        provide_cluster_info=fields.boolean("provideClusterInfo"),
        interactive_mode=fields.string("interactiveMode") or "",
    )


def _context(fields: Fields, name: str) -> ContextEntry:
    return ContextEntry(
        name=name,
        location=_location(fields),
        cluster=fields.string("cluster"),
        user=fields.string("user"),
        namespace=fields.string("namespace"),
    )


__all__ = [
    "EXEC_EXTENSION_NAME",
    "AuthProviderEntry",
    "ClusterEntry",
    "ContextEntry",
    "Kubeconfig",
    "Location",
    "UserEntry",
    "parse_kubeconfig",
]
