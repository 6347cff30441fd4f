/* knn_obj.h: the emlneighbors Model object, shared by src/emlneighbors (the module: new, add_item,
 * predict, ...) and src/emlneighbors_load (its file loader, a separate module that fills a Model
 * it is given).
 *
 * The k results, the item storage and the labels live in one GC-heap block, in that order: its
 * head is `results`, held by the model object (so it lives exactly as long as the model). A model
 * from a file has the file's body in that block after the results (items, labels, quantization,
 * class labels: the file is read straight into it, then validated); its store is full (n_items ==
 * max_items). On any load error the block is freed and the model is empty: a model made by new()
 * gets new()'s empty store back (its `store` hook), one made by load() has no room.
 */
#ifndef KNN_OBJ_H
#define KNN_OBJ_H

#include "emlglue.h"
#include "emlc_knn.h"

#define KNN_ANY_DTYPE 0xff /* cap_dtype of a model made by load(): it takes either dtype */

struct knn_obj;

/* An int16 model from a file quantizes array('f') inputs with code of the loader module (which
 * is imported whenever such a model exists, and whose code MicroPython never frees), so the base
 * module does not carry it: the values as a new GC block of n_features int16 (the caller frees
 * it), or NULL when values is not an array('f'). */
typedef int16_t *(*knn_quantize_fn_t)(const struct knn_obj *self, mp_obj_t values);

typedef struct knn_obj {
    mp_obj_base_t base;
    emlc_knn_t knn;              /* knn.data and knn.labels point into the block of `results` */
    emlc_knn_result_t *results;  /* k entries at the head of the GC block; NULL after a failed load */
    knn_quantize_fn_t quantize;  /* an int16 model from a file: the loader's quantizer, else NULL */
    const float *scale;          /* ... and the file's quantization it uses */
    const float *offset;
    const int32_t *classes;      /* the file's class labels (labels are indices into it), else NULL */
    uint32_t cap_items;          /* load_model's limits: new()'s max_items, n_features, k, dtype */
    uint16_t cap_features, cap_k;
    uint8_t cap_dtype;           /* KNN_ANY_DTYPE for a model made by load() */
    uint8_t loading;             /* inside load_model (the stream's own methods run meanwhile) */
    void (*store)(struct knn_obj *self); /* new()'s empty store again (emlneighbors' knn_store) */
    uint16_t k;
    uint16_t n_results;          /* valid results of the last predict (0 before any) */
#ifdef EMLG_SF_ADD
    const emlg_sf_fn_t *sf;      /* emlneighbors' float add and multiply (emlglue.h), for the loader */
#endif
} knn_obj_t;

/* Empty: no items, no room, no quantization or class labels (the block, if any, is kept). */
static inline void knn_obj_empty(knn_obj_t *self) {
    self->knn.n_items = self->knn.max_items = 0;
    self->n_results = 0;
    self->quantize = NULL;
    self->classes = NULL;
}

#endif /* KNN_OBJ_H */
