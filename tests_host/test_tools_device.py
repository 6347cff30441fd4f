"""The device workflow tools (tools/board.py, tools/deploy.py) against the real unix-port binary."""
from __future__ import annotations

import subprocess
from pathlib import Path

import board
import pytest
import pythonpath
from mpyld.abi import ARCH_CODES, MPY_SUB_VERSION, MPY_VERSION

import upy


def _unix_mpy() -> int:
    r = subprocess.run([str(upy.MICROPYTHON), "-c", "import sys; print(sys.implementation._mpy)"],
                       capture_output=True, text=True, timeout=30)
    return int(r.stdout)


def test_decode_the_unix_ports_mpy_value() -> None:
    assert board.decode_mpy(_unix_mpy()) == (MPY_VERSION, MPY_SUB_VERSION, ARCH_CODES["x64"])
    board.check_arch(*board.decode_mpy(_unix_mpy()), "x64")


def test_wrong_arch_is_refused_before_copying_and_the_loader_agrees(tmp_path: Path) -> None:
    upy.ensure_modules()
    with pytest.raises(board.BoardError, match="needs ARCH=x64"):
        board.check_arch(*board.decode_mpy(_unix_mpy()), "armv6m")
    # the real loader refuses that file too, with MicroPython's own message
    armv6m = upy.build_mpy("emliir", "armv6m")
    (tmp_path / "emliir.mpy").write_bytes(armv6m.read_bytes())
    r = subprocess.run([str(upy.MICROPYTHON), "-c", "import emliir"], cwd=tmp_path, capture_output=True, text=True,
                       env={"MICROPYPATH": str(tmp_path)}, timeout=30)
    assert "ValueError: incompatible .mpy arch" in r.stdout + r.stderr


def test_thumb_firmware_loads_older_thumb_modules() -> None:
    # MicroPython's rule: a Thumb firmware accepts armv6m .. its own arch
    assert board.accepts(ARCH_CODES["armv7emsp"], ARCH_CODES["armv6m"])
    assert not board.accepts(ARCH_CODES["armv6m"], ARCH_CODES["armv7m"])
    with pytest.raises(board.BoardError, match="ARCH=armv6m"):
        board.check_arch(MPY_VERSION, MPY_SUB_VERSION, ARCH_CODES["armv6m"], "armv7emsp")


def test_old_firmware_and_no_native_support_are_named() -> None:
    with pytest.raises(board.BoardError, match="update the firmware"):
        board.check_arch(MPY_VERSION, MPY_SUB_VERSION - 1, ARCH_CODES["armv6m"], "armv6m")
    with pytest.raises(board.BoardError, match="cannot load native code"):
        board.check_arch(MPY_VERSION, MPY_SUB_VERSION, ARCH_CODES["none"], "armv6m")


def test_deploy_to_unix_port_and_missing_board() -> None:
    upy.ensure_modules()
    py = str(upy.REPO / ".venv" / "bin" / "python")
    r = subprocess.run([py, "tools/deploy.py", "--arch", "x64"], cwd=upy.REPO, capture_output=True, text=True,
                       env=pythonpath.env(), timeout=120)
    assert r.returncode == 0 and f"imported {','.join(upy.MODULES)}" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([py, "tools/deploy.py", "--arch", "armv6m", "--port", "/dev/ttyNOPE0"], cwd=upy.REPO,
                       capture_output=True, text=True, env=pythonpath.env(), timeout=120)
    assert r.returncode == 2 and "found no board" in r.stderr, r.stderr
