"""Build, validate, parse and evaluate label and field selectors, with apimachinery's grammar and rules.

Label selectors follow apimachinery ``pkg/labels/selector.go`` (``Requirement.Matches``, ``Requirement.String``;
the lexer, parser and key and value checks are in :mod:`dynaclient._selector_grammar`); field selectors follow
``pkg/fields/selector.go`` (terms split on unescaped commas, operators ``!=``, ``==``, ``=``, values escaped with
backslashes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from dynaclient._selector_grammar import check_label_key, check_label_value, parse_int64, parse_label_requirements
from dynaclient.exceptions import SelectorError

LabelOperator: TypeAlias = Literal["in", "notin", "=", "==", "!=", "exists", "!", "gt", "lt"]
"""A label requirement operator, spelled as apimachinery ``pkg/selection/operator.go`` spells it."""

FieldOperator: TypeAlias = Literal["=", "!="]
"""A field requirement operator; ``==`` is read as ``=``."""

_VALUE_COUNTS: dict[str, tuple[int, int]] = {"in": (1, 2**31), "notin": (1, 2**31), "exists": (0, 0), "!": (0, 0)}
_RENDERED_OPERATORS = {"=": "=", "==": "==", "!=": "!=", "in": " in ", "notin": " notin ", "gt": ">", "lt": "<"}
_FIELD_KEY_FORBIDDEN = frozenset("=!,\\")


@dataclass(frozen=True, slots=True)
class NotIn:
    """Marker for a ``key notin (a,b)`` label requirement in a selector mapping.

    Thread-safety: immutable.
    """

    values: tuple[str, ...]

    def __init__(self, values: Iterable[str]) -> None:
        object.__setattr__(self, "values", (values,) if isinstance(values, str) else tuple(values))


@dataclass(frozen=True, slots=True)
class NotEqual:
    """Marker for a ``key!=value`` requirement in a label or field selector mapping.

    Thread-safety: immutable.
    """

    value: str


@dataclass(frozen=True, slots=True)
class Exists:
    """Marker for a ``key`` (label present, any value) requirement in a selector mapping.

    Thread-safety: immutable.
    """


@dataclass(frozen=True, slots=True)
class DoesNotExist:
    """Marker for a ``!key`` (label absent) requirement in a selector mapping.

    Thread-safety: immutable.
    """


LabelSpec: TypeAlias = (
    str | list[str] | tuple[str, ...] | set[str] | frozenset[str] | NotIn | NotEqual | Exists | DoesNotExist
)
"""What a label selector mapping holds for a key: a value (``=``), a collection (``in``) or a marker."""


@dataclass(frozen=True, slots=True)
class LabelRequirement:
    """One requirement of a label selector, validated like apimachinery ``labels.NewRequirement``.

    Attributes:
        key: the label key (a qualified name).
        operator: the operator.
        values: the values, sorted and without duplicates.

    Thread-safety: immutable.

    Example:
        >>> r = LabelRequirement("tier", "notin", ("web", "cache"))
        >>> str(r), r.matches({"tier": "db"}), r.matches({})
        ('tier notin (cache,web)', True, True)
    """

    key: str
    operator: LabelOperator
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_label_key(self.key)
        if self.operator not in _RENDERED_OPERATORS and self.operator not in _VALUE_COUNTS:
            raise SelectorError(f"label requirement on {self.key!r}: unknown operator {self.operator!r}")
        low, high = _VALUE_COUNTS.get(self.operator, (1, 1))
        if not low <= len(self.values) <= high:
            wanted = f"exactly {low}" if low == high else f"at least {low}"
            raise SelectorError(
                f"label requirement on {self.key!r}: operator {self.operator!r} needs {wanted} value(s), "
                f"got {len(self.values)}"
            )
        for value in self.values:
            check_label_value(self.key, value)
            if self.operator in ("gt", "lt") and parse_int64(value) is None:
                raise SelectorError(f"label requirement on {self.key!r}: {value!r} is not an integer")
        object.__setattr__(self, "values", tuple(sorted(set(self.values))))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Return whether ``labels`` satisfy this requirement (apimachinery ``Requirement.Matches``).

        ``!=`` and ``notin`` match when the key is absent; ``gt``/``lt`` fail when the value is not an integer.
        """
        present = self.key in labels
        if self.operator in ("in", "=", "=="):
            return present and labels[self.key] in self.values
        if self.operator in ("notin", "!="):
            return not present or labels[self.key] not in self.values
        if self.operator in ("exists", "!"):
            return present == (self.operator == "exists")
        number = parse_int64(labels[self.key]) if present else None
        if number is None:
            return False
        bound = int(self.values[0])
        return number > bound if self.operator == "gt" else number < bound

    def __str__(self) -> str:
        if self.operator in ("exists", "!"):
            return ("!" if self.operator == "!" else "") + self.key
        joined = ",".join(self.values)
        if self.operator in ("in", "notin"):
            joined = f"({joined})"
        return f"{self.key}{_RENDERED_OPERATORS[self.operator]}{joined}"


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    """One ``field=value`` or ``field!=value`` term of a field selector.

    Attributes:
        field: the field label, for example ``metadata.name``.
        operator: ``=`` or ``!=``.
        value: the unescaped value.

    Thread-safety: immutable.
    """

    field: str
    operator: FieldOperator
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Return whether ``fields`` satisfy this term; a missing field reads as ``""`` (``fields.Set.Get``)."""
        return (fields.get(self.field, "") == self.value) == (self.operator == "=")

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{_escape_field_value(self.value)}"


def label_selector(spec: str | Mapping[str, LabelSpec] | None) -> str:
    """Render a label selector from a mapping, or validate a selector string and return it unchanged.

    Keys are rendered in sorted order, each with one requirement: a ``str`` means ``=``, a list, tuple or set
    means ``in``, and :class:`NotIn`, :class:`NotEqual`, :class:`Exists` and :class:`DoesNotExist` the others.

    Args:
        spec: a selector string, a mapping, or ``None`` (everything).

    Returns:
        The selector string for the ``labelSelector`` query parameter; ``""`` selects everything.

    Raises:
        SelectorError: the string does not parse, or a key, value or spec is invalid.

    >>> label_selector({"app": "web", "tier": ["cache", "db"], "env": NotIn(["dev"]), "canary": DoesNotExist()})
    'app=web,!canary,env notin (dev),tier in (cache,db)'
    >>> label_selector("app = web, !canary")
    'app = web, !canary'
    >>> label_selector({"app": "not valid"})
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.SelectorError: invalid label value 'not valid' for key 'app': must consist of ...
    """
    if spec is None:
        return ""
    if isinstance(spec, str):
        parse_label_selector(spec)
        return spec
    return ",".join(str(requirement) for requirement in _requirements_from_mapping(spec))


def parse_label_selector(selector: str) -> tuple[LabelRequirement, ...]:
    """Parse a label selector string into requirements sorted by key (apimachinery ``labels.Parse``).

    Raises:
        SelectorError: the string does not follow the grammar, or a key or value is invalid.

    >>> [str(r) for r in parse_label_selector("x in (foo,,baz),y,z notin ()")]
    ['x in (,baz,foo)', 'y', 'z notin ()']
    """
    requirements = parse_label_requirements(selector, LabelRequirement)
    return tuple(sorted(requirements, key=lambda requirement: requirement.key))


def matches_labels(
    selector: str | Mapping[str, LabelSpec] | Iterable[LabelRequirement] | None, labels: Mapping[str, str]
) -> bool:
    """Return whether ``labels`` satisfy every requirement of ``selector``; an empty selector matches everything.

    Parse a string once with :func:`parse_label_selector` when matching many objects.

    Raises:
        SelectorError: ``selector`` is invalid.

    >>> matches_labels("app=web,tier notin (db)", {"app": "web"}), matches_labels({"app": ["api"]}, {"app": "web"})
    (True, False)
    """
    if selector is None:
        requirements: Iterable[LabelRequirement] = ()
    elif isinstance(selector, str):
        requirements = parse_label_selector(selector)
    elif isinstance(selector, Mapping):
        requirements = _requirements_from_mapping(selector)
    else:
        requirements = selector
    return all(requirement.matches(labels) for requirement in requirements)


def field_selector(spec: str | Mapping[str, str | NotEqual] | None) -> str:
    r"""Render a field selector from a mapping, or validate a selector string and return it unchanged.

    Field selectors support only ``=`` (a ``str`` value) and ``!=`` (:class:`NotEqual`); values are escaped.

    Raises:
        SelectorError: the string does not parse, or a key or value is invalid.

    >>> field_selector({"status.phase": NotEqual("Running"), "metadata.name": "a,b"})
    'metadata.name=a\\,b,status.phase!=Running'
    """
    if spec is None:
        return ""
    if isinstance(spec, str):
        parse_field_selector(spec)
        return spec
    return ",".join(str(_field_requirement(key, spec[key])) for key in _sorted_keys(spec))


def parse_field_selector(selector: str) -> tuple[FieldRequirement, ...]:
    """Parse a field selector string into terms sorted as apimachinery ``fields.ParseSelector`` sorts them.

    Raises:
        SelectorError: a term has no operator or an empty field, or a value has a bad escape.

    >>> [str(term) for term in parse_field_selector("spec.nodeName==n1,metadata.namespace!=kube-system")]
    ['metadata.namespace!=kube-system', 'spec.nodeName=n1']
    """
    terms = []
    for term in sorted(_split_field_terms(selector)):
        if term:
            terms.append(_parse_field_term(selector, term))
    return tuple(terms)


def matches_fields(selector: str | Iterable[FieldRequirement], fields: Mapping[str, str]) -> bool:
    """Return whether ``fields`` (field label to value) satisfy every term of ``selector``.

    Raises:
        SelectorError: ``selector`` is an invalid string.
    """
    terms = parse_field_selector(selector) if isinstance(selector, str) else selector
    return all(term.matches(fields) for term in terms)


def _requirements_from_mapping(spec: Mapping[str, LabelSpec]) -> list[LabelRequirement]:
    return [_label_requirement(key, spec[key]) for key in _sorted_keys(spec)]


def _label_requirement(key: str, spec: object) -> LabelRequirement:
    if isinstance(spec, str):
        return LabelRequirement(key, "=", (spec,))
    if isinstance(spec, NotEqual):
        return LabelRequirement(key, "!=", (spec.value,))
    if isinstance(spec, NotIn):
        return LabelRequirement(key, "notin", spec.values)
    if isinstance(spec, Exists | DoesNotExist):
        return LabelRequirement(key, "exists" if isinstance(spec, Exists) else "!")
    if isinstance(spec, list | tuple | set | frozenset) and all(isinstance(value, str) for value in spec):
        return LabelRequirement(key, "in", tuple(spec))
    raise SelectorError(
        f"label selector entry {key!r}: expected a str, a list/tuple/set of str, NotIn, NotEqual, Exists or "
        f"DoesNotExist, got {type(spec).__name__}"
    )


def _field_requirement(key: str, spec: object) -> FieldRequirement:
    if not key or _FIELD_KEY_FORBIDDEN.intersection(key):
        raise SelectorError(f"invalid field selector key {key!r}: must be non-empty, without '=', '!', ',' or '\\'")
    if isinstance(spec, str):
        return FieldRequirement(key, "=", spec)
    if isinstance(spec, NotEqual):
        return FieldRequirement(key, "!=", spec.value)
    raise SelectorError(
        f"field selector entry {key!r}: field selectors support only a str (=) or NotEqual (!=), "
        f"got {type(spec).__name__}"
    )


def _sorted_keys(spec: Mapping[str, object]) -> list[str]:
    for key in spec:
        if not isinstance(key, str):
            raise SelectorError(f"selector keys must be str, got {type(key).__name__} {key!r}")
    return sorted(spec)


def _split_field_terms(selector: str) -> list[str]:
    # fields.splitTerms: split on commas not escaped by a backslash; backslashes stay in the terms.
    terms, start, escaped = [], 0, False
    for index, char in enumerate(selector):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(selector[start:index])
            start = index + 1
    terms.append(selector[start:])
    return terms


def _parse_field_term(selector: str, term: str) -> FieldRequirement:
    # fields.splitTerm: the first position where "!=", "==" or "=" starts splits the term; the left side is literal.
    match = re.search("!=|==|=", term)
    if match is None or match.start() == 0:
        raise SelectorError(f"invalid field selector {selector!r}: can't understand {term!r}")
    operator: FieldOperator = "!=" if match.group() == "!=" else "="
    return FieldRequirement(term[: match.start()], operator, _unescape_field_value(selector, term[match.end() :]))


def _unescape_field_value(selector: str, value: str) -> str:
    # fields.UnescapeValue: only \\, \, and \= are escapes; a bare "," or "=" is an error.
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector {selector!r}: invalid escape sequence '\\{char}'")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise SelectorError(f"invalid field selector {selector!r}: unescaped {char!r} in value {value!r}")
        else:
            out.append(char)
    if escaped:
        raise SelectorError(f"invalid field selector {selector!r}: value {value!r} ends with a lone backslash")
    return "".join(out)


def _escape_field_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


__all__ = [
    "DoesNotExist",
    "Exists",
    "FieldOperator",
    "FieldRequirement",
    "LabelOperator",
    "LabelRequirement",
    "LabelSpec",
    "NotEqual",
    "NotIn",
    "SelectorError",
    "field_selector",
    "label_selector",
    "matches_fields",
    "matches_labels",
    "parse_field_selector",
    "parse_label_selector",
]
