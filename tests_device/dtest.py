# dtest: minimal test bookkeeping for MicroPython scripts (unix port and boards).
import sys

_passed = 0
_failed = 0


def check(name, cond, detail=""):
    global _passed, _failed
    if cond:
        _passed += 1
    else:
        _failed += 1
        print("FAIL:", name, detail)


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


def read_floats(path):
    """One float per line (or comma-separated rows flattened)."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                for v in line.split(","):
                    out.append(float(v))
    return out


def read_rows(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append([float(v) for v in line.split(",")])
    return rows


def done():
    print("%d passed, %d failed" % (_passed, _failed))
    if _failed:
        sys.exit(1)
