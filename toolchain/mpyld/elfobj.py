"""Reading inputs: ELF relocatable objects (pyelftools), ar archives, GNU ld scripts.

Everything is decoded once into the plain objects of ``linktypes`` (InputSection, Symbol,
Reloc) so the linker and the arch modules never touch pyelftools directly.
"""
from __future__ import annotations

import io
import re
import struct
from pathlib import Path
from typing import Optional

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from .arch import Arch
from .errors import LinkError
from .linktypes import InputSection, Reloc, Symbol


class ObjectFile:
    """One relocatable ELF object (a file or an archive member)."""

    def __init__(self, name: str, data: bytes, arch: Arch, member: bool = False):
        self.name = name
        self.member = member  # an archive member (a library's code, not the module's own)
        self.sections: dict[int, InputSection] = {}
        self.symbols: list[Symbol] = []
        try:
            elf = ELFFile(io.BytesIO(data))
            self._load(elf, arch)
        except LinkError:
            raise
        except (ELFError, struct.error, ValueError, KeyError, IndexError, AssertionError) as exc:
            raise LinkError(f"{name}: corrupt or unreadable ELF object ({exc})") from exc

    def _load(self, elf: ELFFile, arch: Arch) -> None:
        machine = elf["e_machine"]
        if machine != arch.e_machine or elf.elfclass != arch.elfclass:
            raise LinkError(f"{self.name}: object is for {machine} ({elf.elfclass}-bit), "
                            f"but arch '{arch.name}' needs {arch.e_machine} ({arch.elfclass}-bit): "
                            f"wrong-arch object")
        if elf["e_type"] != "ET_REL":
            raise LinkError(f"{self.name}: not a relocatable object (e_type {elf['e_type']})")
        arch.check_object(self.name, elf)
        for idx, sec in enumerate(elf.iter_sections()):
            if not sec["sh_flags"] & 2:  # SHF_ALLOC
                continue
            sh_type = sec["sh_type"]
            name = sec.name
            blob = arch.blob_for_section(name, sh_type, sec["sh_flags"])
            size = sec["sh_size"]
            if blob is None:
                writable = sec["sh_flags"] & 1
                if writable and size and sh_type in ("SHT_PROGBITS",) and name.startswith((".data", ".sdata")):
                    what = (f"section {name} holds initialised writable data ({size} bytes), which native "
                            f"modules on {arch.name} cannot have (their code is not writable memory, and bss "
                            f"is allocated apart from it)")
                    if self.member:
                        raise LinkError(f"{self.name}: {what}: this library code cannot be linked into a "
                                        f"native module")
                    raise LinkError(f"{self.name}: {what}: make it const, or zero-initialised (bss), or "
                                    f"allocate it at run time")
                if name.startswith((".tdata", ".tbss")) and size:
                    raise LinkError(f"{self.name}: thread-local data ({name}) is not supported: a native module "
                                    f"has no thread-local storage" + (" (a C library's errno, for one); this "
                                                                       "library code cannot be linked into a "
                                                                       "native module" if self.member else ""))
                if name.startswith((".init_array", ".preinit_array", ".ctors")) and size:
                    raise LinkError(f"{self.name}: static constructors ({name}) are not supported: "
                                    f"a native module only runs mpy_init")
                continue
            data = bytearray(size) if sh_type == "SHT_NOBITS" else bytearray(sec.data())
            self.sections[idx] = InputSection(self, idx, name, sh_type, sec["sh_flags"], size,
                                              max(1, sec["sh_addralign"]), data, blob)
        symtab = elf.get_section_by_name(".symtab")
        if symtab is not None:
            for s in symtab.iter_symbols():
                shndx = s["st_shndx"]
                if shndx == "SHN_COMMON":
                    raise LinkError(f"{self.name}: common symbol '{s.name}': compile with -fno-common")
                sec = self.sections.get(shndx) if isinstance(shndx, int) else None
                self.symbols.append(Symbol(s.name, self, sec, s["st_value"], s["st_info"]["bind"],
                                           s["st_info"]["type"], shndx, s["st_size"]))
        for rsec in elf.iter_sections():
            if not isinstance(rsec, RelocationSection):
                continue
            target = self.sections.get(rsec["sh_info"])
            if target is None:
                continue  # relocations of a dropped section
            is_rela = rsec.is_RELA()
            for r in rsec.iter_relocations():
                sym = self.symbols[r["r_info_sym"]]
                target.relocs.append(Reloc(self.name, target, r["r_offset"], r["r_info_type"], sym,
                                           r["r_addend"] if is_rela else None))

    def defined_globals(self) -> list[Symbol]:
        return [s for s in self.symbols if s.is_global and not s.undefined and s.name]


# ---------------------------------------------------------------------------
# Archives


class Archive:
    """A System V / GNU ``ar`` archive: member index and lazy member loading."""

    def __init__(self, path: Path, data: bytes):
        self.path = path
        self.data = data
        self.members: dict[int, tuple[str, int, int]] = {}  # header offset -> (name, start, size)
        self.symbol_index: dict[str, int] = {}  # symbol -> header offset
        self._parse()

    def _parse(self) -> None:
        data = self.data
        if not data.startswith(b"!<arch>\n"):
            raise LinkError(f"{self.path}: not an ar archive")
        pos = 8
        longnames = b""
        armap: Optional[tuple[bytes, int]] = None
        while pos + 60 <= len(data):
            hdr = data[pos:pos + 60]
            if hdr[58:60] != b"`\n":
                raise LinkError(f"{self.path}: corrupt archive member header at offset {pos}")
            raw_name = hdr[0:16].decode("latin-1").rstrip()
            size = int(hdr[48:58].decode("ascii").strip() or 0)
            start = pos + 60
            if raw_name == "/":
                armap = (data[start:start + size], 4)
            elif raw_name == "/SYM64/":
                armap = (data[start:start + size], 8)
            elif raw_name == "//":
                longnames = data[start:start + size]
            else:
                if raw_name.startswith("/") and raw_name[1:].isdigit():
                    off = int(raw_name[1:])
                    end = longnames.index(b"/\n", off) if b"/\n" in longnames[off:] else longnames.index(b"\n", off)
                    name = longnames[off:end].decode("latin-1")
                else:
                    name = raw_name[:-1] if raw_name.endswith("/") else raw_name
                self.members[pos] = (name, start, size)
            pos = start + size + (size & 1)
        if armap is not None:
            blob, w = armap
            fmt = ">I" if w == 4 else ">Q"
            (count,) = struct.unpack_from(fmt, blob, 0)
            offs = [struct.unpack_from(fmt, blob, w + i * w)[0] for i in range(count)]
            names = blob[w + count * w:].split(b"\0")
            for off, nm in zip(offs, names):
                self.symbol_index.setdefault(nm.decode("latin-1"), off)

    def member_defining(self, name: str, arch: Arch, cache: dict) -> Optional["ObjectFile"]:
        off = self.symbol_index.get(name)
        if off is None and not self.symbol_index:
            for moff in self.members:  # no index: scan members
                obj = self.load(moff, arch, cache)
                if obj and any(s.name == name for s in obj.defined_globals()):
                    return obj
            return None
        return None if off is None else self.load(off, arch, cache)

    def load(self, off: int, arch: Arch, cache: dict) -> Optional["ObjectFile"]:
        key = (str(self.path), off)
        if key not in cache:
            name, start, size = self.members[off]
            cache[key] = ObjectFile(f"{self.path}({name})", self.data[start:start + size], arch, member=True)
        return cache[key]


_LDSCRIPT_RE = re.compile(r"\b(?:GROUP|INPUT)\s*\(([^)]*(?:\([^)]*\)[^)]*)*)\)", re.S)


def load_library(path: Path) -> list[Archive]:
    """An archive, or a GNU ld script naming archives (GROUP/INPUT)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LinkError(f"cannot read library {path}: {exc.strerror}") from exc
    if data.startswith(b"!<arch>\n"):
        return [Archive(path, data)]
    text = data.decode("latin-1")
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    groups = _LDSCRIPT_RE.findall(text)
    if not groups:
        raise LinkError(f"{path}: neither an ar archive nor a GNU ld script")
    out: list[Archive] = []
    for g in groups:
        for tok in re.sub(r"AS_NEEDED\s*\(|\)", " ", g).replace(",", " ").split():
            p = Path(tok)
            if not p.is_absolute():
                p = path.parent / p
            if p.suffix == ".so" or ".so." in p.name:
                continue
            out.extend(load_library(p))
    return out
