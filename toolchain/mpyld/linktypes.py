"""The plain data the ELF reader (elfobj), the linker (link) and the arch plug-ins (arch_*) share.

elfobj decodes every input once into these objects, so neither the linker nor an arch module ever
touches pyelftools; a :class:`Target` is the linker's answer to "where does this symbol live".
This module imports nothing from the package but the ABI facts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Protocol

from .abi import BLOB_KINDS, KIND_BSS, KIND_RODATA, KIND_TEXT

KIND_ABS = -1  # Target kind of absolute values (weak undefined = 0, SHN_ABS): no loader relocation
_BLOB_OF_KIND = {kind: blob for blob, kind in BLOB_KINDS.items()}


class InputObject(Protocol):
    """What a section or symbol knows of the object it came from (elfobj.ObjectFile)."""

    name: str  # file name, or archive(member)
    sections: dict[int, "InputSection"]  # by ELF section index: the allocated sections kept
    symbols: list["Symbol"]  # the symbol table, in ELF order


@dataclass(eq=False)
class InputSection:
    obj: InputObject
    index: int
    name: str
    sh_type: str
    flags: int
    size: int
    align: int
    data: bytearray
    blob: Optional[str] = None  # "text", "rodata", "bss" or None (dropped)
    out_offset: int = -1  # offset inside its blob, set by layout
    relocs: list["Reloc"] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<{self.obj.name}:{self.name}>"


@dataclass(eq=False)
class Symbol:
    name: str
    obj: InputObject
    section: Optional[InputSection]  # None: undefined, absolute or dropped
    value: int
    bind: str
    type: str
    shndx: object
    size: int = 0  # st_size (functions and objects that declare it)

    @property
    def undefined(self) -> bool:
        return self.shndx == "SHN_UNDEF"

    @property
    def is_global(self) -> bool:
        return self.bind in ("STB_GLOBAL", "STB_WEAK")

    def __repr__(self) -> str:
        return f"<sym {self.name or '(section)'} in {self.obj.name}>"


@dataclass
class Reloc:
    """One input relocation, already decoded from ELF."""

    obj: str  # object file name (archive(member) for archive members)
    section: InputSection  # the section being patched
    offset: int  # offset of the patched bytes inside ``section``
    type: int
    symbol: Symbol
    addend: Optional[int]  # None for REL (addend stored in the bytes)


@dataclass(frozen=True)
class Target:
    """Where a resolved symbol lives.

    ``kind`` is a loader relocation kind (``abi.KIND_*``) or :data:`KIND_ABS`.  For the internal
    kinds (text, rodata, bss) ``offset`` is the byte offset inside that blob (Thumb code symbols
    keep bit 0); for an absolute symbol it is its value; for the external kinds it is 0.
    """

    kind: int
    offset: int = 0
    name: str = ""

    @property
    def internal(self) -> bool:
        return self.kind in (KIND_TEXT, KIND_RODATA, KIND_BSS)

    @property
    def blob(self) -> Optional[str]:
        return _BLOB_OF_KIND.get(self.kind)
