from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from dynaclient.discovery.discovery import APIResource
from dynaclient.exceptions import NamespaceScopeError, ResourceRequestError
from dynaclient.gvr import GroupVersionResource
from dynaclient.request import Cancellation, Request
from dynaclient.resources.options import DeleteOptions, ListOptions, Preconditions, WriteOptions
from dynaclient.resources.requests import (
    METADATA_ACCEPT,
    METADATA_LIST_ACCEPT,
    PatchBody,
    apply_request,
    create_request,
    delete_collection_request,
    delete_request,
    get_request,
    list_request,
    patch_request,
    resource_path,
    update_request,
    watch_request,
)
from dynaclient.selectors import NotEqual, NotIn, SelectorError

PODS = APIResource("", "v1", "pods", "Pod", namespaced=True)
NAMESPACES = APIResource("", "v1", "namespaces", "Namespace", namespaced=False)
DEPLOYMENTS = APIResource("apps", "v1", "deployments", "Deployment", namespaced=True)
CRDS = APIResource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False)
SAWTOOTHS = GroupVersionResource("sawtooth.hyperledger.org", "v1alpha1", "sawtooths")

CM = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "prod"}}
NO_NAMESPACE = {"metadata": {"name": "web"}}
ALL_WRITE = WriteOptions(dry_run=True, field_manager="ctl", field_validation="Strict")
FORCED = WriteOptions(field_manager="m", force=True)
FORCED_DRY_RUN = WriteOptions(dry_run=True, field_manager="m", field_validation="Warn", force=True)
ALL_LIST = ListOptions(
    label_selector={"app": "web", "tier": NotIn(["db"])},
    field_selector={"status.phase": NotEqual("Running")},
    resource_version="42",
    resource_version_match="NotOlderThan",
    limit=100,
    continue_token="tok",
    timeout_seconds=30,
)
WATCH_ALL = ListOptions(
    label_selector="app=web",
    field_selector="metadata.name=a",
    resource_version="42",
    resource_version_match="NotOlderThan",
    allow_bookmarks=True,
    send_initial_events=False,
    timeout_seconds=0,
)

# (id, builder, method, url_path) -- URLs compared as strings, query keys sorted as Go's url.Values.Encode.
URL_TABLE: list[tuple[str, Callable[[], Request], str, str]] = [
    ("get core namespaced", lambda: get_request(PODS, "a", namespace="ns"), "GET", "/api/v1/namespaces/ns/pods/a"),
    ("get group namespaced", lambda: get_request(DEPLOYMENTS, "web", namespace="ns"), "GET",
     "/apis/apps/v1/namespaces/ns/deployments/web"),
    ("get cluster-scoped core", lambda: get_request(NAMESPACES, "kube-system"), "GET",
     "/api/v1/namespaces/kube-system"),
    ("get cluster-scoped group", lambda: get_request(CRDS, "a.b.c"), "GET",
     "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b.c"),
    ("get scale subresource", lambda: get_request(DEPLOYMENTS, "web", namespace="ns", subresource="scale"), "GET",
     "/apis/apps/v1/namespaces/ns/deployments/web/scale"),
    ("get status of cluster-scoped", lambda: get_request(NAMESPACES, "a", subresource="status"), "GET",
     "/api/v1/namespaces/a/status"),
    ("get with resource version", lambda: get_request(PODS, "a", namespace="ns", resource_version="0"), "GET",
     "/api/v1/namespaces/ns/pods/a?resourceVersion=0"),
    ("get bare gvr (scope unknown)", lambda: get_request(SAWTOOTHS, "s", namespace="ns"), "GET",
     "/apis/sawtooth.hyperledger.org/v1alpha1/namespaces/ns/sawtooths/s"),
    ("list in namespace", lambda: list_request(PODS, namespace="ns"), "GET", "/api/v1/namespaces/ns/pods"),
    ("list across namespaces", lambda: list_request(DEPLOYMENTS), "GET", "/apis/apps/v1/deployments"),
    ("list cluster-scoped", lambda: list_request(NAMESPACES), "GET", "/api/v1/namespaces"),
    ("list with every option", lambda: list_request(PODS, namespace="ns", options=ALL_LIST), "GET",
     "/api/v1/namespaces/ns/pods?continue=tok&fieldSelector=status.phase%21%3DRunning&labelSelector=app%3Dweb%2C"
     "tier+notin+%28db%29&limit=100&resourceVersion=42&resourceVersionMatch=NotOlderThan&timeoutSeconds=30"),
    ("list limit zero means unpaged", lambda: list_request(PODS, options=ListOptions(limit=0)), "GET", "/api/v1/pods"),
    ("watch with every option", lambda: watch_request(PODS, namespace="ns", options=WATCH_ALL), "GET",
     "/api/v1/namespaces/ns/pods?allowWatchBookmarks=true&fieldSelector=metadata.name%3Da&labelSelector=app%3Dweb"
     "&resourceVersion=42&resourceVersionMatch=NotOlderThan&sendInitialEvents=false&timeoutSeconds=0&watch=true"),
    ("watch across namespaces", lambda: watch_request(PODS), "GET", "/api/v1/pods?watch=true"),
    ("create in namespace", lambda: create_request(PODS, NO_NAMESPACE, namespace="ns"), "POST",
     "/api/v1/namespaces/ns/pods"),
    ("create takes body namespace", lambda: create_request(PODS, CM), "POST", "/api/v1/namespaces/prod/pods"),
    ("create with write options", lambda: create_request(PODS, CM, options=ALL_WRITE), "POST",
     "/api/v1/namespaces/prod/pods?dryRun=All&fieldManager=ctl&fieldValidation=Strict"),
    ("create cluster-scoped", lambda: create_request(NAMESPACES, {"metadata": {"name": "a"}}), "POST",
     "/api/v1/namespaces"),
    ("create cluster-scoped ignores body namespace",
     lambda: create_request(CRDS, {"metadata": {"name": "a", "namespace": "x"}}), "POST",
     "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"),
    ("create subresource of named object", lambda: create_request(PODS, CM, subresource="eviction"), "POST",
     "/api/v1/namespaces/prod/pods/web/eviction"),
    ("update", lambda: update_request(PODS, NO_NAMESPACE, namespace="ns", options=ALL_WRITE), "PUT",
     "/api/v1/namespaces/ns/pods/web?dryRun=All&fieldManager=ctl&fieldValidation=Strict"),
    ("update status", lambda: update_request(DEPLOYMENTS, CM, subresource="status"), "PUT",
     "/apis/apps/v1/namespaces/prod/deployments/web/status"),
    ("update scale", lambda: update_request(DEPLOYMENTS, CM, subresource="scale"), "PUT",
     "/apis/apps/v1/namespaces/prod/deployments/web/scale"),
    ("patch merge", lambda: patch_request(PODS, "a", {}, patch_type="merge", namespace="ns"), "PATCH",
     "/api/v1/namespaces/ns/pods/a"),
    ("patch with write options",
     lambda: patch_request(PODS, "a", {}, patch_type="json", namespace="n", options=ALL_WRITE), "PATCH",
     "/api/v1/namespaces/n/pods/a?dryRun=All&fieldManager=ctl&fieldValidation=Strict"),
    ("patch apply with force",
     lambda: patch_request(NAMESPACES, "a", "{}", patch_type="apply", options=FORCED),
     "PATCH", "/api/v1/namespaces/a?fieldManager=m&force=true"),
    ("patch scale subresource",
     lambda: patch_request(DEPLOYMENTS, "w", {}, patch_type="merge", namespace="n", subresource="scale"),
     "PATCH", "/apis/apps/v1/namespaces/n/deployments/w/scale"),
    ("apply sends force=false", lambda: apply_request(PODS, CM, options=WriteOptions(field_manager="m")), "PATCH",
     "/api/v1/namespaces/prod/pods/web?fieldManager=m&force=false"),
    ("apply forced dry run status",
     lambda: apply_request(PODS, CM, subresource="status", options=FORCED_DRY_RUN), "PATCH",
     "/api/v1/namespaces/prod/pods/web/status?dryRun=All&fieldManager=m&fieldValidation=Warn&force=true"),
    ("delete", lambda: delete_request(PODS, "a", namespace="ns"), "DELETE", "/api/v1/namespaces/ns/pods/a"),
    ("delete cluster-scoped", lambda: delete_request(CRDS, "a.b"), "DELETE",
     "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b"),
    ("delete collection with selectors",
     lambda: delete_collection_request(PODS, namespace="ns", list_options=ListOptions(label_selector={"a": "b"})),
     "DELETE", "/api/v1/namespaces/ns/pods?labelSelector=a%3Db"),
    ("delete collection across namespaces", lambda: delete_collection_request(PODS), "DELETE", "/api/v1/pods"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "method", "url_path"), [case[1:] for case in URL_TABLE], ids=[c[0] for c in URL_TABLE]
)
def test_each_verb_builds_the_client_go_url(build: Callable[[], Request], method: str, url_path: str) -> None:
    request = build()
    assert (request.method, request.url_path) == (method, url_path)


def test_create_and_update_send_the_object_as_compact_json() -> None:
    for request in (create_request(PODS, CM), update_request(PODS, CM)):
        assert json.loads(request.body or b"") == CM
        assert request.effective_content_type == "application/json"


@pytest.mark.parametrize(
    ("patch_type", "content_type"),
    [
        ("json", "application/json-patch+json"),
        ("merge", "application/merge-patch+json"),
        ("strategic", "application/strategic-merge-patch+json"),
        ("apply", "application/apply-patch+yaml"),
    ],
    ids=["json", "merge", "strategic", "apply"],
)
def test_patch_content_type_follows_the_patch_type(patch_type: str, content_type: str) -> None:
    request = patch_request(PODS, "a", b"{}", patch_type=patch_type, namespace="n")  # type: ignore[arg-type]
    assert request.content_type == content_type


@pytest.mark.parametrize(
    ("patch", "body"),
    [
        (b'{"raw": 1}', b'{"raw": 1}'),
        ('[{"op":"remove"}]', b'[{"op":"remove"}]'),
        ([{"op": "test"}], b'[{"op":"test"}]'),
    ],
    ids=["bytes unchanged", "string encoded", "list as json"],
)
def test_patch_body_is_sent_as_given_or_encoded(patch: PatchBody, body: bytes) -> None:
    assert patch_request(PODS, "a", patch, patch_type="json", namespace="n").body == body


def test_apply_sends_the_whole_object_as_an_apply_patch() -> None:
    request = apply_request(PODS, CM, options=WriteOptions(field_manager="m"))
    assert request.content_type == "application/apply-patch+yaml"
    assert json.loads(request.body or b"") == CM


def test_delete_sends_every_option_in_a_delete_options_body() -> None:
    options = DeleteOptions(
        propagation_policy="Foreground",
        grace_period_seconds=0,
        preconditions=Preconditions(uid="u-1", resource_version="7"),
        dry_run=True,
    )
    request = delete_request(PODS, "a", namespace="n", options=options)
    assert json.loads(request.body or b"") == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "propagationPolicy": "Foreground",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "u-1", "resourceVersion": "7"},
        "dryRun": ["All"],
    }
    assert request.query == ()


def test_delete_without_options_still_sends_an_empty_delete_options() -> None:
    body = delete_collection_request(PODS).body or b""
    assert json.loads(body) == {"kind": "DeleteOptions", "apiVersion": "v1"}


@pytest.mark.parametrize(
    ("build", "accept"),
    [
        (lambda: get_request(PODS, "a", namespace="n", metadata_only=True), METADATA_ACCEPT),
        (lambda: watch_request(PODS, metadata_only=True), METADATA_ACCEPT),
        (lambda: list_request(PODS, metadata_only=True), METADATA_LIST_ACCEPT),
        (lambda: list_request(PODS), "application/json"),
    ],
    ids=["get", "watch", "list", "full list"],
)
def test_metadata_only_asks_for_partial_object_metadata(build: Callable[[], Request], accept: str) -> None:
    assert build().accept == accept


def test_watch_is_a_stream_with_the_callers_cancellation() -> None:
    cancellation = Cancellation()
    request = watch_request(PODS, cancellation=cancellation)
    assert request.expect == "stream"
    assert request.cancellation is cancellation
    assert request.timeout is None


ERROR_TABLE: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    ("namespace on cluster-scoped", lambda: resource_path(NAMESPACES, "ns"), NamespaceScopeError,
     "namespaces is cluster-scoped: it takes no namespace (got 'ns')"),
    ("namespace on cluster-scoped group", lambda: list_request(CRDS, namespace="ns"), NamespaceScopeError,
     "customresourcedefinitions.apiextensions.k8s.io is cluster-scoped"),
    ("get without namespace", lambda: get_request(PODS, "a"), NamespaceScopeError,
     "get of pods needs a namespace: pods is namespaced; use .namespace(name)"),
    ("delete without namespace", lambda: delete_request(DEPLOYMENTS, "a"), NamespaceScopeError,
     "delete of deployments.apps needs a namespace"),
    ("patch without namespace", lambda: patch_request(PODS, "a", {}, patch_type="merge"), NamespaceScopeError,
     "patch of pods needs a namespace"),
    ("create without any namespace", lambda: create_request(PODS, NO_NAMESPACE), NamespaceScopeError,
     "create of pods needs a namespace: pods is namespaced; use .namespace(name) or metadata.namespace"),
    ("update without any namespace", lambda: update_request(PODS, NO_NAMESPACE), NamespaceScopeError,
     "update of pods needs a namespace"),
    ("name with a slash", lambda: get_request(PODS, "a/b", namespace="n"), ResourceRequestError,
     "invalid resource name 'a/b': may not contain '/'"),
    ("name with a percent", lambda: delete_request(PODS, "a%2F", namespace="n"), ResourceRequestError,
     "invalid resource name 'a%2F': may not contain '%'"),
    ("name dot dot", lambda: get_request(NAMESPACES, ".."), ResourceRequestError,
     "invalid resource name '..': may not be '.' or '..'"),
    ("namespace dot", lambda: list_request(PODS, namespace="."), ResourceRequestError,
     "invalid namespace '.': may not be '.' or '..'"),
    ("subresource dot dot", lambda: get_request(PODS, "a", namespace="n", subresource="status/.."),
     ResourceRequestError, "invalid subresource '..'"),
    ("subresource without name", lambda: resource_path(PODS, "n", "", "status"), ResourceRequestError,
     "subresource 'status' of pods needs an object name"),
    ("get without name", lambda: get_request(PODS, "", namespace="n"), ResourceRequestError,
     "get of pods needs an object name"),
    ("update without metadata.name", lambda: update_request(PODS, {"metadata": {}}, namespace="n"),
     ResourceRequestError, "update of pods needs metadata.name in the object"),
    ("create subresource without name", lambda: create_request(PODS, {}, namespace="n", subresource="eviction"),
     ResourceRequestError, "create of pods needs metadata.name"),
    ("create from a list", lambda: create_request(PODS, [], namespace="n"), ResourceRequestError,  # type: ignore[arg-type]
     "create of pods needs a JSON object, got list"),
    ("apply without field manager", lambda: apply_request(PODS, CM, options=WriteOptions()), ResourceRequestError,
     "apply to pods needs a field manager"),
    ("apply with managed fields",
     lambda: apply_request(PODS, {"metadata": {"name": "a", "managedFields": [{}]}}, namespace="n",
                           options=WriteOptions(field_manager="m")),
     ResourceRequestError, "cannot apply an object with managed fields already set"),
    ("force on update", lambda: update_request(PODS, CM, options=WriteOptions(force=True)), ResourceRequestError,
     "force applies to server-side apply only, not to update"),
    ("force on merge patch",
     lambda: patch_request(PODS, "a", {}, patch_type="merge", namespace="n", options=WriteOptions(force=False)),
     ResourceRequestError, "not to patch"),
    ("unknown patch type", lambda: patch_request(PODS, "a", {}, patch_type="yaml", namespace="n"),  # type: ignore[arg-type]
     ResourceRequestError, "unknown patch type 'yaml'"),
    ("bookmarks on list", lambda: list_request(PODS, options=ListOptions(allow_bookmarks=True)), ResourceRequestError,
     "allow_bookmarks and send_initial_events apply to watch, not list"),
    ("limit on watch", lambda: watch_request(PODS, options=ListOptions(limit=5)), ResourceRequestError,
     "limit and continue apply to list, not watch"),
    ("bad label selector", lambda: ListOptions(label_selector="a in ("), SelectorError, "a in ("),
    ("bad field selector", lambda: ListOptions(field_selector="novalue"), SelectorError, "novalue"),
]  # fmt: skip


@pytest.mark.parametrize(("build", "error", "message"), [c[1:] for c in ERROR_TABLE], ids=[c[0] for c in ERROR_TABLE])
def test_bad_requests_fail_before_any_io_with_a_typed_error(
    build: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        build()
    assert message in str(raised.value)


def test_a_bare_gvr_skips_scope_checks_as_client_go_does() -> None:
    assert get_request(SAWTOOTHS, "s").path == "/apis/sawtooth.hyperledger.org/v1alpha1/sawtooths/s"
    assert (
        list_request(GroupVersionResource("", "v1", "namespaces"), namespace="x").path
        == "/api/v1/namespaces/x/namespaces"
    )


def test_scope_errors_are_resource_request_errors_and_value_errors() -> None:
    assert issubclass(NamespaceScopeError, ResourceRequestError)
    assert issubclass(ResourceRequestError, ValueError)


def test_list_options_render_selectors_once_at_construction() -> None:
    options = ListOptions(label_selector={"b": "2", "a": ["x", "y"]}, field_selector={"spec.nodeName": "n1"})
    assert options.label_selector == "a in (x,y),b=2"
    assert options.field_selector == "spec.nodeName=n1"
    assert hash(options) == hash(ListOptions(label_selector="a in (x,y),b=2", field_selector="spec.nodeName=n1"))


def test_write_options_leave_unset_fields_out() -> None:
    assert WriteOptions().query() == ()
    assert WriteOptions(force=False).query() == (("force", "false"),)


ESCAPE_TABLE = [
    ("delete '#' is one object, not the collection", lambda: delete_request(PODS, "#", namespace="prod"),
     "/api/v1/namespaces/prod/pods/%23"),
    ("a namespace with '#' is not the namespace before it",
     lambda: delete_request(PODS, "web", namespace="prod#x"), "/api/v1/namespaces/prod%23x/pods/web"),
    ("a name with '?' smuggles no query", lambda: get_request(PODS, "cm?resourceVersion=0", namespace="n"),
     "/api/v1/namespaces/n/pods/cm%3FresourceVersion=0"),
    ("patch", lambda: patch_request(PODS, "a b", {}, patch_type="merge", namespace="n"),
     "/api/v1/namespaces/n/pods/a%20b"),
    ("update from the body", lambda: update_request(PODS, {"metadata": {"name": "x#", "namespace": "n?"}}),
     "/api/v1/namespaces/n%3F/pods/x%23"),
    ("create from the body's namespace", lambda: create_request(PODS, {"metadata": {"name": "x", "namespace": "#"}}),
     "/api/v1/namespaces/%23/pods"),
    ("apply", lambda: apply_request(PODS, {"metadata": {"name": "#", "namespace": "n"}},
                                    options=WriteOptions(field_manager="m")), "/api/v1/namespaces/n/pods/%23"),
    ("subresource", lambda: get_request(DEPLOYMENTS, "web", namespace="n", subresource="scale#x"),
     "/apis/apps/v1/namespaces/n/deployments/web/scale%23x"),
    ("list in a namespace", lambda: list_request(PODS, namespace="a?b"), "/api/v1/namespaces/a%3Fb/pods"),
    ("watch in a namespace", lambda: watch_request(PODS, namespace="a#"), "/api/v1/namespaces/a%23/pods"),
    ("delete collection", lambda: delete_collection_request(PODS, namespace="#"), "/api/v1/namespaces/%23/pods"),
    ("a bare GVR's group, version and resource",
     lambda: list_request(GroupVersionResource("a#b", "v1?", "x y")), "/apis/a%23b/v1%3F/x%20y"),
    ("Go leaves these unescaped", lambda: get_request(PODS, "a:b@c$d&e+f,g;h=i", namespace="n"),
     "/api/v1/namespaces/n/pods/a:b@c$d&e+f,g;h=i"),
]  # fmt: skip


@pytest.mark.parametrize(("build", "path"), [c[1:] for c in ESCAPE_TABLE], ids=[c[0] for c in ESCAPE_TABLE])
def test_every_path_segment_of_every_verb_is_escaped_like_go(build: Callable[[], Request], path: str) -> None:
    request = build()
    assert request.path == path
    assert "#" not in request.url_path
    assert request.url_path.count("?") <= 1


@pytest.mark.parametrize(
    ("bad", "where"),
    [(bad, where) for bad in (".", "..", "a/b", "a%23") for where in ("name", "namespace", "subresource", "resource")
     if (bad, where) != ("a/b", "subresource")],  # a subresource's "/" separates its segments
)  # fmt: skip
def test_segments_apimachinery_rejects_are_rejected_everywhere(bad: str, where: str) -> None:
    if where == "name":
        build: Callable[[], Request] = lambda: get_request(PODS, bad, namespace="n")  # noqa: E731
    elif where == "namespace":
        build = lambda: get_request(PODS, "a", namespace=bad)  # noqa: E731
    elif where == "subresource":
        build = lambda: get_request(PODS, "a", namespace="n", subresource=f"status/{bad}")  # noqa: E731
    else:
        build = lambda: list_request(GroupVersionResource("", "v1", bad))  # noqa: E731
    with pytest.raises(ResourceRequestError, match="invalid"):
        build()
