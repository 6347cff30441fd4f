/* emlc_common.c: error code names. */
#include "emlc_common.h"

const char *emlc_strerror(int err) {
    switch (err) {
        case EMLC_OK: return "ok";
        case EMLC_ERR_NULL: return "null pointer";
        case EMLC_ERR_SIZE: return "bad size";
        case EMLC_ERR_CAPACITY: return "capacity exceeded";
        case EMLC_ERR_CHILD: return "child index out of range";
        case EMLC_ERR_FEATURE: return "feature index out of range";
        case EMLC_ERR_CLASS: return "class index out of range";
        case EMLC_ERR_CYCLE: return "tree does not terminate";
        case EMLC_ERR_ROOT: return "root out of range";
        case EMLC_ERR_KIND: return "unknown kind";
        case EMLC_ERR_FORMAT: return "malformed model";
        case EMLC_ERR_VALUE: return "value out of range";
        case EMLC_ERR_VERSION: return "unsupported format version";
        case EMLC_ERR_STATE: return "wrong state";
        default: return "unknown error";
    }
}
