"""Every cores/*.c compiles warning-free for armv6m (Cortex-M0, no FPU); the tree walk of
emlc_trees.c calls no soft-float routine; and the armv6m build of emlc_trees.c, run in unicorn,
predicts exactly like the host build.

The soft-float check reads the call graph from relocations (objdump -dr, one section per function
with -ffunction-sections): functions reachable from the tree walk (walk: every tree's leaf, and
the votes of CLASS leaves), the argmax of votes and fixed-point sums and the validator must reach
no __aeabi_f* / __aeabi_d* routine, with the Thumb-1 assembly walk and with the C one
(-DEMLC_NO_ASM).
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


@pytest.mark.parametrize("walk", [[], ["-DEMLC_NO_ASM"]], ids=["asm", "c"])
def test_trees_walk_is_integer_only(tmp_path: Path, walk: list[str]) -> None:
    obj = tmp_path / "emlc_trees.o"
    res = compile_obj(CORES / "emlc_trees.c", obj, ["-ffunction-sections", *walk])
    assert res.returncode == 0, res.stderr
    graph = call_graph(obj)
    assert "walk" in graph, sorted(graph)
    # the walk, the hard vote and the PROBA fixed-point decision are integer maths
    for entry in ("walk", "argmax_u32", "certain_argmax", "emlc_trees_validate", "emlc_trees_leaf",
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

    def __init__(self, tmp: Path, asm: bool = True):
        import m0emu
        elf = m0emu.build([CORES / "emlc_trees.c", CORES / "emlc_trees_check.c", CORES / "emlc_f64.c"], tmp / "trees.elf", includes=[CORES],
                          extra=["-std=c99", "-ffp-contract=off", *([] if asm else ["-DEMLC_NO_ASM"])])
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

    def leaf(self, pm: int, tree: int, px: int) -> int:
        pref = self.put(bytes(4))
        assert self.call("emlc_trees_leaf", pm, tree, px, pref)[0] == 0
        return int(np.frombuffer(self.uc.mem_read(pref, 4), np.uint32)[0])

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


@pytest.mark.parametrize("input, limit", [(tc.INPUT_F32, 25), (tc.INPUT_I16, 20)], ids=["float", "int16"])
def test_armv6m_walk_cost(tmp_path: Path, input: int, limit: float) -> None:
    """Instructions per visited node for a CLASS forest, per-tree and per-sample work included (a
    regression guard for the benchmark targets: <= 0.5x emlearn's float trees). The Thumb-1 walk
    takes 15 instructions per float node to the left and 17-18 to the right (int16: 10, 12-13),
    about 20 per tree; with the per-prediction work that is about 22 (int16 17) per visited node
    on this forest (27 and 21 with the C walk of format 2 at commit 9879a54)."""
    est, X = _digits_forest()
    m0 = M0(tmp_path)
    pm = m0.model(tc.convert(est, tc.LEAF_CLASS, input=input))
    xs = tc.quantize(X) if input == tc.INPUT_I16 else X
    total = visited = 0
    for row, xrow in zip(X[:10], xs[:10]):
        total += m0.predict(pm, xrow, count=True)[2]
        visited += sum(int(e.decision_path(row[None].astype(np.float64)).sum()) - 1
                       for e in est.estimators_)
    per_node = total / visited
    print(f"armv6m: {per_node:.1f} instructions per visited node ({'float' if input == tc.INPUT_F32 else 'int16'} "
          "input, CLASS leaves)")
    assert per_node < limit, per_node


# ---------------------------------------------------------------- the walk on edge cases

F32_SPECIAL = np.array([-np.inf, -3.4028235e38, -2.5, -1.0, -1e-45, -0.0, 0.0, 1e-45, 0.5, 1.0, 2.5,
                        3.4028235e38, np.inf], np.float32)
NAN_BITS = np.array([0x7FC00000, 0x7F800001, 0x7FFFFFFF, 0xFFC00000, 0xFF800001, 0xFFFFFFFF], np.uint32)


def random_model(rng, input: int, leaf_kind: int, n_trees: int, sane: bool) -> tc.TreeV2:
    """Random valid trees of every shape (pass-through nodes where a both-leaf node has a
    reference >= 256), random missing_left bits and features, keys from the float32 specials,
    random floats or ints, and (sane=False) any int32: keys inside the NaN key ranges too."""
    n_features, n_out = 6, (1 if leaf_kind == tc.LEAF_VALUE else 200)
    n_refs = 300 if leaf_kind == tc.LEAF_VALUE else n_out
    if input == tc.INPUT_F32:
        pool = np.concatenate([tc.key_f32(F32_SPECIAL), tc.key_f32(rng.standard_normal(20).astype(np.float32))])
        if not sane:
            pool = np.concatenate([pool, [-2**31, 2**31 - 1, 0x7F800001, 0x7FC00000, -0x7F800002, -0x7FC00000],
                                   rng.integers(-2**31, 2**31, 10)])
    else:
        pool = np.concatenate([[-32769, -32768, -1, 0, 1, 32766, 32767], rng.integers(-40000, 40000, 20)])
        if not sane:
            pool = np.concatenate([pool, [-2**31, 2**31 - 1], rng.integers(-2**31, 2**31, 10)])
    nodes: list = []

    def node(shape: int, c: int) -> tuple:
        ml = int(rng.random() < 0.5) if input == tc.INPUT_F32 else 0
        return (int(rng.choice(pool)), int(rng.integers(n_features)) << 3 | ml << 2 | shape, c)

    def build(depth: int) -> None:
        i = len(nodes)
        nodes.append(None)
        left_leaf, right_leaf = depth == 0 or rng.random() < 0.3, depth == 0 or rng.random() < 0.3
        if left_leaf and right_leaf:
            a, b = (int(r) for r in rng.integers(n_refs, size=2))
            if a < 256 and b < 256:
                nodes[i] = node(3, a | b << 8)
            else:  # a pass-through node: every input goes left there
                nodes[i] = node(1, a)
                nodes.append((tc.INT32_MAX, tc.LEFT_LEAF | tc.MISSING_LEFT, b))
        elif left_leaf:
            nodes[i] = node(1, int(rng.integers(n_refs)))
            build(depth - 1)
        elif right_leaf:
            nodes[i] = node(2, int(rng.integers(n_refs)))
            build(depth - 1)
        else:
            build(depth - 1)
            nodes[i] = node(0, len(nodes) - i)
            build(depth - 1)

    roots = []
    for t in range(n_trees):
        if t % 7 == 3:
            roots.append(-1 - int(rng.integers(n_refs)))  # a tree that is one leaf
        else:
            roots.append(len(nodes))
            build(int(rng.integers(1, 7)))
    if nodes[-1][1] == tc.LEFT_LEAF | tc.MISSING_LEFT and nodes[-1][0] == tc.INT32_MAX:
        nodes.append((0, 3, 0))  # the right child of a final pass-through node must exist
    m = tc.TreeV2(n_features=n_features, n_outputs=n_out, input=input, leaf_kind=leaf_kind,
                  nodes=np.array(nodes, dtype=tc.NODE), roots=np.array(roots, np.int16))
    if leaf_kind == tc.LEAF_VALUE:
        m.values = rng.standard_normal(n_refs).astype(np.float32)
    if input == tc.INPUT_I16:
        m.scale, m.offset = np.ones(n_features, np.float32), np.zeros(n_features, np.float32)
    return m


def random_rows(rng, m: tc.TreeV2, n: int) -> np.ndarray:
    """Inputs that hit thresholds exactly, the specials, NaNs of both signs, random values."""
    keys = m.nodes["key"]
    if m.input == tc.INPUT_I16:
        pool = np.concatenate([[-32768, -1, 0, 1, 32767], np.clip(keys, -32768, 32767), np.clip(keys + 1, -32768, 32767)])
        return rng.choice(pool, size=(n, m.n_features)).astype(np.int16)
    sane = keys[(keys >= tc.key_f32(np.float32(-np.inf))) & (keys <= tc.key_f32(np.float32(np.inf)))]
    bits = sane ^ ((sane >> 31) & 0x7FFFFFFF)  # the floats whose keys are the thresholds
    pool = np.concatenate([F32_SPECIAL, bits.astype(np.int32).view(np.float32), NAN_BITS.view(np.float32),
                           rng.standard_normal(10).astype(np.float32)])
    return rng.choice(pool, size=(n, m.n_features)).astype(np.float32)


def reference_leaf(m: tc.TreeV2, t: int, row: np.ndarray) -> int:
    """docs/model-format.md §1, directly: key(x) <= key goes left; a NaN goes left iff missing_left."""
    i = int(m.roots[t])
    if i < 0:
        return -1 - i
    while True:
        key, fk, c = (int(v) for v in m.nodes[i])
        v = row[fk >> 3]
        if m.input == tc.INPUT_F32:
            left = bool(fk & tc.MISSING_LEFT) if np.isnan(v) else int(tc.key_f32(v)) <= key
        else:
            left = int(v) <= key
        shape = fk & 3
        if left:
            if shape & tc.LEFT_LEAF:
                return c & 0xFF if shape == 3 else c
            i += 1
        else:
            if shape & tc.RIGHT_LEAF:
                return c >> 8 if shape == 3 else c
            i += 1 if shape == 1 else c


@pytest.mark.parametrize("asm", [True, False], ids=["asm", "c"])
def test_armv6m_walk_edge_cases(tmp_path: Path, asm: bool) -> None:
    """The armv6m walk (the Thumb-1 assembly, and the C with -DEMLC_NO_ASM) gives every tree's leaf
    as the host build does and as the format's rule says: all node shapes, pass-through nodes,
    one-leaf trees, inputs equal to thresholds, +-0, +-inf, subnormals and NaNs of both signs
    under both missing_left bits, int16 extremes; the votes (CLASS) and, over more trees than
    one walk chunk, the tree-order float sums (VALUE). Float keys outside key(-inf)..key(+inf)
    (where a NaN would not follow missing_left) are refused by the validator; int16 models with
    any int32 key are compared with the host build only."""
    from test_cores_trees import Core, LoadError
    rng = np.random.default_rng(7)
    m0 = M0(tmp_path, asm=asm)
    for input in (tc.INPUT_F32, tc.INPUT_I16):
        for leaf_kind, n_trees in ((tc.LEAF_CLASS, 24), (tc.LEAF_VALUE, 37)):
            for sane in (True, False):
                m = random_model(rng, input, leaf_kind, n_trees, sane)
                if input == tc.INPUT_F32 and not sane:
                    k = m.nodes["key"].astype(np.int64)
                    ml = (m.nodes["fk"] & tc.MISSING_LEFT) != 0
                    beyond = ((k < -0x7F800001) | (k > 0x7F800000)) & ~((k == tc.INT32_MAX) & ml)
                    if beyond.any():
                        with pytest.raises(LoadError):
                            Core(m.blob())
                        continue
                host = Core(m.blob())  # the C loader validates the model
                pm = m0.model(m)
                assert m0.call("emlc_trees_validate", pm, 0)[0] == 0
                rows = random_rows(rng, m, 25)
                for row in rows:
                    px = m0.put(row.tobytes())
                    got = [m0.leaf(pm, t, px) for t in range(m.n_trees)]
                    assert got == [host.leaf(t, row) for t in range(m.n_trees)], row
                    if sane:
                        assert got == [reference_leaf(m, t, row) for t in range(m.n_trees)], row
                    cls, out, _ = m0.predict(pm, row, m.n_outputs)
                    hcls, hout = host.predict(row, with_out=True)
                    assert cls == hcls
                    np.testing.assert_array_equal(out, hout)
                    if leaf_kind == tc.LEAF_CLASS:
                        assert cls == int(np.argmax(np.bincount(got, minlength=m.n_outputs)))
                    else:
                        f = np.float32(0)
                        for r in got:
                            f = np.float32(f + m.values[r])
                        assert out[0] == np.float32(f / np.float32(m.n_trees))
