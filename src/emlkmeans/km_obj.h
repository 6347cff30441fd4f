/* km_obj.h: the emlkmeans KMeans object, shared by src/emlkmeans (the module: new, predict, the
 * centers, ...) and src/emlkmeans_fit (fit: k-means++ start and Lloyd iterations, a separate module
 * that the first KMeans.fit imports and calls with its arguments as they are).
 *
 * The fit module checks fit's arguments with emlkmeans' own checks and calls emlkmeans' float
 * helpers (emlglue.h), both reached through the model's `glue` (set by new(); emlkmeans_fit checks
 * the model's type before it follows the pointer), so neither module holds a second copy of them.
 *
 * Invariant: ready implies km.centers holds n_clusters * n_features checked float32 values
 * (finite, |v| < 2**40), set by fit or set_cluster_centers.
 */
#ifndef KM_OBJ_H
#define KM_OBJ_H

#include "emlglue.h"
#include "emlc_kmeans.h"

struct km_obj;


/* emlkmeans' argument checks (src/emlkmeans/emlkmeans.c) and float helpers: each check raises
 * TypeError/ValueError with a message naming the argument. */
typedef struct km_glue {
    /* samples of the model's dtype: their number, their data into *data */
    size_t (*samples)(const struct km_obj *self, mp_obj_t obj, const void **data);
    /* array('f') of n_clusters * n_features values (checked unless written) */
    float *(*centers)(const struct km_obj *self, mp_obj_t obj, bool writable);
#ifdef EMLG_SF_ADD
    emlg_sf_fn_t sf[3]; /* emlkmeans' float helpers (emlglue.h): EMLG_SF_ADD, _SUB, _MUL */
#endif
} km_glue_t;

typedef struct km_obj {
    mp_obj_base_t base;
    emlc_kmeans_t km;       /* km.centers: a GC block of n_clusters * n_features floats */
    const km_glue_t *glue;  /* emlkmeans' checks, for emlkmeans_fit */
    uint32_t n_iter;        /* of the last fit; 0: no fit since the centers were set */
    float inertia;
    bool ready;             /* the centers are set (by fit or set_cluster_centers) */
} km_obj_t;

#endif /* KM_OBJ_H */
