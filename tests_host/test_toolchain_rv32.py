"""rv32imc: absolute lui/%lo pairs (non-PIC code such as picolibc and libgcc) made position-independent.

mpyld turns each ``lui rX, %hi(S)`` into an ``auipc`` and must give every ``%lo(S)`` use the value
that matches the very instruction its base register came from (mpyld/rv32_flow.py).  Each case
below is hand-written assembly of a pattern GCC emits; the module runs in the emulator."""
from __future__ import annotations

from pathlib import Path

import pytest

from natmod_util import NatmodEmu, build_natmod, compile_c, mpyld

CC = ["riscv64-unknown-elf-gcc", "-march=rv32imc", "-mabi=ilp32"]

# tab: 11 22 33 44 in .rodata; each function returns a sum of words read through %hi/%lo pairs.
ASM = r"""
# The %lo uses of one lui, made PC-relative, would straddle a 12-bit window: the bytes start 2046
# bytes after the lui (in the next section), so %lo(spanbytes) and %lo(spanbytes+4) need different
# upper parts; mpyld places the data section 2 bytes further.
    .section .text.rv_span,"ax"
    .option push
    .option norelax
    .globl rv_span
rv_span:
    lui a5, %hi(spanbytes)
    lbu a0, %lo(spanbytes)(a5)
    lbu a1, %lo(spanbytes+4)(a5)
    add a0, a0, a1              # 5 + 9
    ret
    .space 2046 - (. - rv_span)
    .option pop
    .section .rodata.span,"a"
    .balign 2
spanbytes:  .byte 5, 6, 7, 8, 9
    .section .rodata.tab,"a"
    .balign 4
tab:    .word 11, 22, 33, 44

    .text
# A %hi kept in a callee-saved register while the same %hi is loaded again into another register
# (picolibc's expf): the use through s1 belongs to the first lui, not to the nearest one.
    .globl rv_callee_saved
rv_callee_saved:
    addi sp, sp, -16
    sw s1, 12(sp)
    lui s1, %hi(tab)
    lui a5, %hi(tab)
    lw a0, %lo(tab)(a5)
    lw a1, %lo(tab)(s1)
    add a0, a0, a1              # 11 + 11
    lw a1, %lo(tab+12)(s1)      # another addend than the lui's (picolibc's powf)
    add a0, a0, a1              # + 44
    lw s1, 12(sp)
    addi sp, sp, 16
    ret

# The lui comes after its use in the section (a block placed last, jumping back).
    .globl rv_backward
rv_backward:
    j 2f
1:  lw a0, %lo(tab+8)(a5)       # 33
    ret
2:  lui a5, %hi(tab+8)
    j 1b

# A loop: the %hi is set once before it, used on every iteration.
    .globl rv_loop
rv_loop:
    lui a4, %hi(tab)
    li a0, 0
    li a1, 0
3:  slli a2, a1, 2
    addi a3, a4, %lo(tab)
    add a3, a3, a2
    lw a2, 0(a3)
    add a0, a0, a2
    addi a1, a1, 1
    li a2, 4
    blt a1, a2, 3b
    ret                         # 110

# A jump table: the %hi set before the indirect jump is used in the cases.
    .globl rv_switch
rv_switch:
    lui a5, %hi(tab)
    slli a1, a0, 2
    lui a2, %hi(jt)
    addi a2, a2, %lo(jt)
    add a1, a1, a2
    lw a1, 0(a1)
    jr a1
.Lcase0:
    lw a0, %lo(tab+4)(a5)       # 22
    ret
.Lcase1:
    lw a0, %lo(tab+12)(a5)      # 44
    ret
    .section .rodata.jt,"a"
    .balign 4
jt: .word .Lcase0, .Lcase1

    .text
# A weak symbol nobody defines is the absolute value 0: its lui stays a lui.
    .weak rv_missing
    .text
    .globl rv_weak
rv_weak:
    lui a0, %hi(rv_missing)
    addi a0, a0, %lo(rv_missing)
    ret
"""

C_SRC = r"""#include "py/dynruntime.h"
int rv_callee_saved(void);
int rv_backward(void);
int rv_loop(void);
int rv_switch(int);
int rv_span(void);
int rv_weak(void);
static mp_obj_t run(void) {
    mp_obj_t items[7] = {mp_obj_new_int(rv_callee_saved()), mp_obj_new_int(rv_backward()),
                         mp_obj_new_int(rv_loop()), mp_obj_new_int(rv_switch(0)), mp_obj_new_int(rv_switch(1)),
                         mp_obj_new_int(rv_span()), mp_obj_new_int(rv_weak())};
    return mp_obj_new_tuple(7, items);
}
static MP_DEFINE_CONST_FUN_OBJ_0(run_obj, run);
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_run, MP_OBJ_FROM_PTR(&run_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
"""


@pytest.mark.parametrize("relax", ["-mno-relax", "-mrelax"])
def test_absolute_hi_lo_pairs_run(tmp_path: Path, relax: str):
    """-mrelax objects (as picolibc's) give every branch a relocation; -mno-relax ones resolve
    them in the instruction: the pass reads both."""
    (tmp_path / "pairs.s").write_text(ASM)
    (tmp_path / "m.c").write_text(C_SRC)
    compile_c([*CC, relax], tmp_path / "pairs.s", tmp_path / "asm_pairs.o")
    out = build_natmod([*CC, "-mno-relax"], "rv32imc", tmp_path / "m.c", tmp_path / "pairs.mpy",
                       objects=[tmp_path / "asm_pairs.o"])
    e = NatmodEmu(out)
    e.init()
    assert e.call_global("run") == (66, 33, 110, 22, 44, 14, 0)


AMBIGUOUS = r"""
    .section .rodata.tab,"a"
    .balign 4
tab:    .word 1, 2
    .text
    .globl rv_merged
# Two luis at different addresses reach one %lo (tails merged by the compiler, as in picolibc's
# nl_langinfo_l): no auipc placement can serve both.
rv_merged:
    beqz a0, 1f
    lui a5, %hi(tab)
    j 2f
1:  lui a5, %hi(tab)
2:  lw a0, %lo(tab)(a5)
    ret
"""


AMBIGUOUS_C = r"""#include "py/dynruntime.h"
int rv_merged(int);
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_merged, mp_obj_new_int(rv_merged(1)));
    MP_DYNRUNTIME_INIT_EXIT
}
"""


def test_lo_reached_from_two_luis_is_a_clear_error(tmp_path: Path):
    (tmp_path / "amb.s").write_text(AMBIGUOUS)
    (tmp_path / "m.c").write_text(AMBIGUOUS_C)
    compile_c(CC, tmp_path / "amb.s", tmp_path / "amb.o")
    hdr = tmp_path / "q.h"
    assert mpyld("qstrs", "-o", str(hdr), str(tmp_path / "m.c")).returncode == 0
    compile_c([*CC, "-mno-relax"], tmp_path / "m.c", tmp_path / "m.o", f'-DMP_CONFIGFILE="{hdr}"')
    r = mpyld("link", "--arch", "rv32imc", "--qstrs", str(hdr), "-o", str(tmp_path / "amb.mpy"),
              str(tmp_path / "m.o"), str(tmp_path / "amb.o"))
    assert r.returncode != 0
    assert "amb.o: R_RISCV_LO12_I against 'tab' at .text+0x" in r.stderr, r.stderr
    assert "cannot be made position-independent" in r.stderr and "-fpic" in r.stderr
