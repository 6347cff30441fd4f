/* emlc_load.h: the binary tree-model file (docs/model-format.md §2, version 2).
 *
 * After its 32-byte header the file is the model's block itself (the §2 section order and
 * padding are emlc_trees_layout()'s), so a loader reads the header, checks it here, allocates
 * exactly the block the counts need, reads the rest of the file straight into it and checks it
 * here. No parsing, no state between the two calls, nothing allocated here.
 *
 * Errors come with a static reason and the byte offset in the file: of the header field for
 * header errors, of the offending element (or padding byte) otherwise.
 */
#ifndef EMLC_LOAD_H
#define EMLC_LOAD_H

#include "emlc_common.h"
#include "emlc_trees.h"

#define EMLC_LOAD_HEADER 32

typedef struct emlc_load_error {
    uint32_t where;      /* byte offset in the file */
    const char *reason;  /* short, static */
} emlc_load_error_t;

/* Check a header and fill the counts of *m (arrays NULL) and *file_bytes (the whole file's size:
 * EMLC_LOAD_HEADER + emlc_trees_layout(m)). EMLC_ERR_FORMAT (magic, reserved fields, size),
 * EMLC_ERR_KIND (a k-NN file, unknown dtype or leaf kind), EMLC_ERR_VERSION, EMLC_ERR_SIZE. */
emlc_err_t emlc_load_header(const uint8_t hdr[EMLC_LOAD_HEADER], emlc_trees_t *m, uint32_t *file_bytes,
                            emlc_load_error_t *e);

/* The block behind m (bound with emlc_trees_bind) has been filled from the file: check that
 * every padding byte is 0 and that the model passes emlc_trees_validate(). */
emlc_err_t emlc_load_check(const emlc_trees_t *m, const uint8_t *block, emlc_load_error_t *e);

#endif /* EMLC_LOAD_H */
