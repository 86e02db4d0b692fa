"""P1: list every fixture object in pages of 500 (kr8s: its fixed 100), holding all of them at the end.

Each case warms its client first (construction, discovery where the client needs it, one small list), so the
timed part is the paginated list, plus reading every object's name, the least any caller does (lightkube decodes
its models lazily, on first attribute access). Memory: peak RSS growth over the timed list, and a second untimed
list under tracemalloc (bytes still held by the result).
"""

from __future__ import annotations

import json
import resource
import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests

from bench.measure import (
    Metrics,
    case_main,
    children_peak_rss_bytes,
    current_rss_bytes,
    expect_count,
    memory_metrics,
    timed,
)
from bench.peers import official, peer
from bench.target import ID_LABEL, RESOURCE, BenchTarget

if TYPE_CHECKING:
    from dynaclient.types.core.v1 import ConfigMap

PAGE = 500


def follow_pages(fetch: Callable[[str | None], tuple[list[Any], str | None]]) -> list[Any]:
    """Fetch pages until one has no continue token; return all their items.

    Args:
        fetch: returns a page's items and its continue token (``None`` or ``""`` on the last page) for a token.

    >>> pages = {None: ([1, 2], "t"), "t": ([3], "")}
    >>> follow_pages(pages.__getitem__)
    [1, 2, 3]
    """
    items: list[Any] = []
    token: str | None = None
    while True:
        page, token = fetch(token)
        items.extend(page)
        if not token:
            return items


def _dict_name(obj: Any) -> str:
    name: str = obj["metadata"]["name"]
    return name


def _model_name(obj: Any) -> str:
    name: str = obj.metadata.name
    return name


def _measure(target: BenchTarget, list_all: Callable[[], list[Any]], name_of: Callable[[Any], str]) -> Metrics:
    rss_before = current_rss_bytes()
    with timed() as timing:
        items = list_all()
        names = {name_of(item) for item in items}
    expect_count("list (distinct names)", len(names), target.objects)
    del items
    metrics: Metrics = {"seconds": timing.seconds, "cpu_seconds": timing.cpu_seconds, "objects": target.objects}
    metrics.update(memory_metrics(target, list_all, rss_before))
    return metrics


def dynaclient_list(target: BenchTarget) -> Metrics:
    from dynaclient import DynamicClient

    client = DynamicClient.from_kubeconfig(target.kubeconfig)
    configmaps = client.resource(RESOURCE).namespace(target.namespace)
    configmaps.list_page(limit=1)
    return _measure(target, lambda: list(configmaps.list(limit=PAGE)), _dict_name)


def dynaclient_typed_list(target: BenchTarget) -> Metrics:
    """The same list through a client typed with the generated ConfigMap TypedDict (the types cost no run time)."""
    from dynaclient import DynamicClient
    from dynaclient.types.core.v1 import ConfigMap

    client = DynamicClient.from_kubeconfig(target.kubeconfig)
    configmaps = client.resource(RESOURCE, ConfigMap).namespace(target.namespace)
    configmaps.list_page(limit=1)
    return _measure(target, lambda: list(configmaps.list(limit=PAGE)), _configmap_name)


def _configmap_name(obj: ConfigMap) -> str:
    return obj["metadata"]["name"]


def raw_requests_list(target: BenchTarget) -> Metrics:
    session = requests.Session()
    session.cert = (target.cert_path, target.key_path)
    url = f"{target.server}/api/v1/namespaces/{target.namespace}/{RESOURCE}"

    def page(params: dict[str, str]) -> dict[str, Any]:
        # verify per request: REQUESTS_CA_BUNDLE in the environment overrides a session-level verify.
        response = session.get(url, params=params, verify=target.ca_path, timeout=60)
        response.raise_for_status()
        decoded: dict[str, Any] = json.loads(response.content)
        return decoded

    def fetch(token: str | None) -> tuple[list[Any], str | None]:
        decoded = page({"limit": str(PAGE), "continue": token} if token else {"limit": str(PAGE)})
        return decoded["items"], decoded["metadata"].get("continue")

    page({"limit": "1"})
    return _measure(target, lambda: follow_pages(fetch), _dict_name)


def transfer_floor(target: BenchTarget) -> Metrics:
    """The same pages, fetched one after another and read in 1 MiB pieces, never decoded: the server's own time.

    The continue token is read from the head of each body (no decoding), so what remains is the server's work
    and the transfer; no client that fetches these pages one at a time can list faster. Items are counted by
    their ``"uid":`` keys.
    """
    from dynaclient.resources.listing import peek_continue_token

    body = _undecoded_bodies(target)
    body({"limit": "1"})
    items = 0
    with timed() as timing:
        token: str | None = None
        while True:
            page = body({"limit": str(PAGE), "continue": token} if token else {"limit": str(PAGE)})
            items += page.count(b'"uid":')
            token = peek_continue_token(page)
            if not token:
                break
    expect_count("transfer floor (uid keys)", items, target.objects)
    return {"seconds": timing.seconds, "cpu_seconds": timing.cpu_seconds, "objects": target.objects}


def watch_cache_floor(target: BenchTarget) -> Metrics:
    """An informer's first list, ``resourceVersion=0`` served whole from the watch cache, read and never decoded."""
    body = _undecoded_bodies(target)
    body({"limit": "1"})
    with timed() as timing:
        items = body({"resourceVersion": "0"}).count(b'"uid":')
    expect_count("watch cache floor (uid keys)", items, target.objects)
    return {"seconds": timing.seconds, "cpu_seconds": timing.cpu_seconds, "objects": target.objects}


def _undecoded_bodies(target: BenchTarget) -> Callable[[dict[str, str]], bytes]:
    """Return a function that GETs the fixture's list with some query and returns the body's bytes (gzip undone)."""
    session = requests.Session()
    session.cert = (target.cert_path, target.key_path)
    url = f"{target.server}/api/v1/namespaces/{target.namespace}/{RESOURCE}"

    def body(params: dict[str, str]) -> bytes:
        # verify per request: REQUESTS_CA_BUNDLE in the environment overrides a session-level verify.
        with session.get(url, params=params, verify=target.ca_path, timeout=60, stream=True) as response:
            response.raise_for_status()
            return b"".join(response.iter_content(1 << 20))

    return body


def _official_core_v1(target: BenchTarget) -> Any:
    return official(target.kubeconfig).client.CoreV1Api()


def _continue_of(metadata: Any) -> str | None:
    # kubernetes >= 37 (OpenAPI generator 7) names the field var_continue; older releases _continue.
    token = getattr(metadata, "var_continue", None) or getattr(metadata, "_continue", None)
    return token if isinstance(token, str) and token else None


def official_typed_list(target: BenchTarget) -> Metrics:
    core = _official_core_v1(target)

    def fetch(token: str | None) -> tuple[list[Any], str | None]:
        page = core.list_namespaced_config_map(target.namespace, limit=PAGE, _continue=token)
        return page.items, _continue_of(page.metadata)

    core.list_namespaced_config_map(target.namespace, limit=1)
    return _measure(target, lambda: follow_pages(fetch), _model_name)


def official_raw_list(target: BenchTarget) -> Metrics:
    core = _official_core_v1(target)

    def fetch(token: str | None) -> tuple[list[Any], str | None]:
        response = core.list_namespaced_config_map(
            target.namespace, limit=PAGE, _continue=token, _preload_content=False
        )
        page = json.loads(response.data)
        return page["items"], page["metadata"].get("continue")

    fetch(None)
    return _measure(target, lambda: follow_pages(fetch), _dict_name)


def official_dynamic_list(target: BenchTarget) -> Metrics:
    kubernetes = official(target.kubeconfig)
    dynamic = kubernetes.dynamic.DynamicClient(kubernetes.client.ApiClient())
    configmaps = dynamic.resources.get(api_version="v1", kind="ConfigMap")

    def fetch(token: str | None) -> tuple[list[Any], str | None]:
        page = configmaps.get(namespace=target.namespace, limit=PAGE, _continue=token)
        return page.items, page.metadata["continue"]  # a ResourceField answers None for a missing key

    configmaps.get(namespace=target.namespace, limit=1)
    return _measure(target, lambda: follow_pages(fetch), _model_name)


def kr8s_list(target: BenchTarget) -> Metrics:
    api = peer("kr8s").api(kubeconfig=target.kubeconfig)
    list(api.get(RESOURCE, namespace=target.namespace, label_selector={ID_LABEL: "o0"}))
    # kr8s pages with a fixed limit of 100 (kr8s/_api.py _async_get_single).
    return _measure(target, lambda: list(api.get(RESOURCE, namespace=target.namespace)), lambda obj: str(obj.name))


def lightkube_list(target: BenchTarget) -> Metrics:
    lightkube = peer("lightkube")
    config_map = peer("lightkube.resources.core_v1").ConfigMap
    client = lightkube.Client(config=lightkube.KubeConfig.from_file(target.kubeconfig))
    list(client.list(config_map, namespace=target.namespace, chunk_size=1, labels={ID_LABEL: "o0"}))
    return _measure(
        target, lambda: list(client.list(config_map, namespace=target.namespace, chunk_size=PAGE)), _model_name
    )


def kubectl_list(target: BenchTarget) -> Metrics:
    command = ["kubectl", "--kubeconfig", target.kubeconfig, "get", RESOURCE, "-n", target.namespace]
    command += ["-o", "json", f"--chunk-size={PAGE}"]
    with timed() as timing:
        output = subprocess.run(command, capture_output=True, check=True, timeout=target.timeout).stdout
    expect_count("kubectl get", len({_dict_name(item) for item in json.loads(output)["items"]}), target.objects)
    # kubectl's own process: its wall time includes start-up and (cached) discovery; its CPU is a child's.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = children_peak_rss_bytes()
    return {
        "seconds": timing.seconds,
        "cpu_seconds": children.ru_utime + children.ru_stime,
        "objects": target.objects,
        "peak_rss_bytes": peak,
        "rss_growth_per_json_byte": peak / target.json_bytes,
    }


CASES = {
    "p1-dynaclient": dynaclient_list,
    "p1-dynaclient-typed": dynaclient_typed_list,
    "p1-raw-requests": raw_requests_list,
    "p1-transfer-floor": transfer_floor,
    "p1-official-typed": official_typed_list,
    "p1-official-raw": official_raw_list,
    "p1-official-dynamic": official_dynamic_list,
    "p1-kr8s": kr8s_list,
    "p1-lightkube": lightkube_list,
    "p1-kubectl": kubectl_list,
}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
