"""Errors in what was given or received: bodies, names, selectors, requests, owners, discovery, waits, manifests."""

from __future__ import annotations

from dynaclient._types import JSONObject
from dynaclient.exceptions._base import DynaclientError


class DecodeError(DynaclientError, ValueError):
    """A response body or watch frame was not the JSON that was expected."""


class ContinueTokenLoopError(DecodeError):
    """A paginated list got a continue token it had already followed: the server's pages go round in a loop."""


class WatchFrameTooLargeError(DecodeError):
    """A watch frame grew past the size cap without ending (client-go's framer refuses frames over 16 MiB).

    Attributes:
        limit: the cap in bytes.
    """

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class GroupVersionError(DynaclientError, ValueError):
    """A string could not be parsed as a group/version or a fully qualified resource."""


class SelectorError(DynaclientError, ValueError):
    """A label or field selector, or one of its keys or values, is invalid."""


class ResourceRequestError(DynaclientError, ValueError):
    """A request cannot be built: a bad name, namespace or subresource, a missing name, or conflicting options."""


class NamespaceScopeError(ResourceRequestError):
    """A namespace was given for a cluster-scoped resource, or is missing for one object of a namespaced one."""


class MissingExtraError(DynaclientError, ImportError):
    """An optional feature was used without the extra that installs its dependency.

    The message is one line naming the feature, the extra and the ``pip install`` command. It is an
    ``ImportError`` too, so code that already catches a failed import catches it.

    Attributes:
        extra: the extra to install, for example ``"testing"``.
        module: the missing top-level module, for example ``"cryptography"``.
    """

    def __init__(self, message: str, *, extra: str, module: str) -> None:
        super().__init__(message)
        self.extra = extra
        self.module = module


class FieldTypeError(DynaclientError, TypeError):
    """A typed nested accessor found a value of the wrong JSON type.

    Attributes:
        path: the JSON path that was read, for example ``.spec.replicas``.
    """

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(message)


class OwnerReferenceError(DynaclientError, ValueError):
    """An owner reference cannot be set or removed: the owner is in another scope, incomplete, or not referenced."""


class AlreadyOwnedError(OwnerReferenceError):
    """The object already has another controller (controller-runtime ``AlreadyOwnedError``).

    Attributes:
        owner: the controller reference the object already has.
    """

    def __init__(self, message: str, *, owner: JSONObject) -> None:
        self.owner = owner
        super().__init__(message)


class DiscoveryError(DynaclientError):
    """Discovery failed, or a resource name could not be resolved."""


class ResourceNotFoundError(DiscoveryError, LookupError):
    """No resource served by the server matches the given kind, plural, singular or short name."""


class AmbiguousResourceError(ResourceNotFoundError):
    """Several resources match; ``candidates`` lists them so the caller can qualify the name.

    Attributes:
        candidates: the matching resources, as ``resource.version.group`` strings.
    """

    def __init__(self, message: str, *, candidates: list[str]) -> None:
        self.candidates = candidates
        super().__init__(f"{message}: candidates are {', '.join(candidates)}")


class WaitTimeoutError(DynaclientError, TimeoutError):
    """A wait ended before its condition held.

    Attributes:
        last: the last state seen of the object (``None``: it did not exist).
    """

    def __init__(self, message: str, *, last: JSONObject | None) -> None:
        self.last = last
        super().__init__(message)


class ObjectFailedError(DynaclientError):
    """An awaited object reached a state kstatus calls Failed (a Job failed, a rollout exceeded its deadline).

    Attributes:
        object: the object in that state.
    """

    def __init__(self, message: str, *, obj: JSONObject) -> None:
        self.object = obj
        super().__init__(message)


class ManifestError(DynaclientError, ValueError):
    """A manifest cannot be loaded, resolved or applied; the message names the file and the document.

    When the server refused the object, ``__cause__`` is its :class:`APIError`.

    Attributes:
        source: the file (or ``<string>``, ``<stdin>``) the object came from.
        document: the 1-based index of the YAML document in that source (0 when the whole source is at fault).
        line: the 1-based line where the document (or the syntax error) is, when known, else 0.
    """

    def __init__(self, message: str, *, source: str, document: int = 0, line: int = 0) -> None:
        self.source = source
        self.document = document
        self.line = line
        where = f"{source} document {document}" if document else source
        at = f" (line {line})" if line else ""
        super().__init__(f"{where}{at}: {message}")
