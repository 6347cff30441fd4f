# On the board: the GC heap one module takes at import (bench_boards, benchmarks/boards/README.md).
# PARAMS = {"module": ..., "file": ...} is prepended by benchmarks/bench_boards.py (file: the
# module's .mpy, or its .py when measuring whether generated source fits). The script runs right
# after mpremote's soft reset (a fresh heap, nothing imported), with the module's folder mounted.
# micropython.qstr_info() is printed before and after: the host reads from it how much of the
# heap the import took went to the interned-string pool (a new pool is allocated with room to spare
# when the current one is full, so that part depends on what was interned before).
import gc
import micropython
import os


def measure(name, path):
    # Touch the file once through the mount first, so that whatever state the mount keeps after a
    # file access is not charged to the module.
    os.stat(path)
    f = open(path, "rb")
    f.read(4)
    f.close()
    f = None
    micropython.qstr_info()
    gc.collect()
    before = gc.mem_free()
    try:
        mod = __import__(name)
    except MemoryError as exc:
        mod = None
        print("NOFIT free_before=%d %s" % (before, exc))
    gc.collect()
    after = gc.mem_free()
    micropython.qstr_info()
    return before, after, mod


before, after, mod = measure(PARAMS["module"], PARAMS["file"])
if mod is not None:
    print("RESULT free_before=%d free_after=%d import_heap=%d" % (before, after, before - after))
