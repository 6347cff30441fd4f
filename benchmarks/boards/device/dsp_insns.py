# On the Cortex-M0 board with the instruction-count plugin, markers at the entry of
# micropython.heap_lock() (start) and micropython.heap_unlock() (stop): instructions per call of the
# float DSP modules and their Q15 counterparts on the same work (bench_boards, benchmarks/boards/README.md).
# PARAMS = {"n_iir", "n_fft", "rounds", "sos_f", "sos_h"} is prepended by benchmarks/bench_boards.py:
# sos_f is emlmpy.iir_coefficients(sos), sos_h emlmpy.iir_coefficients_q15(sos) of the same design.
#
# Bodies, in this order, each between heap_lock() and heap_unlock() (an allocation would raise
# MemoryError, so a count proves the call allocated nothing): nothing; emliir.run / emliir_q15.run
# on n_iir samples; emlfft.run / emlfft_q15.run (complex, n_fft); emlfft.rfft / emlfft_q15.rfft
# (n_fft). In-place inputs are fresh copies of the same signal (float = int16 / 32768), made before
# every body outside the markers (allocation is allowed there); then the same seven bodies again (two passes, the second kept).
import array
import micropython

import emlfft
import emlfft_q15
import emliir
import emliir_q15

P = PARAMS
BODIES = "empty,iir,iir_q15,fft,fft_q15,rfft,rfft_q15"


def signal(n, k):
    return [((i * 7919 + k) % 2001 - 1000) * 16 for i in range(n)]


def main():
    ni, nf = P["n_iir"], P["n_fft"]
    fi = emliir.new(array.array("f", P["sos_f"]))
    qi = emliir_q15.new(array.array("h", P["sos_h"]))
    ff = emlfft.FFT(nf)
    qf = emlfft_q15.FFT(nf)
    sig_h = array.array("h", signal(max(ni, nf), 0))
    sig_h2 = array.array("h", signal(nf, 77))
    sig_f = array.array("f", [v / 32768 for v in sig_h])
    sig_f2 = array.array("f", [v / 32768 for v in sig_h2])
    sh_i, sf_i, sh_n, sf_n = sig_h[:ni], sig_f[:ni], sig_h[:nf], sig_f[:nf]
    oh, oh2 = array.array("h", bytes(nf + 2)), array.array("h", bytes(nf + 2))
    of, of2 = array.array("f", bytes(2 * nf + 4)), array.array("f", bytes(2 * nf + 4))
    xh_in, xf_in = sh_n, sf_n
    lock = micropython.heap_lock
    unlock = micropython.heap_unlock
    print("LAYOUT %s passes=2 rounds=%d" % (BODIES, P["rounds"]))
    for _ in range(P["rounds"]):
        for _ in range(2):
            lock()
            unlock()
            xf = array.array("f", sf_i)
            lock()
            fi.run(xf)
            unlock()
            xh = array.array("h", sh_i)
            lock()
            qi.run(xh)
            unlock()
            rf, if_ = array.array("f", sf_n), array.array("f", sig_f2)
            lock()
            ff.run(rf, if_)
            unlock()
            rh, ih = array.array("h", sh_n), array.array("h", sig_h2)
            lock()
            qf.run(rh, ih)
            unlock()
            lock()
            ff.rfft(xf_in, of, of2)
            unlock()
            lock()
            qf.rfft(xh_in, oh, oh2)
            unlock()
    # the last outputs of both filters (float scaled to int16 units): a sanity check that both ran
    print("RESULT iir_last=%d iir_q15_last=%d" % (int(xf[ni - 1] * 32768), xh[ni - 1]))


main()
