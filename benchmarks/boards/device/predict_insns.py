# On the Cortex-M0 board with the instruction-count plugin, markers at the entry of
# micropython.heap_lock() (start) and micropython.heap_unlock() (stop): instructions per emltrees
# predict call for one leaf kind (bench_boards, benchmarks/boards/README.md).
# PARAMS = {"name", "trees", "nodes", "payloads", "nf", "n"} is prepended by benchmarks/bench_boards.py.
#
# Each test sample is read from the mounted file into x, then five bodies run between heap_lock()
# and heap_unlock(), in this order: nothing, e = len(x), e = m.outputs(), c = m.predict(x),
# d = m.predict(x, out); then the same five again. The first pass runs just after the mount's own Python code (the read),
# which leaves MicroPython's map lookup cache cold; the second pass is a tight loop's steady state.
# The host keeps both. The heap is locked while a body runs, so an allocation would raise
# MemoryError: a count that arrives proves the call allocated nothing.
import array
import micropython

import emltrees

P = PARAMS
BODIES = "empty,len,outputs,predict,predict_out"


def main():
    m = emltrees.new(P["trees"], P["nodes"], P["payloads"])
    with open(P["name"] + ".bin", "rb") as f:
        emltrees.load_model(m, f)
    n = P["n"]
    x = array.array("f", bytes(4 * P["nf"]))
    out = array.array("f", bytes(4 * m.outputs()))
    lock = micropython.heap_lock
    unlock = micropython.heap_unlock
    pred = bytearray(n)
    pred_out = bytearray(n)
    print("LAYOUT %s passes=2 rounds=%d" % (BODIES, n))
    f = open("X.f32", "rb")
    for i in range(n):
        f.readinto(x)
        for _ in range(2):
            lock()
            unlock()
            lock()
            e = len(x)
            unlock()
            lock()
            e = m.outputs()
            unlock()
            lock()
            c = m.predict(x)
            unlock()
            lock()
            d = m.predict(x, out)
            unlock()
        pred[i] = c
        pred_out[i] = d
    f.close()
    print("PRED " + "".join(str(v) for v in pred))
    print("PRED_OUT " + "".join(str(v) for v in pred_out))


main()
