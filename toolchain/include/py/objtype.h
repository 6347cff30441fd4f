/*
 * py/objtype.h -- a thin header for natmod sources that include MicroPython's py/objtype.h:
 * every name this kit provides lives in the one ABI header, py/dynruntime.h.
 */
#ifndef MPYLD_PY_OBJTYPE_H
#define MPYLD_PY_OBJTYPE_H
#include "py/dynruntime.h"
#endif
