"""Where each OpenAPI component goes: its Python module (per API group and version) and class name; no I/O.

Built-in component names are Go package paths made REST-friendly (kube-openapi ``pkg/util/util.go``
``ToRESTFriendlyName``): ``io.k8s.api.core.v1.Pod``, ``io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta``,
``io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps``. They go to a module named after the
Go package, as client-go and k8s-openapi name them: ``core/v1``, ``meta/v1``, ``apiextensions/v1``.

A custom resource's components are named ``<reversed group>.<version>.<Kind>`` (apiextensions-apiserver
``pkg/controller/openapi/builder/builder.go`` ``CRDCanonicalTypeNamer``): ``org.hyperledger.sawtooth.v1alpha1.Sawtooth``
goes to the module ``sawtooth_hyperledger_org/v1alpha1``, named after its API group. Nested objects of a custom
resource are inline (they have no component names); they are named after the kind and the field path, as kopium
does (``SawtoothSpec``, ``SawtoothSpecPeers``), so adding a kind or a field never renames another type.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

ModulePath = tuple[str, ...]
"""A generated module, relative to the output package: ``("core", "v1")``."""

RESERVED_NAMES = frozenset({"Any", "Literal", "Required", "TypedDict", "bool", "dict", "float", "int", "list", "str"})
"""Names generated code uses in annotations: a class or a class-syntax key may not take them."""

_GO_PACKAGE = re.compile(r"^io\.k8s\.api\.(?P<api>.+)$|^io\.k8s\.[^.]+\.pkg\.(?:apis\.)?(?P<pkg>.+)$")
_NOT_WORD = re.compile(r"[^0-9A-Za-z]+")


def group_module(group: str) -> str:
    """Return the module name of an API group: dots and dashes become underscores.

    >>> group_module("sawtooth.hyperledger.org"), group_module("cert-manager.io")
    ('sawtooth_hyperledger_org', 'cert_manager_io')
    """
    return _NOT_WORD.sub("_", group).strip("_").lower() or "core"


def custom_resource_prefixes(group_versions: Iterable[str]) -> dict[str, ModulePath]:
    """Map each group-version's custom-resource component prefix to its module.

    >>> custom_resource_prefixes(["sawtooth.hyperledger.org/v1alpha1", "v1"])
    {'org.hyperledger.sawtooth.v1alpha1': ('sawtooth_hyperledger_org', 'v1alpha1')}
    """
    prefixes: dict[str, ModulePath] = {}
    for group_version in group_versions:
        group, _, version = group_version.rpartition("/")
        if group:
            prefixes[".".join([*reversed(group.split(".")), version])] = (group_module(group), version)
    return prefixes


def is_builtin(component: str) -> bool:
    """Whether a component is named after a Kubernetes Go package (a built-in type) rather than a custom resource.

    >>> is_builtin("io.k8s.api.core.v1.Pod"), is_builtin("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    (True, True)
    >>> is_builtin("io.k8s.networking.gateway.v1.Gateway")
    False
    """
    return _GO_PACKAGE.match(component.rpartition(".")[0]) is not None


def component_location(component: str, custom_prefixes: dict[str, ModulePath]) -> tuple[ModulePath, str]:
    """Return the module and class name of a component.

    >>> component_location("io.k8s.api.apps.v1.Deployment", {})
    (('apps', 'v1'), 'Deployment')
    >>> component_location("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService", {})
    (('apiregistration', 'v1'), 'APIService')
    >>> component_location("org.example.v1.Widget", custom_resource_prefixes(["example.org/v1"]))
    (('example_org', 'v1'), 'Widget')
    """
    prefix, _, name = component.rpartition(".")
    module = custom_prefixes.get(prefix)
    if module is None:
        match = _GO_PACKAGE.match(prefix)
        dotted = (match.group("api") or match.group("pkg")) if match else prefix
        module = tuple(_identifier(part.lower()) for part in dotted.split("."))
    return module, class_name(name)


def class_name(name: str) -> str:
    """Return ``name`` as a class name that does not shadow a name generated code uses.

    >>> class_name("Pod"), class_name("List"), class_name("Any")
    ('Pod', 'List', 'Any_')
    """
    name = _identifier(name)
    return f"{name}_" if name in RESERVED_NAMES else name


def pascal_case(key: str) -> str:
    """Return a field key as a PascalCase name part.

    >>> pascal_case("podCIDRs"), pascal_case("x-kubernetes-list-type"), pascal_case("$ref"), pascal_case("3d")
    ('PodCIDRs', 'XKubernetesListType', 'Ref', '3d')
    """
    return "".join(part[:1].upper() + part[1:] for part in _NOT_WORD.split(key))


def is_plain_key(key: str) -> bool:
    """Whether ``key`` can be a field of a class-syntax TypedDict.

    >>> is_plain_key("image"), is_plain_key("continue"), is_plain_key("x-kubernetes-list-type"), is_plain_key("int")
    (True, False, False, False)
    """
    return key.isidentifier() and not keyword.iskeyword(key) and key not in RESERVED_NAMES and not key.startswith("__")


def _identifier(text: str) -> str:
    text = _NOT_WORD.sub("_", text).strip("_")
    if not text or text[0].isdigit():
        text = f"_{text}"
    return f"{text}_" if keyword.iskeyword(text) else text


__all__ = [
    "RESERVED_NAMES",
    "ModulePath",
    "class_name",
    "component_location",
    "custom_resource_prefixes",
    "group_module",
    "is_builtin",
    "is_plain_key",
    "pascal_case",
]
