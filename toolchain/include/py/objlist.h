/*
 * py/objlist.h -- a thin header for natmod sources that include MicroPython's py/objlist.h:
 * every name this kit provides lives in the one ABI header, py/dynruntime.h.
 */
#ifndef MPYLD_PY_OBJLIST_H
#define MPYLD_PY_OBJLIST_H
#include "py/dynruntime.h"
#endif
