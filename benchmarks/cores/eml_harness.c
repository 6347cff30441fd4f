/* eml_harness.c: the emlearn side of `make bench-cores` (k-NN, IIR, FFT).
 *
 * Our own glue around the headers that the emlearn pip package ships (include path given by
 * bench.py: emlearn.includedir). Setup functions fill emlearn's structs in static storage;
 * bench.py counts only the bench_* / eml_* calls, never the setup.
 * Built for Cortex-M0 with the same flags as our cores (benchmarks/cores/m0.py).
 */
#include <stdint.h>
#include <stddef.h>

#include <eml_neighbors.h>
#include <eml_iir.h>
#include <eml_fft.h>

/* ---- k-NN: int16 store, up to KNN_MAX items x KNN_MAX_F features ---- */
#define KNN_MAX 256
#define KNN_MAX_F 16
static int16_t knn_data[KNN_MAX * KNN_MAX_F];
static int16_t knn_labels[KNN_MAX];
EmlNeighborsDistanceItem bench_knn_dist[KNN_MAX];
EmlNeighborsModel bench_knn_model;

int bench_knn_setup(int n_features, int max_items, int k) {
    if (n_features > KNN_MAX_F || max_items > KNN_MAX) {
        return -1;
    }
    bench_knn_model.n_features = (uint16_t)n_features;
    bench_knn_model.n_items = 0;
    bench_knn_model.max_items = (int16_t)max_items;
    bench_knn_model.data = knn_data;
    bench_knn_model.labels = knn_labels;
    bench_knn_model.k_neighbors = (int16_t)k;
    return (int)eml_neighbors_check(&bench_knn_model, KNN_MAX * KNN_MAX_F, KNN_MAX, KNN_MAX);
}

int bench_knn_add(const int16_t *x, int n_features, int label) {
    return (int)eml_neighbors_add_item(&bench_knn_model, x, (int16_t)n_features, (int16_t)label);
}

/* ---- IIR: cascade of up to IIR_MAX sections, scipy sos rows ---- */
#define IIR_MAX 8
static float iir_sos[IIR_MAX * 6];
static float iir_states[IIR_MAX * 4];
EmlIIR bench_iir;

int bench_iir_setup(const float *sos, int n_sections) {
    int i;
    if (n_sections > IIR_MAX) {
        return -1;
    }
    for (i = 0; i < n_sections * 6; i++) {
        iir_sos[i] = sos[i];
    }
    for (i = 0; i < n_sections * 4; i++) {
        iir_states[i] = 0.0f;
    }
    bench_iir.n_stages = n_sections;
    bench_iir.states = iir_states;
    bench_iir.states_length = n_sections * 4;
    bench_iir.coefficients = iir_sos;
    bench_iir.coefficients_length = n_sections * 6;
    return (int)eml_iir_check(bench_iir);
}

/* The measured IIR call: emlearn filters one sample per call, so a block is this loop. */
void bench_iir_run(const float *in, float *out, int n) {
    int i;
    for (i = 0; i < n; i++) {
        out[i] = eml_iir_filter(bench_iir, in[i]);
    }
}

/* ---- FFT: tables for one length n (emlearn's table serves exactly that length) ---- */
#define FFT_MAX 4096
static float fft_sin[FFT_MAX / 2];
static float fft_cos[FFT_MAX / 2];
EmlFFT bench_fft;

int bench_fft_setup(int n) {
    if (n > FFT_MAX) {
        return -1;
    }
    bench_fft.length = n / 2;
    bench_fft.sin = fft_sin;
    bench_fft.cos = fft_cos;
    return (int)eml_fft_fill(bench_fft, (size_t)n);
}

/* The measured FFT call is eml_fft_forward itself; this passes the table struct by value. */
int bench_fft_run(float *re, float *im, int n) {
    return (int)eml_fft_forward(bench_fft, re, im, (size_t)n);
}
