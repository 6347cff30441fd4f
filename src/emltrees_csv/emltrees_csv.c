/* emltrees_csv: the CSV reader of emltrees (glue over cores/emlc_load_csv), a module of its own.
 *
 * emltrees.load_model() imports it when a model file is not binary and calls read(model, stream,
 * first_byte), so only a board that loads CSV files ever holds this code (from the first CSV load
 * on: MicroPython keeps a native module's code for good). read() fills the emltrees Model it is given (src/emltrees/
 * trees_obj.h): one GC block sized by the file's `s` line, every line written into it as it is
 * read, then the same validation as a binary file. On error it raises ValueError("line N: reason")
 * and emltrees.load_model leaves the model empty. Not meant to be called directly.
 *
 * The model checks the CSV reader calls (cores/emlc_trees_check.c, cores/emlc_load.c) are not
 * linked here: the functions below forward to emltrees' own, reached through the model being
 * read (trees_obj.h), so a board that reads CSV files holds one copy of them.
 */
#include "emlglue.h"
#include "emlc_load.h"
#include "../emltrees/trees_obj.h"

/* emltrees' checks, from the model read() was given (its type checked); global, not static:
 * bss is reached through the GOT. */
const trees_checks_t *csv_checks;

emlc_err_t emlc_trees_check_counts(const emlc_trees_t *m, uint32_t *field) {
    return csv_checks->check_counts(m, field);
}
uint32_t emlc_trees_layout(const emlc_trees_t *m, uint32_t size[EMLC_TREES_SECTIONS]) {
    return csv_checks->layout(m, size);
}
void emlc_trees_bind(emlc_trees_t *m, void *block) {
    csv_checks->bind(m, block);
}
emlc_err_t emlc_trees_check_one(const emlc_trees_t *m, uint32_t sec, uint32_t i, emlc_trees_where_t *where) {
    return csv_checks->check_one(m, sec, i, where);
}
emlc_err_t emlc_load_check(const emlc_trees_t *m, const uint8_t *block, emlc_load_error_t *e) {
    return csv_checks->load_check(m, block, e);
}
const char *emlc_load_reason(emlc_err_t err) {
    return csv_checks->reason(err);
}

/* The model's block, of the size the `s` line gives. */
static void *csv_alloc(void *ctx, uint32_t bytes) {
    trees_obj_t *self = ctx;
    self->block_bytes = bytes;
    self->block = m_malloc(bytes);
    return self->block;
}

static NORETURN void csv_error(uint32_t line, const char *reason) {
    EMLG_FAIL_AT("line %d: %s", line, reason);
}

/* read(model, stream, first): `first` is the byte emltrees read to tell the format. The reader
 * bounds the file's length (EMLC_CSV_MAX_BYTES), so an endless stream (of spaces, say) stops. */
static mp_obj_t csv_read(mp_obj_t model, mp_obj_t stream, mp_obj_t first_in) {
    mp_obj_t type = mp_load_attr(mp_import_name(MP_QSTR_emltrees, mp_const_none, MP_OBJ_NEW_SMALL_INT(0)),
                                 MP_QSTR_Model);
    trees_obj_t *self = MP_OBJ_TO_PTR(model);
    emlc_csv_t c;
    uint8_t buf[64];
    const uint16_t lim[3] = {self->max_trees, self->max_nodes, self->max_payloads};
    size_t n = 1;
    if (mp_obj_get_type(model) != MP_OBJ_TO_PTR(type)) {
        emlg_fail(MP_QSTR_TypeError, "model must be an emltrees model");
    }
    csv_checks = self->checks;
    buf[0] = (uint8_t)emlg_int_in(first_in, 0, 255, "first must be a byte");
    emlc_csv_init(&c, lim, csv_alloc, self);
    while (n > 0 && emlc_csv_feed(&c, buf, n) == EMLC_OK) {
        n = emlg_read(stream, buf, sizeof(buf));
    }
    if (c.err != EMLC_OK || emlc_csv_finish(&c) != EMLC_OK) {
        csv_error(c.line, c.reason);
    }
    self->model = c.m;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(csv_read_obj, csv_read);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_read, MP_OBJ_FROM_PTR(&csv_read_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
