/*
 * py/objint.h -- a thin header for natmod sources that include MicroPython's py/objint.h:
 * every name this kit provides lives in the one ABI header, py/dynruntime.h.
 */
#ifndef MPYLD_PY_OBJINT_H
#define MPYLD_PY_OBJINT_H
#include "py/dynruntime.h"
#endif
