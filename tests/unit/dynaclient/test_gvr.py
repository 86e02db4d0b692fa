from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynaclient.exceptions import DynaclientError
from dynaclient.gvr import (
    GroupResource,
    GroupVersion,
    GroupVersionError,
    GroupVersionKind,
    GroupVersionResource,
    parse_resource_arg,
)

# Cases from apimachinery pkg/runtime/schema/group_version_test.go and kubectl usage.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v1", GroupVersion("", "v1")),
        ("apps/v1", GroupVersion("apps", "v1")),
        ("rbac.authorization.k8s.io/v1", GroupVersion("rbac.authorization.k8s.io", "v1")),
        ("", GroupVersion("", "")),
        ("/", GroupVersion("", "")),
        ("apps/", GroupVersion("apps", "")),
    ],
    ids=["core", "group", "dotted-group", "empty", "lone-slash", "empty-version"],
)
def test_group_version_parse_reads_group_and_version(text: str, expected: GroupVersion) -> None:
    assert GroupVersion.parse(text) == expected


def test_group_version_parse_rejects_two_slashes_with_a_typed_value_error() -> None:
    with pytest.raises(GroupVersionError, match="'a/b/c'") as info:
        GroupVersion.parse("a/b/c")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, DynaclientError)


@pytest.mark.parametrize(
    ("group_version", "api_version"),
    [(GroupVersion("", "v1"), "v1"), (GroupVersion("apps", "v1"), "apps/v1")],
    ids=["core", "group"],
)
def test_group_version_renders_as_api_version(group_version: GroupVersion, api_version: str) -> None:
    assert group_version.api_version == api_version
    assert str(group_version) == api_version


def test_group_version_builds_resources_and_kinds() -> None:
    apps = GroupVersion("apps", "v1")
    assert apps.with_resource("deployments") == GroupVersionResource("apps", "v1", "deployments")
    assert apps.with_kind("Deployment") == GroupVersionKind("apps", "v1", "Deployment")


@pytest.mark.parametrize(
    ("arg", "expected_gvr", "expected_gr"),
    [
        ("pods", None, GroupResource("", "pods")),
        ("deployments.apps", None, GroupResource("apps", "deployments")),
        (
            "deployments.v1.apps",
            GroupVersionResource("apps", "v1", "deployments"),
            GroupResource("v1.apps", "deployments"),
        ),
        (
            "sawtooths.v1alpha1.sawtooth.hyperledger.org",
            GroupVersionResource("sawtooth.hyperledger.org", "v1alpha1", "sawtooths"),
            GroupResource("v1alpha1.sawtooth.hyperledger.org", "sawtooths"),
        ),
        (
            "widgets.example.com",
            GroupVersionResource("com", "example", "widgets"),
            GroupResource("example.com", "widgets"),
        ),
        ("pods.v1.", GroupVersionResource("", "v1", "pods"), GroupResource("v1.", "pods")),
        ("", None, GroupResource("", "")),
    ],
    ids=["bare", "resource-group", "resource-version-group", "crd", "ambiguous", "core-trailing-dot", "empty"],
)
def test_parse_resource_arg_returns_both_readings_like_apimachinery(
    arg: str, expected_gvr: GroupVersionResource | None, expected_gr: GroupResource
) -> None:
    assert parse_resource_arg(arg) == (expected_gvr, expected_gr)


def test_group_version_resource_parse_accepts_a_fully_qualified_name() -> None:
    gvr = GroupVersionResource.parse("sawtooths.v1alpha1.sawtooth.hyperledger.org")
    assert gvr == GroupVersionResource("sawtooth.hyperledger.org", "v1alpha1", "sawtooths")


@pytest.mark.parametrize("arg", ["deployments.apps", "pods", ""], ids=["resource-group", "bare", "empty"])
def test_group_version_resource_parse_rejects_names_without_a_version(arg: str) -> None:
    with pytest.raises(GroupVersionError, match="parse_resource_arg"):
        GroupVersionResource.parse(arg)


def test_group_version_resource_exposes_its_parts() -> None:
    gvr = GroupVersionResource("apps", "v1", "deployments")
    assert gvr.group_version == GroupVersion("apps", "v1")
    assert gvr.group_resource == GroupResource("apps", "deployments")
    assert gvr.api_version == "apps/v1"
    assert GroupVersionResource("", "v1", "pods").api_version == "v1"


@pytest.mark.parametrize(
    ("gvr", "text"),
    [
        (GroupVersionResource("apps", "v1", "deployments"), "deployments.v1.apps"),
        (GroupVersionResource("", "v1", "pods"), "pods.v1"),
    ],
    ids=["group", "core"],
)
def test_group_version_resource_renders_as_resource_version_group(gvr: GroupVersionResource, text: str) -> None:
    assert str(gvr) == text


@given(
    group=st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){0,3}", fullmatch=True),
    version=st.from_regex(r"v[0-9]{1,2}(alpha|beta)?[0-9]?", fullmatch=True),
    resource=st.from_regex(r"[a-z]{1,12}", fullmatch=True),
)
def test_group_version_resource_str_parses_back_for_named_groups(group: str, version: str, resource: str) -> None:
    gvr = GroupVersionResource(group, version, resource)
    assert GroupVersionResource.parse(str(gvr)) == gvr


@pytest.mark.parametrize(
    ("group_resource", "text"),
    [(GroupResource("apps", "deployments"), "deployments.apps"), (GroupResource("", "pods"), "pods")],
    ids=["group", "core"],
)
def test_group_resource_renders_and_parses_back(group_resource: GroupResource, text: str) -> None:
    assert str(group_resource) == text
    assert GroupResource.parse(text) == group_resource


def test_group_resource_with_version_builds_a_group_version_resource() -> None:
    assert GroupResource("apps", "deployments").with_version("v1") == GroupVersionResource("apps", "v1", "deployments")


@pytest.mark.parametrize(
    ("api_version", "kind", "expected"),
    [
        ("apps/v1", "Deployment", GroupVersionKind("apps", "v1", "Deployment")),
        ("v1", "Pod", GroupVersionKind("", "v1", "Pod")),
        ("", "Pod", GroupVersionKind("", "", "Pod")),
        ("a/b/c", "Pod", GroupVersionKind("", "", "Pod")),
    ],
    ids=["group", "core", "no-api-version", "unparsable-api-version-keeps-kind"],
)
def test_group_version_kind_from_api_version_kind(api_version: str, kind: str, expected: GroupVersionKind) -> None:
    assert GroupVersionKind.from_api_version_kind(api_version, kind) == expected


def test_group_version_kind_renders_api_version_and_name() -> None:
    gvk = GroupVersionKind("apps", "v1", "Deployment")
    assert gvk.api_version == "apps/v1"
    assert gvk.group_version == GroupVersion("apps", "v1")
    assert str(gvk) == "Deployment.v1.apps"
    assert str(GroupVersionKind("", "v1", "Pod")) == "Pod.v1"


def test_identifiers_are_immutable_hashable_values() -> None:
    gvr = GroupVersionResource("apps", "v1", "deployments")
    with pytest.raises(dataclasses.FrozenInstanceError):
        gvr.version = "v2"  # type: ignore[misc]
    assert {gvr, GroupVersionResource("apps", "v1", "deployments")} == {gvr}
    assert len({GroupVersion("", "v1"), GroupVersion("", "v1"), GroupVersion("apps", "v1")}) == 2
