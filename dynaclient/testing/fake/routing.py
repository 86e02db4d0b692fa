"""Read an API request's path and query as kube-apiserver's ``RequestInfoFactory`` does; no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from dynaclient.testing.fake.statuses import StatusError, bad_request

# apiserver pkg/endpoints/request/requestinfo.go: namespaceSubresources.
_NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True, slots=True)
class Route:
    """The resource a request addresses.

    Attributes:
        group: the API group (``""`` for core).
        version: the API version.
        resource: the plural resource name.
        namespace: the namespace segment, or ``""``.
        name: the object name, or ``""`` for the collection.
        subresource: ``status`` and the like, or ``""``.

    Thread-safety: immutable.

    >>> parse_route("/api/v1/namespaces/a/configmaps/b")
    Route(group='', version='v1', resource='configmaps', namespace='a', name='b', subresource='')
    >>> parse_route("/api/v1/namespaces/a/status")
    Route(group='', version='v1', resource='namespaces', namespace='', name='a', subresource='status')
    >>> parse_route("/apis/apps/v1/deployments")
    Route(group='apps', version='v1', resource='deployments', namespace='', name='', subresource='')
    """

    group: str
    version: str
    resource: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""


def parse_route(path: str) -> Route | None:
    """Return the route of a resource path, or ``None`` for anything else (discovery, ``/version``).

    Segments are percent-decoded, as the API server decodes the path the client escaped.

    >>> parse_route("/api/v1/namespaces/a%23b/configmaps/x%3Fy")
    Route(group='', version='v1', resource='configmaps', namespace='a#b', name='x?y', subresource='')
    """
    parts = [unquote(part) for part in path.split("/") if part]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 2:
        if len(rest) == 2 or (len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES):
            return Route(group, version, "namespaces", "", rest[1], rest[2] if len(rest) == 3 else "")
        namespace, rest = rest[1], rest[2:]
    resource, name, subresource = rest[0], rest[1] if len(rest) > 1 else "", "/".join(rest[2:])
    return Route(group, version, resource, namespace, name, subresource)


class Query:
    """The query parameters of a request.

    Thread-safety: immutable after construction.
    """

    def __init__(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self._values = dict(pairs)

    def get(self, key: str) -> str | None:
        """Return the value of ``key``, or ``None``."""
        return self._values.get(key)

    def flag(self, key: str) -> bool:
        """Whether ``key`` is ``true`` (``1`` too, as Go's ``strconv.ParseBool``)."""
        return self._values.get(key, "").lower() in ("true", "1")

    def integer(self, key: str) -> int | None:
        """Return ``key`` as an integer, or ``None``.

        Raises:
            StatusError: 400 when the value is not an integer.
        """
        value = self._values.get(key)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"invalid value for {key}: {value!r}") from None


__all__ = ["Query", "Route", "StatusError", "parse_route"]
