# dtest: minimal test bookkeeping for MicroPython scripts (unix port and boards).
#
# Test data are raw binary arrays written by tools/make_device_data.py: little-endian, C order, no
# header; the file name ends with the dtype (.f32 = 'f', .i16 = 'h', .i32 = 'i'). They are read
# straight into array.array buffers (no decimal parsing, no lists of floats on the heap).
import array
import gc
import os
import struct
import sys

_passed = 0
_failed = 0

# Heap figure printed by done(): the largest gc.mem_alloc() seen right after a gc.collect(), taken
# at every check() and after the first row of every rows() loop. So it is the live heap (objects
# still reachable, imported modules included -- on the boards their native code is on the GC heap)
# at those points, not garbage; short-lived allocations between two points are not counted.
_peak = 0


def mark():
    global _peak
    gc.collect()
    _peak = max(_peak, gc.mem_alloc())


def check(name, cond, detail=""):
    global _passed, _failed
    if cond:
        _passed += 1
    else:
        _failed += 1
        print("FAIL:", name, detail)
    mark()


def raises(name, exc_type, fn, *args):
    """Check that fn(*args) raises exc_type; returns the exception message (or None)."""
    try:
        fn(*args)
    except exc_type as e:
        check(name, True)
        return str(e)
    except Exception as e:  # wrong exception type
        check(name, False, "raised %s: %s" % (type(e).__name__, e))
        return None
    check(name, False, "did not raise " + exc_type.__name__)
    return None


def close(a, b, tol):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def fill(f, buf, want):
    """Read want bytes (the size of array buf) from binary file f into buf; returns the bytes read
    (fewer only at end of file). A stream may return short reads (mpremote mount, a UART), so loop;
    the rest goes in with struct.pack_into as a memoryview of an 'f' array slices by item, not byte."""
    got = f.readinto(buf) or 0
    while got < want:
        more = f.read(want - got)
        if not more:
            break
        struct.pack_into("%ds" % len(more), buf, got, more)
        got += len(more)
    return got


def rows(path, typecode, ncols):
    """Yield each row of a (nrows, ncols) array file as ONE array.array(typecode) of ncols items,
    refilled in place for the next row: copy what you keep. A 1-D signal read as rows of ncols
    values streams it in chunks. After the loop the buffer still holds the last row."""
    nbytes = ncols * struct.calcsize(typecode)
    buf = array.array(typecode, bytes(nbytes))  # from raw bytes: ncols zeros
    first = True
    with open(path, "rb") as f:
        while True:
            n = fill(f, buf, nbytes)
            if n == 0:
                return
            if n != nbytes:
                raise ValueError("%s: %d bytes is not a whole row" % (path, n))
            yield buf
            if first:  # the caller's loop is running: measure its working set once
                first = False
                mark()


def load(path, typecode):
    """A whole (small) array file as one flat array.array(typecode)."""
    nbytes = os.stat(path)[6]
    if nbytes % struct.calcsize(typecode):
        raise ValueError("%s: %d bytes is not a whole number of items" % (path, nbytes))
    buf = array.array(typecode, bytes(nbytes))
    with open(path, "rb") as f:
        if fill(f, buf, nbytes) != nbytes:
            raise ValueError(path + ": short file")
    return buf


def done():
    print("heap: %d bytes used at peak" % _peak)
    print("%d passed, %d failed" % (_passed, _failed))
    if _failed:
        sys.exit(1)
