"""From OpenAPI v3 component schemas to TypedDict definitions, module by module; no I/O.

Schemas map to Python types like this (the Kubernetes forms are described in kube-openapi ``pkg/builder3`` and
apiextensions-apiserver ``pkg/apiserver/schema``):

* an object with ``properties``: a ``TypedDict`` (``total=False``; the schema's ``required`` keys are ``Required``);
  a built-in kind's ``apiVersion`` and ``kind`` are ``Literal`` when the component carries one
  ``x-kubernetes-group-version-kind``;
* ``additionalProperties``: ``dict[str, T]``; an object without either, or ``x-kubernetes-preserve-unknown-fields``
  without properties: ``dict[str, Any]``; no ``type`` at all (``apiextensions/v1`` ``JSON``): ``Any``;
* ``enum``: ``Literal``; ``IntOrString``, ``x-kubernetes-int-or-string`` and ``anyOf``/``oneOf`` of scalar types:
  ``int | str``; a ``Quantity`` is ``str`` (the server always writes one as a string); ``nullable``: ``T | None``;
* a ``$ref``, bare or wrapped in a one-element ``allOf`` (kube-openapi ``builder3/util`` ``WrapRefs`` wraps every
  ``$ref`` that has siblings), is the referenced type; a component without properties (``Time``, ``IntOrString``,
  ``RawExtension``) is replaced by its own type wherever it is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dynaclient.codegen.documents import OpenAPISource
from dynaclient.codegen.fixups import NOT_REQUIRED, NULLABLE, check_fixups
from dynaclient.codegen.naming import (
    ModulePath,
    class_name,
    component_location,
    custom_resource_prefixes,
    is_builtin,
    pascal_case,
)

logger = logging.getLogger(__name__)

_REF_PREFIX = "#/components/schemas/"
_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_OVERRIDES = {
    # The server always writes a Quantity as a string (apimachinery resource.Quantity.MarshalJSON), although its
    # schema is oneOf string|number; a str reads back what a user sees in every object.
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "str",
}


@dataclass(frozen=True)
class PyType:
    """A Python type expression: a name (``str``), a class reference, a subscript, a ``Literal`` or a union.

    Attributes:
        head: ``str``/``int``/``Any``/... for a name, ``ref`` for a class, ``list``/``dict``/``Required`` for a
            subscript, ``Literal``, or ``|`` for a union.
        args: the subscript's arguments or the union's members.
        module: the referenced class's module (``ref`` only).
        name: the referenced class's name (``ref`` only).
        values: the ``Literal``'s values.

    Thread-safety: immutable.
    """

    head: str
    args: tuple[PyType, ...] = ()
    module: ModulePath = ()
    name: str = ""
    values: tuple[str | int | float | bool | None, ...] = ()


ANY = PyType("Any")


@dataclass
class FieldDef:
    """One key of a TypedDict.

    Thread-safety: not thread-safe (built by one thread).
    """

    key: str
    type: PyType
    required: bool
    description: str


@dataclass
class ClassDef:
    """One TypedDict: its name, docstring, fields (sorted by key) and what it was made from.

    Thread-safety: not thread-safe (built by one thread).
    """

    name: str
    description: str
    source: str
    fields: list[FieldDef] = field(default_factory=list)


@dataclass
class ModuleDef:
    """One generated module: its classes (sorted by name) and the component schemas they came from.

    Thread-safety: not thread-safe (built by one thread).
    """

    path: ModulePath
    classes: list[ClassDef] = field(default_factory=list)
    components: dict[str, Any] = field(default_factory=dict)

    @property
    def schema_hash(self) -> str:
        """The SHA-256 of the module's component schemas as canonical JSON (sorted keys, no spaces)."""
        canonical = json.dumps(self.components, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class TypeModel:
    """Every generated module, and which referenced modules come from another package.

    Attributes:
        server_version: the server version the schemas came from.
        document_hashes: each document's SHA-512, by key.
        modules: the modules to write, sorted by path.
        external: modules referenced but not generated (built-in types imported from another package).
        kinds: the generated class of each kind, by ``(apiVersion, kind)``.

    Thread-safety: immutable once built.
    """

    server_version: str
    document_hashes: Mapping[str, str]
    modules: tuple[ModuleDef, ...]
    external: frozenset[ModulePath]
    kinds: Mapping[tuple[str, str], tuple[ModulePath, str]]


def build_model(source: OpenAPISource, *, generate_builtins: bool = True) -> TypeModel:
    """Build the TypedDict definitions of every component of ``source``.

    Args:
        source: the documents.
        generate_builtins: also define the built-in (Go package) types; when false they are referenced from an
            already generated package instead (see :func:`~dynaclient.codegen.render.render_package`).
    """
    builder = _ModelBuilder(source, generate_builtins)
    return builder.build()


class _ModelBuilder:
    """Builds one :class:`TypeModel` (components merged across documents, names reserved first).

    Thread-safety: not thread-safe; used once by one thread.
    """

    def __init__(self, source: OpenAPISource, generate_builtins: bool) -> None:
        self._source = source
        self._generate_builtins = generate_builtins
        self._schemas: dict[str, Any] = {}
        self._kinds: dict[str, set[tuple[str, str, str]]] = {}
        for document in sorted(source.documents, key=lambda d: d.key):
            for name, schema in document.schemas.items():
                self._schemas.setdefault(name, schema)
                for gvk in schema.get("x-kubernetes-group-version-kind") or ():
                    self._kinds.setdefault(name, set()).add((gvk["group"], gvk["version"], gvk["kind"]))
        self._prefixes = custom_resource_prefixes(document.group_version for document in source.documents)
        self._modules: dict[ModulePath, ModuleDef] = {}
        self._names: dict[ModulePath, set[str]] = {}
        self._locations: dict[str, tuple[ModulePath, str]] = {}
        self._external: set[ModulePath] = set()
        self._inlining: set[str] = set()
        self._kind_classes: dict[tuple[str, str], tuple[ModulePath, str]] = {}

    def build(self) -> TypeModel:
        check_fixups(self._schemas)
        classes = sorted(name for name, schema in self._schemas.items() if _is_class(schema))
        for name in classes:
            module, cls = component_location(name, self._prefixes)
            self._locations[name] = (module, cls)
            self._names.setdefault(module, set()).add(cls)
        for name in classes:
            module, cls = self._locations[name]
            if not self._generate_builtins and is_builtin(name):
                self._external.add(module)
                continue
            if len(self._kinds.get(name, ())) == 1:
                gvk = next(iter(self._kinds[name]))
                self._kind_classes[(_kind_field(gvk, "apiVersion"), gvk[2])] = (module, cls)
            definition = self._module(module)
            definition.components[name] = self._schemas[name]
            definition.classes.append(self._class(name, cls, module, self._schemas[name]))
        for definition in self._modules.values():
            definition.classes.sort(key=lambda c: c.name)
        hashes = {document.key: document.hash for document in self._source.documents}
        modules = tuple(self._modules[path] for path in sorted(self._modules))
        kinds = dict(sorted(self._kind_classes.items()))
        return TypeModel(self._source.server_version, hashes, modules, frozenset(self._external), kinds)

    def _module(self, path: ModulePath) -> ModuleDef:
        if path not in self._modules:
            self._modules[path] = ModuleDef(path)
        return self._modules[path]

    def _class(self, source: str, name: str, module: ModulePath, schema: Mapping[str, Any]) -> ClassDef:
        definition = ClassDef(name, str(schema.get("description", "")), source)
        required = set(schema.get("required") or ()) - NOT_REQUIRED.get(source, frozenset())
        nullable = NULLABLE.get(source, frozenset())
        kinds = self._kinds.get(source, set())
        for key in sorted(schema.get("properties", {})):
            prop = schema["properties"][key]
            py_type = self._type(prop, f"{name}{pascal_case(key)}", f"{source}.{key}", module)
            if len(kinds) == 1 and key in ("apiVersion", "kind") and py_type.head == "str":
                py_type = PyType("Literal", values=(_kind_field(next(iter(kinds)), key),))
            if key in nullable:
                py_type = PyType("|", (py_type, PyType("None")))
            definition.fields.append(FieldDef(key, py_type, key in required, _description(prop)))
        return definition

    def _type(self, schema: Mapping[str, Any], name: str, source: str, module: ModulePath) -> PyType:
        """The type of ``schema``; an inline object becomes the class ``name`` in ``module``."""
        py_type = self._plain_type(schema, name, source, module)
        if schema.get("nullable") and py_type != ANY:
            return PyType("|", (py_type, PyType("None")))
        return py_type

    def _plain_type(self, schema: Mapping[str, Any], name: str, source: str, module: ModulePath) -> PyType:  # noqa: C901
        if "$ref" in schema:
            return self._ref_type(schema["$ref"])
        all_of = schema.get("allOf")
        if all_of and len(all_of) == 1 and "properties" not in schema:
            return self._type(all_of[0], name, source, module)
        if schema.get("x-kubernetes-int-or-string"):
            return PyType("|", (PyType("int"), PyType("str")))
        alternatives = schema.get("oneOf") or schema.get("anyOf")
        if alternatives and "type" not in schema and "properties" not in schema:
            members = _unique(self._type(branch, name, source, module) for branch in alternatives)
            return members[0] if len(members) == 1 else PyType("|", tuple(members))
        kind = schema.get("type")
        if "enum" in schema and kind in _SCALARS:
            return PyType("Literal", values=tuple(value for value in schema["enum"] if value is not None))
        if kind in _SCALARS:
            return PyType(_SCALARS[kind])
        if kind == "array":
            return PyType("list", (self._type(schema.get("items", {}), name, source, module),))
        if "properties" in schema:
            return self._inline_class(schema, name, source, module)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict) and additional:
            return PyType("dict", (PyType("str"), self._type(additional, name, source, module)))
        if kind == "object" or additional is not None:
            return PyType("dict", (PyType("str"), ANY))
        return ANY

    def _ref_type(self, ref: str) -> PyType:
        target = ref.removeprefix(_REF_PREFIX).replace("~1", "/").replace("~0", "~")
        if target in _OVERRIDES:
            return PyType(_OVERRIDES[target])
        if target in self._locations:
            module, cls = self._locations[target]
            return PyType("ref", module=module, name=cls)
        schema = self._schemas.get(target)
        if schema is None or target in self._inlining:
            logger.warning("%s is not defined (or refers to itself without properties); typed as Any", target)
            return ANY
        self._inlining.add(target)
        try:
            return self._type(schema, class_name(target.rpartition(".")[2]), target, ())
        finally:
            self._inlining.discard(target)

    def _inline_class(self, schema: Mapping[str, Any], name: str, source: str, module: ModulePath) -> PyType:
        taken = self._names.setdefault(module, set())
        unique = class_name(name)
        suffix = 2
        while unique in taken:
            unique = f"{class_name(name)}{suffix}"
            suffix += 1
        taken.add(unique)
        self._module(module).classes.append(self._class(source, unique, module, schema))
        return PyType("ref", module=module, name=unique)


def _kind_field(gvk: tuple[str, str, str], key: str) -> str:
    group, version, kind = gvk
    if key == "kind":
        return kind
    return f"{group}/{version}" if group else version


def _is_class(schema: Mapping[str, Any]) -> bool:
    return bool(schema.get("properties"))


def _description(schema: Mapping[str, Any]) -> str:
    description = schema.get("description")
    if description is None and len(schema.get("allOf") or ()) == 1:
        description = schema["allOf"][0].get("description")
    return str(description or "")


def _unique(types: Any) -> list[PyType]:
    seen: list[PyType] = []
    for py_type in types:
        members = py_type.args if py_type.head == "|" else (py_type,)
        seen.extend(member for member in members if member not in seen)
    return seen


__all__ = ["ANY", "ClassDef", "FieldDef", "ModuleDef", "PyType", "TypeModel", "build_model"]
