"""The Sawtooth operator of examples/sawtooth_operator.py written with kopf, as its documentation shows: P7's peer.

Run as ``kopf run --standalone --namespace NS bench/operators/kopf_sawtooth.py`` with ``SAWTOOTH_RECORDS`` naming
the directory of the external records. ConfigMaps are written with the official client (kopf has no client of its
own); kopf adds its finalizer because of the delete handler, and applies ``patch.status`` through the status
subresource. Posting Kubernetes events is off, as the other operators post none.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.peers import peer

kopf = peer("kopf")
kubernetes = peer("kubernetes")
peer("kubernetes.client")
peer("kubernetes.config")

GROUP, VERSION, PLURAL = "demo.dynaclient.dev", "v1", "sawtooths"
RECORDS = Path(os.environ.get("SAWTOOTH_RECORDS", "."))
_core: Any = None


@kopf.on.startup()  # type: ignore[untyped-decorator]
def configure(settings: Any, **_: Any) -> None:
    global _core
    settings.posting.enabled = False
    settings.execution.max_workers = int(os.environ.get("SAWTOOTH_WORKERS", "8"))
    kubernetes.config.load_kube_config()
    configuration = kubernetes.client.Configuration.get_default_copy()
    configuration.connection_pool_maxsize = 16
    _core = kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(configuration))


@kopf.on.resume(GROUP, VERSION, PLURAL)  # type: ignore[untyped-decorator]
@kopf.on.create(GROUP, VERSION, PLURAL)  # type: ignore[untyped-decorator]
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec.size")  # type: ignore[untyped-decorator]
def apply(spec: Any, name: str, namespace: str, body: Any, patch: Any, **_: Any) -> None:
    size = int(spec.get("size") or 0)
    configmap: dict[str, Any] = {"metadata": {"name": name}, "data": {"size": str(size)}}
    kopf.adopt(configmap, owner=body)
    try:
        _core.create_namespaced_config_map(namespace, configmap)
    except kubernetes.client.exceptions.ApiException as error:
        if error.status != 409:
            raise
        _core.patch_namespaced_config_map(name, namespace, configmap)
    (RECORDS / f"{namespace}_{name}").write_text(str(size))
    patch.status["observedSize"] = size


@kopf.on.delete(GROUP, VERSION, PLURAL)  # type: ignore[untyped-decorator]
def cleanup(name: str, namespace: str, **_: Any) -> None:
    (RECORDS / f"{namespace}_{name}").unlink(missing_ok=True)
