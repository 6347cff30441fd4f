"""Copy the built modules (and the example model files) to a board with mpremote, after checking
that the board's MicroPython can load them; without --port, "deploy" to the unix port: copy into a
local folder that stands for the board's filesystem and import every module there.

    make deploy PORT=/dev/ttyACM0 ARCH=armv6m [MODULES=emltrees], or by hand (tools/pythonpath.py):
    PYTHONPATH=tools:toolchain python tools/deploy.py --arch armv6m --port /dev/ttyACM0 [--modules emltrees,emlfft]
    PYTHONPATH=tools:toolchain python tools/deploy.py --arch x64     # unix port, folder build/unix-device
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import board
from modules import MODULES
import toolreg
from mpyld.arches import ARCHES

ROOT = Path(__file__).resolve().parent.parent


def files_for(arch: str, modules: list[str]) -> list[Path]:
    dist = ROOT / "dist" / arch
    missing = [m for m in modules if not (dist / f"{m}.mpy").exists()]
    if missing:
        raise SystemExit(f"not built: {', '.join(f'dist/{arch}/{m}.mpy' for m in missing)}; run `make`")
    return [dist / f"{m}.mpy" for m in modules]


def example_models(workdir: Path) -> list[Path]:
    """The XOR example's model, trained now on the host (by the example's own script)."""
    path = workdir / "xor_model.bin"
    subprocess.run([sys.executable, str(ROOT / "examples" / "xor_trees" / "xor_train.py"), str(path)], check=True)
    return [path]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, choices=sorted(ARCHES))
    ap.add_argument("--port", default=None)
    ap.add_argument("--modules", default=",".join(MODULES))
    args = ap.parse_args(argv)
    modules = [m for m in args.modules.replace(" ", ",").split(",") if m]
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        raise SystemExit(f"unknown module(s) {unknown}; choose from {', '.join(MODULES)}")
    files = files_for(args.arch, modules)
    stage = ROOT / "build" / "deploy"
    stage.mkdir(parents=True, exist_ok=True)
    files += example_models(stage)
    try:
        if args.port:
            dev = board.Board(args.port)
            dev.require_arch(args.arch)
            dev.copy(files)
            print(f"copied {len(files)} files to the board on {args.port}")
            return 0
        if args.arch != "x64":
            raise SystemExit(f"the unix port loads x64 modules, not {args.arch}: give PORT=<serial port>")
        target = ROOT / "build" / "unix-device"
        target.mkdir(parents=True, exist_ok=True)
        for f in files:
            shutil.copy(f, target)
        code = "import " + ", ".join(modules) + "\nprint('imported', %r)" % ",".join(modules)
        r = subprocess.run([toolreg.which("micropython"), "-c", code], cwd=target,
                           env=dict(os.environ, MICROPYPATH=str(target)), capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise SystemExit(f"deployed modules failed to import on the unix port:\n{r.stderr}")
        print(f"copied {len(files)} files to {target.relative_to(ROOT)}; {r.stdout.strip()}")
        return 0
    except board.BoardError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
