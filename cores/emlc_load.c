/* emlc_load.c: streaming parser of tree-model files (see emlc_load.h for the accepted syntax).
 *
 * Invariants:
 *  - Every write into a destination array happens at an index checked against its capacity
 *    first (node < min(max_nodes, 32767), tree < max_trees, leaf bytes used + width <=
 *    leaves_bytes, feature < max_features, binary section position < section length).
 *  - The CSV reader never buffers a line, only the current field (EMLC_LOAD_TOK_MAX bytes), so
 *    line length is unbounded but memory is not; work per byte is O(1) except at the end of a
 *    number field (bounded big-number work, see dec_to_f32).
 *  - Once st->err is set nothing else is written; feed/finish return it again.
 * No floating-point arithmetic is used anywhere: floats are built as IEEE-754 bit patterns with
 * integer operations and stored through a union.
 */
#include "emlc_load.h"

typedef union ld_bits {
    float f;
    uint32_t u;
} ld_bits_t;

enum { FMT_NONE = 0, FMT_CSV = 1, FMT_BIN = 2 };
enum { MODE_HEAD = 0, MODE_OURS = 1, MODE_EML = 2 };
enum {
    K_NONE = 0, K_F, K_C, K_LB, K_V, K_D, K_K, K_O, K_S, /* header kinds: bit (kind - 1) in seen */
    K_Q, K_L, K_LP, K_R, K_N, K_KNN, K_SKIP
};
#define SEEN(k) ((uint16_t)(1u << ((k) - 1)))
#define MAX_NODES_ABS 32767u
#define MAX_LEAVES_ABS 32768u

static emlc_err_t fail(emlc_load_t *st, emlc_err_t err, const char *reason) {
    if (st->err == EMLC_OK) {
        st->err = err;
        st->reason = reason;
        st->where = (st->fmt == FMT_BIN) ? st->off : st->line_no;
    }
    return (emlc_err_t)st->err;
}

/* ---------------------------------------------------------------------------------------- */
/* Big numbers for exact decimal -> float32: 20 limbs of 16 bits (320 bits), least significant
 * first. Bound (see dec_to_f32): no value exceeds 2^286, so nothing is ever shifted out. */
#define BN_N 20
typedef struct bn {
    uint16_t v[BN_N];
} bn_t;

static void bn_small(bn_t *a, uint32_t x) {
    unsigned i;
    for (i = 0; i < BN_N; i++) {
        a->v[i] = 0;
    }
    a->v[0] = (uint16_t)(x & 0xffffu);
    a->v[1] = (uint16_t)(x >> 16);
}

/* a = a * m + add, m <= 10, add <= 9 */
static void bn_muladd(bn_t *a, uint32_t m, uint32_t add) {
    unsigned i;
    uint32_t carry = add;
    for (i = 0; i < BN_N; i++) {
        uint32_t t = (uint32_t)a->v[i] * m + carry;
        a->v[i] = (uint16_t)(t & 0xffffu);
        carry = t >> 16;
    }
}

static unsigned bn_bitlen(const bn_t *a) {
    unsigned i = BN_N;
    while (i > 0) {
        i--;
        if (a->v[i] != 0) {
            unsigned n = 0;
            uint32_t x = a->v[i];
            while (x != 0) {
                n++;
                x >>= 1;
            }
            return i * 16u + n;
        }
    }
    return 0;
}

static void bn_shl(bn_t *a, unsigned k) {
    unsigned limbs = k / 16u, bits = k % 16u, i;
    for (i = BN_N; i > 0; i--) {
        unsigned dst = i - 1;
        uint32_t hi = 0, lo = 0;
        if (dst >= limbs) {
            hi = a->v[dst - limbs];
            if (dst >= limbs + 1) {
                lo = a->v[dst - limbs - 1];
            }
        }
        a->v[dst] = (uint16_t)(((hi << bits) | (bits ? (lo >> (16u - bits)) : 0u)) & 0xffffu);
    }
}

/* The comparisons/subtractions/shifts of the division loop touch only the low n limbs: both
 * operands are known to be below 2^(16 n) there. */
static int bn_cmp(const bn_t *a, const bn_t *b, unsigned n) {
    unsigned i = n;
    while (i > 0) {
        i--;
        if (a->v[i] != b->v[i]) {
            return a->v[i] < b->v[i] ? -1 : 1;
        }
    }
    return 0;
}

/* a -= b over n limbs, requires a >= b */
static void bn_sub(bn_t *a, const bn_t *b, unsigned n) {
    unsigned i;
    uint32_t borrow = 0;
    for (i = 0; i < n; i++) {
        uint32_t t = (uint32_t)a->v[i] - (uint32_t)b->v[i] - borrow;
        a->v[i] = (uint16_t)(t & 0xffffu);
        borrow = (t >> 16) & 1u;
    }
}

/* a <<= 1 over n limbs (the caller guarantees nothing is shifted out of limb n-1) */
static void bn_shl1(bn_t *a, unsigned n) {
    unsigned i;
    uint32_t carry = 0;
    for (i = 0; i < n; i++) {
        uint32_t t = ((uint32_t)a->v[i] << 1) | carry;
        a->v[i] = (uint16_t)(t & 0xffffu);
        carry = t >> 16;
    }
}

static int bn_is_zero(const bn_t *a) {
    unsigned i;
    for (i = 0; i < BN_N; i++) {
        if (a->v[i] != 0) {
            return 0;
        }
    }
    return 1;
}

#define DEC_MAX_DIGITS 40

/* Exact conversion of dig[0..nd-1] * 10^e10 (digits 0..9, dig[0] != 0, dig[nd-1] != 0) to a
 * float32 bit pattern, round half to even. Returns EMLC_ERR_VALUE on overflow. */
static emlc_err_t dec_to_f32(const uint8_t *dig, int32_t nd, int32_t e10, uint32_t *bits) {
    bn_t n, d;
    int32_t i, e2, nb;
    unsigned nlimbs;
    uint32_t q = 0;
    int rbit, sticky;
    if (nd + e10 > 39) { /* value >= 10^39 > FLT_MAX */
        return EMLC_ERR_VALUE;
    }
    if (nd + e10 < -45) { /* value < 10^-46 < half the smallest subnormal: rounds to 0 */
        *bits = 0;
        return EMLC_OK;
    }
    /* n = digits (< 10^40 < 2^133); then n * 10^e10 (< 10^39) or d = 10^-e10 (<= 10^85 < 2^283) */
    bn_small(&n, 0);
    for (i = 0; i < nd; i++) {
        bn_muladd(&n, 10, dig[i]);
    }
    bn_small(&d, 1);
    for (i = 0; i < e10; i++) {
        bn_muladd(&n, 10, 0);
    }
    for (i = 0; i < -e10; i++) {
        bn_muladd(&d, 10, 0);
    }
    /* normalise so that d <= n < 2d; value = 2^e2 * n / d. Afterwards n, d < 2^285. */
    e2 = (int32_t)bn_bitlen(&n) - (int32_t)bn_bitlen(&d);
    if (e2 >= 0) {
        bn_shl(&d, (unsigned)e2);
    } else {
        bn_shl(&n, (unsigned)-e2);
    }
    /* from here on n < 2d < 2^(bitlen(d) + 1): nlimbs limbs hold every value, with room for
     * the shift of n by one bit */
    nlimbs = (bn_bitlen(&d) + 1u + 15u) / 16u;
    if (bn_cmp(&n, &d, nlimbs) < 0) {
        bn_shl1(&n, nlimbs);
        e2--;
    }
    if (e2 > 127) {
        return EMLC_ERR_VALUE;
    }
    nb = (e2 >= -126) ? 24 : e2 + 150; /* significant bits the result can hold */
    if (nb < 0) {
        *bits = 0; /* value < 2^-150: rounds to zero */
        return EMLC_OK;
    }
    /* long division, one quotient bit per step; invariant n < 2d */
    for (i = 0; i < nb; i++) {
        q <<= 1;
        if (bn_cmp(&n, &d, nlimbs) >= 0) {
            bn_sub(&n, &d, nlimbs);
            q |= 1u;
        }
        bn_shl1(&n, nlimbs);
    }
    rbit = bn_cmp(&n, &d, nlimbs) >= 0;
    if (rbit) {
        bn_sub(&n, &d, nlimbs);
    }
    sticky = !bn_is_zero(&n);
    if (rbit && (sticky || (q & 1u))) {
        q++;
    }
    if (nb == 24) {
        if (q == (1u << 24)) {
            q >>= 1;
            e2++;
            if (e2 > 127) {
                return EMLC_ERR_VALUE;
            }
        }
        *bits = ((uint32_t)(e2 + 127) << 23) | (q & 0x7fffffu);
    } else {
        *bits = q; /* subnormal; q == 2^23 is exactly the smallest normal pattern */
    }
    return EMLC_OK;
}

/* Fast exact path for short decimals, the common case in model files (e.g. "0.6666667"):
 * value = d / 10^k with d < 2^25 and 0 <= k <= 9. The quotient d * 2^s / 10^k is computed by
 * binary long division to 25 significant bits plus a sticky bit, then rounded half to even to a
 * 24-bit significand: the same float32 as the exact big-number path (no float maths, no 64-bit
 * division). Returns 0 when the value is out of its range (the caller uses dec_to_f32). */
static int dec_to_f32_fast(const uint8_t *dig, int32_t nd, int32_t e10, uint32_t *out) {
    static const uint32_t pow10[10] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u,
                                       100000000u, 1000000000u};
    uint32_t d = 0, p, q = 0, rem = 0, m;
    int32_t a = 0, b = 0, s, e, i;
    int sticky, round;
    if (nd > 8 || e10 > 0 || e10 < -9) {
        return 0;
    }
    for (i = 0; i < nd; i++) {
        d = d * 10u + dig[i];
    }
    if (d == 0 || d >= (1u << 25)) {
        return 0;
    }
    p = pow10[-e10];
    while ((d >> a) != 0) {
        a++;
    }
    while ((p >> b) != 0) {
        b++;
    }
    /* d in [2^(a-1), 2^a), p in [2^(b-1), 2^b): with s = 25 - a + b >= 1 the quotient lies in
     * (2^24, 2^26) and d * 2^s < 2^55; remainders stay below p < 2^30. */
    s = 25 - a + b;
    for (i = a - 1; i >= 0; i--) {
        rem = (rem << 1) | ((d >> i) & 1u);
        q <<= 1;
        if (rem >= p) {
            rem -= p;
            q |= 1u;
        }
    }
    for (i = 0; i < s; i++) {
        rem <<= 1;
        q <<= 1;
        if (rem >= p) {
            rem -= p;
            q |= 1u;
        }
    }
    sticky = rem != 0;
    if (q >= (1u << 25)) {
        sticky |= (int)(q & 1u);
        q >>= 1;
        s--;
    }
    /* q in [2^24, 2^25): value = q * 2^-s; keep 24 bits, round half to even */
    m = q >> 1;
    round = (int)(q & 1u);
    if (round && (sticky || (m & 1u))) {
        m++;
        if (m == (1u << 24)) {
            m >>= 1;
            s--;
        }
    }
    e = 24 - s + 127; /* m in [2^23, 2^24): value = m * 2^(1-s) = 1.f * 2^(24-s) */
    if (e < 1 || e > 254) {
        return 0;
    }
    *out = ((uint32_t)e << 23) | (m & 0x7fffffu);
    return 1;
}

emlc_err_t emlc_load_parse_f32(const char *s, size_t len, uint32_t *out_bits) {
    uint8_t dig[DEC_MAX_DIGITS];
    int32_t nd = 0, e10 = 0, mant_digits = 0;
    size_t i = 0;
    int neg = 0, frac = 0;
    uint32_t b = 0;
    emlc_err_t err;
    if (s == NULL || out_bits == NULL) {
        return EMLC_ERR_NULL;
    }
    if (i < len && (s[i] == '-' || s[i] == '+')) {
        neg = (s[i] == '-');
        i++;
    }
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (frac) {
                return EMLC_ERR_FORMAT;
            }
            frac = 1;
            continue;
        }
        if (c < '0' || c > '9') {
            break;
        }
        mant_digits++;
        if (nd == 0 && c == '0') {
            if (frac) {
                e10--;
            }
        } else if (nd < DEC_MAX_DIGITS) {
            dig[nd++] = (uint8_t)(c - '0');
            if (frac) {
                e10--;
            }
        } else if (c != '0') {
            return EMLC_ERR_VALUE; /* more significant digits than we convert exactly */
        } else if (!frac) {
            e10++;
        }
        if (e10 < -1000 || e10 > 1000) {
            return EMLC_ERR_VALUE;
        }
    }
    if (mant_digits == 0) {
        return EMLC_ERR_FORMAT;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0;
        int32_t ev = 0, edigits = 0;
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+')) {
            eneg = (s[i] == '-');
            i++;
        }
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (ev < 100000) {
                ev = ev * 10 + (s[i] - '0');
            }
            edigits++;
        }
        if (edigits == 0) {
            return EMLC_ERR_FORMAT;
        }
        e10 += eneg ? -ev : ev;
    }
    if (i != len) {
        return EMLC_ERR_FORMAT;
    }
    while (nd > 0 && dig[nd - 1] == 0) {
        nd--;
        e10++;
    }
    if (nd > 0 && !dec_to_f32_fast(dig, nd, e10, &b)) {
        err = dec_to_f32(dig, nd, e10, &b);
        if (err != EMLC_OK) {
            return err;
        }
    }
    *out_bits = b | (neg ? 0x80000000u : 0u);
    return EMLC_OK;
}

static int bits_finite(uint32_t b) {
    return (b & 0x7f800000u) != 0x7f800000u;
}

/* A quantization scale must be a finite float32 > 0 (sign bit clear, not +0). */
static int scale_ok(uint32_t b) {
    return bits_finite(b) && (b & 0x80000000u) == 0 && b != 0;
}

/* key() of docs/model-format.md §1 on a float32 bit pattern (no NaN). */
static int32_t key_bits(uint32_t b) {
    if (b & 0x80000000u) {
        return -1 - (int32_t)(b & 0x7fffffffu);
    }
    return (int32_t)b;
}

/* Integer field: [+-]?[0-9]+ within [lo, hi]. */
static emlc_err_t parse_int(const char *s, size_t len, int32_t lo, int32_t hi, int32_t *out) {
    size_t i = 0;
    int neg = 0;
    uint32_t mag = 0;
    int32_t v;
    if (i < len && (s[i] == '-' || s[i] == '+')) {
        neg = (s[i] == '-');
        i++;
    }
    if (i == len) {
        return EMLC_ERR_FORMAT;
    }
    for (; i < len; i++) {
        uint32_t dgt;
        if (s[i] < '0' || s[i] > '9') {
            return EMLC_ERR_FORMAT;
        }
        dgt = (uint32_t)(s[i] - '0');
        if (mag > 214748364u || (mag == 214748364u && dgt > 8u)) {
            return EMLC_ERR_VALUE; /* |v| > 2^31 */
        }
        mag = mag * 10u + dgt;
    }
    if (neg) {
        v = (mag == 0x80000000u) ? (int32_t)(-2147483647 - 1) : -(int32_t)mag;
    } else {
        if (mag > 0x7fffffffu) {
            return EMLC_ERR_VALUE;
        }
        v = (int32_t)mag;
    }
    if (v < lo || v > hi) {
        return EMLC_ERR_VALUE;
    }
    *out = v;
    return EMLC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Storage that depends on the file */

/* n_leaves: the count the file declares (binary header, CSV `s` line), 0 if it declares none. */
static emlc_err_t need_leaves(emlc_load_t *st, uint32_t width, uint32_t n_leaves) {
    if (st->d.get_leaves != NULL) {
        uint32_t bytes = 0;
        void *p = st->d.get_leaves(st->d.ctx, width, n_leaves, &bytes);
        if (p == NULL) {
            return fail(st, EMLC_ERR_CAPACITY, "no leaf storage");
        }
        if (((uintptr_t)p & 3u) != 0) {
            return fail(st, EMLC_ERR_SIZE, "leaves buffer not 4-byte aligned");
        }
        st->d.leaves = p;
        st->d.leaves_bytes = bytes;
    }
    st->leaf_width = width;
    return EMLC_OK;
}

static emlc_err_t need_quant(emlc_load_t *st, uint32_t n_features) {
    if (st->d.get_quant != NULL) {
        float *q = st->d.get_quant(st->d.ctx, n_features);
        if (q == NULL) {
            return fail(st, EMLC_ERR_CAPACITY, "no quantization storage");
        }
        st->d.scale = q;
        st->d.offset = q + n_features;
        st->d.max_features = (uint16_t)n_features;
        return EMLC_OK;
    }
    if (n_features > st->d.max_features) {
        return fail(st, EMLC_ERR_CAPACITY, "too many features for the quantization table");
    }
    return EMLC_OK;
}

static uint32_t width_of(uint8_t kind, uint32_t n_out) {
    switch (kind) {
        case EMLC_LEAF_CLASS: return 1;
        case EMLC_LEAF_PROBA: return 4u * n_out;
        case EMLC_LEAF_VALUE: return 4;
        default: return n_out;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* CSV */

static uint8_t *leaf_ptr(emlc_load_t *st) {
    return (uint8_t *)st->d.leaves + st->leaf_used;
}

static void store_f32(uint8_t *p, uint32_t idx, uint32_t bits) {
    ld_bits_t u;
    u.u = bits;
    ((float *)(void *)p)[idx] = u.f;
}

static emlc_err_t tok_int(emlc_load_t *st, int32_t lo, int32_t hi, int32_t *v) {
    emlc_err_t e = parse_int(st->tok, st->tok_len, lo, hi, v);
    if (e == EMLC_ERR_FORMAT) {
        return fail(st, e, st->tok_len ? "bad integer" : "empty field");
    }
    if (e != EMLC_OK) {
        return fail(st, e, "integer out of range");
    }
    return EMLC_OK;
}

static emlc_err_t tok_f32(emlc_load_t *st, uint32_t *bits) {
    emlc_err_t e = emlc_load_parse_f32(st->tok, st->tok_len, bits);
    if (e == EMLC_ERR_FORMAT) {
        return fail(st, e, st->tok_len ? "bad number" : "empty field");
    }
    if (e != EMLC_OK) {
        return fail(st, e, "number out of range");
    }
    return EMLC_OK;
}

static int tok_is(const emlc_load_t *st, const char *w) {
    uint16_t i = 0;
    while (w[i] != '\0') {
        if (i >= st->tok_len || st->tok[i] != w[i]) {
            return 0;
        }
        i++;
    }
    return i == st->tok_len;
}

/* First data line: fix the model shape from the header lines. */
static emlc_err_t start_data(emlc_load_t *st) {
    uint32_t n_out;
    uint8_t kind, input = EMLC_INPUT_F32;
    if (!(st->seen & SEEN(K_F))) {
        return fail(st, EMLC_ERR_FORMAT, "missing f line");
    }
    if (st->seen & SEEN(K_V)) {
        st->mode = MODE_OURS;
        if (!(st->seen & SEEN(K_K))) {
            return fail(st, EMLC_ERR_FORMAT, "missing k line");
        }
        kind = (uint8_t)st->h_k;
        if (st->seen & SEEN(K_O)) {
            n_out = (uint32_t)st->h_o;
        } else if (kind == EMLC_LEAF_VALUE) {
            n_out = 1;
        } else {
            return fail(st, EMLC_ERR_FORMAT, "missing o line");
        }
        if (kind == EMLC_LEAF_VALUE && n_out != 1) {
            return fail(st, EMLC_ERR_SIZE, "value leaves need o,1");
        }
        if ((st->seen & SEEN(K_C)) && (uint32_t)st->h_c != (kind == EMLC_LEAF_VALUE ? 0u : n_out)) {
            return fail(st, EMLC_ERR_FORMAT, "c does not match o and k");
        }
        if ((st->seen & SEEN(K_D)) && st->h_d == 1) {
            input = EMLC_INPUT_I16;
        }
        if (st->seen & SEEN(K_S)) {
            if ((uint32_t)st->s_trees > st->d.max_trees) {
                return fail(st, EMLC_ERR_CAPACITY, "too many trees");
            }
            if ((uint32_t)st->s_nodes > st->d.max_nodes) {
                return fail(st, EMLC_ERR_CAPACITY, "too many nodes");
            }
        }
    } else {
        st->mode = MODE_EML;
        if (!(st->seen & SEEN(K_C))) {
            return fail(st, EMLC_ERR_FORMAT, "missing c line");
        }
        if (st->h_c == 0) {
            kind = EMLC_LEAF_VALUE;
            n_out = 1;
        } else if (st->h_lb == 0 || st->h_lb == 32) {
            kind = EMLC_LEAF_CLASS;
            n_out = (uint32_t)st->h_c;
        } else if (st->h_lb >= 1 && st->h_lb <= 8) {
            kind = EMLC_LEAF_PROBA8;
            n_out = (uint32_t)st->h_c;
        } else {
            return fail(st, EMLC_ERR_KIND, "unsupported leaf bits for a classifier");
        }
    }
    if (n_out > EMLC_TREES_MAX_OUTPUTS) {
        return fail(st, EMLC_ERR_SIZE, "too many outputs");
    }
    st->m.n_features = (uint16_t)st->h_f;
    st->m.n_outputs = (uint16_t)n_out;
    st->m.input = input;
    st->m.leaf_kind = kind;
    if (need_leaves(st, width_of(kind, n_out), (st->seen & SEEN(K_S)) ? (uint32_t)st->s_leaves : 0) != EMLC_OK) {
        return (emlc_err_t)st->err;
    }
    if ((st->seen & SEEN(K_S)) && (uint32_t)st->s_leaves * st->leaf_width > st->d.leaves_bytes) {
        /* s_leaves <= 2^15 and width <= 2^10: no overflow */
        return fail(st, EMLC_ERR_CAPACITY, "too many leaves");
    }
    if (input == EMLC_INPUT_I16) {
        uint32_t f;
        if (need_quant(st, st->m.n_features) != EMLC_OK) {
            return (emlc_err_t)st->err;
        }
        for (f = 0; f < st->m.n_features; f++) { /* features without a q line */
            ld_bits_t u;
            u.u = 0x3f800000u; /* 1.0f */
            st->d.scale[f] = u.f;
            u.u = 0;
            st->d.offset[f] = u.f;
        }
    }
    return EMLC_OK;
}

static uint8_t kind_of(const emlc_load_t *st) {
    static const char *const names[] = {"f", "c", "lb", "v", "d", "k", "o", "s",
                                        "q", "l", "lp", "r", "n", "knn"};
    uint16_t i;
    if (st->tok_len == 0 || st->tok_len > 8) {
        return K_NONE;
    }
    for (i = 0; i < st->tok_len; i++) {
        if (st->tok[i] < 'a' || st->tok[i] > 'z') {
            return K_NONE;
        }
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (tok_is(st, names[i])) {
            return (uint8_t)(K_F + i);
        }
    }
    return K_SKIP;
}

/* End of field 0: identify the line kind and check where it may appear. */
static emlc_err_t begin_line(emlc_load_t *st) {
    uint8_t k = kind_of(st);
    uint8_t lk;
    int ours = (st->seen & SEEN(K_V)) != 0;
    if (k == K_NONE) {
        return fail(st, EMLC_ERR_FORMAT, "bad line kind");
    }
    st->kind = k;
    st->nv = 0;
    if (k == K_SKIP) {
        return EMLC_OK;
    }
    if (k == K_KNN) {
        return fail(st, EMLC_ERR_KIND, "a k-NN model, not trees");
    }
    if ((k == K_D || k == K_K || k == K_O || k == K_S || k == K_Q || k == K_LP) && !ours) {
        return fail(st, EMLC_ERR_FORMAT, "extension line without a preceding v line");
    }
    if (k <= K_S) {
        if (st->mode != MODE_HEAD) {
            return fail(st, EMLC_ERR_FORMAT, "header line after data lines");
        }
        if (st->seen & SEEN(k)) {
            return fail(st, EMLC_ERR_FORMAT, "duplicate header line");
        }
        st->seen |= SEEN(k);
        return EMLC_OK;
    }
    if (st->mode == MODE_HEAD && start_data(st) != EMLC_OK) {
        return (emlc_err_t)st->err;
    }
    lk = st->m.leaf_kind;
    switch (k) {
        case K_Q:
            if (st->m.input != EMLC_INPUT_I16) {
                return fail(st, EMLC_ERR_FORMAT, "q line in a float model");
            }
            if (st->q_count >= st->m.n_features) {
                return fail(st, EMLC_ERR_FORMAT, "more q lines than features");
            }
            return EMLC_OK;
        case K_L:
        case K_LP:
            if (st->mode == MODE_OURS) {
                if (k == K_L && (lk == EMLC_LEAF_PROBA || lk == EMLC_LEAF_PROBA8)) {
                    return fail(st, EMLC_ERR_FORMAT, "l line for a multi-value leaf kind (use lp)");
                }
                if (k == K_LP && lk == EMLC_LEAF_CLASS) {
                    return fail(st, EMLC_ERR_FORMAT, "lp line for class leaves (use l)");
                }
                if ((st->seen & SEEN(K_S)) && st->m.n_leaves >= (uint32_t)st->s_leaves) {
                    return fail(st, EMLC_ERR_FORMAT, "more leaf lines than declared");
                }
            }
            if (st->m.n_leaves >= MAX_LEAVES_ABS || st->leaf_width > st->d.leaves_bytes - st->leaf_used) {
                return fail(st, EMLC_ERR_CAPACITY, "too many leaves");
            }
            return EMLC_OK;
        case K_R:
            if ((st->seen & SEEN(K_S)) && st->m.n_trees >= (uint32_t)st->s_trees) {
                return fail(st, EMLC_ERR_FORMAT, "more r lines than declared");
            }
            if (st->m.n_trees >= st->d.max_trees) {
                return fail(st, EMLC_ERR_CAPACITY, "too many trees");
            }
            return EMLC_OK;
        default: /* K_N */
            if ((st->seen & SEEN(K_S)) && st->m.n_nodes >= (uint32_t)st->s_nodes) {
                return fail(st, EMLC_ERR_FORMAT, "more n lines than declared");
            }
            if (st->m.n_nodes >= st->d.max_nodes || st->m.n_nodes >= MAX_NODES_ABS) {
                return fail(st, EMLC_ERR_CAPACITY, "too many nodes");
            }
            return EMLC_OK;
    }
}

static emlc_err_t leaf_byte_value(emlc_load_t *st) {
    int32_t v;
    if (st->nv >= st->m.n_outputs) {
        return fail(st, EMLC_ERR_FORMAT, "too many values in leaf");
    }
    if (tok_int(st, 0, 255, &v) != EMLC_OK) {
        return (emlc_err_t)st->err;
    }
    leaf_ptr(st)[st->nv++] = (uint8_t)v;
    return EMLC_OK;
}

static emlc_err_t leaf_float_value(emlc_load_t *st) {
    uint32_t b;
    if (st->nv >= st->m.n_outputs) {
        return fail(st, EMLC_ERR_FORMAT, "too many values in leaf");
    }
    if (tok_f32(st, &b) != EMLC_OK) {
        return (emlc_err_t)st->err;
    }
    if (!bits_finite(b)) {
        return fail(st, EMLC_ERR_VALUE, "leaf value not finite");
    }
    store_f32(leaf_ptr(st), st->nv++, b);
    return EMLC_OK;
}

static emlc_err_t header_field(emlc_load_t *st) {
    int32_t v;
    uint16_t f = st->fidx;
    if (st->kind == K_S) {
        static const int32_t lo[3] = {1, 0, 1};
        static const int32_t hi[3] = {65535, 32767, 32768};
        if (f > 3) {
            return fail(st, EMLC_ERR_FORMAT, "too many fields");
        }
        if (tok_int(st, lo[f - 1], hi[f - 1], &v) != EMLC_OK) {
            return (emlc_err_t)st->err;
        }
        if (f == 1) {
            st->s_trees = v;
        } else if (f == 2) {
            st->s_nodes = v;
        } else {
            st->s_leaves = v;
        }
        return EMLC_OK;
    }
    if (f != 1) {
        return fail(st, EMLC_ERR_FORMAT, "too many fields");
    }
    switch (st->kind) {
        case K_F:
            if (tok_int(st, 1, 65535, &v) != EMLC_OK) return (emlc_err_t)st->err;
            st->h_f = v;
            break;
        case K_C:
            if (tok_int(st, 0, 65535, &v) != EMLC_OK) return (emlc_err_t)st->err;
            st->h_c = v;
            break;
        case K_LB:
            if (tok_int(st, 0, 64, &v) != EMLC_OK) return (emlc_err_t)st->err;
            st->h_lb = v;
            break;
        case K_V:
            if (tok_int(st, 0, 2147483647, &v) != EMLC_OK) return (emlc_err_t)st->err;
            if (v != 1) {
                return fail(st, EMLC_ERR_VERSION, "unsupported format version");
            }
            break;
        case K_D:
            if (tok_is(st, "float")) {
                st->h_d = 0;
            } else if (tok_is(st, "int16")) {
                st->h_d = 1;
            } else {
                return fail(st, EMLC_ERR_KIND, "unknown dtype");
            }
            break;
        case K_K:
            if (parse_int(st->tok, st->tok_len, 0, 3, &v) != EMLC_OK) {
                return fail(st, EMLC_ERR_KIND, "unknown leaf kind");
            }
            st->h_k = v;
            break;
        default: /* K_O */
            if (tok_int(st, 1, 65535, &v) != EMLC_OK) return (emlc_err_t)st->err;
            st->h_o = v;
            break;
    }
    return EMLC_OK;
}

/* End of field fidx >= 1 of the current line. */
static emlc_err_t data_field(emlc_load_t *st) {
    int32_t v;
    uint32_t b;
    uint16_t f = st->fidx;
    switch (st->kind) {
        case K_SKIP:
            return EMLC_OK;
        case K_L:
            if (st->m.leaf_kind == EMLC_LEAF_PROBA8) { /* emlearn, written as l,a,b,c */
                return leaf_byte_value(st);
            }
            if (f != 1) {
                return fail(st, EMLC_ERR_FORMAT, "too many fields");
            }
            if (st->m.leaf_kind == EMLC_LEAF_CLASS) {
                return leaf_byte_value(st);
            }
            return leaf_float_value(st); /* emlearn VALUE */
        case K_LP:
            if (st->m.leaf_kind == EMLC_LEAF_PROBA8) {
                return leaf_byte_value(st);
            }
            return leaf_float_value(st);
        case K_R:
            if (f != 1) {
                return fail(st, EMLC_ERR_FORMAT, "too many fields");
            }
            if (tok_int(st, st->mode == MODE_EML ? 0 : -32768, 32767, &v) != EMLC_OK) {
                return (emlc_err_t)st->err;
            }
            st->d.roots[st->m.n_trees] = (int16_t)v;
            return EMLC_OK;
        case K_N: {
            uint32_t i = st->m.n_nodes;
            if (f == 1) {
                if (tok_int(st, 0, 65535, &v) != EMLC_OK) return (emlc_err_t)st->err;
                st->d.features[i] = (uint16_t)v;
            } else if (f == 2) {
                if (st->mode == MODE_OURS) {
                    if (tok_int(st, -2147483647 - 1, 2147483647, &v) != EMLC_OK) return (emlc_err_t)st->err;
                } else {
                    if (tok_f32(st, &b) != EMLC_OK) return (emlc_err_t)st->err;
                    /* x < t32  <=>  key(x) <= key(t32) - 1; for t32 = +-0 the largest float below
                     * is the negative smallest subnormal, key -2 (key(-0.0) = -1 is not < 0) */
                    v = ((b & 0x7fffffffu) == 0) ? -2 : key_bits(b) - 1;
                }
                st->d.thresholds[i] = v;
            } else if (f == 3 || f == 4) {
                if (tok_int(st, -32768, 32767, &v) != EMLC_OK) return (emlc_err_t)st->err;
                if (st->mode == MODE_EML && v >= 0) {
                    if (v == 0) {
                        return fail(st, EMLC_ERR_CYCLE, "child jumps to its own node");
                    }
                    v += (int32_t)i; /* relative jump -> node index */
                    if (v > 32767) {
                        return fail(st, EMLC_ERR_CHILD, "child index out of range");
                    }
                }
                st->d.children[2 * i + (f - 3)] = (int16_t)v;
            } else {
                return fail(st, EMLC_ERR_FORMAT, "too many fields");
            }
            return EMLC_OK;
        }
        case K_Q:
            if (f == 1) {
                if (tok_int(st, 0, 65535, &v) != EMLC_OK) return (emlc_err_t)st->err;
                if (v != st->q_count) {
                    return fail(st, EMLC_ERR_FORMAT, "q lines must come in feature order");
                }
            } else if (f == 2 || f == 3) {
                if (tok_f32(st, &b) != EMLC_OK) return (emlc_err_t)st->err;
                if (!bits_finite(b)) {
                    return fail(st, EMLC_ERR_VALUE, "quantization not finite");
                }
                if (f == 2) {
                    if (!scale_ok(b)) {
                        return fail(st, EMLC_ERR_VALUE, "scale not > 0");
                    }
                    st->q_scale = b;
                } else {
                    ld_bits_t u;
                    u.u = st->q_scale;
                    st->d.scale[st->q_count] = u.f;
                    u.u = b;
                    st->d.offset[st->q_count] = u.f;
                }
            } else {
                return fail(st, EMLC_ERR_FORMAT, "too many fields");
            }
            return EMLC_OK;
        default:
            return header_field(st);
    }
}

/* End of a line with fidx + 1 fields (all already processed). */
static emlc_err_t end_line(emlc_load_t *st) {
    uint16_t nf = (uint16_t)(st->fidx + 1u);
    uint8_t k = st->kind;
    int ok;
    switch (k) {
        case K_SKIP: ok = 1; break;
        case K_L:
            ok = (st->m.leaf_kind == EMLC_LEAF_PROBA8) ? (st->nv == st->m.n_outputs) : (nf == 2);
            break;
        case K_LP: ok = (st->nv == st->m.n_outputs && nf == 1u + st->m.n_outputs); break;
        case K_N: ok = (nf == 5); break;
        case K_Q: case K_S: ok = (nf == 4); break;
        default: ok = (nf == 2); break; /* r and header kinds */
    }
    if (!ok) {
        return fail(st, EMLC_ERR_FORMAT, "wrong number of fields");
    }
    switch (k) {
        case K_L:
        case K_LP:
            st->m.n_leaves++;
            st->leaf_used += st->leaf_width;
            break;
        case K_R: st->m.n_trees++; break;
        case K_N: st->m.n_nodes++; break;
        case K_Q: st->q_count++; break;
        default: break;
    }
    st->kind = K_NONE;
    st->fidx = 0;
    st->tok_len = 0;
    st->arr = 0;
    st->nv = 0;
    return EMLC_OK;
}

/* End of the current field (',' or line end). Surrounding spaces are not part of a field. */
static emlc_err_t end_field(emlc_load_t *st) {
    emlc_err_t e;
    while (st->tok_len > 0 && (st->tok[st->tok_len - 1] == ' ' || st->tok[st->tok_len - 1] == '\t')) {
        st->tok_len--;
    }
    e = (st->fidx == 0) ? begin_line(st) : data_field(st);
    st->tok_len = 0;
    return e;
}

/* The '\n' that ends a line (outside a bracket array). */
static emlc_err_t csv_newline(emlc_load_t *st) {
    if (st->fidx == 0 && st->tok_len == 0 && st->kind == K_NONE) {
        return EMLC_OK; /* blank line */
    }
    if (st->arr == 0 && st->kind != K_SKIP && end_field(st) != EMLC_OK) {
        return (emlc_err_t)st->err;
    }
    return end_line(st);
}

static emlc_err_t csv_byte(emlc_load_t *st, uint8_t c) {
    if (c != '\n' && c != '\r') {
        st->last_line = st->line_no; /* for errors found at the end of the file */
    }
    if (st->cr) {
        if (c != '\n') {
            return fail(st, EMLC_ERR_FORMAT, "carriage return not followed by line feed");
        }
        st->cr = 0;
    } else if (c == '\r') {
        st->cr = 1;
        return EMLC_OK;
    }
    if (st->arr == 1) { /* inside an emlearn "[a b c]" leaf: spaces and newlines separate */
        if (c == ' ' || c == '\n' || c == ']') {
            if (st->tok_len > 0) {
                if (leaf_byte_value(st) != EMLC_OK) {
                    return (emlc_err_t)st->err;
                }
                st->tok_len = 0;
            }
            if (c == '\n') {
                st->line_no++;
            } else if (c == ']') {
                if (st->nv != st->m.n_outputs) {
                    return fail(st, EMLC_ERR_FORMAT, "wrong number of values in leaf");
                }
                st->arr = 2;
            }
            return EMLC_OK;
        }
        if (c < '0' || c > '9' || st->tok_len >= 3) {
            return fail(st, EMLC_ERR_FORMAT, "bad value in leaf");
        }
        st->tok[st->tok_len++] = (char)c;
        return EMLC_OK;
    }
    if (c == '\n') {
        if (csv_newline(st) != EMLC_OK) {
            return (emlc_err_t)st->err;
        }
        st->kind = K_NONE;
        st->line_no++;
        return EMLC_OK;
    }
    if (st->kind == K_SKIP) {
        return EMLC_OK;
    }
    if (st->arr == 2) {
        if (c == ' ' || c == '\t') {
            return EMLC_OK;
        }
        return fail(st, EMLC_ERR_FORMAT, "text after ]");
    }
    if (c == ',') {
        if (end_field(st) != EMLC_OK) {
            return (emlc_err_t)st->err;
        }
        if (st->fidx >= 0xfffeu) {
            return fail(st, EMLC_ERR_FORMAT, "too many fields");
        }
        st->fidx++;
        return EMLC_OK;
    }
    if ((c == ' ' || c == '\t') && st->tok_len == 0) {
        return EMLC_OK;
    }
    if (c == '[' && st->tok_len == 0 && st->fidx == 1 && st->kind == K_L &&
        st->mode == MODE_EML && st->m.leaf_kind == EMLC_LEAF_PROBA8) {
        st->arr = 1;
        st->nv = 0;
        return EMLC_OK;
    }
    if (st->tok_len >= EMLC_LOAD_TOK_MAX) {
        return fail(st, EMLC_ERR_FORMAT, "field too long");
    }
    st->tok[st->tok_len++] = (char)c;
    return EMLC_OK;
}

static emlc_err_t csv_finish(emlc_load_t *st) {
    st->cr = 0; /* a final lone CR ends the last line */
    if (st->fidx == 0 && st->tok_len == 0 && st->kind == K_NONE && st->arr == 0) {
        st->line_no = st->last_line; /* the file ended with a line end: name its last line */
    }
    if (st->arr == 1) {
        return fail(st, EMLC_ERR_FORMAT, "file ends inside a leaf");
    }
    if (csv_newline(st) != EMLC_OK) {
        return (emlc_err_t)st->err;
    }
    if (st->mode == MODE_HEAD) {
        return fail(st, EMLC_ERR_FORMAT, "no data lines");
    }
    if ((st->seen & SEEN(K_S)) &&
        ((uint32_t)st->s_trees != st->m.n_trees || (uint32_t)st->s_nodes != st->m.n_nodes ||
         (uint32_t)st->s_leaves != st->m.n_leaves)) {
        return fail(st, EMLC_ERR_FORMAT, "truncated: fewer lines than the s line declares");
    }
    if (st->m.n_trees == 0) {
        return fail(st, EMLC_ERR_FORMAT, "no r lines");
    }
    if (st->m.n_leaves == 0) {
        return fail(st, EMLC_ERR_FORMAT, "no leaves");
    }
    return EMLC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Binary */

static uint32_t rd16(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t rd32(const uint8_t *p) {
    return rd16(p) | (rd16(p + 2) << 16);
}

static emlc_err_t bin_fail_at(emlc_load_t *st, uint32_t at, emlc_err_t e, const char *reason) {
    st->off = at;
    return fail(st, e, reason);
}

static void bin_skip_empty(emlc_load_t *st) {
    while (st->sec < 7 && st->sec_pos >= st->sec_pad[st->sec]) {
        st->sec++;
        st->sec_pos = 0;
    }
}

static emlc_err_t bin_header(emlc_load_t *st) {
    const uint8_t *h = st->hdr;
    uint32_t version = rd16(h + 4), input = h[6], kind = h[7];
    uint32_t n_feat = rd16(h + 8), n_out = rd16(h + 10), n_trees = rd16(h + 12);
    uint32_t n_nodes = rd32(h + 16), n_leaves = rd32(h + 20), total = rd32(h + 24);
    uint32_t width, size, i;
    ld_bits_t probe;
    probe.u = 1u;
    (void)probe.f;
    {
        const uint8_t *pb = (const uint8_t *)&probe;
        if (pb[0] != 1u) {
            return bin_fail_at(st, 0, EMLC_ERR_KIND, "binary files need a little-endian host");
        }
    }
    if (version != 1u) {
        return bin_fail_at(st, 4, EMLC_ERR_VERSION, "unsupported format version");
    }
    if (input > EMLC_INPUT_I16) {
        return bin_fail_at(st, 6, EMLC_ERR_KIND, "unknown input type");
    }
    if (kind > EMLC_LEAF_PROBA8) {
        return bin_fail_at(st, 7, EMLC_ERR_KIND, "unknown leaf kind");
    }
    if (n_feat == 0) {
        return bin_fail_at(st, 8, EMLC_ERR_SIZE, "zero features");
    }
    if (n_out == 0 || n_out > EMLC_TREES_MAX_OUTPUTS || (kind == EMLC_LEAF_VALUE && n_out != 1)) {
        return bin_fail_at(st, 10, EMLC_ERR_SIZE, "bad number of outputs");
    }
    if (n_trees == 0) {
        return bin_fail_at(st, 12, EMLC_ERR_SIZE, "zero trees");
    }
    if (n_trees > st->d.max_trees) {
        return bin_fail_at(st, 12, EMLC_ERR_CAPACITY, "too many trees");
    }
    if (rd16(h + 14) != 0) {
        return bin_fail_at(st, 14, EMLC_ERR_FORMAT, "reserved field not zero");
    }
    if (n_nodes > MAX_NODES_ABS) {
        return bin_fail_at(st, 16, EMLC_ERR_SIZE, "too many nodes");
    }
    if (n_nodes > st->d.max_nodes) {
        return bin_fail_at(st, 16, EMLC_ERR_CAPACITY, "too many nodes");
    }
    if (n_leaves == 0 || n_leaves > MAX_LEAVES_ABS) {
        return bin_fail_at(st, 20, EMLC_ERR_SIZE, "bad number of leaves");
    }
    if (rd32(h + 28) != 0) {
        return bin_fail_at(st, 28, EMLC_ERR_FORMAT, "reserved field not zero");
    }
    width = width_of((uint8_t)kind, n_out);
    /* n_leaves <= 2^15, width <= 2^10, n_nodes <= 2^15: no overflow below */
    st->sec_len[0] = 4u * n_nodes;
    st->sec_len[1] = 2u * n_nodes;
    st->sec_len[2] = 4u * n_nodes;
    st->sec_len[3] = 2u * n_trees;
    st->sec_len[4] = n_leaves * width;
    st->sec_len[5] = (input == EMLC_INPUT_I16) ? 4u * n_feat : 0u;
    st->sec_len[6] = st->sec_len[5];
    size = 32;
    for (i = 0; i < 7; i++) {
        st->sec_pad[i] = (st->sec_len[i] + 3u) & ~3u;
        size += st->sec_pad[i];
    }
    if (total != size) {
        return bin_fail_at(st, 24, EMLC_ERR_FORMAT, "file size field does not match the counts");
    }
    /* storage that depends on the header (callbacks may allocate) */
    st->off = 20;
    if (need_leaves(st, width, n_leaves) != EMLC_OK) {
        return (emlc_err_t)st->err;
    }
    if (st->sec_len[4] > st->d.leaves_bytes) {
        return fail(st, EMLC_ERR_CAPACITY, "too many leaves");
    }
    if (input == EMLC_INPUT_I16) {
        st->off = 8;
        if (need_quant(st, n_feat) != EMLC_OK) {
            return (emlc_err_t)st->err;
        }
    }
    st->off = 32;
    st->sec_base[0] = (uint8_t *)st->d.thresholds;
    st->sec_base[1] = (uint8_t *)st->d.features;
    st->sec_base[2] = (uint8_t *)st->d.children;
    st->sec_base[3] = (uint8_t *)st->d.roots;
    st->sec_base[4] = (uint8_t *)st->d.leaves;
    st->sec_base[5] = (uint8_t *)st->d.scale;
    st->sec_base[6] = (uint8_t *)st->d.offset;
    st->total = total;
    st->m.n_features = (uint16_t)n_feat;
    st->m.n_outputs = (uint16_t)n_out;
    st->m.n_trees = (uint16_t)n_trees;
    st->m.input = (uint8_t)input;
    st->m.leaf_kind = (uint8_t)kind;
    st->m.n_nodes = (uint16_t)n_nodes;
    st->m.n_leaves = (uint16_t)n_leaves;
    st->sec = 0;
    st->sec_pos = 0;
    bin_skip_empty(st);
    return EMLC_OK;
}

static emlc_err_t bin_feed(emlc_load_t *st, const uint8_t *data, size_t len) {
    size_t i = 0;
    static const char magic[4] = {'E', 'M', 'L', 'T'};
    while (i < len) {
        uint8_t c = data[i];
        if (st->off < 32u) {
            if (st->off < 4u && c != (uint8_t)magic[st->off]) {
                if (st->off == 3u && c == 'K') {
                    return fail(st, EMLC_ERR_KIND, "a k-NN model, not trees");
                }
                return fail(st, EMLC_ERR_FORMAT, "bad magic");
            }
            st->hdr[st->off] = c;
            st->off++;
            i++;
            if (st->off == 32u && bin_header(st) != EMLC_OK) {
                return (emlc_err_t)st->err;
            }
            continue;
        }
        if (st->sec >= 7) {
            return fail(st, EMLC_ERR_FORMAT, "bytes after the end of the model");
        }
        {
            uint8_t s = st->sec;
            uint32_t pos = st->sec_pos;
            if (pos < st->sec_len[s]) {
                uint8_t *p = st->sec_base[s];
                p[pos] = c;
                /* float sections: check each complete element is finite */
                if ((pos & 3u) == 3u &&
                    (s >= 5 || (s == 4 && (st->m.leaf_kind == EMLC_LEAF_PROBA ||
                                           st->m.leaf_kind == EMLC_LEAF_VALUE)))) {
                    uint32_t b = rd32(p + pos - 3u);
                    if (!bits_finite(b)) { /* where: the element's first byte */
                        return bin_fail_at(st, st->off - 3u, EMLC_ERR_VALUE,
                                           s == 4 ? "leaf value not finite" : "quantization not finite");
                    }
                    if (s == 5 && !scale_ok(b)) {
                        return bin_fail_at(st, st->off - 3u, EMLC_ERR_VALUE, "scale not > 0");
                    }
                }
            } else if (c != 0) {
                return fail(st, EMLC_ERR_FORMAT, "padding byte not zero");
            }
            st->sec_pos = pos + 1u;
            st->off++;
            i++;
            bin_skip_empty(st);
        }
    }
    return EMLC_OK;
}

/* ---------------------------------------------------------------------------------------- */

static void clear_model(emlc_trees_t *m) {
    m->n_features = 0;
    m->n_outputs = 0;
    m->n_trees = 0;
    m->input = 0;
    m->leaf_kind = 0;
    m->n_nodes = 0;
    m->n_leaves = 0;
    m->thresholds = NULL;
    m->features = NULL;
    m->children = NULL;
    m->roots = NULL;
    m->leaves = NULL;
}

emlc_err_t emlc_load_init(emlc_load_t *st, const emlc_load_dest_t *dest) {
    uint8_t *p;
    size_t i;
    if (st == NULL) {
        return EMLC_ERR_NULL;
    }
    p = (uint8_t *)st;
    for (i = 0; i < sizeof(*st); i++) {
        p[i] = 0;
    }
    st->reason = "ok";
    st->line_no = 1;
    st->last_line = 1;
    if (dest == NULL) {
        st->err = EMLC_ERR_NULL;
        st->reason = "no destination";
        return EMLC_ERR_NULL;
    }
    st->d = *dest;
    clear_model(&st->m);
    if ((dest->max_nodes > 0 && (dest->thresholds == NULL || dest->features == NULL ||
                                 dest->children == NULL)) ||
        (dest->max_trees > 0 && dest->roots == NULL) ||
        (dest->get_leaves == NULL && dest->leaves_bytes > 0 && dest->leaves == NULL) ||
        (dest->get_quant == NULL && dest->max_features > 0 &&
         (dest->scale == NULL || dest->offset == NULL))) {
        st->err = EMLC_ERR_NULL;
        st->reason = "destination array missing";
        return EMLC_ERR_NULL;
    }
    if (((uintptr_t)dest->leaves & 3u) != 0) {
        st->err = EMLC_ERR_SIZE;
        st->reason = "leaves buffer not 4-byte aligned";
        return EMLC_ERR_SIZE;
    }
    return EMLC_OK;
}

emlc_err_t emlc_load_feed(emlc_load_t *st, const uint8_t *data, size_t len) {
    size_t i;
    if (st == NULL) {
        return EMLC_ERR_NULL;
    }
    if (st->err != EMLC_OK) {
        return (emlc_err_t)st->err;
    }
    if (st->finished) {
        return fail(st, EMLC_ERR_STATE, "feed after finish");
    }
    if (len == 0) {
        return EMLC_OK;
    }
    if (data == NULL) {
        return fail(st, EMLC_ERR_NULL, "no data");
    }
    if (st->fmt == FMT_NONE) {
        if (data[0] == 'E') {
            st->fmt = FMT_BIN;
        } else {
            st->fmt = FMT_CSV;
        }
    }
    if (st->fmt == FMT_BIN) {
        return bin_feed(st, data, len);
    }
    for (i = 0; i < len; i++) {
        if (csv_byte(st, data[i]) != EMLC_OK) {
            return (emlc_err_t)st->err;
        }
    }
    return EMLC_OK;
}

emlc_err_t emlc_load_finish(emlc_load_t *st, emlc_trees_t *model) {
    emlc_err_t e;
    if (st == NULL || model == NULL) {
        if (model != NULL) {
            clear_model(model);
        }
        return EMLC_ERR_NULL;
    }
    clear_model(model);
    if (st->err != EMLC_OK) {
        return (emlc_err_t)st->err;
    }
    if (st->finished) {
        return fail(st, EMLC_ERR_STATE, "finish called twice");
    }
    st->finished = 1;
    if (st->fmt == FMT_NONE) {
        return fail(st, EMLC_ERR_FORMAT, "empty file");
    }
    if (st->fmt == FMT_BIN) {
        if (st->off < 32u) {
            return fail(st, EMLC_ERR_FORMAT, "truncated header");
        }
        if (st->sec < 7) {
            return fail(st, EMLC_ERR_FORMAT, "truncated file");
        }
    } else if (csv_finish(st) != EMLC_OK) {
        return (emlc_err_t)st->err;
    }
    st->m.thresholds = st->d.thresholds;
    st->m.features = st->d.features;
    st->m.children = st->d.children;
    st->m.roots = st->d.roots;
    st->m.leaves = st->d.leaves;
    e = emlc_trees_validate(&st->m);
    if (e != EMLC_OK) {
        clear_model(&st->m);
        return fail(st, e, emlc_strerror(e));
    }
    *model = st->m;
    return EMLC_OK;
}
