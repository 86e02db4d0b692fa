"""Run by scripts/check-package inside a fresh venv holding the wheel alone (``python -I``, outside the tree).

Checks that both packages import with only the declared dependencies, that the command-line helps run, and that
every optional feature used without its extra fails with one line naming ``dynaclient[<extra>]``. Modules that
other branches add (the asyncio client, pod streams, controller metrics, the command line) are checked once
they are in the wheel. Exits non-zero with a message on the first failure.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

# (module of an optional feature, the extra, its dependency's top-level module). Importing one without its extra
# either works (the dependency is imported on use) or fails with the one line naming the extra, never with a bare
# ModuleNotFoundError: modules should start with dynaclient.extras.require_extra(...).
OPTIONAL_MODULES = [
    ("dynaclient.testing.controlplane", "testing", "cryptography"),
    ("dynaclient.testing.certs", "testing", "cryptography"),
    ("dynaclient.aio", "async", "aiohttp"),
    ("dynaclient.aio.transport", "async", "aiohttp"),
    ("dynaclient.transport.websocket", "streams", "websockets"),
    ("informers.controller.prometheus", "metrics", "prometheus_client"),
    ("informers.leaderelection.prometheus", "metrics", "prometheus_client"),
]
HELPS = [
    ["-m", "dynaclient.testing", "--help"],
    ["-m", "dynaclient.codegen", "--help"],
    ["-m", "dynaclient.cli", "--help"],
]


def fail(message: str) -> None:
    """Stop with the message."""
    sys.exit(f"installed_package_check: {message}")


def say(message: str) -> None:
    """Report a check that passed."""
    sys.stdout.write(f"installed_package_check: {message}\n")


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run this venv's Python, isolated, with ``args``."""
    return subprocess.run([sys.executable, "-I", *args], capture_output=True, text=True, timeout=60, check=False)


def check_one_line(what: str, text: str, extra: str, *, command_line: bool) -> None:
    """The last line names the extra; a command line prints that line alone, never a traceback."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    wanted = f"dynaclient[{extra}]"
    if not lines or wanted not in lines[-1] or "ModuleNotFoundError" in text:
        fail(f"{what}: the message does not name {wanted}:\n{text}")
    if command_line and len(lines) != 1:
        fail(f"{what}: more than the one line naming the extra:\n{text}")


def check_imports() -> None:
    """Both packages import from the installed wheel, with their py.typed markers and version."""
    installed = Path(importlib.import_module("dynaclient").__file__ or "").parent
    repository = Path(__file__).resolve().parent.parent
    if repository in installed.parents or "site-packages" not in str(installed):
        fail(f"dynaclient was imported from {installed}, not from the installed wheel")
    for name in (
        "dynaclient",
        "informers",
        "dynaclient.types.core.v1",
        "dynaclient.testing.fake",
        "dynaclient.codegen",
    ):
        importlib.import_module(name)
    for package in ("dynaclient", "informers"):
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None or not (Path(spec.origin).parent / "py.typed").is_file():
            fail(f"{package} has no py.typed marker")
    version = importlib.import_module("dynaclient").__version__
    if version != importlib.metadata.version("dynaclient"):
        fail(f"dynaclient.__version__ {version} is not the installed version")
    say(f"imported dynaclient {version} and informers from {installed.parent}")


def check_helps() -> None:
    """Every command line of the wheel prints its help, the console scripts included."""
    for script in importlib.metadata.entry_points(group="console_scripts"):
        if script.dist is None or script.dist.name != "dynaclient":
            continue
        path = Path(sys.executable).with_name(script.name)
        done = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0 or "usage:" not in done.stdout:
            fail(f"{script.name} --help exited {done.returncode}:\n{done.stdout}{done.stderr}")
        say(f"{script.name} --help: ok")
    for args in HELPS:
        module = args[1]
        if importlib.util.find_spec(module) is None:
            continue
        done = run(args)
        if done.returncode != 0 or "usage:" not in done.stdout:
            fail(f"python {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
        say(f"python {' '.join(args)}: ok")


def in_wheel(module: str) -> bool:
    """Whether the wheel has ``module`` (its import may still need an extra)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is not in the wheel either
        return False
    except ImportError:  # its parent package needs the extra: the module is there
        return True


def check_missing_extras() -> None:
    """Each optional feature fails with one line naming its extra; none is installed here."""
    for dependency in {dependency for _, _, dependency in OPTIONAL_MODULES} | {"orjson", "isal", "socks"}:
        if importlib.util.find_spec(dependency) is not None:
            fail(f"{dependency} is installed, but no declared dependency brings it: the check cannot test its extra")
    for module, extra, _ in OPTIONAL_MODULES:
        if not in_wheel(module):
            continue  # a capability this wheel does not have (yet)
        done = run(["-c", f"import {module}"])
        if done.returncode == 0:  # it imports its dependency when used; its own tests check that message
            say(f"import {module} works without the {extra} extra (the dependency is imported on use)")
            continue
        check_one_line(f"import {module}", done.stderr, extra, command_line=False)
        say(f"import {module} without the {extra} extra: {done.stderr.strip().splitlines()[-1]}")
    done = run(["-m", "dynaclient.testing", "up"])
    if done.returncode == 0:
        fail("python -m dynaclient.testing up succeeded without the testing extra")
    check_one_line("python -m dynaclient.testing up", done.stderr, "testing", command_line=True)
    say(f"python -m dynaclient.testing up: {done.stderr.strip()}")
    check_socks()


def check_socks() -> None:
    """A socks5 proxy-url without the socks extra is a ConfigError naming it."""
    from dynaclient import ClientConfig, ConfigError, client_from_config

    config = ClientConfig(server="https://127.0.0.1:6443", proxy_url="socks5://127.0.0.1:1080")
    try:
        client_from_config(config).close()
    except ConfigError as error:
        check_one_line("a socks5 proxy-url", str(error), "socks", command_line=True)
        say(f"a socks5 proxy-url without the socks extra: {error}")
        return
    fail("a socks5 proxy-url worked without the socks extra")


def main() -> None:
    """Run every check; the first failure exits non-zero."""
    checks: list[Callable[[], None]] = [check_imports, check_helps, check_missing_extras]
    for check in checks:
        check()
    from dynaclient._json_decoding import DECODER
    from dynaclient.transport.compression import INFLATER

    if DECODER != "json":
        fail(f"the JSON decoder is {DECODER} without the fast extra")
    if INFLATER != "zlib":
        fail(f"gzip bodies are inflated by {INFLATER} without the fast extra")
    say("without the fast extra the stdlib decodes JSON and zlib inflates (orjson and isal are optional)")


if __name__ == "__main__":
    main()
