/*
 * py/objtuple.h -- a thin header for natmod sources that include MicroPython's py/objtuple.h:
 * every name this kit provides lives in the one ABI header, py/dynruntime.h.
 */
#ifndef MPYLD_PY_OBJTUPLE_H
#define MPYLD_PY_OBJTUPLE_H
#include "py/dynruntime.h"
#endif
