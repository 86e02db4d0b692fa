"""What a case process needs to reach the objects under test: server, credentials, namespace and parameters."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dynaclient.testing import ControlPlane

GROUP_LABEL = "bench.dynaclient.dev/group"
"""Label whose value is shared by :data:`GROUP_SIZE` objects (P5: lookups with many matches)."""
ID_LABEL = "bench.dynaclient.dev/id"
"""Label whose value is unique per object (P5: lookups with one match)."""
GROUP_SIZE = 100
"""Objects per value of :data:`GROUP_LABEL`."""
OBJECT_PREFIX = "bench-"
RESOURCE = "configmaps"


@dataclass(frozen=True, slots=True)
class WatchParameters:
    """The writer of P3: how many updates per second, for how long, and how long to wait for stragglers.

    Thread-safety: immutable.
    """

    rate: float = 1000.0
    seconds: float = 30.0
    writers: int = 16
    """Requests the writer process keeps in flight at most (goroutines of ``clientgo-informer --mode=writer``)."""
    drain_seconds: float = 15.0


@dataclass(frozen=True, slots=True)
class BenchTarget:
    """The control plane and fixture a case runs against; written to a JSON file the runner passes to each case.

    Thread-safety: immutable.
    """

    server: str
    kubeconfig: str
    ca_path: str
    cert_path: str
    key_path: str
    namespace: str
    """The fixture of P1, P2, P4, P5: nothing writes to it after it is created."""
    objects: int
    json_bytes: int
    """Compact JSON bytes of all the objects as the server lists them (the denominator of memory ratios)."""
    watch: WatchParameters = field(default_factory=WatchParameters)
    watch_namespace: str = ""
    """P3's own copy of the fixture (as many objects), the only namespace its writer patches; empty if not made."""
    server_pids: dict[str, int] = field(default_factory=dict)
    """Process ids of the control plane by name (``etcd``, ``kube-apiserver``), for CPU shares in P3."""
    lookups: int = 200_000
    sawtooths: int = 1000
    """P7: Sawtooths created at once for each operator run."""
    memory: bool = True
    """Measure memory with tracemalloc in a second, untimed pass."""
    timeout: float = 600.0
    scale: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    """The scale series' namespaces by scale label: namespace, objects, JSON bytes (empty unless scale cases run)."""

    @property
    def group_count(self) -> int:
        """How many distinct values :data:`GROUP_LABEL` takes."""
        return max(1, self.objects // GROUP_SIZE)

    def save(self, path: Path) -> None:
        """Write the target as JSON."""
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def on_plane(cls, plane: ControlPlane, **fields: Any) -> BenchTarget:
        """Return a target on a local control plane (server, credentials, process ids) with the other ``fields``."""
        return cls(
            server=plane.server_url,
            kubeconfig=str(plane.kubeconfig_path),
            ca_path=str(plane.ca_path),
            cert_path=str(plane.client_cert_path),
            key_path=str(plane.client_key_path),
            server_pids=plane.pids,
            **fields,
        )

    @classmethod
    def load(cls, path: Path) -> BenchTarget:
        """Read a target written by :meth:`save`."""
        data = json.loads(path.read_text())
        data["watch"] = WatchParameters(**data.get("watch", {}))
        return cls(**data)


def object_name(index: int) -> str:
    """Return the name of fixture object ``index``.

    >>> object_name(42)
    'bench-00042'
    """
    return f"{OBJECT_PREFIX}{index:05d}"


def object_labels(index: int, group_count: int) -> dict[str, str]:
    """Return the two labels of fixture object ``index``.

    >>> object_labels(123, 10)
    {'bench.dynaclient.dev/group': 'g3', 'bench.dynaclient.dev/id': 'o123'}
    """
    return {GROUP_LABEL: f"g{index % group_count}", ID_LABEL: f"o{index}"}
