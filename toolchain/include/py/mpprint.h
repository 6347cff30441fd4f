/*
 * py/mpprint.h -- a thin header for natmod sources that include MicroPython's py/mpprint.h:
 * every name this kit provides lives in the one ABI header, py/dynruntime.h.
 */
#ifndef MPYLD_PY_MPPRINT_H
#define MPYLD_PY_MPPRINT_H
#include "py/dynruntime.h"
#endif
