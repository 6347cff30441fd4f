"""Architecture plug-in interface of mpyld.

The generic linker (``mpyld.link``) does everything that is the same on every
CPU: it reads ELF objects and archives (pyelftools), decides which archive
members are needed, places input sections into the three output blobs, builds
the GOT, emits the loader relocation stream and writes the ``.mpy``.
Everything that depends on the instruction set lives in an *arch module*: a
subclass of :class:`Arch` (an abstract base: ``trampoline`` and ``apply`` must
be written, every other hook has a default).  The linker hands each hook a
:class:`LinkContext`, the protocol below: the only linker services an arch
module may use.  The data it works on (``Reloc``, ``Target``, ``InputSection``,
``Symbol``) are in ``mpyld.linktypes``, the ABI numbers (``KIND_*``, table
slots) in ``mpyld.abi``; an arch module keeps per-link state only in
``link.cache(name)``, never in module globals or on the linker object.

How the linker drives an arch module (in this order):

1. ``blob_for_section(name, sh_type, sh_flags)`` is asked for every allocated
   input section.  Return ``"text"``, ``"rodata"``, ``"bss"`` or ``None``
   (drop the section and its relocations).  The default puts ``.text*``,
   ``.rodata*``, ``.data.rel.ro*``, ``.srodata*`` into text and
   ``.bss*``/``.sbss*`` into bss; an arch whose text is not byte-readable at
   run time (xtensawin) returns ``"rodata"`` for read-only data.
   Non-empty writable ``.data`` goes into text when ``writable_text`` (ARM,
   x64), else the linker rejects it with a clear error.

2. ``scan(link, rel)`` is called once for every relocation of every kept
   section, *before* any address is known.  Use it to validate the type
   (raise :class:`mpyld.errors.LinkError` via ``link.unsupported(rel)`` for
   anything you do not handle) and to reserve link-time resources:
   ``link.need_got(rel.symbol)`` reserves one GOT word for the symbol (the
   linker pre-fills it with the symbol's blob offset and emits the loader
   relocation for it).  The default implementation reserves a GOT word for
   every type listed in ``got_types`` and rejects types not listed in
   ``reloc_types``.

3. ``text_layout(link, sections)`` returns the order of things placed in the
   text blob *after* the entry trampoline: a list whose items are input
   sections (those with blob ``"text"``) and the markers ``GOT`` and
   ``STUBS``.  Default: sections in input order, then GOT, then STUBS.
   Xtensa puts GOT (and literal sections) first because L32R only reaches
   backwards.  Then, in that order, ``place(link, section, offset)`` is asked
   for each input section's text offset: ``offset`` is the next free one at
   the section's alignment; the arch may return a later one (a multiple of
   the section's alignment), e.g. to keep PC-relative distances off a
   boundary (rv32imc's absolute %hi/%lo pairs).  Default: ``offset``.

4. ``trampoline(entry)`` returns exactly ``trampoline_size`` bytes placed
   at text offset 0 that jump to text offset ``entry`` (``mpy_init``; for
   Thumb ``entry`` has bit 0 clear).  The size is fixed per arch so the
   layout never changes after addresses are computed; use the long form.

5. ``stub(slot)`` returns ``(code, word_offset)``: a small code sequence
   that jumps to the function pointer stored in ``mp_fun_table`` slot
   ``slot``; the linker stores that pointer at ``code[word_offset]`` via a
   loader relocation (kind ``abi.KIND_SLOT0 + slot``).  Used when a module calls
   ``memset``/``memcpy``/``memmove`` without defining them.  Return ``None``
   if the arch resolves such calls another way (e.g. a GOT word holding the
   slot value).  ``stub_align`` is the alignment of each stub.

6. ``apply(link, rel)`` is called for every relocation after layout.  It
   patches bytes with the helpers on ``link``:

   * ``link.P(rel)`` -> (blob, offset) of the relocated location;
   * ``link.target(rel.symbol)`` -> :class:`Target` (where the symbol lives;
     section symbols resolve to the start of their section);
   * ``link.got_offset(rel.symbol)`` -> text offset of its GOT word;
     ``link.got_base`` -> text offset of the GOT;
   * ``link.read(blob, off, n)``/``link.write(blob, off, data)`` and the
     integer helpers ``read_u32/write_u32/read_u16/write_u16``;
   * ``link.abs_word(rel, addend)`` -- the common "pointer-sized absolute
     word" case: stores ``target.offset + addend`` and emits a loader
     relocation of the target's kind (works in text and rodata, for
     internal symbols, ``mp_fun_table``, the qstr table and firmware
     objects given by ``mp_fun_table`` slot);
   * ``link.require_local(rel, target)`` -- raises the clear "static
     reference to bss / external" error for PC-relative forms that cannot
     be fixed by the loader;
   * ``link.cache(name)`` -- a dict that lives as long as this link, for an
     arch module's own indexes (e.g. rv32imc's HI20 relocations by offset).
   For REL objects (ARM) the addend is in the patched bytes
   (``rel.addend is None``); for RELA objects it is ``rel.addend``.

7. ``undefined_hint(names)`` (optional) returns advice for undefined symbols
   (e.g. "double maths is not available on this arch"), or None.

8. Section garbage collection (optional hooks, asked before step 2, while the
   linker decides what is linked): a section is kept if it is reachable
   through relocations from the section of ``mpy_init`` or from a root.
   ``gc_keep(section)`` -> True makes a section a root (default: none besides
   SHF_GNU_RETAIN ones); ``gc_companions(section)`` lists sections of the same
   object that must be kept whenever ``section`` is (Xtensa: the
   ``.literal*`` section of a kept ``.text*`` section).

9. ``merge_sections(link, sections)`` (optional) is called once with the linked
   input sections, after garbage collection and before step 2 (unless the
   linker is told not to merge).  It may merge identical pieces of sections
   by rewriting ``section.data``/``size``/``relocs`` and retargeting the
   relocations that refer to them (never changing what any code computes);
   it returns the number of bytes saved.  Xtensa merges identical literal
   words.

Registration: ``mpyld/arches.py`` holds ``ARCHES``, a dict from arch name to
"module:Class" strings; modules are imported lazily, so a missing optional
module (e.g. ``arch_xtensa``) only breaks its own arch names.  Each class
sets the attributes below.  The interface is stable: add optional hooks with
defaults here rather than changing signatures.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NoReturn, Optional, Protocol, Sequence, Union, runtime_checkable

from .abi import ARCH_CODES
from .linktypes import InputSection, Reloc, Symbol, Target

GOT = "GOT"  # text_layout marker: the GOT goes here
STUBS = "STUBS"  # text_layout marker: the memset/memcpy/... stubs go here


@runtime_checkable
class LinkContext(Protocol):
    """The linker as an arch module sees it (``mpyld.link.Linker`` implements it)."""

    word: int  # bytes per relocated word
    got_base: int  # text offset of the GOT (valid after layout)
    defs: dict[str, Symbol]  # global definitions by name
    blobs: dict[str, bytearray]  # "text", "rodata" (valid after layout)

    def unsupported(self, rel: Reloc, why: str = "") -> NoReturn: ...
    def need_got(self, sym: Symbol) -> None: ...
    def got_offset(self, sym: Symbol) -> int: ...
    def target(self, sym: Symbol) -> Target: ...
    def P(self, rel: Reloc) -> tuple[str, int]: ...
    def read(self, blob: str, off: int, n: int) -> bytes: ...
    def write(self, blob: str, off: int, data: bytes) -> None: ...
    def read_u16(self, blob: str, off: int) -> int: ...
    def write_u16(self, blob: str, off: int, v: int) -> None: ...
    def read_u32(self, blob: str, off: int) -> int: ...
    def write_u32(self, blob: str, off: int, v: int) -> None: ...
    def abs_word(self, rel: Reloc, addend: int) -> None: ...
    def require_local(self, rel: Reloc, t: Target) -> None: ...
    def cache(self, name: str) -> dict: ...


class Arch(ABC):
    """Base class of an arch module.  Subclasses set the attributes and write the abstract methods."""

    name: str = ""  # the arch name; its MP_NATIVE_ARCH_* number is ``mpy_arch``
    e_machine: str = ""  # pyelftools name, e.g. "EM_X86_64"
    elfclass: int = 32
    word_size: int = 4
    reloc_types: dict[int, str] = {}  # supported relocation types -> name
    reloc_names: dict[int, str] = {}  # names of all known types (for messages)
    got_types: frozenset[int] = frozenset()  # types that need a GOT word
    ignored_types: frozenset[int] = frozenset()  # accepted and skipped
    trampoline_size: int = 0
    stub_align: int = 4
    # Minimum alignment of executable sections on top of their own sh_addralign (which the
    # linker always honours: GCC/as give every code section the alignment its code needs).
    text_align: int = 1
    # True if every firmware of this arch keeps native text in writable RAM
    # (GC heap on ARM ports, mmap RWX on unix): .data may then live in text.
    writable_text: bool = False
    # Symbols the arch resolves itself, e.g. "_GLOBAL_OFFSET_TABLE_".
    builtin_symbols: frozenset[str] = frozenset()
    # Debian package and compiler that build for this arch (for messages).
    apt_package: str = ""

    @property
    def mpy_arch(self) -> int:
        """MP_NATIVE_ARCH_* number written in the header."""
        return ARCH_CODES[self.name]

    def reloc_name(self, rtype: int) -> str:
        return self.reloc_names.get(rtype) or self.reloc_types.get(rtype) or f"type {rtype}"

    def blob_for_section(self, name: str, sh_type: str, sh_flags: int) -> Optional[str]:
        if sh_type not in ("SHT_PROGBITS", "SHT_NOBITS"):
            return None
        if name.startswith((".text", ".rodata", ".data.rel.ro", ".srodata")):
            return "text"
        if name.startswith((".bss", ".sbss")):
            return "bss"
        if self.writable_text and name.startswith((".data", ".sdata")):
            return "text"  # initialised writable data (e.g. newlib's __fdlib_version)
        return None

    def scan(self, link: LinkContext, rel: Reloc) -> None:
        if rel.type in self.ignored_types:
            return
        if rel.type not in self.reloc_types:
            link.unsupported(rel)
        if rel.type in self.got_types:
            link.need_got(rel.symbol)

    def text_layout(self, link: LinkContext, sections: Sequence[InputSection]) -> list[Union[InputSection, str]]:
        return [*sections, GOT, STUBS]

    def place(self, link: LinkContext, section: InputSection, offset: int) -> int:
        """Optional: the text offset of ``section``, ``offset`` or a later multiple of its alignment
        (sections placed before it have their ``out_offset``; later ones still -1)."""
        return offset

    @abstractmethod
    def trampoline(self, entry: int) -> bytes:
        """Exactly ``trampoline_size`` bytes at text offset 0 that jump to text offset ``entry``."""

    def stub(self, slot: int) -> Optional[tuple[bytes, int]]:
        return None

    def extra_stub(self, name: str) -> Optional[tuple[bytes, int, int]]:
        """Optional: ``(code, word_offset, slot)`` for an arch-specific helper the
        firmware provides through a table slot (e.g. ARM's ``__aeabi_memclr`` ->
        the memset slot with its arguments reordered).  None for any other name."""
        return None

    def value_stub(self) -> Optional[tuple[bytes, int]]:
        """Optional: ``(code, word_offset)`` of a function returning the word at
        ``code[word_offset]`` (relocated by the loader).  Used for newlib's
        ``__errno`` (libm wrappers) -> a bss word.  None: not provided."""
        return None

    @abstractmethod
    def apply(self, link: LinkContext, rel: Reloc) -> None:
        """Patch the bytes of one relocation (after layout)."""

    def check_object(self, obj_name: str, elf) -> None:
        """Look at a whole input object before it is taken apart; raise LinkError if this arch
        cannot use it (e.g. Xtensa objects assembled for the other ABI). Default: accept."""
        return None

    def undefined_hint(self, names: Sequence[str]) -> Optional[str]:
        """Optional advice appended to an "undefined symbol" error (None: generic libgcc hint)."""
        return None

    def gc_keep(self, section: InputSection) -> bool:
        """Optional: True if ``section`` must be linked even when nothing refers to it."""
        return False

    def gc_companions(self, section: InputSection) -> Sequence[InputSection]:
        """Optional: sections of the same object kept whenever ``section`` is kept."""
        return ()

    def merge_sections(self, link: LinkContext, sections: Sequence[InputSection]) -> int:
        """Optional: merge identical pieces of the linked sections; returns the bytes saved."""
        return 0
