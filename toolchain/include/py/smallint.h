/*
 * py/smallint.h -- a thin header for natmod sources that include MicroPython's py/smallint.h:
 * every name this kit provides lives in the one ABI header, py/dynruntime.h.
 */
#ifndef MPYLD_PY_SMALLINT_H
#define MPYLD_PY_SMALLINT_H
#include "py/dynruntime.h"
#endif
