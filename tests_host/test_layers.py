"""The allowed import directions between the repository's folders, read from the sources themselves.

C (`#include`):
* cores/ includes only cores/ headers and the C99 freestanding headers (cores/README.md);
* src/ includes only src/, cores/ and the kit's public header (toolchain/include), plus those headers;
* toolchain/ C includes only toolchain/ headers (its ABI header, its runtime's) and those headers.
Python (every import statement: module level, in functions, under TYPE_CHECKING):
* python/emlmpy imports nothing from toolchain/, tools/, tests_host/;
* toolchain/ imports nothing from python/, tools/, tests_host/;
* tools/, benchmarks/, examples/ import nothing from tests_host/ (tools/ may import toolchain/);
* no import cycle inside python/emlmpy or inside toolchain/mpyld;
* nothing edits sys.path: imports go through PYTHONPATH, which the Makefiles, pytest.ini and
  tools/pythonpath.py state alike.
Folders: every folder has a README.md, and every README says what its folder may depend on.
"""
from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pythonpath

ROOT = Path(__file__).resolve().parents[1]
FREESTANDING = {"float.h", "iso646.h", "limits.h", "stdarg.h", "stdbool.h", "stddef.h", "stdint.h"}  # C99 §4
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
# Where a quoted include may resolve (after the including file's own folder), per folder: the -I paths
# of the builds (Makefile CORE_CFLAGS, toolchain/natmod.mk) restricted to what the folder may use.
C_RULES = {
    "cores": ("cores",),
    "src": ("src", "cores", "toolchain/include"),
    "toolchain": ("toolchain/include", "toolchain/runtime"),
}
# A module that asks the kit for the C library (NATMOD_MODULE's 4th argument `m c`,
# toolchain/PORTING.md) may include the C99 hosted headers: the kit's own libc test module.
LIBC_USERS = {"toolchain/tests/compat/libmod.c"}
HOSTED = FREESTANDING | {"assert.h", "ctype.h", "errno.h", "math.h", "stdio.h", "stdlib.h", "string.h"}
SKIP_DIRS = {".git", ".venv", ".pytest_cache", "__pycache__", "build", "dist", "tmp"}


def _c_sources(folder: str) -> list[Path]:
    return sorted(p for ext in ("*.c", "*.h") for p in (ROOT / folder).rglob(ext))


def include_problems(path: Path, allowed: tuple[str, ...], root: Path = ROOT) -> list[str]:
    """Includes of one C file that leave the allowed folders or name a non-freestanding system header."""
    out = []
    roots = [(root / a).resolve() for a in allowed]
    for kind, name in INCLUDE.findall(path.read_text(errors="replace")):
        if kind == "<":
            if name not in (HOSTED if path.relative_to(root).as_posix() in LIBC_USERS else FREESTANDING):
                out.append(f"{path.relative_to(root)}: #include <{name}> is not a C99 freestanding header")
            continue
        found = [c.resolve() for c in [path.parent / name, *(r / name for r in roots)] if c.is_file()]
        if not found:
            out.append(f'{path.relative_to(root)}: #include "{name}" is found in none of {", ".join(allowed)}')
        elif not any(r in f.parents for f in found[:1] for r in roots):
            out.append(f'{path.relative_to(root)}: #include "{name}" reaches {found[0].relative_to(root)}, '
                       f"outside {', '.join(allowed)}")
    return out


def test_c_includes_follow_the_layers() -> None:
    problems = [p for folder, allowed in C_RULES.items() for src in _c_sources(folder)
                for p in include_problems(src, allowed)]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- Python
def _py_sources(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if not SKIP_DIRS & set(p.parts))


def imports(path: Path) -> list[tuple[int, int, str]]:
    """Every import in a file: (line, relative level, module as written), names included for
    `from X import a` as X.a (a may be a submodule)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, 0, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            out += [(node.lineno, node.level, f"{base}.{a.name}" if base else a.name) for a in node.names]
    return out


def top_level_modules(folder: str) -> set[str]:
    """Names a folder provides on the import path: its modules and packages."""
    d = ROOT / folder
    return {p.stem for p in d.glob("*.py")} | {p.name for p in d.iterdir() if (p / "__init__.py").is_file()}


def forbidden_imports(folder: str, banned: set[str]) -> list[str]:
    out = []
    for src in _py_sources(folder):
        for line, level, mod in imports(src):
            if level == 0 and mod.split(".")[0] in banned:
                out.append(f"{src.relative_to(ROOT)}:{line}: imports {mod}")
    return out


PROVIDES = {f: top_level_modules(f) for f in ("python", "toolchain", "tools", "tests_host")}


def test_folders_provide_distinct_module_names() -> None:
    """The rules below tell folders apart by module name: no name may come from two folders."""
    names = [n for mods in PROVIDES.values() for n in mods]
    assert len(names) == len(set(names)), sorted(n for n in set(names) if names.count(n) > 1)


def test_python_imports_follow_the_layers() -> None:
    p = PROVIDES
    problems = (forbidden_imports("python", p["toolchain"] | p["tools"] | p["tests_host"])
                + forbidden_imports("toolchain", p["python"] | p["tools"] | p["tests_host"])
                + [x for f in ("tools", "benchmarks", "examples") for x in forbidden_imports(f, p["tests_host"])])
    assert not problems, "\n".join(problems)


def module_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> package modules it imports (any import statement; `from . import x` counts x when x is
    a module of the package, else the package's __init__)."""
    pkg = package_dir.name
    modules = {p.stem for p in package_dir.glob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for m in modules:
        for _, level, mod in imports(package_dir / f"{m}.py"):
            parts = mod.split(".")
            if level == 0 and parts[0] == pkg:
                parts = parts[1:]
            elif level != 1:
                continue  # outside this package
            target = parts[0] if parts and parts[0] in modules else "__init__"
            if target in modules and target != m:
                graph[m].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for t in sorted(graph.get(n, ())):
            if state.get(t) == 1:
                return path[path.index(t):] + [t]
            if t not in state and (c := visit(t)):
                return c
        state[n] = 2
        path.pop()
        return None

    for n in sorted(graph):
        if n not in state and (c := visit(n)):
            return c
    return None


def test_no_import_cycles_in_the_packages() -> None:
    for pkg in (ROOT / "python" / "emlmpy", ROOT / "toolchain" / "mpyld"):
        cycle = find_cycle(module_graph(pkg))
        assert cycle is None, f"{pkg.relative_to(ROOT)}: import cycle {' -> '.join(cycle)}"


def sys_path_edits(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        target = node.func.value if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else None
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            target = next((t.value for t in targets if isinstance(t, ast.Subscript)), None) or \
                next((t for t in targets if isinstance(t, ast.Attribute)), None)
        if isinstance(target, ast.Attribute) and target.attr == "path" and isinstance(target.value, ast.Name) \
                and target.value.id == "sys":
            out.append(f"{path.relative_to(ROOT)}:{node.lineno}: edits sys.path")
    return out


def test_nothing_edits_sys_path_and_the_import_path_is_stated_alike() -> None:
    problems = [p for f in ("python", "toolchain", "tools", "tests_host", "tests_boards", "benchmarks", "examples")
                for src in _py_sources(f) for p in sys_path_edits(src)]
    assert not problems, "\n".join(problems)
    folders = [f.relative_to(ROOT).as_posix() for f in pythonpath.FOLDERS]
    assert folders == ["tools", "toolchain", "python"]
    ini = re.search(r"^pythonpath\s*=\s*(.+)$", (ROOT / "pytest.ini").read_text(), re.M).group(1).split()
    assert ini[:len(folders)] == folders
    want = ":".join(f"$(ROOT)/{f}" for f in folders)
    assert f"export PYTHONPATH := {want.replace('$(ROOT)', '$(CURDIR)')}" in (ROOT / "Makefile").read_text()
    assert f"PYTHONPATH={want} " in (ROOT / "examples" / "example.mk").read_text()


# ---------------------------------------------------------------- folders
def folders() -> list[Path]:
    """Every folder of the repository that holds files (generated and tool folders left out)."""
    out = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        if files:
            out.append(Path(top))
    return out


def test_every_folder_has_a_readme_that_states_its_dependencies() -> None:
    missing = [d.relative_to(ROOT).as_posix() for d in folders() if not (d / "README.md").is_file()]
    assert not missing, "folders without README.md: " + ", ".join(missing)
    silent = [d.relative_to(ROOT).as_posix() or "." for d in folders()
              if not re.search(r"depend", (d / "README.md").read_text(), re.I)]
    assert not silent, "READMEs that do not say what their folder may depend on: " + ", ".join(silent)
