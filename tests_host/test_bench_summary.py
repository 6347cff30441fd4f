"""README.md's "How fast, how exact" figures are the ones benchmarks/report.py renders from the
committed results (benchmarks/summary.py): rendering them again changes nothing, so the README
cannot quote a number the benchmark page does not show."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pythonpath

REPO = Path(__file__).resolve().parents[1]


def test_readme_figures_are_the_rendered_results(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    shutil.copy(REPO / "README.md", readme)
    env = pythonpath.env(REPO / "benchmarks")
    code = "import sys, pathlib, summary; summary.render(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))"
    subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c", code, str(readme),
                    str(REPO / "benchmarks" / "results")], check=True, env=env, timeout=60)
    text = readme.read_text()
    block = text.split("bench-summary: begin")[1].split("bench-summary: end")[0]
    assert block.count("\n- ") >= 5, block  # every results file was found and read
    assert text == (REPO / "README.md").read_text(), "README.md's figures differ from benchmarks/results: run `make bench`"
