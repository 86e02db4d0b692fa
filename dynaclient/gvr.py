"""Group, version, resource and kind identifiers, and the parsing of ``apps/v1`` and ``deployments.v1.apps``.

Semantics follow apimachinery ``pkg/runtime/schema/group_version.go``: the core group is the empty string, an
``apiVersion`` without a slash is a core version, and a dotted resource argument is split at its first two dots.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynaclient.exceptions import GroupVersionError


@dataclass(frozen=True, slots=True)
class GroupVersion:
    """An API group and version, as in an ``apiVersion`` field.

    Attributes:
        group: the API group; ``""`` is the core (legacy) group.
        version: the version, for example ``v1``.

    Thread-safety: immutable.

    Example:
        >>> GroupVersion.parse("apps/v1")
        GroupVersion(group='apps', version='v1')
        >>> str(GroupVersion.parse("v1"))
        'v1'
    """

    group: str
    version: str

    @classmethod
    def parse(cls, api_version: str) -> GroupVersion:
        """Parse ``group/version`` or a core ``version``, like apimachinery ``schema.ParseGroupVersion``.

        ``""`` and ``"/"`` give the empty GroupVersion, as in apimachinery.

        Args:
            api_version: the string to parse, for example ``apps/v1`` or ``v1``.

        Returns:
            The parsed GroupVersion.

        Raises:
            GroupVersionError: the string has more than one ``/``.

        >>> GroupVersion.parse("a/b/c")
        Traceback (most recent call last):
        ...
        dynaclient.exceptions.GroupVersionError: unexpected GroupVersion string 'a/b/c': more than one '/'
        """
        if api_version in ("", "/"):
            return cls("", "")
        slashes = api_version.count("/")
        if slashes == 0:
            return cls("", api_version)
        if slashes == 1:
            group, version = api_version.split("/")
            return cls(group, version)
        raise GroupVersionError(f"unexpected GroupVersion string {api_version!r}: more than one '/'")

    @property
    def api_version(self) -> str:
        """The ``apiVersion`` form: ``group/version``, or just ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def with_resource(self, resource: str) -> GroupVersionResource:
        """Return the GroupVersionResource of ``resource`` in this group and version."""
        return GroupVersionResource(self.group, self.version, resource)

    def with_kind(self, kind: str) -> GroupVersionKind:
        """Return the GroupVersionKind of ``kind`` in this group and version."""
        return GroupVersionKind(self.group, self.version, kind)

    def __str__(self) -> str:
        return self.api_version


@dataclass(frozen=True, slots=True)
class GroupResource:
    """A resource in an API group, without a version (what a user types before discovery picks one).

    Attributes:
        group: the API group; ``""`` is the core group.
        resource: the plural resource name, for example ``deployments``.

    Thread-safety: immutable.

    Example:
        >>> GroupResource.parse("deployments.apps")
        GroupResource(group='apps', resource='deployments')
        >>> str(GroupResource("", "pods"))
        'pods'
    """

    group: str
    resource: str

    @classmethod
    def parse(cls, group_resource: str) -> GroupResource:
        """Split ``resource.group`` at the first dot, like apimachinery ``schema.ParseGroupResource``.

        Args:
            group_resource: for example ``deployments.apps`` or ``pods``; never fails.

        Returns:
            The GroupResource; without a dot the whole string is the resource in the core group.
        """
        resource, dot, group = group_resource.partition(".")
        return cls(group if dot else "", resource)

    def with_version(self, version: str) -> GroupVersionResource:
        """Return the GroupVersionResource of this resource at ``version``."""
        return GroupVersionResource(self.group, version, self.resource)

    def __str__(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


class _InGroupVersion:
    """Adds ``group_version`` and ``api_version`` to a value type with ``group`` and ``version`` fields.

    Thread-safety: immutable (the subclasses are frozen).
    """

    __slots__ = ()
    group: str
    version: str

    @property
    def group_version(self) -> GroupVersion:
        """The group and version."""
        return GroupVersion(self.group, self.version)

    @property
    def api_version(self) -> str:
        """The ``apiVersion`` field value: ``group/version``, or ``version`` for the core group."""
        return self.group_version.api_version


@dataclass(frozen=True, slots=True)
class GroupVersionResource(_InGroupVersion):
    """A resource at one version of an API group: what a dynamic client request addresses.

    Attributes:
        group: the API group; ``""`` is the core group.
        version: the version, for example ``v1``.
        resource: the plural resource name, for example ``deployments``.

    Thread-safety: immutable.

    Example:
        >>> gvr = GroupVersionResource.parse("deployments.v1.apps")
        >>> gvr
        GroupVersionResource(group='apps', version='v1', resource='deployments')
        >>> str(gvr), gvr.api_version
        ('deployments.v1.apps', 'apps/v1')
        >>> str(GroupVersionResource("", "v1", "pods"))
        'pods.v1'
    """

    group: str
    version: str
    resource: str

    @classmethod
    def parse(cls, arg: str) -> GroupVersionResource:
        """Parse a fully qualified ``resource.version.group`` (``pods.v1.`` for the core group).

        Args:
            arg: the string, for example ``sawtooths.v1alpha1.sawtooth.hyperledger.org``.

        Returns:
            The GroupVersionResource, split at the first two dots as apimachinery ``schema.ParseResourceArg``.

        Raises:
            GroupVersionError: ``arg`` has fewer than two dots, so it does not name a version; use
                :func:`parse_resource_arg` and discovery for such partial names.

        >>> GroupVersionResource.parse("deployments.apps")
        Traceback (most recent call last):
        ...
        dynaclient.exceptions.GroupVersionError: 'deployments.apps' is not resource.version.group; ...
        """
        gvr, _ = parse_resource_arg(arg)
        if gvr is None:
            raise GroupVersionError(
                f"{arg!r} is not resource.version.group; resolve partial names with parse_resource_arg and discovery"
            )
        return gvr

    @property
    def group_resource(self) -> GroupResource:
        """The group and resource, without the version."""
        return GroupResource(self.group, self.resource)

    def __str__(self) -> str:
        return ".".join(part for part in (self.resource, self.version, self.group) if part)


@dataclass(frozen=True, slots=True)
class GroupVersionKind(_InGroupVersion):
    """A kind at one version of an API group, as given by an object's ``apiVersion`` and ``kind``.

    Attributes:
        group: the API group; ``""`` is the core group.
        version: the version, for example ``v1``.
        kind: the kind, for example ``Deployment``.

    Thread-safety: immutable.

    Example:
        >>> gvk = GroupVersionKind.from_api_version_kind("apps/v1", "Deployment")
        >>> gvk
        GroupVersionKind(group='apps', version='v1', kind='Deployment')
        >>> str(gvk), gvk.api_version
        ('Deployment.v1.apps', 'apps/v1')
    """

    group: str
    version: str
    kind: str

    @classmethod
    def from_api_version_kind(cls, api_version: str, kind: str) -> GroupVersionKind:
        """Build from an object's ``apiVersion`` and ``kind``, like apimachinery ``schema.FromAPIVersionAndKind``.

        An unparsable ``api_version`` (more than one ``/``) is dropped, leaving only the kind, as apimachinery does.

        >>> GroupVersionKind.from_api_version_kind("v1", "Pod")
        GroupVersionKind(group='', version='v1', kind='Pod')
        >>> GroupVersionKind.from_api_version_kind("a/b/c", "Pod")
        GroupVersionKind(group='', version='', kind='Pod')
        """
        try:
            group_version = GroupVersion.parse(api_version)
        except GroupVersionError:
            return cls("", "", kind)
        return cls(group_version.group, group_version.version, kind)

    def __str__(self) -> str:
        return ".".join(part for part in (self.kind, self.version, self.group) if part)


def parse_resource_arg(arg: str) -> tuple[GroupVersionResource | None, GroupResource]:
    """Read a user-typed resource both ways, like apimachinery ``schema.ParseResourceArg``.

    ``resource.group.com`` is ambiguous: it may be resource ``resource`` at version ``group`` of group ``com``, or
    resource ``resource`` of group ``group.com``. Both readings are returned; discovery decides which one exists.

    Args:
        arg: for example ``deployments``, ``deployments.apps`` or ``deployments.v1.apps``.

    Returns:
        The resource.version.group reading (``None`` when ``arg`` has fewer than two dots) and the resource.group
        reading.

    >>> parse_resource_arg("deployments.apps")
    (None, GroupResource(group='apps', resource='deployments'))
    >>> gvr, gr = parse_resource_arg("deployments.v1.apps")
    >>> gvr, str(gr)
    (GroupVersionResource(group='apps', version='v1', resource='deployments'), 'deployments.v1.apps')
    """
    gvr = None
    if arg.count(".") >= 2:
        resource, version, group = arg.split(".", 2)
        gvr = GroupVersionResource(group, version, resource)
    return gvr, GroupResource.parse(arg)


__all__ = [
    "GroupResource",
    "GroupVersion",
    "GroupVersionError",
    "GroupVersionKind",
    "GroupVersionResource",
    "parse_resource_arg",
]
