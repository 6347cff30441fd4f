"""One board under QEMU running bench_boards' device scripts through mpremote, as on a real board.

`Session(board_dir)` starts the board (tools/qemu_boards.py, always stopped on exit) and
`run(script, params, folder)` runs a device script with `mpremote connect PORT mount FOLDER run
SCRIPT` (tools/board.py): one
mpremote invocation per script, so each script starts from mpremote's soft reset (a fresh heap,
nothing imported). The script gets its parameters as a first line `PARAMS = {...}`.

A script prints `RESULT key=value ...` lines (merged into Outcome.values) and other lines whose first
word is a tag (`LAYOUT`, `PRED`, `NOFIT`: Outcome.tags). With `counts` (the instruction-count
plugin's output file, tools/insncount.py) Outcome.counts holds the counts the script produced. A
script that fails or outlives `timeout` is reported in Outcome.error; if the board then no longer
answers it is power-cycled (QEMU restarted) so the next script still runs.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import board
import insncount
import qemu_boards

ROOT = Path(__file__).resolve().parents[2]


TAGS = {"LAYOUT", "PRED", "PRED_OUT", "NOFIT", "VERSION"}
BOOT_TIMEOUT_S = 30


@dataclass
class Outcome:
    values: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    counts: list[int] = field(default_factory=list)
    error: str = ""
    output: str = ""


def parse(output: str) -> tuple[dict[str, str], dict[str, str]]:
    values: dict[str, str] = {}
    tags: dict[str, str] = {}
    for line in output.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "RESULT":
            values.update(kv.split("=", 1) for kv in rest.split() if "=" in kv)
        elif word in TAGS:
            tags[word] = rest
    return values, tags


def last_line(output: str) -> str:
    lines = [x.strip() for x in output.strip().splitlines() if x.strip()]
    return lines[-1] if lines else "(no output)"


class Session:
    def __init__(self, board_dir: Path, extra: list[str] = (), counts: Path | None = None,
                 timeout: float = 180) -> None:
        self.qemu = qemu_boards.Qemu(board_dir, extra=list(extra))
        self._scripts = tempfile.TemporaryDirectory(prefix="bench-boards-")
        self.counts_file = counts
        self.timeout = timeout
        self._seen = 0
        self.restarts = 0

    def __enter__(self) -> "Session":
        self.qemu.start()
        self.dev = board.Board(self.qemu.port)
        return self

    def __exit__(self, *exc: object) -> None:
        self.qemu.stop()
        self._scripts.cleanup()

    def arch(self) -> tuple[str, str]:
        """(arch to load, MicroPython version line) as the board reports them. Raises
        board.BoardError if the board does not answer at its REPL within BOOT_TIMEOUT_S."""
        if not self.dev.responsive(BOOT_TIMEOUT_S):
            raise board.BoardError(f"no answer at the REPL within {BOOT_TIMEOUT_S} s; {self.qemu.state()}")
        version, sub, number = self.dev.mpy_info()
        arch = board.best_arch(number)
        board.check_arch(version, sub, number, arch)
        script = self._script("version", "import sys\nprint('VERSION', sys.version)\n", {})
        _, out = self.dev.run(script, timeout=30)
        return arch, parse(out)[1].get("VERSION", "?")

    def _script(self, stem: str, text: str, params: dict) -> Path:
        path = Path(self._scripts.name) / f"{stem}.py"
        path.write_text(f"PARAMS = {params!r}\n{text}")
        return path

    def run(self, script: Path, params: dict, folder: Path) -> Outcome:
        """Run a device script with `folder` mounted as the board's current folder."""
        path = self._script(script.stem, script.read_text(), params)
        rc, out = self.dev.run(path, mount=folder, timeout=self.timeout)
        values, tags = parse(out)
        res = Outcome(values, tags, output=out)
        if self.counts_file is not None:
            allc = insncount.read_counts(self.counts_file)
            res.counts, self._seen = allc[self._seen:], len(allc)
        if rc != 0 or "Traceback" in out:
            res.error = f"exit {rc}: {last_line(out)}"
            if not self.qemu.alive() or not self.dev.responsive():
                res.error += f" [{self.qemu.state()}; board power-cycled]"
                self.qemu.restart()
                self.dev = board.Board(self.qemu.port)
                self._seen = 0
                self.restarts += 1
        return res
