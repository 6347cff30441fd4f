"""The repository's ignore rules keep what must never be committed out of a `git add -A`: build
output and the Python environment, also as a git worktree has it (.venv a symlink, a file to git:
a `/.venv/` rule missed it and a worktree's symlink was committed, replacing main's .venv)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import toolreg

REPO = Path(__file__).resolve().parents[1]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([toolreg.which("git"), *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout


def test_build_output_and_venv_are_ignored(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    shutil.copy(REPO / ".gitignore", tmp_path / ".gitignore")
    never = ["dist/armv6m/emltrees.mpy", "build/x64/emltrees/emltrees.o", "src/emltrees/emltrees.o",
             "tools/__pycache__/toolreg.cpython-311.pyc", "tests_host/x.mpy"]
    for rel in never:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    (tmp_path / ".venv").symlink_to(tmp_path / "elsewhere")  # a worktree's link to the main checkout's
    git(tmp_path, "add", "-A")
    assert git(tmp_path, "ls-files").split() == [".gitignore"]
    (tmp_path / ".venv").unlink()
    (tmp_path / ".venv" / "bin").mkdir(parents=True)  # a real environment
    (tmp_path / ".venv" / "bin" / "python").write_bytes(b"x")
    git(tmp_path, "add", "-A")
    assert git(tmp_path, "ls-files").split() == [".gitignore"]
