from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from dynaclient.testing import binaries, kwok_patch
from dynaclient.testing.binaries import BinaryNotFoundError, locate, resolve_binaries


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home")}


def test_test_asset_variable_wins_over_every_other_place(tmp_path: Path, home: dict[str, str]) -> None:
    asset = _exe(tmp_path / "asset" / "etcd")
    _exe(tmp_path / "kb" / "etcd")
    env = {**home, "TEST_ASSET_ETCD": str(asset), "KUBEBUILDER_ASSETS": str(tmp_path / "kb")}
    assert locate("etcd", env) == ("TEST_ASSET_ETCD", asset)


def test_kubebuilder_assets_comes_before_the_envtest_store_and_the_cache(tmp_path: Path, home: dict[str, str]) -> None:
    kb = _exe(tmp_path / "kb" / "kube-apiserver")
    _exe(binaries.envtest_store_dir(home) / "kube-apiserver")
    _exe(binaries.cache_dir(home) / "kube-apiserver")
    assert locate("kube-apiserver", {**home, "KUBEBUILDER_ASSETS": str(tmp_path / "kb")}) == ("KUBEBUILDER_ASSETS", kb)


def test_envtest_store_comes_before_the_cache(home: dict[str, str]) -> None:
    store = _exe(binaries.envtest_store_dir(home) / "etcd")
    _exe(binaries.cache_dir(home) / "etcd")
    assert locate("etcd", home) == ("setup-envtest", store)


def test_xdg_directories_move_the_store_and_the_cache(tmp_path: Path) -> None:
    env = {"HOME": "/nowhere", "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    cached = _exe(tmp_path / "cache" / "dynaclient" / "controlplane" / binaries.KUBERNETES_VERSION / "etcd")
    assert locate("etcd", env) == ("cache", cached)
    store = _exe(binaries.envtest_store_dir(env) / "etcd")
    assert str(store).startswith(str(tmp_path / "data" / "kubebuilder-envtest" / "k8s"))
    assert locate("etcd", env) == ("setup-envtest", store)


def test_a_test_asset_that_is_not_executable_is_an_error_not_a_fall_through(
    tmp_path: Path, home: dict[str, str]
) -> None:
    (tmp_path / "etcd").write_text("not executable")
    with pytest.raises(BinaryNotFoundError, match=r"TEST_ASSET_ETCD=.*not an executable"):
        locate("etcd", {**home, "TEST_ASSET_ETCD": str(tmp_path / "etcd")})


def test_without_build_a_missing_binary_error_lists_every_place_looked_at(home: dict[str, str]) -> None:
    with pytest.raises(BinaryNotFoundError) as error:
        resolve_binaries(home, build=False)
    message = str(error.value)
    assert "kube-apiserver, etcd" in message
    assert str(binaries.cache_dir(home)) in message
    assert str(binaries.envtest_store_dir(home)) in message


def test_each_binary_is_resolved_on_its_own(tmp_path: Path, home: dict[str, str]) -> None:
    api = _exe(tmp_path / "kb" / "kube-apiserver")
    etcd = _exe(binaries.cache_dir(home) / "etcd")
    found = resolve_binaries({**home, "KUBEBUILDER_ASSETS": str(tmp_path / "kb")}, build=False)
    assert (found.kube_apiserver, found.etcd) == (api, etcd)
    assert found.sources == {"kube-apiserver": "KUBEBUILDER_ASSETS", "etcd": "cache"}


def test_concurrent_builds_build_each_binary_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake_build(name: str, target: Path, env: dict[str, str], progress: object) -> None:
        calls.append(name)
        _exe(target)

    monkeypatch.setattr(binaries, "_build_one", fake_build)
    target = tmp_path / "cache" / "1.34.4"
    threads = [threading.Thread(target=binaries.build_binaries, args=(target,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(calls) == ["etcd", "kube-apiserver"]


def test_the_build_command_stamps_the_kubernetes_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda _: "/usr/bin/go")
    command = binaries._go_command("kube-apiserver", Path("/out/kube-apiserver"))
    flags = command[command.index("-ldflags") + 1]
    assert f"k8s.io/component-base/version.gitVersion=v{binaries.KUBERNETES_VERSION}" in flags
    assert command[-1] == "k8s.io/kubernetes/cmd/kube-apiserver"


def test_a_missing_go_toolchain_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda _: None)
    monkeypatch.setenv("XDG_DATA_HOME", "/data")
    with pytest.raises(BinaryNotFoundError, match="Go toolchain") as caught:
        binaries._go_command("etcd", Path("/out/etcd"))
    message = str(caught.value)
    for alternative in ("TEST_ASSET_KUBE_APISERVER", "TEST_ASSET_ETCD", "KUBEBUILDER_ASSETS", "setup-envtest"):
        assert alternative in message  # the README's alternatives to a build
    assert "/data/kubebuilder-envtest/k8s/1.34.4-" in message


def test_the_wrapper_module_pins_the_release_and_replaces_every_staging_module() -> None:
    go_mod = (binaries.GO_MODULE_DIR / "go.mod").read_text()
    assert f"k8s.io/kubernetes v{binaries.KUBERNETES_VERSION}" in go_mod
    assert f"go.etcd.io/etcd/server/v3 v{binaries.ETCD_VERSION}" in go_mod
    minor = binaries.KUBERNETES_VERSION.split(".", 1)[1]
    replaced = [line for line in go_mod.splitlines() if "=>" in line]
    assert len(replaced) == 31
    assert all(line.strip().endswith(f"v0.{minor}") for line in replaced)
    assert (binaries.GO_MODULE_DIR / "go.sum").stat().st_size > 0


def test_cluster_binaries_have_their_own_asset_variables_and_kwok_a_versioned_cache_name(
    tmp_path: Path, home: dict[str, str]
) -> None:
    kcm = _exe(tmp_path / "kcm")
    kwok = _exe(binaries.cache_dir(home) / binaries.cached_name("kwok"))
    env = {**home, "TEST_ASSET_KUBE_CONTROLLER_MANAGER": str(kcm)}
    assert locate("kube-controller-manager", env) == ("TEST_ASSET_KUBE_CONTROLLER_MANAGER", kcm)
    assert locate("kwok", env) == ("cache", kwok)
    assert locate("kube-scheduler", env) is None


def test_resolving_cluster_binaries_names_each_missing_one(tmp_path: Path, home: dict[str, str]) -> None:
    for name in binaries.APISERVER_COMPONENTS:
        _exe(binaries.cache_dir(home) / name)
    plain = resolve_binaries(home, build=False)
    with pytest.raises(BinaryNotFoundError, match="was not resolved"):
        plain.path("kwok")
    with pytest.raises(BinaryNotFoundError, match=r"not found: kube-scheduler, kwok \(looked at"):
        resolve_binaries(home, build=False, components=["kwok", "kube-scheduler"])
    _exe(binaries.cache_dir(home) / "kube-scheduler")
    _exe(binaries.cache_dir(home) / binaries.cached_name("kwok"))
    found = resolve_binaries(home, build=False, components=["kwok", "kube-scheduler"])
    assert found.path("kwok") == binaries.cache_dir(home) / binaries.cached_name("kwok")
    assert found.kube_controller_manager is None
    assert set(found.sources) == {"kube-apiserver", "etcd", "kube-scheduler", "kwok"}


def test_an_unknown_binary_is_a_clear_error(home: dict[str, str]) -> None:
    with pytest.raises(BinaryNotFoundError, match=r"unknown binaries \['kubelet'\]"):
        resolve_binaries(home, build=False, components=["kubelet"])


def test_builds_only_what_is_missing_under_one_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake_build(name: str, target: Path, env: dict[str, str], progress: object) -> None:
        calls.append(name)
        _exe(target)

    monkeypatch.setattr(binaries, "_build_one", fake_build)
    target = tmp_path / "cache" / "1.34.4"
    _exe(target / "kube-scheduler")
    built = binaries.build_binaries(target, components=binaries.ALL_COMPONENTS)
    assert calls == ["kube-apiserver", "etcd", "kube-controller-manager", "kwok"]
    assert built["kwok"] == target / binaries.cached_name("kwok")


def test_controllers_are_built_from_the_kubernetes_module_and_kwok_from_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shutil.which", lambda _: "/usr/bin/go")
    kcm = binaries._go_command("kube-controller-manager", Path("/out/kcm"))
    assert kcm[-1] == "k8s.io/kubernetes/cmd/kube-controller-manager"
    assert f"version.gitVersion=v{binaries.KUBERNETES_VERSION}" in kcm[kcm.index("-ldflags") + 1]
    assert binaries._go_command("kwok", Path("/out/kwok"))[-1] == "sigs.k8s.io/kwok/cmd/kwok"
    kwok_mod = (binaries.GO_MODULE_DIR / "kwok" / "go.mod").read_text()
    assert f"sigs.k8s.io/kwok v{binaries.KWOK_VERSION}" in kwok_mod
    assert "\tk8s.io/kubernetes " not in kwok_mod  # kwok never shares the apiserver's module graph


def test_the_wrapper_module_lists_every_kubernetes_binary_as_a_tool() -> None:
    go_mod = (binaries.GO_MODULE_DIR / "go.mod").read_text()
    tools = go_mod.split("tool (", 1)[1].split(")", 1)[0].split()
    assert sorted(tools) == sorted(binaries._GO_PACKAGES[name] for name in binaries.ALL_COMPONENTS if name != "kwok")


def test_kwok_is_cached_under_a_name_that_carries_the_patch_level() -> None:
    # An unpatched kwok built before the patch (kwok-v0.7.0) is never taken for the patched one.
    assert binaries.cached_name("kwok") == f"kwok-v{binaries.KWOK_VERSION}-dynaclient.{kwok_patch.PATCH_LEVEL}"


def test_kwok_builds_from_a_patched_writable_copy_of_the_downloaded_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    download = tmp_path / "modcache"  # read-only, as in GOMODCACHE, holding exactly the texts the patches replace
    for patch in kwok_patch.PATCHES:
        source = download / patch.file
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text((source.read_text() if source.exists() else "") + patch.old)
    for path in download.rglob("*.go"):
        path.chmod(0o444)
    calls: list[list[str]] = []

    def fake_go(args: list[str], cwd: Path, env: object) -> str:
        calls.append(args)
        return json.dumps({"Dir": str(download)}) if args[:2] == ["mod", "download"] else ""

    monkeypatch.setattr(kwok_patch, "_go", fake_go)
    wrapper = kwok_patch.patched_wrapper_module(binaries.GO_MODULE_DIR / "kwok", "0.7.0", tmp_path / "work", {})
    assert calls == [
        ["mod", "download", "-json", "sigs.k8s.io/kwok@v0.7.0"],
        ["mod", "edit", "-replace=sigs.k8s.io/kwok=../source"],  # relative: no temporary path in the binary
    ]
    assert wrapper == tmp_path / "work" / "wrapper"
    assert (wrapper / "go.mod").read_text() == (binaries.GO_MODULE_DIR / "kwok" / "go.mod").read_text()
    executor = (tmp_path / "work" / "source" / "pkg/kwok/server/debugging_exec.go").read_text()
    assert "return exitCodeError(cmd, s.execInContainer(ctx, cmd, in, out, errOut))" in executor
    assert "_ = inPipe.Close()" in (tmp_path / "work" / "source" / "pkg/utils/exec/exec.go").read_text()


def test_a_kwok_source_without_the_patched_text_fails_the_build_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    download = tmp_path / "modcache"
    (download / "pkg/kwok/server").mkdir(parents=True)
    (download / "pkg/kwok/server/debugging_exec.go").write_text("package server\n")
    monkeypatch.setattr(kwok_patch, "_go", lambda args, cwd, env: json.dumps({"Dir": str(download)}))
    with pytest.raises(BinaryNotFoundError, match=r"building kwok failed: pkg/kwok/server/debugging_exec.go: the"):
        binaries._kwok_module(tmp_path / "work", {})
