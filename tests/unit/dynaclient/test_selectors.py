from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynaclient.exceptions import DynaclientError
from dynaclient.selectors import (
    DoesNotExist,
    Exists,
    FieldRequirement,
    LabelRequirement,
    LabelSpec,
    NotEqual,
    NotIn,
    SelectorError,
    field_selector,
    label_selector,
    matches_fields,
    matches_labels,
    parse_field_selector,
    parse_label_selector,
)

# Label cases from apimachinery pkg/labels/selector_test.go (TestSelectorParse, TestSelectorMatches,
# TestSetSelectorParser, TestRequirementConstructor); field cases from pkg/fields/selector_test.go.


@pytest.mark.parametrize(
    ("selector", "canonical"),
    [
        ("", ""),
        ("x=a,y=b,z=c", "x=a,y=b,z=c"),
        ("z=c,x=a", "x=a,z=c"),
        ("x!=a,y=b", "x!=a,y=b"),
        ("x=", "x="),
        ("x= ", "x="),
        ("x=,z= ", "x=,z="),
        ("x==a", "x==a"),
        ("!x", "!x"),
        ("x>1", "x>1"),
        ("x>1,z<5", "x>1,z<5"),
        ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
        ("  x in (   foo,,baz),  y,z notin ()  ", "x in (,baz,foo),y,z notin ()"),
        ("x in (foo,)", "x in (,foo)"),
        ("x in (,foo)", "x in (,foo)"),
        ("x in (b,a,b)", "x in (a,b)"),
        ("notin=in", "notin=in"),
        ("in in (in,notin)", "in in (in,notin)"),
        ("example.com/app-name=my_app.v1", "example.com/app-name=my_app.v1"),
        ("x\t=\ta", "x=a"),
    ],
    ids=lambda value: repr(value),
)
def test_good_label_selectors_parse_to_sorted_canonical_requirements(selector: str, canonical: str) -> None:
    requirements = parse_label_selector(selector)
    assert ",".join(str(r) for r in requirements) == canonical
    assert label_selector(selector) == selector


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("x=a||y=b", "invalid label value 'a||y'"),
        ("x==a==b", "expected: ',' or 'end of string'"),
        ("!x=a", "expected: ',' or 'end of string'"),
        ("x<a", "'a' is not an integer"),
        ("x>1.5", "'1.5' is not an integer"),
        ("x=a,", "expected: identifier after ','"),
        (",x", "expected: !, identifier, or 'end of string'"),
        ("x in a", "expected: '('"),
        ("x in (a", "expected: ',' or ')'"),
        ("x in (a b)", "expected: ',' or ')'"),
        ("x in (,,)", "expected: ',', or identifier"),
        ("x=(a)", "expected: identifier"),
        ("x y", "expected: in, notin"),
        ("-x=a", "invalid label key '-x'"),
        ("a/b/c=d", "invalid label key 'a/b/c'"),
        ("/x", "prefix part must be non-empty"),
        ("Example.com/x", "prefix part must be a lowercase RFC 1123 subdomain"),
        ("example.com/", "name part must be non-empty"),
        ("x=" + "a" * 64, "must be no more than 63 characters"),
        ("a" * 64, "name part must be no more than 63 characters"),
    ],
    ids=lambda value: value if len(value) < 30 else value[:27] + "...",
)
def test_bad_label_selectors_raise_a_selector_error_naming_the_problem(selector: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse_label_selector(selector)
    assert message in str(info.value)
    assert repr(selector) in str(info.value)
    with pytest.raises(SelectorError):
        label_selector(selector)


def test_selector_error_is_a_value_error_in_the_dynaclient_tree() -> None:
    assert issubclass(SelectorError, ValueError)
    assert issubclass(SelectorError, DynaclientError)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("", {"x": "y"}, True),
        ("x=y", {"x": "y"}, True),
        ("x=y,z=w", {"x": "y", "z": "w"}, True),
        ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
        ("notin=in", {"notin": "in"}, True),
        ("x", {"x": "z"}, True),
        ("!x", {"y": "z"}, True),
        ("x>1", {"x": "2"}, True),
        ("x<1", {"x": "0"}, True),
        ("x<1", {"x": "-5"}, True),
        ("x notin (a)", {}, True),
        ("x!=a", {}, True),
        ("x in (a,b)", {"x": "b"}, True),
        ("x=", {"x": ""}, True),
        ("x=z", {}, False),
        ("x=y", {"x": "z"}, False),
        ("x=y,z=w", {"x": "w", "z": "w"}, False),
        ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
        ("x", {"y": "z"}, False),
        ("!x", {"x": "z"}, False),
        ("x>1", {"x": "0"}, False),
        ("x<1", {"x": "2"}, False),
        ("x>1", {}, False),
        ("x>1", {"x": "two"}, False),
        ("x in (a,b)", {}, False),
        ("x notin (a)", {"x": "a"}, False),
    ],
)
def test_label_selectors_match_like_requirement_matches(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert matches_labels(selector, labels) is expected
    assert matches_labels(parse_label_selector(selector), labels) is expected


@pytest.mark.parametrize(
    ("key", "operator", "values", "valid"),
    [
        ("x1", "in", (), False),
        ("x2", "notin", (), False),
        ("x3", "in", ("foo",), True),
        ("x4", "notin", ("foo",), True),
        ("x5", "=", ("foo", "bar"), False),
        ("x6", "exists", (), True),
        ("x7", "!", (), True),
        ("x8", "exists", ("foo",), False),
        ("x11", "gt", ("1",), True),
        ("x12", "lt", ("6",), True),
        ("x13", "gt", (), False),
        ("x14", "gt", ("a",), False),
        ("x15", "lt", ("-1",), False),
        ("a" * 254, "=", ("a",), False),
        ("x16", "=", ("a" * 254,), False),
        ("x17", "=", ("a b",), False),
        ("x18", "unsupportedOp", ("a",), False),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 20 else None,
)
def test_label_requirements_validate_like_new_requirement(
    key: str, operator: Any, values: tuple[str, ...], valid: bool
) -> None:
    if valid:
        assert LabelRequirement(key, operator, values).key == key
    else:
        with pytest.raises(SelectorError):
            LabelRequirement(key, operator, values)


def test_label_selector_renders_a_mapping_in_sorted_key_order() -> None:
    spec: dict[str, LabelSpec] = {
        "tier": {"db", "cache"},
        "app": "web",
        "env": NotIn(["prod", "dev"]),
        "track": NotEqual("canary"),
        "example.com/owned": Exists(),
        "legacy": DoesNotExist(),
        "zone": ("b", "a"),
        "shard": frozenset({"1"}),
        "region": ["eu"],
    }
    assert label_selector(spec) == (
        "app=web,env notin (dev,prod),example.com/owned,!legacy,region in (eu),shard in (1),"
        "tier in (cache,db),track!=canary,zone in (a,b)"
    )


@pytest.mark.parametrize("spec", [None, {}], ids=["none", "empty-mapping"])
def test_label_selector_of_nothing_selects_everything(spec: dict[str, LabelSpec] | None) -> None:
    assert label_selector(spec) == ""
    assert matches_labels(spec, {"any": "thing"})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"app": 1}, "label selector entry 'app': expected a str"),
        ({"app": None}, "got NoneType"),
        ({"app": ["web", 2]}, "got list"),
        ({"app": []}, "operator 'in' needs at least 1 value(s), got 0"),
        ({"app": NotIn([])}, "operator 'notin' needs at least 1 value(s), got 0"),
        ({"app": "has space"}, "invalid label value 'has space' for key 'app'"),
        ({"bad key": "x"}, "invalid label key 'bad key'"),
        ({1: "x"}, "selector keys must be str"),
    ],
    ids=["int", "none", "mixed-list", "empty-in", "empty-notin", "bad-value", "bad-key", "non-str-key"],
)
def test_label_selector_rejects_invalid_mappings(spec: Any, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        label_selector(spec)
    assert message in str(info.value)


def test_not_in_keeps_a_single_string_whole() -> None:
    assert NotIn("prod").values == ("prod",)
    assert NotIn(iter(["a", "b"])).values == ("a", "b")


_KEYS = st.from_regex(r"([a-z0-9]{1,5}\.){0,2}[a-z]{1,5}/[A-Za-z0-9]([-A-Za-z0-9_.]{0,6}[A-Za-z0-9])?", fullmatch=True)
_VALUES = st.from_regex(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,6}[A-Za-z0-9])?)?", fullmatch=True)
_SPECS = st.one_of(
    _VALUES,
    st.lists(_VALUES, min_size=1, max_size=3),
    st.builds(NotIn, st.lists(_VALUES, min_size=1, max_size=3)),
    st.builds(NotEqual, _VALUES),
    st.just(Exists()),
    st.just(DoesNotExist()),
)


@given(
    spec=st.dictionaries(_KEYS, _SPECS, max_size=4),
    labels=st.dictionaries(st.one_of(_KEYS, st.sampled_from(["a/b", "x.y/z"])), _VALUES, max_size=4),
)
def test_a_rendered_mapping_parses_back_and_matches_the_same_labels(
    spec: dict[str, LabelSpec], labels: dict[str, str]
) -> None:
    rendered = label_selector(spec)
    assert label_selector(",".join(str(r) for r in parse_label_selector(rendered))) == rendered
    assert matches_labels(rendered, labels) == matches_labels(spec, labels)
    sample = {key: labels.get(key, "") for key in spec}
    assert matches_labels(rendered, sample) == matches_labels(spec, sample)


@pytest.mark.parametrize(
    ("selector", "terms"),
    [
        ("", ()),
        ("a=b", (FieldRequirement("a", "=", "b"),)),
        ("a==b", (FieldRequirement("a", "=", "b"),)),
        ("a!=b", (FieldRequirement("a", "!=", "b"),)),
        ("a=", (FieldRequirement("a", "=", ""),)),
        ("c=d,a=b", (FieldRequirement("a", "=", "b"), FieldRequirement("c", "=", "d"))),
        ("a=b\\,c", (FieldRequirement("a", "=", "b,c"),)),
        ("a=b\\=c\\\\", (FieldRequirement("a", "=", "b=c\\"),)),
        ("a=b,", (FieldRequirement("a", "=", "b"),)),
        ("metadata.name!=x", (FieldRequirement("metadata.name", "!=", "x"),)),
    ],
    ids=lambda value: repr(value) if isinstance(value, str) else None,
)
def test_good_field_selectors_parse_like_fields_parse_selector(
    selector: str, terms: tuple[FieldRequirement, ...]
) -> None:
    assert parse_field_selector(selector) == terms
    assert field_selector(selector) == selector


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("x", "can't understand 'x'"),
        ("x=a==b", "unescaped '='"),
        ("x=a||y=b", "unescaped '='"),
        ("x=a,b", "can't understand 'b'"),
        ("x in (a)", "can't understand"),
        ("=a", "can't understand '=a'"),
        ("a=\\x", "invalid escape sequence '\\x'"),
        ("a=b\\", "ends with a lone backslash"),
    ],
)
def test_bad_field_selectors_raise_a_selector_error(selector: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        field_selector(selector)
    assert message in str(info.value)


def test_field_selector_renders_a_mapping_sorted_and_escaped() -> None:
    spec: dict[str, str | NotEqual] = {"status.phase": NotEqual("Running"), "metadata.name": "a,b=c\\d"}
    rendered = field_selector(spec)
    assert rendered == "metadata.name=a\\,b\\=c\\\\d,status.phase!=Running"
    assert parse_field_selector(rendered) == (
        FieldRequirement("metadata.name", "=", "a,b=c\\d"),
        FieldRequirement("status.phase", "!=", "Running"),
    )
    assert field_selector(None) == ""
    assert field_selector({}) == ""


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"status.phase": ["Running"]}, "support only a str (=) or NotEqual (!=)"),
        ({"status.phase": NotIn(["Running"])}, "got NotIn"),
        ({"": "x"}, "invalid field selector key ''"),
        ({"a=b": "x"}, "invalid field selector key 'a=b'"),
        ({"a!": "x"}, "invalid field selector key 'a!'"),
    ],
    ids=["list", "not-in", "empty-key", "key-with-equals", "key-with-bang"],
)
def test_field_selector_rejects_unsupported_mappings(spec: Any, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        field_selector(spec)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("selector", "fields", "expected"),
    [
        ("metadata.name=a", {"metadata.name": "a"}, True),
        ("metadata.name=a", {"metadata.name": "b"}, False),
        ("metadata.name!=a", {"metadata.name": "b"}, True),
        ("spec.nodeName=", {}, True),
        ("spec.nodeName!=", {}, False),
        ("a=1,b!=2", {"a": "1", "b": "3"}, True),
    ],
)
def test_field_selectors_match_with_missing_fields_reading_as_empty(
    selector: str, fields: dict[str, str], expected: bool
) -> None:
    assert matches_fields(selector, fields) is expected
