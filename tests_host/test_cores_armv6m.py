"""Every cores/*.c compiles warning-free for armv6m (Cortex-M0, no FPU), and the tree walk of
emlc_trees.c calls no soft-float routine.

The soft-float check reads the call graph from relocations (objdump -dr, one section per function
with -ffunction-sections): functions reachable from the integer-only classification path
(classify_int: CLASS leaves; it calls leaf_of, the per-node walk) and the validator must
reach no __aeabi_f* / __aeabi_d* routine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORES = ROOT / "cores"
CC = "arm-none-eabi-gcc"
FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-mcpu=cortex-m0", "-mthumb",
         "-Os"]
SOFT_FLOAT = re.compile(r"^__aeabi_[fd]|^__(add|sub|mul|div|cmp|eq|ne|lt|le|gt|ge|unord)[sd]f|"
                        r"^__(fix|float)")



def test_toolchain_present() -> None:
    assert shutil.which(CC), f"{CC} not installed (apt: gcc-arm-none-eabi)"


def compile_obj(src: Path, out: Path, extra: list[str] | None = None) -> subprocess.CompletedProcess:
    cmd = [CC, *FLAGS, *(extra or []), "-I", str(CORES), "-c", str(src), "-o", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.mark.parametrize("src", sorted(CORES.glob("*.c")), ids=lambda p: p.name)
def test_compiles_for_armv6m(src: Path, tmp_path: Path) -> None:
    res = compile_obj(src, tmp_path / "x.o")
    assert res.returncode == 0 and res.stderr == "", res.stderr


def call_graph(obj: Path) -> dict[str, set[str]]:
    """function -> names it calls (R_ARM_THM_CALL / JUMP24 relocations in its section)."""
    dump = subprocess.run(["arm-none-eabi-objdump", "-dr", str(obj)], capture_output=True,
                          text=True, check=True).stdout
    graph: dict[str, set[str]] = {}
    cur = None
    for line in dump.splitlines():
        m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if m:
            cur = m.group(1)
            graph.setdefault(cur, set())
            continue
        m = re.search(r"R_ARM_THM_(CALL|JUMP24|JUMP11)\s+(\S+)", line)
        if m and cur is not None:
            graph[cur].add(m.group(2))
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        f = todo.pop()
        if f not in seen:
            seen.add(f)
            todo.extend(graph.get(f, ()))
    return seen


def test_trees_walk_is_integer_only(tmp_path: Path) -> None:
    obj = tmp_path / "emlc_trees.o"
    res = compile_obj(CORES / "emlc_trees.c", obj, ["-ffunction-sections"])
    assert res.returncode == 0, res.stderr
    graph = call_graph(obj)
    assert "classify_int" in graph, sorted(graph)
    for entry in ("classify_int", "leaf_of", "emlc_trees_validate", "emlc_trees_leaf",
                  "emlc_trees_key_f32"):
        bad = sorted(f for f in reachable(graph, entry) if SOFT_FLOAT.search(f))
        assert bad == [], f"{entry} reaches soft-float routines {bad}"
    # the soft-float routines that do appear are only the once-per-tree sums / divisions
    nm = subprocess.run(["arm-none-eabi-nm", "-u", str(obj)], capture_output=True, text=True,
                        check=True).stdout.split()
    used = {s for s in nm if SOFT_FLOAT.search(s)}
    assert used <= {"__aeabi_fadd", "__aeabi_fdiv", "__aeabi_fcmpgt", "__aeabi_ui2f"}, used
    assert not any(s.startswith("__aeabi_d") for s in used), used
