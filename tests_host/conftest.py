"""Shared pytest set-up for tests_host/.

A test that needs an external tool fails (it never skips) when the tool is missing, naming the
Debian package: `make check` installs every one of them, and a skipped test must not pass for a
tested one.
"""
from __future__ import annotations

import shutil

import pytest


def require_tools(*pairs: tuple[str, str]) -> None:
    """pairs: (command, Debian package). Fails the calling test if a command is not on PATH."""
    missing = [(cmd, pkg) for cmd, pkg in pairs if shutil.which(cmd) is None]
    if missing:
        pytest.fail("missing " + ", ".join(c for c, _ in missing) + ": apt-get install -y "
                    + " ".join(sorted({p for _, p in missing})) + " (make check installs them)", pytrace=False)
