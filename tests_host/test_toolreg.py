"""The tool registry (tools/toolreg.py) is the only way code here finds an outside command.

* Every command the tests (host and boards), tools, benchmarks and examples run is registered with its package: a
  scan of their sources for the commands they pass to subprocess (and for strings that look like
  tool names: cross compilers, binutils, clang, QEMU) finds none that is not.
* Commands are looked up through the registry (`toolreg.which`), never by a literal name handed to
  subprocess or by `shutil.which`, so a tool that is not registered cannot be used by accident.
* The kit's per-arch compilers (toolchain/arch/*.mk) and their packages are registered.
* `toolreg.py ensure` as a user who may not install stops with one exact install line.
"""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import toolreg

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("tests_host", "tests_boards", "tools", "benchmarks", "examples")
REGISTRY_FILE = ROOT / "tools" / "toolreg.py"

RUNNERS = {"run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput"}
# A string that names a tool of these families is a command, wherever it stands.
TOOL_NAME = re.compile(r"^(?:clang(?:-\d+)?|llc(?:-\d+)?|ld\.lld(?:-\d+)?|llvm-[a-z]+(?:-\d+)?|qemu-[a-z0-9_-]+"
                       r"|[a-z0-9_]+(?:-[a-z0-9_]+)*-(?:gcc|g\+\+|as|ld|ar|nm|objdump|objcopy|size|readelf|strip)"
                       r"|gcc|cc|sox|valgrind|mpremote|mpy-cross|micropython)$")
# Strings that look like tools on purpose: a test of the error for a compiler that does not exist.
NOT_COMMANDS = {"no-such-xtensa-gcc"}
PACKAGES = {p for t in toolreg.TOOLS.values() for p in t.packages}  # Debian package names, not commands


def _sources() -> list[Path]:
    return sorted(p for d in SCANNED for p in (ROOT / d).rglob("*.py") if ".venv" not in p.parts)


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "cmd" or NAME = ["cmd", ...]: NAME -> "cmd"."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            head = _literal_head(node.value)
            if head is not None:
                out[node.targets[0].id] = head
    return out


def _literal_head(node: ast.AST) -> str | None:
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
        node = node.elts[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _command_head(arg: ast.AST, names: dict[str, str]) -> str | None:
    """The command a subprocess call runs, when the source states it as a string."""
    if isinstance(arg, (ast.List, ast.Tuple)) and arg.elts:
        arg = arg.elts[0]
        if isinstance(arg, ast.Starred):
            arg = arg.value
    if isinstance(arg, ast.Subscript):
        arg = arg.value
    if isinstance(arg, ast.Name):
        return names.get(arg.id)
    return _literal_head(arg)


def _call_name(call: ast.Call) -> tuple[str, str]:
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        return f.value.id, f.attr
    if isinstance(f, ast.Name):
        return "", f.id
    return "", ""


def scan(path: Path, root: Path = ROOT) -> list[str]:
    """Problems in one source file, as 'file:line: what' (file relative to root)."""
    tree = ast.parse(path.read_text(), str(path))
    names = _module_strings(tree)
    rel = path.relative_to(root)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and TOOL_NAME.match(node.value) \
                and node.value not in toolreg.TOOLS and node.value not in PACKAGES | NOT_COMMANDS:
            problems.append(f"{rel}:{node.lineno}: {node.value!r} is not in the tool registry")
        if not isinstance(node, ast.Call) or not node.args:
            continue
        mod, fn = _call_name(node)
        if (mod, fn) == ("shutil", "which") and path != REGISTRY_FILE:
            problems.append(f"{rel}:{node.lineno}: shutil.which: look commands up with toolreg.which")
        elif (mod in ("subprocess", "sp") and fn in RUNNERS) or (mod, fn) == ("os", "system"):
            head = _command_head(node.args[0], names)
            if head is not None and path != REGISTRY_FILE:
                why = "registered, but" if head in toolreg.TOOLS else "not in the tool registry, and"
                problems.append(f"{rel}:{node.lineno}: runs {head!r} by name ({why} not through toolreg.which)")
        elif (mod, fn) == ("toolreg", "which"):
            head = _literal_head(node.args[0])
            if head is not None and head not in toolreg.TOOLS:
                problems.append(f"{rel}:{node.lineno}: toolreg.which({head!r}): not in the tool registry")
    return problems


def test_every_command_run_is_registered_and_looked_up() -> None:
    problems = [p for src in _sources() for p in scan(src)]
    assert not problems, "\n".join(problems)


def test_scan_finds_unregistered_and_bypassing_commands(tmp_path: Path) -> None:
    """The scan itself: each way of running a tool past the registry is caught."""
    src = tmp_path / "t.py"
    src.write_text('import shutil, subprocess\nCC = ["frob-elf-gcc", "-O2"]\nLL = "llc-77"\n'
                   'subprocess.run([CC[0], "x.c"])\nsubprocess.run(["make", "-s"])\n'
                   'subprocess.run([*CC, "y.c"])\nshutil.which("gcc")\nsubprocess.run(LL)\n'
                   'toolreg.which("sox-9")\n')
    got = "\n".join(scan(src, tmp_path))
    for what in ("'frob-elf-gcc' is not in the tool registry", "runs 'make' by name (registered",
                 "runs 'frob-elf-gcc' by name (not in", "shutil.which", "'llc-77' is not in",
                 "runs 'llc-77' by name", "toolreg.which('sox-9')"):
        assert what in got, (what, got)


def _mk_assignments(kind: str) -> dict[str, str]:
    out = {}
    for mk in (ROOT / "toolchain" / "arch").glob("*.mk"):
        for m in re.finditer(rf"^NATMOD_{kind}_(\w+)\s*[?:]?=\s*(.+)$", mk.read_text(), re.M):
            out[m.group(1)] = m.group(2).strip()
    return out


def test_kit_compilers_are_registered_with_their_packages() -> None:
    ccs, pkgs, extra = _mk_assignments("CC"), _mk_assignments("PKG"), _mk_assignments("PKG_EXTRA")
    assert set(ccs) >= {"x64", "armv6m", "armv7m", "armv7emsp", "xtensa", "xtensawin", "rv32imc"}
    for arch, cc in ccs.items():
        t = toolreg.tool(cc.split()[0])
        assert pkgs[arch] in t.packages and t.group == "build", (arch, cc, t)
        for pkg in extra.get(arch, "").split():
            assert any(pkg in r.packages for r in toolreg.TOOLS.values() if r.group == "build"), (arch, pkg)


def test_ensure_as_non_installer_names_one_install_line(tmp_path: Path) -> None:
    """With an empty PATH nothing is found: one error line with the exact apt-get command."""
    env = dict(os.environ, PATH=str(tmp_path), NATMOD_NO_INSTALL="1")
    r = subprocess.run([sys.executable, str(REGISTRY_FILE), "ensure", "check"], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    # (C libraries are found by a file they install, not on PATH: they are not missing here)
    want = sorted({p for t in toolreg.needed("check") if not t.probe for p in t.packages})
    assert lines[0].endswith("run as root: apt-get install -y " + " ".join(want)), lines[0]
    assert "clang-19" in want and "qemu-user" in want and "gcc-arm-none-eabi" in want


def test_which_refuses_unregistered_and_names_the_package_of_missing(monkeypatch) -> None:
    name = "cowsay"
    try:
        toolreg.which(name)
    except toolreg.UnregisteredTool as exc:
        assert "not in the tool registry" in str(exc)
    else:
        raise AssertionError("an unregistered tool was looked up")
    monkeypatch.setenv("PATH", "/nonexistent")
    try:
        toolreg.which("clang-19")
    except toolreg.ToolMissing as exc:
        assert "apt-get install -y clang-19" in str(exc)
    else:
        raise AssertionError("clang-19 found with an empty PATH")
