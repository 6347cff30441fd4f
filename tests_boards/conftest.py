"""Shared set-up for tests_boards/: the firmware folder comes from the FIRMWARE environment variable
(`make check-boards FIRMWARE=<dir>` sets it). Without it the tests fail, never skip."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def firmware() -> Path:
    value = os.environ.get("FIRMWARE")
    if not value:
        pytest.fail("FIRMWARE is not set: run `make check-boards FIRMWARE=<dir>` (docs/boards.md)", pytrace=False)
    return Path(value)
