from __future__ import annotations

import pytest

from dynaclient.testing.__main__ import main
from dynaclient.testing.controlplane import ControlPlane


def test_a_negative_node_count_is_refused_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["up", "--controllers", "--nodes", "-1"])
    assert exit_info.value.code == 2
    assert "--nodes must be >= 0, not -1" in capsys.readouterr().err


def test_the_plane_runs_only_the_binaries_its_options_need() -> None:
    assert ControlPlane().components == ("kube-apiserver", "etcd")
    assert ControlPlane(nodes=1).components == ("kube-apiserver", "etcd", "kube-scheduler", "kwok")
    assert ControlPlane(controllers=True, nodes=2).components == (
        "kube-apiserver",
        "etcd",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
    )
    with pytest.raises(ValueError, match="nodes must be >= 0"):
        ControlPlane(nodes=-2)
