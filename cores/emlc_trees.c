/* emlc_trees.c: tree-ensemble inference over the arrays of docs/model-format.md §1 (version 2).
 *
 * Hot path: walk — per node one 8-byte node (key, fk, c), one input load (float: 3 integer
 * ops for the key and a one-sided NaN test), one signed compare and the shape's step. Aggregation
 * follows docs/model-format.md "Aggregation" to the bit: integer votes and fixed-point sums, and
 * float32 only for probabilities, regression values and PROBA near-ties.
 */
#include "emlc_trees.h"
#include "emlc_f64.h"

#if defined(__GNUC__)
#define EMLC_NOINLINE __attribute__((noinline))
#else
#define EMLC_NOINLINE
#endif


static inline int32_t key_f32(float x) {
    emlc_bits_t b;
    b.f = x;
    /* negative: flip the 31 magnitude bits so that larger magnitude gives a smaller key */
    b.u ^= (0u - (b.u >> 31)) >> 1;
    return b.i;
}

int32_t emlc_trees_key_f32(float x) {
    return key_f32(x);
}

/* ---------------------------------------------------------------- the walk */

/* walk(m, x, t, t_end, out, mode) follows trees t .. t_end - 1 (t < t_end), in order, from their
 * roots to their leaves. EMLC_VOTES: out is uint32_t votes[n_outputs], votes[ref] += 1 per tree
 * (CLASS leaves); EMLC_REFS: out is uint16_t refs[t_end - t], refs[i] = the leaf reference of
 * tree t + i.
 * Invariant (emlc_trees_validate): every node child has a larger index than its parent and is
 * < n_nodes, so each walk ends within n_nodes steps. fk bit 0 set: the left child is a leaf
 * (reference c, or c & 0xff when bit 1 is set too); bit 1: the right child is (c, or c >> 8).
 * A node child is i + 1, except the right child of shape 0 (i + c). A float NaN goes the way of
 * missing_left (fk bit 2): a positive NaN's key is above every threshold, a negative NaN's below,
 * so each side tests only for the NaN that lands on it (that rare case first), then the bit. */
#define EMLC_VOTES 0u
#define EMLC_REFS 1u

#if defined(__GNUC__) && !defined(__clang__) && defined(__ARM_ARCH_6M__) && defined(__thumb__) \
    && !defined(EMLC_NO_ASM)
#define EMLC_WALK_THUMB1 1
#endif

#if defined(EMLC_WALK_THUMB1)
/* Cortex-M0 (armv6m, Thumb-1): the C walk below, by hand. GCC's Thumb-1 code for the C keeps
 * bit masks in registers and spills the tree loop to the stack (on make bench-cores' float forest
 * about 17.8 instructions per node and 35 per tree, 0.55x emlearn's instructions); this takes 15
 * per float node to the left and 17-18 to the right (int16: 10 and 12-13) and about 19 per tree.
 * tests_host/test_cores_armv6m.py runs this and the C (-DEMLC_NO_ASM) on an emulated Cortex-M0
 * against the host build and the format's rule, NaN routing included.
 * Flags come from shifts, not masks: fk << 31 puts bit 0 (left leaf) in N; fk << 30 sets Z for
 * shape 0 and puts bit 1 (right leaf) in N; fk << 29 puts missing_left in N. One register holds
 * the NaN bound 0x7f800001: k >= it (cmp) is a positive NaN, k < -it (cmn) a negative one; 0
 * there selects the int16 loop. out carries the mode in bit 0 (set: refs, which are 2-aligned).
 * ip holds the nodes, lr the end of the roots. GCC only: clang keeps r7 for the frame pointer and
 * cannot give the asm the 8 low registers it takes. */
static EMLC_NOINLINE void walk(const emlc_trees_t *m, const void *x, uint32_t t, uint32_t t_end, void *out,
                               uint32_t mode) {
    const int16_t *root = m->roots + t;
    uintptr_t o = (uintptr_t)out | mode;
    uintptr_t n = (uintptr_t)m->nodes, tmp = (uintptr_t)(m->roots + t_end);
    uint32_t fk, k;
    int32_t nan = (int32_t)((m->input - 1u) & 0x7f800001u); /* input: 0 float, 1 int16 */
    __asm__ volatile(
        ".syntax unified\n"
        "     mov   ip, %[n]\n"                /* the nodes */
        "     mov   lr, %[t]\n"                /* the end of the roots */
        /* per tree: the root r, a node or leaf -1 - r */
        "0:   ldrh  %[n], [%[root]]\n"
        "     adds  %[root], #2\n"
        "     lsls  %[n], %[n], #16\n"
        "     bmi   9f\n"
        "     lsrs  %[n], %[n], #13\n"
        "     add   %[n], ip\n"
        "     cmp   %[nan], #0\n"
        "     bne   2f\n"
        "     b     20f\n"
        /* float: left of the threshold (key(x) <= key) */
        "1:   cmn   %[k], %[nan]\n"          /* a negative NaN: missing_left decides */
        "     blt   5f\n"
        "3:   lsls  %[t], %[fk], #31\n"
        "     bmi   7f\n"
        "     adds  %[n], #8\n"
        "2:   ldrh  %[fk], [%[n], #4]\n"
        "     lsrs  %[t], %[fk], #3\n"
        "     lsls  %[t], %[t], #2\n"
        "     ldr   %[k], [%[x], %[t]]\n"
        "     asrs  %[t], %[k], #31\n"      /* key: flip the magnitude bits when negative */
        "     lsrs  %[t], %[t], #1\n"
        "     eors  %[k], %[t]\n"
        "     ldr   %[t], [%[n]]\n"
        "     cmp   %[k], %[t]\n"
        "     ble   1b\n"
        /* float: right of the threshold */
        "     cmp   %[k], %[nan]\n"          /* a positive NaN: missing_left decides */
        "     bge   5f\n"
        "4:   lsls  %[t], %[fk], #30\n"
        "     bne   6f\n"
        "     ldrh  %[t], [%[n], #6]\n"      /* shape 0: node i + c */
        "     lsls  %[t], %[t], #3\n"
        "     adds  %[n], %[t]\n"
        "     b     2b\n"
        "6:   bmi   8f\n"
        "     adds  %[n], #8\n"              /* shape 1: node i + 1 */
        "     b     2b\n"
        "5:   lsls  %[t], %[fk], #29\n"      /* NaN: left if missing_left */
        "     bmi   3b\n"
        "     b     4b\n"
        /* int16 */
        "21:  lsls  %[t], %[fk], #31\n"
        "     bmi   7f\n"
        "     adds  %[n], #8\n"
        "20:  ldrh  %[fk], [%[n], #4]\n"
        "     lsrs  %[t], %[fk], #3\n"
        "     lsls  %[t], %[t], #1\n"
        "     ldrsh %[k], [%[x], %[t]]\n"
        "     ldr   %[t], [%[n]]\n"
        "     cmp   %[k], %[t]\n"
        "     ble   21b\n"
        "     lsls  %[t], %[fk], #30\n"
        "     bne   22f\n"
        "     ldrh  %[t], [%[n], #6]\n"
        "     lsls  %[t], %[t], #3\n"
        "     adds  %[n], %[t]\n"
        "     b     20b\n"
        "22:  bmi   8f\n"
        "     adds  %[n], #8\n"
        "     b     20b\n"
        "12:  subs  %[t], %[out], #1\n"      /* *refs++ = ref */
        "     strh  %[k], [%[t]]\n"
        "     adds  %[out], #2\n"
        "     b     11f\n"
        /* the leaf reference: left c (shape 3: c & 0xff), right c (shape 3: c >> 8) */
        "7:   ldrh  %[k], [%[n], #6]\n"
        "     lsls  %[t], %[fk], #30\n"
        "     bpl   10f\n"
        "     uxtb  %[k], %[k]\n"
        "     b     10f\n"
        "8:   ldrh  %[k], [%[n], #6]\n"
        "     lsls  %[t], %[fk], #31\n"
        "     bpl   10f\n"
        "     lsrs  %[k], %[k], #8\n"
        "     b     10f\n"
        "9:   asrs  %[n], %[n], #16\n"
        "     mvns  %[k], %[n]\n"
        "10:  lsrs  %[t], %[out], #1\n"
        "     bcs   12b\n"
        "     lsls  %[t], %[k], #2\n"        /* votes[ref] += 1 */
        "     ldr   %[n], [%[out], %[t]]\n"
        "     adds  %[n], #1\n"
        "     str   %[n], [%[out], %[t]]\n"
        "11:  cmp   %[root], lr\n"
        "     bcc   0b\n"
        : [n] "+l"(n), [fk] "=&l"(fk), [k] "=&l"(k), [t] "+l"(tmp), [root] "+l"(root), [out] "+l"(o)
        : [x] "l"(x), [nan] "l"(nan)
        : "cc", "memory", "ip", "lr");
}
#else
/* The leaf reference of the tree whose root node is n. */
static inline uint32_t leaf_i16(const emlc_node_t *n, const int16_t *x) {
    for (;;) {
        uint32_t fk = n->fk;
        if (x[fk >> EMLC_FK_FEATURE_SHIFT] <= n->key) {
            if (fk & EMLC_FK_LEFT_LEAF) {
                return fk & EMLC_FK_RIGHT_LEAF ? n->c & 0xffu : n->c;
            }
            n += 1;
        } else if (!(fk & (EMLC_FK_LEFT_LEAF | EMLC_FK_RIGHT_LEAF))) {
            n += n->c;
        } else if (fk & EMLC_FK_RIGHT_LEAF) {
            return fk & EMLC_FK_LEFT_LEAF ? (uint32_t)n->c >> 8 : n->c;
        } else {
            n += 1;
        }
    }
}

static inline uint32_t leaf_f32(const emlc_node_t *n, const float *x) {
    for (;;) {
        uint32_t fk = n->fk;
        int32_t k = key_f32(x[fk >> EMLC_FK_FEATURE_SHIFT]);
        if (k <= n->key) {
            if (k < -0x7f800001 && !(fk & EMLC_FK_MISSING_LEFT)) { /* a negative NaN */
                goto right;
            }
        left:
            if (fk & EMLC_FK_LEFT_LEAF) {
                return fk & EMLC_FK_RIGHT_LEAF ? n->c & 0xffu : n->c;
            }
            n += 1;
        } else {
            if (k > 0x7f800000 && (fk & EMLC_FK_MISSING_LEFT)) { /* a positive NaN */
                goto left;
            }
        right:
            if (!(fk & (EMLC_FK_LEFT_LEAF | EMLC_FK_RIGHT_LEAF))) {
                n += n->c;
            } else if (fk & EMLC_FK_RIGHT_LEAF) {
                return fk & EMLC_FK_LEFT_LEAF ? (uint32_t)n->c >> 8 : n->c;
            } else {
                n += 1;
            }
        }
    }
}

/* Compiled at -O2 where GCC allows: at -Os it reloads the loop's constants on every node. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O2")))
#endif
static EMLC_NOINLINE void walk(const emlc_trees_t *m, const void *x, uint32_t t, uint32_t t_end, void *out,
                               uint32_t mode) {
    for (; t < t_end; t++) {
        int32_t r = m->roots[t];
        uint32_t ref;
        if (r < 0) {
            ref = (uint32_t)(-1 - r);
        } else if (m->input == EMLC_INPUT_I16) {
            ref = leaf_i16(m->nodes + r, (const int16_t *)x);
        } else {
            ref = leaf_f32(m->nodes + r, (const float *)x);
        }
        if (mode == EMLC_REFS) {
            *(uint16_t *)out = (uint16_t)ref;
            out = (uint16_t *)out + 1;
        } else {
            ((uint32_t *)out)[ref] += 1;
        }
    }
}
#endif

/* The leaf reference tree t sends x to. */
static uint32_t leaf_of(const emlc_trees_t *m, uint32_t t, const void *x) {
    uint16_t ref;
    walk(m, x, t, t + 1, &ref, EMLC_REFS);
    return ref;
}

emlc_err_t emlc_trees_leaf(const emlc_trees_t *m, uint16_t tree, const void *x, uint32_t *out_ref) {
    if (m == NULL || x == NULL || out_ref == NULL || m->roots == NULL) {
        return EMLC_ERR_NULL;
    }
    if (tree >= m->n_trees) {
        return EMLC_ERR_SIZE;
    }
    *out_ref = leaf_of(m, tree, x);
    return EMLC_OK;
}

/* ---------------------------------------------------------------- aggregation */

static uint32_t argmax_u32(const uint32_t *a, uint32_t n) {
    uint32_t j, best = 0, top = a[0];
    for (j = 1; j < n; j++) {
        if (a[j] > top) {
            top = a[j];
            best = j;
        }
    }
    return best;
}

/* CLASS: votes per class (integer). */
static void vote(const emlc_trees_t *m, const void *x, uint32_t *acc) {
    uint32_t j;
    for (j = 0; j < m->n_outputs; j++) {
        acc[j] = 0;
    }
    walk(m, x, 0, m->n_trees, acc, EMLC_VOTES);
}

/* One walk over the trees for PROBA / VALUE leaves (docs/model-format.md "Aggregation"):
 *  S (if not NULL): S[c] = sum of 65536 for a pure leaf's class and of q for each payload term;
 *  F (if not NULL): float32 sums in tree order, F[c] += 1.0f (pure) or (float)count / (float)w
 *  (payload term), VALUE F[0] += values[r]; zero proportions are not added.
 * Returns U, the number of trees that reached a payload. */
#define EMLC_CHUNK 16 /* leaf references per walk() in sums() */
static uint32_t sums(const emlc_trees_t *m, const void *x, uint32_t *S, float *F) {
    uint16_t refs[EMLC_CHUNK];
    uint32_t i, j, t, c, u = 0, n_out = m->n_outputs;
    for (j = 0; j < n_out; j++) {
        if (S != NULL) {
            S[j] = 0;
        }
        if (F != NULL) {
            F[j] = 0.0f;
        }
    }
    for (t = 0; t < m->n_trees; t += c) {
        c = m->n_trees - t < EMLC_CHUNK ? m->n_trees - t : EMLC_CHUNK;
        walk(m, x, t, t + c, refs, EMLC_REFS);
        for (i = 0; i < c; i++) {
            uint32_t r = refs[i];
            if (m->leaf_kind == EMLC_LEAF_VALUE) {
                F[0] += m->values[r];
            } else if (r < n_out) {
                if (S != NULL) {
                    S[r] += 65536u;
                }
                if (F != NULL) {
                    F[r] += 1.0f;
                }
            } else {
                const uint8_t *p = m->payload + m->offsets[r - n_out];
                const uint8_t *term = p + 3, *end = term + 3 * (uint32_t)p[0];
                uint32_t w = emlc_trees_u16le(p + 1);
                for (; term < end; term += 3) {
                    uint32_t q = emlc_trees_u16le(term + 1);
                    if (S != NULL) {
                        S[term[0]] += q;
                    }
                    if (F != NULL) {
                        F[term[0]] += (float)(int32_t)((q * w + 32768u) >> 16) / (float)(int32_t)w;
                    }
                }
                u++;
            }
        }
    }
    return u;
}

/* The first argmax b of the fixed-point sums S when it is certain: S[b] beats every other class
 * by more than u (each q is within 1/2 of count/w * 65536, and u trees added a q to a class at
 * most once each). -1 for an exact or near tie. */
static EMLC_NOINLINE int32_t certain_argmax(const uint32_t *S, uint32_t n_out, uint32_t u) {
    uint32_t j, b = 0, top = S[0], second = 0; /* the largest S[j], j != b (0 if none) */
    for (j = 1; j < n_out; j++) {
        uint32_t s = S[j];
        if (s > top) {
            second = top;
            top = s;
            b = j;
        } else if (s > second) {
            second = s;
        }
    }
    return top - second > u ? (int32_t)b : -1;
}

/* The proportion of class c in leaf r (PROBA) as a double: 1 or 0 for a pure leaf, count/w. */
static uint64_t proportion(const emlc_trees_t *m, uint32_t r, uint32_t c) {
    const uint8_t *p, *term, *end;
    if (r < m->n_outputs) {
        return r == c ? (uint64_t)1023 << 52 : 0;
    }
    p = m->payload + m->offsets[r - m->n_outputs];
    for (term = p + 3, end = term + 3 * (uint32_t)p[0]; term < end; term += 3) {
        if (term[0] == c) {
            uint32_t w = emlc_trees_u16le(p + 1);
            return emlc_f64_ratio((emlc_trees_u16le(term + 1) * w + 32768u) >> 16, 0, w);
        }
    }
    return 0;
}

/* scikit-learn's forest vote, exactly, among the classes that can win (S within u of the best):
 * the first argmax over classes of fl64(0 + p_1c + ... + p_Tc) / T, the float64 proportions
 * added in tree order (docs/model-format.md "Aggregation"). One walk of the forest per such
 * class; used only at exact and near ties. */
static int32_t exact_argmax(const emlc_trees_t *m, const void *x, const uint32_t *S, uint32_t u) {
    uint32_t c, t, b = argmax_u32(S, m->n_outputs);
    uint64_t top = 0;
    int32_t best = -1;
    for (c = 0; c < m->n_outputs; c++) {
        uint64_t s = 0;
        if (S[b] - S[c] > u) {
            continue;
        }
        for (t = 0; t < m->n_trees; t++) {
            s = emlc_f64_add(s, proportion(m, leaf_of(m, t, x), c));
        }
        s = emlc_f64_div_int(s, m->n_trees);
        if (best < 0 || s > top) {
            top = s;
            best = (int32_t)c;
        }
    }
    return best;
}

typedef struct emlc_acc {
    uint32_t n[EMLC_TREES_MAX_OUTPUTS];
} emlc_acc_t;

emlc_err_t emlc_trees_predict(const emlc_trees_t *m, const void *x, float *out, size_t n_out, int32_t *out_class) {
    emlc_acc_t acc;
    uint32_t j, n_outputs;
    int32_t cls = 0;
    if (m == NULL || x == NULL || m->roots == NULL) {
        return EMLC_ERR_NULL;
    }
    n_outputs = m->n_outputs;
    if (m->n_trees == 0 || n_outputs == 0 || n_outputs > EMLC_TREES_MAX_OUTPUTS || (out != NULL && n_out < n_outputs)) {
        return EMLC_ERR_SIZE;
    }
    if (m->leaf_kind == EMLC_LEAF_CLASS) {
        vote(m, x, acc.n);
        cls = (int32_t)argmax_u32(acc.n, n_outputs);
        for (j = 0; out != NULL && j < n_outputs; j++) {
            out[j] = (float)(int32_t)acc.n[j];
        }
    } else if (m->leaf_kind == EMLC_LEAF_PROBA) {
        uint32_t u = sums(m, x, acc.n, out);
        cls = certain_argmax(acc.n, n_outputs, u);
        if (cls < 0) { /* an exact or near tie: scikit-learn's float64 sums decide */
            cls = exact_argmax(m, x, acc.n, u);
        }
    } else if (out != NULL) {
        sums(m, x, NULL, out);
    } else {
        return EMLC_ERR_SIZE; /* a regression value needs out */
    }
    for (j = 0; out != NULL && j < n_outputs; j++) {
        out[j] = out[j] / (float)(int32_t)m->n_trees;
    }
    if (out_class != NULL) {
        *out_class = cls;
    }
    return EMLC_OK;
}
