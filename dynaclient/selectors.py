"""Build, validate, parse and evaluate label and field selectors, with apimachinery's grammar and rules.

Label selectors follow apimachinery ``pkg/labels/selector.go`` (lexer, parser, ``Requirement.Matches``,
``Requirement.String``) and ``pkg/util/validation`` (``IsQualifiedName``, ``IsValidLabelValue``); field selectors
follow ``pkg/fields/selector.go`` (terms split on unescaped commas, operators ``!=``, ``==``, ``=``, values escaped
with backslashes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from dynaclient.exceptions import SelectorError

LabelOperator: TypeAlias = Literal["in", "notin", "=", "==", "!=", "exists", "!", "gt", "lt"]
"""A label requirement operator, spelled as apimachinery ``pkg/selection/operator.go`` spells it."""

FieldOperator: TypeAlias = Literal["=", "!="]
"""A field requirement operator; ``==`` is read as ``=``."""

_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_INT64 = re.compile(r"[+-]?[0-9]+")
_NAME_RULE = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric"
_WHITESPACE = " \t\r\n"
_SPECIAL = "=!(),><"
_OPERATOR_TOKENS: dict[str, LabelOperator] = {
    "in": "in",
    "notin": "notin",
    "=": "=",
    "==": "==",
    "!=": "!=",
    ">": "gt",
    "<": "lt",
}
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
        _check_label_key(self.key)
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
            _check_label_value(self.key, value)
            if self.operator in ("gt", "lt") and _parse_int64(value) is None:
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
        number = _parse_int64(labels[self.key]) if present else None
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
    requirements = _LabelParser(selector).parse()
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


class _LabelParser:
    """Recursive-descent parser over the token list of apimachinery's label selector lexer.

    Thread-safety: confined to the calling thread.
    """

    def __init__(self, selector: str) -> None:
        self._selector = selector
        self._tokens = _lex_label_selector(selector)
        self._position = 0

    def parse(self) -> list[LabelRequirement]:
        requirements: list[LabelRequirement] = []
        while True:
            kind, literal = self._peek()
            if kind == "end":
                return requirements
            if kind not in ("ident", "!"):
                raise self._error(f"found '{literal}', expected: !, identifier, or 'end of string'")
            requirements.append(self._requirement())
            kind, literal = self._take()
            if kind == "end":
                return requirements
            if kind != ",":
                raise self._error(f"found '{literal}', expected: ',' or 'end of string'")
            kind, literal = self._peek()
            if kind not in ("ident", "!"):
                raise self._error(f"found '{literal}', expected: identifier after ','")

    def _requirement(self) -> LabelRequirement:
        kind, key = self._take()
        negated = kind == "!"
        if negated:
            kind, key = self._take()
        if kind != "ident":
            raise self._error(f"found '{key}', expected: identifier")
        if negated or self._peek()[0] in ("end", ","):
            return self._build(key, "!" if negated else "exists", ())
        kind, literal = self._take(operator=True)
        if kind not in _OPERATOR_TOKENS:
            raise self._error(f"found '{literal}', expected: in, notin, =, ==, !=, >, <")
        operator = _OPERATOR_TOKENS[kind]
        values = self._value_set() if operator in ("in", "notin") else self._exact_value()
        return self._build(key, operator, values)

    def _value_set(self) -> tuple[str, ...]:
        kind, literal = self._take()
        if kind != "(":
            raise self._error(f"found '{literal}' expected: '('")
        kind, literal = self._peek()
        if kind == ")":
            self._take()
            return ("",)
        if kind not in ("ident", ","):
            raise self._error(f"found '{literal}', expected: ',', ')' or identifier")
        values = self._identifier_list()
        self._take()  # the ")" that _identifier_list stopped at
        return values

    def _identifier_list(self) -> tuple[str, ...]:
        # Empty entries ("(,a)", "(a,,b)", "(a,)") stand for the value "" (apimachinery parseIdentifiersList).
        values: list[str] = []
        while True:
            kind, literal = self._take()
            if kind == "ident":
                values.append(literal)
                following, following_literal = self._peek()
                if following == ")":
                    return tuple(values)
                if following != ",":
                    raise self._error(f"found '{following_literal}', expected: ',' or ')'")
            elif kind == ",":
                following = self._peek()[0]
                if not values or following in (")", ","):
                    values.append("")
                if following == ")":
                    return tuple(values)
                if following == ",":
                    self._take()
            else:
                raise self._error(f"found '{literal}', expected: ',', or identifier")

    def _exact_value(self) -> tuple[str, ...]:
        if self._peek()[0] in ("end", ","):
            return ("",)
        kind, literal = self._take()
        if kind != "ident":
            raise self._error(f"found '{literal}', expected: identifier")
        return (literal,)

    def _peek(self) -> tuple[str, str]:
        kind, literal = self._tokens[self._position]
        # Outside the operator position, "in" and "notin" are ordinary identifiers ("in in (in)").
        return ("ident" if kind in ("in", "notin") else kind), literal

    def _take(self, *, operator: bool = False) -> tuple[str, str]:
        token = self._tokens[self._position] if operator else self._peek()
        self._position += 1
        return token

    def _build(self, key: str, operator: LabelOperator, values: tuple[str, ...]) -> LabelRequirement:
        try:
            return LabelRequirement(key, operator, values)
        except SelectorError as exc:
            raise self._error(str(exc)) from exc

    def _error(self, detail: str) -> SelectorError:
        return SelectorError(f"invalid label selector {self._selector!r}: {detail}")


def _lex_label_selector(selector: str) -> list[tuple[str, str]]:
    """Split a selector into ``(kind, literal)`` tokens; kind is ``ident``, ``end``, a keyword or the symbol."""
    tokens: list[tuple[str, str]] = []
    position, size = 0, len(selector)
    while True:
        while position < size and selector[position] in _WHITESPACE:
            position += 1
        if position == size:
            tokens.append(("end", ""))
            return tokens
        if selector[position] in _SPECIAL:
            pair = selector[position : position + 2]
            literal = pair if pair in ("!=", "==") else selector[position]
            tokens.append((literal, literal))
        else:
            end = position
            while end < size and selector[end] not in _SPECIAL and selector[end] not in _WHITESPACE:
                end += 1
            literal = selector[position:end]
            tokens.append((literal if literal in ("in", "notin") else "ident", literal))
        position += len(literal)


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


def _check_label_key(key: object) -> None:
    problem = _label_key_problem(key) if isinstance(key, str) else f"must be a str, not {type(key).__name__}"
    if problem:
        raise SelectorError(f"invalid label key {key!r}: {problem}")


def _label_key_problem(key: str) -> str | None:
    # validation.IsQualifiedName: an optional DNS-1123 subdomain prefix and "/", then a name of at most 63 characters.
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return "prefix part must be non-empty"
    if "/" in prefix:
        return "must be a name with an optional DNS subdomain prefix and '/', for example 'example.com/MyName'"
    if slash and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(prefix)):
        return "prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _NAME.fullmatch(name):
        return f"name part {_NAME_RULE} character"
    return None


def _check_label_value(key: str, value: object) -> None:
    # validation.IsValidLabelValue: empty, or at most 63 characters of the name pattern.
    if not isinstance(value, str):
        raise SelectorError(f"invalid label value {value!r} for key {key!r}: must be a str, not {type(value).__name__}")
    if len(value) > 63:
        raise SelectorError(f"invalid label value {value!r} for key {key!r}: must be no more than 63 characters")
    if value and not _NAME.fullmatch(value):
        raise SelectorError(f"invalid label value {value!r} for key {key!r}: {_NAME_RULE} character")


def _parse_int64(text: str) -> int | None:
    # strconv.ParseInt(text, 10, 64): optional sign, ASCII digits, int64 range.
    if not _INT64.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


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
