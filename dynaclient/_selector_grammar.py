"""Lex and parse label selector strings, and validate label keys and values, with apimachinery's rules.

The lexer and parser follow apimachinery ``pkg/labels/selector.go`` (``Lexer``, ``Parser``); the checks follow
``pkg/util/validation`` (``IsQualifiedName``, ``IsValidLabelValue``) and ``strconv.ParseInt``. The parser hands each
requirement to a factory, so that :mod:`dynaclient.selectors` owns the requirement type and this module never
imports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Generic, Literal, TypeAlias, TypeVar

from dynaclient.exceptions import SelectorError

RequirementOperator: TypeAlias = Literal["in", "notin", "=", "==", "!=", "exists", "!", "gt", "lt"]
"""The operators of apimachinery ``pkg/selection/operator.go``, as :data:`dynaclient.selectors.LabelOperator`."""

RequirementT = TypeVar("RequirementT")

RequirementFactory: TypeAlias = Callable[[str, RequirementOperator, tuple[str, ...]], RequirementT]
"""Build a requirement from a key, an operator and its values, raising SelectorError when they are invalid."""

_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_INT64 = re.compile(r"[+-]?[0-9]+")
_NAME_RULE = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric"
_WHITESPACE = " \t\r\n"
_SPECIAL = "=!(),><"
_OPERATOR_TOKENS: dict[str, RequirementOperator] = {
    "in": "in",
    "notin": "notin",
    "=": "=",
    "==": "==",
    "!=": "!=",
    ">": "gt",
    "<": "lt",
}


def parse_label_requirements(selector: str, build: RequirementFactory[RequirementT]) -> list[RequirementT]:
    """Parse a label selector string into requirements made by ``build``, in the order written.

    Raises:
        SelectorError: the string does not follow the grammar, or ``build`` refused a requirement; the message
            names the selector.

    >>> parse_label_requirements("a in (x,y), !b", lambda key, operator, values: (key, operator, values))
    [('a', 'in', ('x', 'y')), ('b', '!', ())]
    """
    return _LabelParser(selector, build).parse()


class _LabelParser(Generic[RequirementT]):
    """Recursive-descent parser over the token list of apimachinery's label selector lexer.

    Thread-safety: confined to the calling thread.
    """

    def __init__(self, selector: str, build: RequirementFactory[RequirementT]) -> None:
        self._selector = selector
        self._build_requirement = build
        self._tokens = _lex_label_selector(selector)
        self._position = 0

    def parse(self) -> list[RequirementT]:
        """Parse the whole selector.

        Raises:
            SelectorError: the selector is invalid.
        """
        requirements: list[RequirementT] = []
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

    def _requirement(self) -> RequirementT:
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

    def _build(self, key: str, operator: RequirementOperator, values: tuple[str, ...]) -> RequirementT:
        try:
            return self._build_requirement(key, operator, values)
        except SelectorError as exc:
            raise self._error(str(exc)) from exc

    def _error(self, detail: str) -> SelectorError:
        return SelectorError(f"invalid label selector {self._selector!r}: {detail}")


def _lex_label_selector(selector: str) -> list[tuple[str, str]]:
    """Split a selector into ``(kind, literal)`` tokens; kind is ``ident``, ``end``, a keyword or the symbol.

    >>> _lex_label_selector("a!=b, notin(")
    [('ident', 'a'), ('!=', '!='), ('ident', 'b'), (',', ','), ('notin', 'notin'), ('(', '('), ('end', '')]
    """
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


def check_label_key(key: object) -> None:
    """Raise unless ``key`` is a qualified name (apimachinery ``validation.IsQualifiedName``).

    Raises:
        SelectorError: ``key`` is not a str or not a qualified name; the message says which part is wrong.

    >>> check_label_key("example.com/app")
    >>> check_label_key("Example.com/app")
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.SelectorError: invalid label key 'Example.com/app': prefix part must be a lowercase ...
    """
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


def check_label_value(key: str, value: object) -> None:
    """Raise unless ``value`` is a valid value for label ``key`` (apimachinery ``validation.IsValidLabelValue``).

    A valid value is empty, or at most 63 alphanumeric characters, ``-``, ``_`` or ``.``, starting and ending with
    an alphanumeric.

    Raises:
        SelectorError: ``value`` is not a str or not a valid label value; the message names the key.
    """
    if not isinstance(value, str):
        raise SelectorError(f"invalid label value {value!r} for key {key!r}: must be a str, not {type(value).__name__}")
    if len(value) > 63:
        raise SelectorError(f"invalid label value {value!r} for key {key!r}: must be no more than 63 characters")
    if value and not _NAME.fullmatch(value):
        raise SelectorError(f"invalid label value {value!r} for key {key!r}: {_NAME_RULE} character")


def parse_int64(text: str) -> int | None:
    """Return ``text`` as an int64 like ``strconv.ParseInt(text, 10, 64)``, or ``None`` when it is not one.

    >>> parse_int64("+7"), parse_int64("7.0"), parse_int64(str(2**63))
    (7, None, None)
    """
    if not _INT64.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


__all__ = [
    "RequirementFactory",
    "RequirementOperator",
    "check_label_key",
    "check_label_value",
    "parse_int64",
    "parse_label_requirements",
]
