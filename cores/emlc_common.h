/* emlc_common.h: error codes and small helpers shared by every core file.
 *
 * Every core function that can fail returns an emlc_err_t: EMLC_OK (0) on success, a negative
 * code otherwise. No core function allocates memory or touches global state; all buffers are
 * owned by the caller. C99, freestanding-friendly: needs only <stdint.h>, <stddef.h>.
 */
#ifndef EMLC_COMMON_H
#define EMLC_COMMON_H

#include <stddef.h>
#include <stdint.h>

typedef enum emlc_err {
    EMLC_OK = 0,
    EMLC_ERR_NULL = -1,        /* a required pointer is NULL */
    EMLC_ERR_SIZE = -2,        /* a length is wrong (zero, mismatched, not a power of two) */
    EMLC_ERR_CAPACITY = -3,    /* more items than the caller-provided storage holds */
    EMLC_ERR_CHILD = -4,       /* tree: a child reference points outside nodes/leaves */
    EMLC_ERR_FEATURE = -5,     /* tree: a feature index >= n_features */
    EMLC_ERR_CLASS = -6,       /* tree: a class leaf >= n_outputs */
    EMLC_ERR_CYCLE = -7,       /* tree: a tree does not terminate (cycle or shared node) */
    EMLC_ERR_ROOT = -8,        /* tree: a root is out of range */
    EMLC_ERR_KIND = -9,        /* unknown leaf kind / input type / model kind */
    EMLC_ERR_FORMAT = -10,     /* model file: malformed syntax or header */
    EMLC_ERR_VALUE = -11,      /* a number is out of range, NaN or infinite where not allowed */
    EMLC_ERR_VERSION = -12,    /* model file: unsupported format version */
    EMLC_ERR_STATE = -13       /* called in the wrong state (e.g. nothing loaded yet) */
} emlc_err_t;

/* A float32 and its IEEE-754 bits. C99 allows reading a union member other than the one last
 * stored (type punning); int32_t and uint32_t are exact-width two's complement types, so the bit
 * patterns are well defined. The cores test floats by their bits (no soft-float compare). */
typedef union emlc_bits {
    float f;
    uint32_t u;
    int32_t i;
} emlc_bits_t;

/* log2 of n if n is a power of two >= 1, else -1 (the FFT cores' lengths). */
static inline int emlc_log2_pow2(size_t n) {
    if (n == 0 || (n & (n - 1)) != 0) {
        return -1;
    }
    int l = 0;
    while (n > 1) {
        n >>= 1;
        l++;
    }
    return l;
}

/* A short, static, human-readable name for an error code (never NULL). */
const char *emlc_strerror(int err);

/* Where a model file loader (emlc_load.h: trees; emlc_knn.h: k-NN) found a problem: the byte
 * offset in the file (or the line, for CSV) and a short static reason. */
typedef struct emlc_load_error {
    uint32_t where;      /* byte offset in the file */
    const char *reason;  /* short, static */
} emlc_load_error_t;

#endif /* EMLC_COMMON_H */
