"""The native modules the project builds, in build order: read from the Makefile's NATMOD_MODULE
lines, so that a new module is added in one place (its Makefile line) and every tool, test and
benchmark that walks "all modules" sees it."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def modules(makefile: Path = ROOT / "Makefile") -> tuple[str, ...]:
    """Module names (e.g. "emltrees"), each built to dist/<arch>/<name>.mpy."""
    found = re.findall(r"^\$\(eval \$\(call NATMOD_MODULE,(\w+),", makefile.read_text(), re.M)
    if not found:
        raise RuntimeError(f"{makefile}: no NATMOD_MODULE lines")
    return tuple(found)


MODULES = modules()
