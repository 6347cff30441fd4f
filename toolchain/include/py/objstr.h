/*
 * py/objstr.h -- a thin header for natmod sources that include MicroPython's py/objstr.h:
 * every name this kit provides lives in the one ABI header, py/dynruntime.h.
 */
#ifndef MPYLD_PY_OBJSTR_H
#define MPYLD_PY_OBJSTR_H
#include "py/dynruntime.h"
#endif
