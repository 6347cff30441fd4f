"""Every cores/*.c compiles warning-free for armv6m (Cortex-M0, no FPU); the tree walk of
emlc_trees.c calls no soft-float routine; and the armv6m build of emlc_trees.c, run in unicorn,
predicts exactly like the host build.

The soft-float check reads the call graph from relocations (objdump -dr, one section per function
with -ffunction-sections): functions reachable from the integer-only classification path
(classify_int: CLASS leaves; it calls leaf_of, the per-node walk) and the validator must
reach no __aeabi_f* / __aeabi_d* routine.
"""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import toolreg

import treeconv as tc

ROOT = Path(__file__).resolve().parent.parent
CORES = ROOT / "cores"
CC = toolreg.which("arm-none-eabi-gcc")
FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-mcpu=cortex-m0", "-mthumb",
         "-Os"]
SOFT_FLOAT = re.compile(r"^__aeabi_[fd]|^__(add|sub|mul|div|cmp|eq|ne|lt|le|gt|ge|unord)[sd]f|"
                        r"^__(fix|float)")



def compile_obj(src: Path, out: Path, extra: list[str] | None = None) -> subprocess.CompletedProcess:
    cmd = [CC, *FLAGS, *(extra or []), "-I", str(CORES), "-c", str(src), "-o", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.mark.parametrize("src", sorted(CORES.glob("*.c")), ids=lambda p: p.name)
def test_compiles_for_armv6m(src: Path, tmp_path: Path) -> None:
    res = compile_obj(src, tmp_path / "x.o")
    assert res.returncode == 0 and res.stderr == "", res.stderr


def call_graph(obj: Path) -> dict[str, set[str]]:
    """function -> names it calls (R_ARM_THM_CALL / JUMP24 relocations in its section)."""
    dump = subprocess.run([toolreg.which("arm-none-eabi-objdump"), "-dr", str(obj)], capture_output=True,
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
    assert "vote" in graph and "leaf_of" in graph, sorted(graph)
    # the walk, the hard vote and the PROBA fixed-point decision are integer maths
    for entry in ("vote", "leaf_of", "certain_argmax", "emlc_trees_validate", "emlc_trees_leaf",
                  "emlc_trees_key_f32"):
        bad = sorted(f for f in reachable(graph, entry) if SOFT_FLOAT.search(f))
        assert bad == [], f"{entry} reaches soft-float routines {bad}"
    # the soft-float routines that do appear: float32 sums, divisions by n_trees and by w, argmax
    nm = subprocess.run([toolreg.which("arm-none-eabi-nm"), "-u", str(obj)], capture_output=True, text=True,
                        check=True).stdout.split()
    used = {s for s in nm if SOFT_FLOAT.search(s)}
    assert used <= {"__aeabi_fadd", "__aeabi_fdiv", "__aeabi_fcmpgt", "__aeabi_ui2f"}, used
    assert not any(s.startswith("__aeabi_d") for s in used), used


# ---------------------------------------------------------------- run the armv6m build (unicorn)

class M0:
    """emlc_trees.c built for Cortex-M0 (-Os, soft-float libgcc) and run in unicorn through
    tools/m0emu.py (whose instruction counting is installed before any code runs)."""

    def __init__(self, tmp: Path):
        import m0emu
        elf = m0emu.build([CORES / "emlc_trees.c", CORES / "emlc_f64.c"], tmp / "trees.elf", includes=[CORES],
                          extra=["-std=c99", "-ffp-contract=off"])
        self._m = m0emu.M0(elf)
        self.uc = self._m.uc

    def put(self, data: bytes) -> int:
        return self._m.alloc(data)

    def call(self, name: str, *args: int, count: bool = False) -> tuple[int, int]:
        """Returns (r0 as int32, instructions executed if count else 0)."""
        return self._m.count(name, *args) if count else (self._m.call(name, *args), 0)

    def model(self, m: tc.TreeV2) -> int:
        """The model's struct (counts) in emulated RAM, bound to its block by emlc_trees_bind."""
        blob = m.blob()
        block = self.put(blob[32:])
        head = struct.pack("<5H3B3xI8I", m.n_features, m.n_outputs, m.n_trees, m.n_nodes,
                           m.n_payloads if m.leaf_kind else 0, m.input, m.leaf_kind, int(m.labels is not None),
                           len(m.payload) if m.leaf_kind == tc.LEAF_PROBA else 0, *[0] * 8)
        pm = self.put(head)
        self.call("emlc_trees_bind", pm, block)
        return pm

    def predict(self, pm: int, row: np.ndarray, n_out: int = 0, count: bool = False) -> tuple[int, np.ndarray, int]:
        """(class, out, instructions) of emlc_trees_predict on the M0."""
        pcls, pout = self.put(bytes(4)), self.put(bytes(4 * max(1, n_out)))
        rc, n = self.call("emlc_trees_predict", pm, self.put(row.tobytes()), pout if n_out else 0, n_out, pcls,
                          count=count)
        assert rc == 0, rc
        cls = int(np.frombuffer(self.uc.mem_read(pcls, 4), np.int32)[0])
        return cls, np.frombuffer(self.uc.mem_read(pout, 4 * max(1, n_out)), np.float32)[:n_out], n


def _digits_forest():
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    X, y = load_digits(return_X_y=True)
    est = RandomForestClassifier(n_estimators=10, max_leaf_nodes=100, random_state=0)
    return est.fit(X[::2], y[::2]), X[1::2][:60].astype(np.float32)


def test_armv6m_build_predicts_like_host_and_sklearn(tmp_path: Path) -> None:
    from test_cores_trees import Core
    est, X = _digits_forest()
    m0 = M0(tmp_path)
    for kind, inp in [(tc.LEAF_CLASS, tc.INPUT_F32), (tc.LEAF_CLASS, tc.INPUT_I16),
                      (tc.LEAF_PROBA, tc.INPUT_F32)]:
        m = tc.convert(est, kind, input=inp)
        host = Core(m.blob())
        pm = m0.model(m)
        assert m0.call("emlc_trees_validate", pm, 0)[0] == 0
        xs = tc.quantize(X) if inp == tc.INPUT_I16 else X
        got = [m0.predict(pm, row)[0] for row in xs]
        np.testing.assert_array_equal(got, host.classes(xs))
        if kind == tc.LEAF_PROBA:
            np.testing.assert_array_equal(est.classes_[got], est.predict(X))
            for row in xs[:10]:  # soft-float sums on the M0 equal the host's bit for bit
                cls, p, _ = m0.predict(pm, row, m.n_outputs)
                hcls, hp = host.predict(row, with_out=True)
                assert cls == hcls
                np.testing.assert_array_equal(p, hp)


def test_armv6m_float_walk_cost(tmp_path: Path) -> None:
    """Instructions per visited node for a float-input CLASS forest, per-tree and per-sample work
    included (a regression guard for the benchmark target: <= 0.5x emlearn's float trees). The
    format-2 loop is 16-21 instructions per node: 8-byte nodes with the child shapes in the node
    and scikit-learn's missing-value routing (it was 15 in format 1, without NaN routing)."""
    est, X = _digits_forest()
    m0 = M0(tmp_path)
    pm = m0.model(tc.convert(est, tc.LEAF_CLASS))
    total = visited = 0
    for row in X[:10]:
        total += m0.predict(pm, row, count=True)[2]
        visited += sum(int(e.decision_path(row[None].astype(np.float64)).sum()) - 1
                       for e in est.estimators_)
    per_node = total / visited
    print(f"armv6m: {per_node:.1f} instructions per visited node (float input, CLASS leaves)")
    assert per_node < 30, per_node
