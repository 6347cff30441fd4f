/*
 * py/objfun.h -- a thin header for natmod sources that include MicroPython's py/objfun.h:
 * every name this kit provides lives in the one ABI header, py/dynruntime.h.
 */
#ifndef MPYLD_PY_OBJFUN_H
#define MPYLD_PY_OBJFUN_H
#include "py/dynruntime.h"
#endif
