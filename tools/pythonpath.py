"""The folders the repository's own Python code imports from, and the one way it gets them.

Scripts and tests import the repository's modules (tools/*.py, toolchain/mpyld) through PYTHONPATH,
never by editing sys.path:

* the Makefiles export PYTHONPATH=<repo>/tools:<repo>/toolchain:<repo>/python for every recipe
  (examples/*/Makefile too), so `make ...` runs any script; by hand:
  `PYTHONPATH=tools:toolchain:python .venv/bin/python <script>`. python/ comes first so that the
  checkout's emlmpy is the one used even when the venv's editable install points at another
  checkout (a second worktree sharing the venv);
* pytest.ini's `pythonpath` lists the same folders (and tests_host/) for the tests;
* a test that starts a repository script as a child process passes ``env()``.

A script also imports the modules of its own folder (Python puts that folder first on sys.path).
tests_host/test_layers.py checks that the Makefile, pytest.ini and FOLDERS agree. Standard library only.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = (ROOT / "tools", ROOT / "toolchain", ROOT / "python")


def env(*extra: Path) -> dict[str, str]:
    """os.environ with PYTHONPATH = FOLDERS, then ``extra``, then what PYTHONPATH already held."""
    old = os.environ.get("PYTHONPATH", "")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([*map(str, FOLDERS), *map(str, extra), *([old] if old else [])]))
