"""Optional features used without their extra fail with one line naming it (issue 19).

``sys.modules[name] = None`` makes a package uninstallable for one subprocess: ``find_spec`` answers ``None`` and
an import raises, as when the extra is not installed. scripts/check-package checks the same in a fresh venv.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from dynaclient import MissingExtraError
from dynaclient.extras import import_extra


def _python_without(hidden: str, code: str) -> subprocess.CompletedProcess[str]:
    prelude = f"import sys; sys.modules[{hidden!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=60, check=False
    )


def _testing_cli_without_cryptography(*argv: str) -> subprocess.CompletedProcess[str]:
    return _python_without(
        "cryptography", f"from dynaclient.testing.__main__ import main; sys.exit(main({list(argv)!r}))"
    )


def test_a_missing_module_is_a_missing_extra_error_and_an_import_error() -> None:
    with pytest.raises(ImportError) as caught:
        import_extra("no_such_module_for_dynaclient.sub", extra="testing", feature="the local control plane")
    error = caught.value
    assert isinstance(error, MissingExtraError)
    assert (error.extra, error.module) == ("testing", "no_such_module_for_dynaclient")
    assert str(error) == (
        "the local control plane needs the 'testing' extra (no_such_module_for_dynaclient is not installed): "
        "pip install 'dynaclient[testing]'"
    )


def test_the_testing_cli_helps_without_cryptography() -> None:
    done = _testing_cli_without_cryptography("--help")
    assert done.returncode == 0, done.stderr
    assert "usage: python -m dynaclient.testing" in done.stdout


def test_the_testing_cli_names_the_extra_in_one_line_without_cryptography() -> None:
    done = _testing_cli_without_cryptography("up")
    assert done.returncode == 2
    assert done.stderr == (
        "python -m dynaclient.testing: error: the local control plane needs the 'testing' extra (cryptography is not "
        "installed): pip install 'dynaclient[testing]'\n"
    )


def test_importing_the_control_plane_without_cryptography_names_the_extra() -> None:
    done = _python_without(
        "cryptography",
        "try:\n    from dynaclient.testing import ControlPlane\n"
        "except ImportError as e:\n    print(type(e).__name__, e)",
    )
    assert done.stdout == (
        "MissingExtraError the local control plane needs the 'testing' extra (cryptography is not installed): "
        "pip install 'dynaclient[testing]'\n"
    )


@pytest.mark.parametrize("module", ["informers.controller.prometheus", "informers.leaderelection.prometheus"])
def test_the_prometheus_exporters_name_the_metrics_extra(module: str) -> None:
    done = _python_without("prometheus_client", f"try:\n    import {module}\nexcept ImportError as e:\n    print(e)")
    assert "needs the 'metrics' extra (prometheus_client is not installed): pip install 'dynaclient[metrics]'" in (
        done.stdout
    )


def test_the_asyncio_client_names_the_async_extra() -> None:
    done = _python_without("aiohttp", "try:\n    import dynaclient.aio\nexcept ImportError as e:\n    print(e)")
    assert done.stdout == (
        "the asyncio client needs the 'async' extra (aiohttp is not installed): pip install 'dynaclient[async]'\n"
    )
