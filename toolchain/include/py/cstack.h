/*
 * py/cstack.h -- a thin header for natmod sources that include MicroPython's py/cstack.h.
 * The firmware's C-stack check is not reachable from a native module: with
 * MICROPY_STACK_CHECK set before including, the module defines mp_cstack_check itself
 * (as MicroPython's re example does); otherwise the check is a no-op.
 */
#ifndef MPYLD_PY_CSTACK_H
#define MPYLD_PY_CSTACK_H
#include "py/dynruntime.h"
#if defined(MICROPY_STACK_CHECK) && MICROPY_STACK_CHECK
void mp_cstack_check(void);
#else
static inline void mp_cstack_check(void) {
}
#endif
#endif
