"""Build the kubectl command line that carries a Request: ``--raw`` verbs, or ``kubectl patch`` for PATCH.

Pure: no I/O. What kubectl cannot carry raises :class:`~dynaclient.exceptions.UnsupportedRequestError`. Object
paths are taken apart like apiserver ``pkg/endpoints/request/requestinfo.go`` (``RequestInfoFactory``).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from dynaclient.exceptions import UnsupportedRequestError
from dynaclient.request import JSON_CONTENT_TYPE, Request

_RAW_VERBS = {"GET": "get", "POST": "create", "PUT": "replace", "DELETE": "delete"}
_PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
}
# The patch travels on stdin so that it never shows in the process table; without /dev/stdin it goes in ``-p``.
PATCH_FROM_STDIN = os.path.exists("/dev/stdin")
# apiserver pkg/endpoints/request/requestinfo.go: namespaces/<name>/{status,finalize} are namespace subresources.
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_SECRET_FLAGS = frozenset({"-p", "--patch", "--token", "--password"})


def build_command(request: Request, prefix: Sequence[str]) -> tuple[list[str], bytes | None]:
    """Return kubectl's argv and stdin for ``request``, or raise UnsupportedRequestError."""
    _check_carriable(request)
    if request.method == "PATCH":
        return _patch_command(request, prefix)
    verb = _RAW_VERBS.get(request.method)
    if verb is None:
        raise UnsupportedRequestError(f"kubectl cannot send {request.method} requests")
    if request.expect == "stream" and request.method != "GET":
        raise UnsupportedRequestError(f"kubectl can stream only GET responses, not {request.method}")
    content_type = request.effective_content_type
    if content_type is not None and not _is_json(content_type):
        # kubectl --raw sends bodies without a Content-Type, which the apiserver reads as JSON.
        raise UnsupportedRequestError(f"kubectl --raw sends only JSON bodies, not {content_type}")
    argv = [*prefix, verb, f"--raw={request.url_path}"]
    if request.method in ("POST", "PUT") or request.body is not None:
        return [*argv, "-f", "-"], request.body or b""
    return argv, None


def _check_carriable(request: Request) -> None:
    if request.headers:
        names = ", ".join(sorted(request.headers))
        raise UnsupportedRequestError(f"kubectl cannot send extra headers ({names})")
    if not all(_is_json(media_range) for media_range in request.accept.split(",")):
        raise UnsupportedRequestError(f"kubectl only accepts plain JSON responses, not Accept: {request.accept}")


def _is_json(media_type: str) -> bool:
    """Tell whether a media type or range is plain JSON (``q`` and ``charset`` parameters allowed).

    >>> _is_json("application/json; charset=utf-8"), _is_json("application/json;as=Table;g=meta.k8s.io;v=v1")
    (True, False)
    """
    essence, *parameters = (part.strip() for part in media_type.split(";"))
    names = {parameter.split("=", 1)[0].strip().lower() for parameter in parameters}
    return essence.lower() in (JSON_CONTENT_TYPE, "*/*") and names <= {"q", "charset"}


@dataclass(frozen=True, slots=True)
class _ObjectPath:
    """An object's API path taken apart: ``/apis/<group>/<version>/namespaces/<ns>/<resource>/<name>/<sub>``.

    Thread-safety: immutable.
    """

    group: str
    version: str
    namespace: str | None
    resource: str
    name: str
    subresource: str | None

    @classmethod
    def parse(cls, path: str) -> _ObjectPath:
        """Split an object path like apiserver's ``RequestInfoFactory``; raise if it names no single object.

        >>> _ObjectPath.parse("/api/v1/namespaces/default/status")
        _ObjectPath(group='', version='v1', namespace=None, resource='namespaces', name='default', subresource='status')
        >>> _ObjectPath.parse("/apis/apps/v1/namespaces/ns/deployments/web/scale").subresource
        'scale'
        >>> _ObjectPath.parse("/api/v1/namespaces/ns/configmaps/%23").name
        '#'
        """
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if parts[0] == "api" and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise UnsupportedRequestError(f"kubectl patch needs an /api or /apis object path, not {path}")
        namespace = None
        if len(rest) > 2 and rest[0] == "namespaces" and rest[2] not in _NAMESPACE_SUBRESOURCES:
            namespace, rest = rest[1], rest[2:]
        if len(rest) not in (2, 3) or not all(rest):
            raise UnsupportedRequestError(f"kubectl patch needs the path of one object, not {path}")
        return cls(group, version, namespace, rest[0], rest[1], rest[2] if len(rest) == 3 else None)


def _patch_command(request: Request, prefix: Sequence[str]) -> tuple[list[str], bytes | None]:
    content_type = (request.effective_content_type or "").split(";")[0].strip().lower()
    patch_type = _PATCH_TYPES.get(content_type)
    if patch_type is None:
        raise UnsupportedRequestError(f"kubectl patch cannot send patches of type {content_type or '(none)'}")
    body = request.body or b""
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        raise UnsupportedRequestError("kubectl patch needs a JSON patch body; the body is not JSON") from None
    target = _ObjectPath.parse(request.path)
    # Values go in --flag=value form and the object after "--", so that no name or namespace is read as a flag
    # (a name "--field-manager" must patch that object, not set an option).
    argv = [*prefix, "patch", f"--type={patch_type}"]
    if target.namespace is not None:
        argv.append(f"--namespace={target.namespace}")
    argv += ["--patch-file=/dev/stdin"] if PATCH_FROM_STDIN else [f"--patch={body.decode()}"]
    if target.subresource is not None:
        argv.append(f"--subresource={target.subresource}")
    for name, value in request.query:
        if name == "dryRun" and value == "All":
            argv.append("--dry-run=server")
        elif name == "fieldManager":
            argv.append(f"--field-manager={value}")
        else:
            raise UnsupportedRequestError(f"kubectl patch cannot send the query parameter {name}={value}")
    argv += ["--show-managed-fields", "-o", "json", "--", f"{target.resource}.{target.version}.{target.group}"]
    return [*argv, target.name], body if PATCH_FROM_STDIN else None


def loggable_command(argv: Sequence[str]) -> str:
    """Join argv for a log line, hiding the patch given with ``-p`` and credentials given in ``extra_args``.

    >>> loggable_command(["kubectl", "--token=abc", "--password", "pw", "patch", "cm", "x", "-p", '{"data": 1}'])
    "kubectl '--token=<hidden>' --password '<hidden>' patch cm x -p '<hidden>'"
    """
    hidden = []
    for previous, arg in zip(["", *argv], argv, strict=False):
        flag = arg.split("=", 1)[0]
        if previous in _SECRET_FLAGS:
            arg = "<hidden>"
        elif flag in _SECRET_FLAGS and "=" in arg:
            arg = f"{flag}=<hidden>"
        hidden.append(arg)
    return shlex.join(hidden)


__all__ = ["PATCH_FROM_STDIN", "build_command", "loggable_command"]
