# On the board: the GC heap the loaded digits forest takes, for one leaf kind, loaded from the
# binary file and from the CSV file (bench_boards, benchmarks/boards/README.md).
# PARAMS = {"name", "trees", "nodes", "payloads", "nf", "check"} is prepended by benchmarks/bench_boards.py.
# The model is made with the exact capacities emlmpy reports (emltrees.new(trees, nodes, payloads):
# limits, nothing is reserved before the file says what it needs), then loaded with load_model.
# The CSV file is loaded twice: the first load imports emltrees_csv (emltrees does that on the first
# CSV file, and the module stays imported), so its heap is the model plus the module; the second
# load's heap is the model alone.
import array
import gc

import emltrees

P = PARAMS


def load(fmt):
    """Free heap before, the model, free heap after (both after a collection), or MemoryError."""
    gc.collect()
    before = gc.mem_free()
    try:
        m = emltrees.new(P["trees"], P["nodes"], P["payloads"])
        with open(P["name"] + "." + fmt, "rb") as f:
            emltrees.load_model(m, f)
    except MemoryError as exc:
        return before, None, 0, str(exc)
    gc.collect()
    return before, m, gc.mem_free(), ""


def predictions(m, n):
    x = array.array("f", bytes(4 * P["nf"]))
    out = []
    with open("X.f32", "rb") as f:
        for _ in range(n):
            f.readinto(x)
            out.append(m.predict(x))
    return out


def main():
    before, m, after, err = load("bin")
    if m is None:
        print("RESULT bin_error=" + err.replace(" ", "_"))
        return
    memory = m.memory()
    ref = predictions(m, P["check"])
    m = None
    print("RESULT bin_heap=%d memory=%d free_before=%d" % (before - after, memory, before))
    before, m, after, err = load("csv")  # imports emltrees_csv
    if m is None:
        print("RESULT csv_error=" + err.replace(" ", "_"))
        return
    m = None
    print("RESULT csv_first_heap=%d" % (before - after))
    before, m, after, err = load("csv")  # emltrees_csv already imported: the model alone
    if m is None:
        print("RESULT csv_error=" + err.replace(" ", "_"))
        return
    same = predictions(m, P["check"]) == ref
    print("RESULT csv_heap=%d csv_same_predictions=%d" % (before - after, same))


main()
