/*
 * py/mperrno.h -- a thin header for natmod sources that include MicroPython's py/mperrno.h:
 * every name this kit provides lives in the one ABI header, py/dynruntime.h.
 */
#ifndef MPYLD_PY_MPERRNO_H
#define MPYLD_PY_MPERRNO_H
#include "py/dynruntime.h"
#endif
