/* trees_obj.h: the emltrees Model object, shared by src/emltrees (the module) and
 * src/emltrees_csv (its CSV reader, a separate module that fills a Model it is given).
 *
 * Invariant: state == TREES_LOADED implies model passed emlc_trees_validate() and its arrays
 * point into `block`, a GC block this object holds.
 */
#ifndef TREES_OBJ_H
#define TREES_OBJ_H

#include "py/dynruntime.h"
#include "emlc_trees.h"

enum { TREES_EMPTY, TREES_LOADING, TREES_LOADED };

typedef struct trees_obj {
    mp_obj_base_t base;
    emlc_trees_t model;
    uint8_t *block;       /* the arrays (GC block head), NULL when empty */
    uint32_t block_bytes;
    uint16_t max_trees, max_nodes, max_payloads;
    uint8_t state;
} trees_obj_t;

#endif /* TREES_OBJ_H */
