"""Shared pytest set-up for tests_host/.

A test that needs an outside command looks it up in the tool registry (tools/toolreg.py) and fails
(it never skips) when the command is missing, naming the Debian package: `make check` installs
every registered tool, and a skipped test must not pass for a tested one.
"""
from __future__ import annotations

import pytest

import toolreg


def require_tools(*names: str) -> list[str]:
    """Paths of registered commands; fails the calling test with one install line if any is missing."""
    missing = [toolreg.tool(n) for n in names if _found(n) is None]
    if missing:
        pytest.fail("missing " + ", ".join(t.name for t in missing) + ": " + toolreg.install_hint(missing),
                    pytrace=False)
    return [toolreg.which(n) for n in names]


def _found(name: str) -> str | None:
    try:
        return toolreg.which(name)
    except toolreg.ToolMissing:
        return None


@pytest.fixture(autouse=True)
def _numpy_default_errors():
    """numpy's default floating-point error handling for every test: emlearn sets
    np.seterr(all="raise") when imported, which would otherwise leak into whatever test runs next
    in the same worker."""
    import numpy as np
    with np.errstate(divide="warn", over="warn", under="ignore", invalid="warn"):
        yield
