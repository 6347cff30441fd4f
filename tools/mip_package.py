"""Write dist/<arch>/package.json for every built arch: a MicroPython `mip` package listing the
modules with URLs relative to the package.json, so either of

    mpremote mip install dist/armv6m/package.json                 (from this checkout)
    mpremote mip install https://<host>/<path>/dist/armv6m/package.json

installs every module on a board (the target folder defaults to /lib).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from modules import MODULES

ROOT = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"


def write(dist: Path) -> list[Path]:
    written = []
    for arch_dir in sorted(p for p in dist.iterdir() if p.is_dir()):
        mods = [m for m in MODULES if (arch_dir / f"{m}.mpy").exists()]
        if not mods:
            continue
        pkg = {"urls": [[f"{m}.mpy", f"{m}.mpy"] for m in mods], "version": VERSION}
        out = arch_dir / "package.json"
        out.write_text(json.dumps(pkg, indent=1) + "\n")
        written.append(out)
    return written


if __name__ == "__main__":
    for p in write(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"):
        print(p)
