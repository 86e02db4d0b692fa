"""Planning: resolution through a mapper, install order, CRDs in the same set, and errors before any write."""

from __future__ import annotations

from typing import Any

import pytest

from dynaclient.discovery.discovery import APIResource
from dynaclient.exceptions import ManifestError, ResourceNotFoundError
from dynaclient.gvr import GroupVersionKind, GroupVersionResource
from dynaclient.manifests import load_manifests, plan

SERVED = [
    APIResource("", "v1", "namespaces", "Namespace", False),
    APIResource("", "v1", "configmaps", "ConfigMap", True),
    APIResource("", "v1", "services", "Service", True),
    APIResource("apps", "v1", "deployments", "Deployment", True),
    APIResource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False),
]


class Mapper:
    def resource_for(self, arg: str | GroupVersionResource | GroupVersionKind) -> APIResource:
        assert isinstance(arg, GroupVersionKind)
        for resource in SERVED:
            if resource.kind == arg.kind and (
                not arg.version or (resource.group, resource.version) == (arg.group, arg.version)
            ):
                return resource
        raise ResourceNotFoundError(f"no {arg}")


def doc(api_version: str, kind: str, name: str, **extra: Any) -> str:
    import json

    return json.dumps({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, **extra}}) + "\n---\n"


CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true}]
---
"""


def planned(text: str, **options: Any) -> list[Any]:
    return plan(load_manifests(text, source="set.yaml"), Mapper(), default_namespace="dflt", **options)


def test_install_order_namespaces_and_crds_first_custom_resources_last() -> None:
    text = (
        doc("example.com/v1", "Widget", "w")
        + doc("apps/v1", "Deployment", "web")
        + doc("v1", "Service", "web")
        + CRD
        + doc("v1", "ConfigMap", "c", namespace="demo")
        + doc("v1", "Namespace", "demo")
    )
    result = planned(text)
    assert [p.ref for p in result] == [
        "namespace/demo",
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com",
        "configmap/c",
        "service/web",
        "deployment.apps/web",
        "widget.example.com/w",
    ]
    widget = result[-1]
    assert (widget.resource, widget.crd, widget.namespace) == (None, "widgets.example.com", "dflt")
    assert result[0].namespace == ""  # cluster-scoped


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (doc("v1", "Gizmo", "g"), r"set.yaml document 1 \(line 1\): unknown kind Gizmo"),
        (
            doc("apps/v1beta1", "Deployment", "d"),
            r"apiVersion apps/v1beta1 does not serve kind Deployment \(the server serves it as apps/v1\)",
        ),
        (
            CRD + doc("example.com/v2", "Widget", "w"),
            r"document 2 .*example.com/v2 is not served by widgets.example.com in this set \(it serves v1\)",
        ),
        (
            doc("v1", "ConfigMap", "c") + doc("v1", "ConfigMap", "c", namespace="dflt"),
            r"document 2 .*configmap/c in namespace dflt is also in set.yaml document 1",
        ),
    ],
)
def test_errors_name_file_and_document(text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        planned(text)


def test_a_namespace_option_refuses_objects_of_another_namespace() -> None:
    assert planned(doc("v1", "ConfigMap", "c"), namespace="ns")[0].namespace == "ns"
    with pytest.raises(ManifestError, match="does not match the namespace ns"):
        planned(doc("v1", "ConfigMap", "c", namespace="other"), namespace="ns")
