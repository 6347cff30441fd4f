/*
 * py/builtin.h -- a thin header for natmod sources that include MicroPython's py/builtin.h:
 * every name this kit provides lives in the one ABI header, py/dynruntime.h.
 */
#ifndef MPYLD_PY_BUILTIN_H
#define MPYLD_PY_BUILTIN_H
#include "py/dynruntime.h"
#endif
