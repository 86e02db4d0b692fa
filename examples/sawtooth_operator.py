"""A Sawtooth operator: one ConfigMap per Sawtooth, its size in status, and an external record cleaned on delete.

    python examples/sawtooth_operator.py            # run it until Ctrl-C (your cluster, or a local plane)
    python examples/sawtooth_operator.py --demo     # create, scale, break and delete Sawtooths, then stop

For each ``Sawtooth`` (``spec.size``) the operator keeps:

* a ConfigMap of the same name with ``data.size``, controlled by the Sawtooth: deleted by hand, it comes back; the
  Sawtooth deleted, the garbage collector deletes it (on a cluster with a controller-manager);
* ``status.observedSize``, written through the status subresource;
* a record outside Kubernetes (a file per Sawtooth here), removed by the finalizer before the Sawtooth goes.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cluster import connect

from dynaclient import (
    AlreadyExistsError,
    DynamicClient,
    JSONObject,
    NotFoundError,
    ResourceNotFoundError,
    is_controlled_by,
    set_controller_reference,
)
from informers import Controller, Request, annotations_changed, any_of, finalizer, generation_changed, labels_changed

GROUP = "demo.dynaclient.dev"
SAWTOOTHS = f"sawtooths.{GROUP}"
FINALIZER = f"{GROUP}/external-record"
CRD: JSONObject = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": SAWTOOTHS},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "sawtooths", "singular": "sawtooth", "kind": "Sawtooth"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 0}}},
                            "status": {"type": "object", "properties": {"observedSize": {"type": "integer"}}},
                        },
                    }
                },
            }
        ],
    },
}


class ExternalRecords:
    """Stands for a system outside Kubernetes: one file per Sawtooth holding its size.

    Thread-safety: thread-safe (one file per key, replaced whole: a reader never sees one half-written).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def put(self, key: str, size: int) -> None:
        path = self.directory / key.replace("/", "_")
        if not path.exists() or path.read_text() != str(size):
            written = self.directory / f".{path.name}.new"  # one writer per key: the controller's promise
            written.write_text(str(size))
            written.replace(path)

    def remove(self, key: str) -> None:
        (self.directory / key.replace("/", "_")).unlink(missing_ok=True)

    def all(self) -> dict[str, int]:
        records = {}
        for path in self.directory.iterdir():
            if not path.name.startswith("."):  # not a record being written
                with contextlib.suppress(FileNotFoundError):  # removed since the listing
                    records[path.name.replace("_", "/", 1)] = int(path.read_text())
        return records


def desired_configmap(sawtooth: JSONObject) -> tuple[str, str, int, JSONObject]:
    """Return a Sawtooth's namespace, name and size, and the ConfigMap it should own (shared with the async example)."""
    metadata = sawtooth["metadata"]
    namespace, name = metadata["namespace"], metadata["name"]
    size = int((sawtooth.get("spec") or {}).get("size") or 0)
    desired: JSONObject = {"metadata": {"name": name, "namespace": namespace}, "data": {"size": str(size)}}
    set_controller_reference(sawtooth, desired)
    return namespace, name, size, desired


def configmap_drifted(current: JSONObject, desired: JSONObject, sawtooth: JSONObject) -> bool:
    """Tell whether an existing ConfigMap needs the desired one patched in."""
    return current.get("data") != desired["data"] or not is_controlled_by(current, sawtooth)


class SawtoothOperator:
    """The reconcile of Sawtooths, and the controller that runs it.

    Thread-safety: thread-safe; the controller never reconciles one Sawtooth on two workers at once.
    """

    def __init__(
        self, client: DynamicClient, records: ExternalRecords, *, namespace: str | None = None, workers: int = 4
    ) -> None:
        self.sawtooths = client.resource(SAWTOOTHS)
        self.configmaps = client.resource("configmaps")
        self.records = records
        self.controller = Controller(
            client,
            for_=SAWTOOTHS,
            owns=["configmaps"],
            reconcile=self.reconcile,
            workers=workers,
            namespace=namespace,
            # Our own status writes change no generation: they do not come back as reconciles.
            predicates=[any_of(generation_changed, labels_changed, annotations_changed)],
            name="sawtooth",
        )

    def reconcile(self, request: Request) -> None:
        try:
            sawtooth = self.controller.lister().get(request.name, request.namespace)
        except NotFoundError:
            return  # gone: its ConfigMap goes with it through the owner reference
        finalizer(self.sawtooths, FINALIZER, sawtooth, apply=self.apply, cleanup=self.cleanup)

    def apply(self, sawtooth: JSONObject) -> None:
        namespace, name, size, desired = desired_configmap(sawtooth)
        configmaps = self.configmaps.namespace(namespace)
        try:
            current: JSONObject | None = self.controller.lister("configmaps").get(name, namespace)
        except NotFoundError:
            current = None
        if current is None:
            try:
                configmaps.create({"apiVersion": "v1", "kind": "ConfigMap", **desired})
            except AlreadyExistsError:
                current = configmaps.get(name)  # created meanwhile; the cache has not seen it yet
        if current is not None and configmap_drifted(current, desired, sawtooth):
            configmaps.patch(name, desired)
        self.records.put(f"{namespace}/{name}", size)
        if (sawtooth.get("status") or {}).get("observedSize") != size:
            self.sawtooths.namespace(namespace).patch(name, {"status": {"observedSize": size}}, subresource="status")

    def cleanup(self, sawtooth: JSONObject) -> None:
        metadata = sawtooth["metadata"]
        self.records.remove(f"{metadata['namespace']}/{metadata['name']}")


def install_crd(client: DynamicClient, timeout: float = 30.0) -> None:
    """Create the Sawtooth CRD unless it exists, and wait until it is established and discoverable."""
    crds = client.resource("customresourcedefinitions.apiextensions.k8s.io")
    with contextlib.suppress(AlreadyExistsError):
        crds.create(CRD)
    deadline = time.monotonic() + timeout
    while not _established(crds.get(SAWTOOTHS)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"CRD {SAWTOOTHS} not established within {timeout}s")
        time.sleep(0.1)  # the apiextensions controller establishes it asynchronously
    while True:
        try:
            client.resource(SAWTOOTHS)
            return
        except ResourceNotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)  # discovery lags the Established condition; a miss refreshes it at most every 5s


def _established(crd: JSONObject) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def _wait(what: str, check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not reached within {timeout}s")
        time.sleep(0.05)
    print(f"  ok: {what}")


def demo(client: DynamicClient, operator: SawtoothOperator, namespace: str) -> None:
    sawtooths = operator.sawtooths.namespace(namespace)
    configmaps = operator.configmaps.namespace(namespace)

    def sizes() -> dict[str, str]:
        return {cm["metadata"]["name"]: cm["data"]["size"] for cm in configmaps.list() if "size" in cm.get("data", {})}

    def observed() -> dict[str, int | None]:
        return {s["metadata"]["name"]: (s.get("status") or {}).get("observedSize") for s in sawtooths.list()}

    print("create three Sawtooths")
    for name, size in (("small", 1), ("medium", 5), ("large", 9)):
        sawtooths.create(
            {"apiVersion": f"{GROUP}/v1", "kind": "Sawtooth", "metadata": {"name": name}, "spec": {"size": size}}
        )
    _wait("ConfigMaps written", lambda: sizes() == {"small": "1", "medium": "5", "large": "9"})
    _wait("status.observedSize written", lambda: observed() == {"small": 1, "medium": 5, "large": 9})
    print("scale medium to 7")
    sawtooths.patch("medium", {"spec": {"size": 7}})
    _wait("medium's ConfigMap and status follow", lambda: sizes()["medium"] == "7" and observed()["medium"] == 7)
    print("delete large's ConfigMap by hand")
    configmaps.delete("large")
    _wait("it comes back", lambda: sizes().get("large") == "9")
    print("delete small")
    sawtooths.delete("small")
    _wait(
        "small is gone, its record cleaned",
        lambda: "small" not in observed() and f"{namespace}/small" not in operator.records.all(),
    )
    print(f"records: {operator.records.all()}")
    print(f"stats: {operator.controller.stats()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="create, scale, break and delete Sawtooths, then stop")
    parser.add_argument("--namespace", help="reconcile this namespace only (default: all; the demo's: default)")
    parser.add_argument("--workers", type=int, default=4, help="reconciles at once (default 4)")
    parser.add_argument("--records", type=Path, help="directory of the external records (default: a temporary one)")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with connect() as client, tempfile.TemporaryDirectory() as scratch:
        install_crd(client)
        records = ExternalRecords(arguments.records or Path(scratch))
        operator = SawtoothOperator(client, records, namespace=arguments.namespace, workers=arguments.workers)
        operator.controller.start()
        try:
            if arguments.demo:
                demo(client, operator, arguments.namespace)
                for sawtooth in operator.sawtooths.namespace(arguments.namespace).list():
                    operator.sawtooths.namespace(arguments.namespace).delete(sawtooth["metadata"]["name"])
                _wait(
                    "demo Sawtooths deleted", lambda: not list(operator.sawtooths.namespace(arguments.namespace).list())
                )
            else:
                print("reconciling Sawtooths; Ctrl-C stops")
                threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            operator.controller.stop()


if __name__ == "__main__":
    main()
