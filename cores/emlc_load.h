/* emlc_load.h: tree-model files (docs/model-format.md version 2): the binary file (§2, here and in
 * emlc_load.c) and the CSV file (§3, emlc_load_csv.c), both read into one block.
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

/* Errors are emlc_load_error_t (emlc_common.h, shared with the k-NN loader). */

/* Check a header and fill the counts of *m (arrays NULL) and *file_bytes (the whole file's size:
 * EMLC_LOAD_HEADER + emlc_trees_layout(m)). EMLC_ERR_FORMAT (magic, reserved fields, size),
 * EMLC_ERR_KIND (a k-NN file, unknown dtype or leaf kind), EMLC_ERR_VERSION, EMLC_ERR_SIZE. */
emlc_err_t emlc_load_header(const uint8_t hdr[EMLC_LOAD_HEADER], emlc_trees_t *m, uint32_t *file_bytes,
                            emlc_load_error_t *e);

/* The block behind m (bound with emlc_trees_bind) has been filled from the file: check that
 * every padding byte is 0 and that the model passes emlc_trees_validate(). */
emlc_err_t emlc_load_check(const emlc_trees_t *m, const uint8_t *block, emlc_load_error_t *e);
/* The message for an element error of emlc_trees_validate()/emlc_trees_check_one(). */
const char *emlc_load_reason(emlc_err_t err);

/* ---- CSV (§3): fed in chunks of any size; the `s` line sizes the block, which the callback
 * allocates (4-byte aligned; it may longjmp out: the reader holds no resources). */
typedef void *(*emlc_load_alloc_t)(void *ctx, uint32_t bytes);

typedef struct emlc_csv {
    emlc_trees_t m;          /* counts as read; arrays once the block is bound (after `s`) */
    uint8_t *block;
    uint32_t block_bytes;
    int err;                 /* EMLC_OK or the first error (sticky) */
    const char *reason;      /* static */
    uint32_t line;           /* current line (1-based); after an error, the line it names */
    uint32_t last_line;      /* last line that had content */
    uint16_t lim[3];         /* max trees, nodes, payloads (EMLC_ERR_CAPACITY beyond) */
    emlc_load_alloc_t alloc;
    void *ctx;
    /* the line being read: its kind, its fields so far, the current field as a number */
    uint8_t stage, kind, skip, cr, len, digits, sign, space, neg;
    uint8_t bom;             /* bytes of a UTF-8 byte-order mark read at the start; 3 once past it */
    uint32_t bytes;          /* bytes read after the mark: at most EMLC_CSV_MAX_BYTES(block_bytes) */
    uint16_t fields;
    uint32_t num;
    uint32_t val[6];         /* fields 1..6 of a fixed-width line (two's complement) */
    uint16_t count[6];       /* data lines read per kind: q r n p lv cl */
    uint32_t pay_at, pay_start, w; /* payload bytes written, the current p line's start and w */
} emlc_csv_t;

/* A CSV has no end of its own: a file may have at most 1 KiB plus 32 bytes per byte of the model
 * it declares (block_bytes is 0 before the s line), so an endless stream stops. */
#define EMLC_CSV_MAX_BYTES(block_bytes) (1024u + 32u * (uint32_t)(block_bytes))

void emlc_csv_init(emlc_csv_t *c, const uint16_t lim[3], emlc_load_alloc_t alloc, void *ctx);
/* The next len bytes of the file. Returns EMLC_OK or the (sticky) error. */
emlc_err_t emlc_csv_feed(emlc_csv_t *c, const uint8_t *data, size_t len);
/* End of file: all lines the `s` line announced are there and the model passes
 * emlc_load_check(); then c->m is the model (its arrays in c->block). */
emlc_err_t emlc_csv_finish(emlc_csv_t *c);

#endif /* EMLC_LOAD_H */
