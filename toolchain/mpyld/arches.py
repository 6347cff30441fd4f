"""Registry of arch modules: arch name -> "module:Class" (imported lazily).

An optional module that is absent (e.g. arch_xtensa while it is being
written) only makes its own arch names unavailable.
"""
from __future__ import annotations

import importlib

from .arch import Arch
from .errors import LinkError

ARCHES: dict[str, str] = {
    "x64": "arch_x64:ArchX64",
    "armv6m": "arch_arm:ArchArmv6m",
    "armv7m": "arch_arm:ArchArmv7m",
    "armv7emsp": "arch_arm:ArchArmv7emsp",
    "rv32imc": "arch_rv32:ArchRv32imc",
    "xtensa": "arch_xtensa:ArchXtensa",
    "xtensawin": "arch_xtensa:ArchXtensawin",
}


def get_arch(name: str) -> Arch:
    """Instantiate the arch module registered under ``name``."""
    spec = ARCHES.get(name)
    if spec is None:
        raise LinkError(f"unknown arch '{name}' (known: {', '.join(sorted(ARCHES))})")
    modname, clsname = spec.split(":")
    try:
        mod = importlib.import_module(f"{__package__}.{modname}")
    except ModuleNotFoundError as exc:
        raise LinkError(f"arch '{name}' is not available: module mpyld.{modname} missing ({exc})") from exc
    return getattr(mod, clsname)()
