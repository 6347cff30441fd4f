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
#include "emlc_load.h"

enum { TREES_EMPTY, TREES_LOADING, TREES_LOADED };

/* emltrees' model checks (cores/emlc_trees_check.c, cores/emlc_load.c), which the CSV reader
 * (cores/emlc_load_csv.c) calls too: emltrees_csv reaches emltrees' own copies through the model
 * (after checking the model's type) instead of linking a second one. */
typedef struct trees_checks {
    emlc_err_t (*check_counts)(const emlc_trees_t *m, uint32_t *field);
    uint32_t (*layout)(const emlc_trees_t *m, uint32_t size[EMLC_TREES_SECTIONS]);
    void (*bind)(emlc_trees_t *m, void *block);
    emlc_err_t (*check_one)(const emlc_trees_t *m, uint32_t sec, uint32_t i, emlc_trees_where_t *where);
    emlc_err_t (*load_check)(const emlc_trees_t *m, const uint8_t *block, emlc_load_error_t *e);
    const char *(*reason)(emlc_err_t err);
} trees_checks_t;

typedef struct trees_obj {
    mp_obj_base_t base;
    emlc_trees_t model;
    uint8_t *block;       /* the arrays (GC block head), NULL when empty */
    uint32_t block_bytes;
    uint16_t max_trees, max_nodes, max_payloads;
    uint8_t state;
    const trees_checks_t *checks; /* emltrees' own, for emltrees_csv */
} trees_obj_t;

#endif /* TREES_OBJ_H */
