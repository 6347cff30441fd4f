/* emlc_load.h: streaming, bounded parser of tree-model files (docs/model-format.md §2, §3).
 *
 * The caller owns every buffer: the destination arrays (capacities fixed at init) and the
 * state struct (which holds a small field buffer). The file is fed in chunks of any size
 * (1 byte upwards) with emlc_load_feed(); emlc_load_finish() checks completeness and runs
 * emlc_trees_validate() on the result. Nothing allocates; work per input byte is bounded
 * (a CSV number costs at most a few thousand word operations), so no file can make the
 * parser loop forever or write outside the destination arrays.
 *
 * Format detection (first byte): 'E' -> binary (must then be the magic "EMLT"); anything else
 * -> CSV. A CSV file is ours (key-space thresholds, `<=`, child references) when it has a
 * `v,` line before its first data line, otherwise it is emlearn's and is converted on load.
 *
 * Decisions where docs/model-format.md leaves room (kept in sync with the report):
 *  - Line ends: "\n" or "\r\n" (a '\r' not followed by '\n' is an error, except as the last
 *    byte); a last line without a line end is accepted. Blank lines are skipped. Only the current
 *    field is buffered, so lines have no length limit (long `lp` lines of many classes work), but
 *    a field longer than EMLC_LOAD_TOK_MAX bytes is EMLC_ERR_FORMAT.
 *  - A line kind is 1..8 lowercase letters followed by ',' or the line end. Unknown kinds of
 *    that shape are skipped (forward compatibility); any other first field (binary garbage,
 *    digits, upper case, spaces inside) is EMLC_ERR_FORMAT. Spaces/tabs around a field are ignored.
 *  - Header kinds (f, c, lb, v, d, k, o, s) may appear once each, and only before the first data
 *    line (l, lp, r, n, q); otherwise EMLC_ERR_FORMAT. Our extension kinds (d, k, o, s, q, lp)
 *    need a `v` line before them (else EMLC_ERR_FORMAT).
 *  - Ours: `v` must be 1 (else EMLC_ERR_VERSION); `f` and `k` are required; `o` is required
 *    unless k is VALUE (then 1, and o must be 1); `d` (float|int16) defaults to float; `c`, if
 *    present, must be 0 for VALUE and o otherwise; `s,<n_trees>,<n_nodes>,<n_leaves>`, if
 *    present, is checked against capacities at once and against the line counts as they grow
 *    and at the end. Leaves: CLASS `l,<0..255>`; PROBA `lp,` o floats; PROBA8 `lp,` o integers
 *    0..255; VALUE `l,<float>` or `lp,<float>`. `n,<feature>,<int32 key>,<left>,<right>` and
 *    `r,<child ref>` as §1. `q,<feature>,<scale>,<offset>` only in int16 models, in feature
 *    order 0, 1, ...; features without a `q` line get scale 1, offset 0. Data lines of different
 *    kinds may interleave; each kind appends in file order.
 *  - emlearn (no `v` line): `f` and `c` required, `lb` defaults to 0. c == 0 -> VALUE leaves
 *    (`l,<float>`); c > 0 and lb 0 or 32 -> CLASS leaves (`l,<int>`); c > 0 and 1 <= lb <= 8 ->
 *    PROBA8 leaves written as numpy prints a uint8 array (`l,[  0 255   0]`, possibly wrapped
 *    onto continuation lines that start with a space; `l,0,255,0` is accepted too); other lb ->
 *    EMLC_ERR_KIND. Node children: >= 0 is a jump relative to the node's own index (0 is
 *    rejected as a cycle), < 0 a leaf; roots are node indices >= 0. Nodes are not renumbered:
 *    emlearn writes children after parents, and emlc_trees_validate() rejects anything else.
 *    Thresholds t (decimal) compare `x < t` in float32: t is rounded to the nearest float32
 *    t32 and stored as key(t32) - 1 (-2 when t32 is +-0), so that key(x) <= stored <=> x < t32
 *    for every non-NaN float32 x. Input type is float32. A threshold that overflows float32 is
 *    EMLC_ERR_VALUE (emlearn never writes one).
 *  - Numbers: integers `[+-]?[0-9]+`; decimals `[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`
 *    with at most 40 significant digits, converted to the nearest float32 exactly (round half to
 *    even, subnormals included); more digits, or a value that rounds beyond FLT_MAX, is
 *    EMLC_ERR_VALUE; `nan`/`inf` text is EMLC_ERR_FORMAT. Leaf values, scales and offsets must
 *    be finite and scales > 0 (also in binary files: EMLC_ERR_VALUE).
 *  - A k-NN file (CSV `knn` line, binary magic "EMLK") is EMLC_ERR_KIND.
 *  - Binary: little-endian hosts only (on a big-endian host a binary file gives EMLC_ERR_KIND).
 *    The header must be consistent: magic, version 1, known input/leaf kind, reserved fields 0,
 *    non-zero n_features/n_outputs/n_trees/n_leaves, counts within capacities, total size equal
 *    to the size the counts imply; padding bytes must be 0; bytes after total size are an error.
 *  - Where: CSV errors report the 1-based line number (errors found at the end of the file,
 *    including emlc_trees_validate() errors, name the last non-empty line); binary errors the
 *    0-based byte offset
 *    (of the header field for header errors, of the offending byte or float otherwise, of the
 *    end of the data for a truncated file). `reason` is a short static string.
 *  - After an error, feed/finish return the same error and the destination model is cleared
 *    (n_trees = 0, all pointers NULL) so it fails validation.
 */
#ifndef EMLC_LOAD_H
#define EMLC_LOAD_H

#include "emlc_common.h"
#include "emlc_trees.h"

#ifndef EMLC_LOAD_TOK_MAX
#define EMLC_LOAD_TOK_MAX 64 /* longest CSV field in bytes (a number, a line kind, a dtype) */
#endif

/* Caller-owned destination arrays and their capacities.
 * Leaf storage and the int16 quantization table depend on the file (leaf width, n_features), so
 * each can come either from a fixed array or from a callback called once, as soon as the file
 * says what it needs (CSV: first data line / first q line; binary: end of the header):
 *  - get_leaves(ctx, leaf_width, n_leaves, &bytes) returns a 4-byte aligned buffer and its size
 *    in bytes (NULL -> EMLC_ERR_CAPACITY); n_leaves is the leaf count the file declares (binary
 *    header, CSV `s` line) or 0 when it declares none (emlearn files), so the caller can allocate
 *    exactly what the model needs; if get_leaves is NULL, leaves/leaves_bytes are used.
 *  - get_quant(ctx, n_features) returns float[2 * n_features]: scale[n] then offset[n]
 *    (NULL -> EMLC_ERR_CAPACITY); if get_quant is NULL, scale/offset (max_features each) are used
 *    (they may be NULL when max_features == 0; int16 models then fail with EMLC_ERR_CAPACITY).
 * A callback may longjmp out (MicroPython MemoryError): the parser holds no resources. */
typedef struct emlc_load_dest {
    int32_t *thresholds;  /* [max_nodes] */
    uint16_t *features;   /* [max_nodes] */
    int16_t *children;    /* [2 * max_nodes] */
    int16_t *roots;       /* [max_trees] */
    uint16_t max_nodes;   /* only the first 32767 are ever used */
    uint16_t max_trees;
    uint16_t max_features;
    uint32_t leaves_bytes;
    void *leaves;         /* [leaves_bytes], 4-byte aligned */
    float *scale;         /* [max_features] */
    float *offset;        /* [max_features] */
    void *(*get_leaves)(void *ctx, uint32_t leaf_width, uint32_t n_leaves, uint32_t *bytes);
    float *(*get_quant)(void *ctx, uint32_t n_features);
    void *ctx;
} emlc_load_dest_t;

/* Parser state. Treat every field as private except err/where/reason (read after an error). */
typedef struct emlc_load {
    emlc_load_dest_t d;
    emlc_trees_t m;          /* model under construction (counts grow as data arrives) */
    int err;                 /* EMLC_OK or the first error */
    uint32_t where;          /* CSV: 1-based line; binary: 0-based byte offset */
    const char *reason;      /* static, never NULL */
    uint8_t fmt;             /* 0 nothing yet, 1 CSV, 2 binary */
    uint8_t finished;
    /* CSV: the current field only is buffered */
    uint8_t mode;            /* 0 header lines, 1 ours, 2 emlearn */
    uint8_t kind;            /* kind of the current line (0 until its first field ends) */
    uint8_t arr;             /* emlearn "[...]" leaf: 0 none, 1 open, 2 closed */
    uint8_t cr;              /* previous byte was '\r' */
    uint16_t seen;           /* bit set of header kinds seen */
    uint16_t fidx;           /* index of the current field in its line */
    uint16_t tok_len;
    uint16_t nv;             /* values stored so far in the current leaf */
    uint16_t q_count;        /* q lines read (they come in feature order) */
    uint32_t q_scale;        /* float32 bits */
    int32_t h_f, h_c, h_lb, h_d, h_k, h_o;
    int32_t s_trees, s_nodes, s_leaves; /* counts declared by the `s` line (ours) */
    uint32_t leaf_used;      /* leaf bytes written (= n_leaves * leaf_width) */
    uint32_t leaf_width;     /* bytes per leaf */
    uint32_t line_no;
    uint32_t last_line;      /* last line that had any content */
    char tok[EMLC_LOAD_TOK_MAX];
    /* binary */
    uint32_t off;            /* bytes consumed */
    uint32_t total;          /* total file size from the header */
    uint8_t hdr[32];
    uint8_t sec;             /* current section 0..6, 7 = done */
    uint32_t sec_pos;        /* byte position in the current section */
    uint32_t sec_len[7];     /* data bytes per section */
    uint32_t sec_pad[7];     /* padded bytes per section */
    uint8_t *sec_base[7];    /* destination of each section */
} emlc_load_t;

/* Start a load into dest (copied into st). Returns EMLC_ERR_NULL for a NULL st/dest or a NULL
 * array with a non-zero capacity, EMLC_ERR_SIZE for a misaligned leaves buffer. */
emlc_err_t emlc_load_init(emlc_load_t *st, const emlc_load_dest_t *dest);

/* Feed the next len bytes of the file (len may be 0). Returns EMLC_OK or the (sticky) error. */
emlc_err_t emlc_load_feed(emlc_load_t *st, const uint8_t *data, size_t len);

/* End of file: checks the file is complete, fills *model (arrays point into dest) and
 * validates it with emlc_trees_validate(). On error *model is cleared. */
emlc_err_t emlc_load_finish(emlc_load_t *st, emlc_trees_t *model);

/* Decimal text [s, s+n) to the nearest float32, as raw IEEE-754 bits (exposed for tests).
 * Returns EMLC_ERR_FORMAT for bad syntax, EMLC_ERR_VALUE for overflow/too many digits. */
emlc_err_t emlc_load_parse_f32(const char *s, size_t n, uint32_t *out_bits);

#endif /* EMLC_LOAD_H */
