# pymod, Python half: merged after the C half (pymod.c) into one .mpy; its top-level code runs after
# mpy_init, in the same module namespace, so the names the C half stored are globals here.
# It also holds what makes merging bytecode hard: enough names that qstr indices grow past one
# byte once moved behind the C half's table, constants, closures, jumps out of try/finally in loops,
# and a function whose traceback line is checked.

VERSION = "%d.%d" % (C_VERSION, 1)
who = "py after " + who  # the C half stored who = 'c' first
BIG = 12345678901234567890  # a constant object (long int)
RATIO = 2.5  # a constant object (float)
TAG = b"\x00pymod\xff"  # a constant object (bytes)


def norm(v):
    """Euclidean norm of a float32 array through the C half."""
    return _dot(v, v) ** 0.5


def clip_all(values, lo=0, hi=255):
    return [_clip(x, lo, hi) for x in values]


class Counter(Acc):
    """A Python subclass of the C type Acc."""

    def add_all(self, items):
        for x in items:
            self.add(x)
        return self.value()


def scaler(k):
    def scale(x):  # a closure
        return x * k

    return scale


def first_over(values, limit):
    """A loop left from inside try/finally (UNWIND_JUMP) and a counter kept in the finally."""
    seen = []
    for v in values:
        try:
            if v > limit:
                break
            if v < 0:
                continue
        finally:
            seen.append(v)
    return seen


def gen(n):
    for i in range(n):
        yield i * i


def fails(x):
    if x:
        raise ValueError("pymod.fails: line 60")
    return x


def names():
    """Many distinct keyword names: qstrs that need two bytes once rebased."""
    return dict(
        n000=0, n001=1, n002=2, n003=3, n004=4, n005=5, n006=6, n007=7, n008=8, n009=9,
        n010=10, n011=11, n012=12, n013=13, n014=14, n015=15, n016=16, n017=17, n018=18, n019=19,
        n020=20, n021=21, n022=22, n023=23, n024=24, n025=25, n026=26, n027=27, n028=28, n029=29,
        n030=30, n031=31, n032=32, n033=33, n034=34, n035=35, n036=36, n037=37, n038=38, n039=39,
        n040=40, n041=41, n042=42, n043=43, n044=44, n045=45, n046=46, n047=47, n048=48, n049=49,
        n050=50, n051=51, n052=52, n053=53, n054=54, n055=55, n056=56, n057=57, n058=58, n059=59,
        n060=60, n061=61, n062=62, n063=63, n064=64, n065=65, n066=66, n067=67, n068=68, n069=69,
        n070=70, n071=71, n072=72, n073=73, n074=74, n075=75, n076=76, n077=77, n078=78, n079=79,
        n080=80, n081=81, n082=82, n083=83, n084=84, n085=85, n086=86, n087=87, n088=88, n089=89,
        n090=90, n091=91, n092=92, n093=93, n094=94, n095=95, n096=96, n097=97, n098=98, n099=99,
        n100=100, n101=101, n102=102, n103=103, n104=104, n105=105, n106=106, n107=107, n108=108,
        n109=109, n110=110, n111=111, n112=112, n113=113, n114=114, n115=115, n116=116, n117=117,
        n118=118, n119=119, n120=120, n121=121, n122=122, n123=123, n124=124, n125=125, n126=126,
        n127=127, n128=128, n129=129,
    )


def late(x):
    """After names(): every name here has a two-byte index; a loop jumps over them."""
    total = 0
    while x > 0:
        if x % 3 == 0:
            total += RATIO
        elif x % 3 == 1:
            total += len(TAG)
        else:
            total -= 1
        x -= 1
    return total
