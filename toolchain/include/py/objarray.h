/*
 * py/objarray.h -- a thin header for natmod sources that include MicroPython's py/objarray.h:
 * every name this kit provides lives in the one ABI header, py/dynruntime.h.
 */
#ifndef MPYLD_PY_OBJARRAY_H
#define MPYLD_PY_OBJARRAY_H
#include "py/dynruntime.h"
#endif
