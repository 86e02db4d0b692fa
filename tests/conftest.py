"""Shared test configuration: everything under tests/integration is marked ``integration``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _INTEGRATION in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under ``DYNACLIENT_FAIL_ON_SKIP=1`` (set by scripts/check) a skipped test fails the run."""
    if not os.environ.get("DYNACLIENT_FAIL_ON_SKIP"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and exitstatus == 0:
        print(f"\n{skipped} test(s) skipped: DYNACLIENT_FAIL_ON_SKIP turns that into a failure")  # noqa: T201
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
