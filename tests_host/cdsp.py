"""ctypes declarations of the k-NN, IIR and FFT cores (cores/emlc_knn.h, emlc_iir.h, emlc_fft.h, and the Q15
emlc_iir_q15.h, emlc_fft_q15.h) for their
tests: error codes, structs, function signatures, and `lib()`, the host build of the cores (ccore.load(),
the plain or the sanitized flavour) with those signatures set. Building, caching, sanitizer runs, the
cross-compiler checks and the Cortex-M0 build are ccore.py's.
"""
from __future__ import annotations

import ctypes as C

import ccore

# emlc_err_t values (mirror of cores/emlc_common.h)
OK, ERR_NULL, ERR_SIZE, ERR_CAPACITY = 0, -1, -2, -3
ERR_KIND, ERR_VALUE, ERR_STATE = -9, -11, -13

KNN_F32, KNN_I16 = 0, 1


class KnnT(C.Structure):
    _fields_ = [("data", C.c_void_p), ("labels", C.POINTER(C.c_int16)), ("max_items", C.c_uint32),
                ("n_items", C.c_uint32), ("n_features", C.c_uint16), ("dtype", C.c_uint8)]


class KnnResult(C.Structure):
    _fields_ = [("dist", C.c_uint64), ("index", C.c_uint32), ("label", C.c_int16)]


class IirT(C.Structure):
    _fields_ = [("sos", C.POINTER(C.c_float)), ("state", C.POINTER(C.c_float)), ("n_sections", C.c_size_t)]


class FftT(C.Structure):
    _fields_ = [("sin_t", C.POINTER(C.c_float)), ("n", C.c_size_t), ("log2n", C.c_uint)]


class IirQ15T(C.Structure):
    _fields_ = [("sos", C.POINTER(C.c_int16)), ("state", C.POINTER(C.c_int16)), ("n_sections", C.c_size_t)]


class FftQ15T(C.Structure):
    _fields_ = [("sin_t", C.POINTER(C.c_int16)), ("n", C.c_size_t), ("log2n", C.c_uint)]


_P = C.c_void_p
_Z = C.c_size_t
_SIGNATURES: dict[str, list] = {
    "emlc_knn_init": [C.POINTER(KnnT), C.c_int, _Z, _Z, _P, _Z, _P, _Z],
    "emlc_knn_clear": [C.POINTER(KnnT)],
    "emlc_knn_add_i16": [C.POINTER(KnnT), _P, _Z, C.c_int16],
    "emlc_knn_add_f32": [C.POINTER(KnnT), _P, _Z, C.c_int16],
    "emlc_knn_kneighbors_i16": [C.POINTER(KnnT), _P, _Z, _Z, _P],
    "emlc_knn_kneighbors_f32": [C.POINTER(KnnT), _P, _Z, _Z, _P],
    "emlc_knn_predict_i16": [C.POINTER(KnnT), _P, _Z, _Z, _P, _P],
    "emlc_knn_predict_f32": [C.POINTER(KnnT), _P, _Z, _Z, _P, _P],
    "emlc_knn_vote": [_P, _Z, _P],
    "emlc_iir_init": [C.POINTER(IirT), _P, _Z, _Z, _P, _Z],
    "emlc_iir_reset": [C.POINTER(IirT)],
    "emlc_iir_process": [C.POINTER(IirT), _P, _P, _Z],
    "emlc_fft_init": [C.POINTER(FftT), _P, _Z, _Z],
    "emlc_fft_forward": [C.POINTER(FftT), _P, _P, _Z],
    "emlc_fft_inverse": [C.POINTER(FftT), _P, _P, _Z],
    "emlc_fft_rfft": [C.POINTER(FftT), _P, _Z, _P, _P, _Z],
    "emlc_iir_q15_init": [C.POINTER(IirQ15T), _P, _Z, _Z, _P, _Z],
    "emlc_iir_q15_reset": [C.POINTER(IirQ15T)],
    "emlc_iir_q15_process": [C.POINTER(IirQ15T), _P, _P, _Z],
    "emlc_fft_q15_init": [C.POINTER(FftQ15T), _P, _Z, _Z],
    "emlc_fft_q15_forward": [C.POINTER(FftQ15T), _P, _P, _Z],
    "emlc_fft_q15_inverse": [C.POINTER(FftQ15T), _P, _P, _Z],
    "emlc_fft_q15_rfft": [C.POINTER(FftQ15T), _P, _Z, _P, _P, _Z],
}


_LIB: C.CDLL | None = None


def lib() -> C.CDLL:
    """The loaded library with argtypes/restype set (restype int: the emlc_err_t)."""
    global _LIB
    if _LIB is None:
        dll = ccore.load()
        for name, args in _SIGNATURES.items():
            fn = getattr(dll, name)
            fn.argtypes = args
            fn.restype = C.c_int
        dll.emlc_knn_dist_f32.argtypes = [_P]
        dll.emlc_knn_dist_f32.restype = C.c_float
        _LIB = dll
    return _LIB


fptr = ccore.ptr  # the name the DSP tests use