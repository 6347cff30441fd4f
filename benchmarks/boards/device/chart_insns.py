# On the Cortex-M0 board with the instruction-count plugin, markers at the entry of gc.isenabled()
# (start) and gc.enable() (stop): instructions per prediction of the digits forest by one method,
# for the seed's chart (bench_boards, benchmarks/boards/README.md). Generated Python allocates
# (lists, boxed floats), so these markers do not lock the heap; a garbage collection that happens
# inside a prediction is counted in it, as it would be paid on a board.
# PARAMS = {"method", "nf", "n", "chunk", and for emltrees "name", "trees", "nodes", "payloads"} is
# prepended by benchmarks/bench_boards.py.
#
# Per sample (or chunk) two bodies run between the markers, nothing and then the prediction, twice:
# the first pass just after the mount's own Python code (the read), the second a tight loop's steady
# state (the host charts the second).
#   emltrees      c = m.predict(x)             x: array('f') of one sample
#   emltrees_many m.predict_many(X, out)       X: `chunk` samples in one array('f'), out: array('h')
#   m2cgen        c = mod.score(xl)            xl: list of floats; the class (argmax) is taken outside
#   everywhereml  c = clf.predict(xl)          xl: list of floats
import array
import gc

P = PARAMS


def setup(method):
    """The object whose method is called, and the free heap it took (import and/or model load)."""
    gc.collect()
    before = gc.mem_free()
    try:
        if method.startswith("emltrees"):
            import emltrees
            obj = emltrees.new(P["trees"], P["nodes"], P["payloads"])
            with open(P["name"] + ".bin", "rb") as f:
                emltrees.load_model(obj, f)
        elif method == "m2cgen":
            import m2c_model
            obj = m2c_model
        else:
            import ew_model
            obj = ew_model.clf
    except MemoryError:
        gc.collect()
        print("NOFIT free_before=%d free_now=%d" % (before, gc.mem_free()))
        return None, 0
    gc.collect()
    return obj, before - gc.mem_free()


def argmax(v):
    best = 0
    for i in range(1, len(v)):
        if v[i] > v[best]:
            best = i
    return best


def one_by_one(method, obj, f, n, nf):
    start = gc.isenabled
    stop = gc.enable
    x = array.array("f", bytes(4 * nf))
    pred = bytearray(n)
    for i in range(n):
        f.readinto(x)
        if method == "emltrees":
            for _ in range(2):
                start()
                stop()
                start()
                c = obj.predict(x)
                stop()
        elif method == "m2cgen":
            xl = list(x)
            for _ in range(2):
                start()
                stop()
                start()
                c = obj.score(xl)
                stop()
            c = argmax(c)
        else:
            xl = list(x)
            for _ in range(2):
                start()
                stop()
                start()
                c = obj.predict(xl)
                stop()
        pred[i] = c
    return pred


def in_chunks(obj, f, n, nf, k):
    start = gc.isenabled
    stop = gc.enable
    X = array.array("f", bytes(4 * nf * k))
    out = array.array("h", bytes(2 * k))
    pred = bytearray(n)
    for j in range(n // k):
        f.readinto(X)
        for _ in range(2):
            start()
            stop()
            start()
            obj.predict_many(X, out)
            stop()
        for i in range(k):
            pred[j * k + i] = out[i]
    return pred


def main():
    method = P["method"]
    obj, heap = setup(method)
    if obj is None:
        return
    n, nf, k = P["n"], P["nf"], P["chunk"]
    rounds = n // k if method == "emltrees_many" else n
    print("RESULT heap=%d" % heap)
    print("LAYOUT empty,call passes=2 rounds=%d" % rounds)
    gc.collect()
    with open("X.f32", "rb") as f:
        if method == "emltrees_many":
            pred = in_chunks(obj, f, n, nf, k)
        else:
            pred = one_by_one(method, obj, f, n, nf)
    print("PRED " + "".join(str(v) for v in pred))


main()
