/*
 * natmod_libc.c -- glue between a native module and the C library the kit links for it
 * (NATMOD_MODULE's `m`/`c`, see README.md).  Built once per arch that needs it and linked
 * before the library, so these definitions are used instead of the library's members.
 * Only what a module reaches is kept (mpyld drops the rest).
 */
#include <stdint.h>

/* errno of the module: one word in its bss.  Globals, not statics: bss is reached
   through the GOT (a static would be reached PC-relatively, which the linker refuses). */
int natmod_errno_value;

#if defined(__x86_64__)

/* Module code (musl's and glibc's headers alike) reads errno through __errno_location, musl's
   own functions through ___errno_location.  musl's definition of both reads its thread
   descriptor at %fs, which in the unix port is glibc's: it would write errno into glibc's
   thread control block. */
int *__errno_location(void);
int *___errno_location(void);
int *__errno_location(void) {
    return &natmod_errno_value;
}
int *___errno_location(void) {
    return &natmod_errno_value;
}

#elif defined(__riscv)

/* picolibc headers with __PICOLIBC_ERRNO_FUNCTION=__errno read errno through this function
   (picolibc's own errno is thread-local). */
int *__errno(void);
int *__errno(void) {
    return &natmod_errno_value;
}

/*
 * picolibc's libm reports special results through small helpers whose members keep a
 * writable one-word constant in .sdata (volatile, to make the compiler compute at run time),
 * which a native module cannot hold.  Same results, computed from constants: rv32imc has no
 * floating-point status flags to raise, and this libm build does not set errno.
 */
float __math_invalidf(float x);
float __math_divzerof(uint32_t sign);
float __math_oflowf(uint32_t sign);
float __math_uflowf(uint32_t sign);
double __math_invalid(double x);
double __math_divzero(uint32_t sign);
double __math_oflow(uint32_t sign);
double __math_uflow(uint32_t sign);

/* An invalid operation (sqrt of a negative number, ...): NaN; a NaN argument is returned. */
float __math_invalidf(float x) {
    return x != x ? x : __builtin_nanf("");
}
/* Division by zero (log(0), ...): infinity with the given sign. */
float __math_divzerof(uint32_t sign) {
    return sign ? -__builtin_inff() : __builtin_inff();
}
/* Overflow: infinity; underflow: zero; each with the given sign. */
float __math_oflowf(uint32_t sign) {
    return sign ? -__builtin_inff() : __builtin_inff();
}
float __math_uflowf(uint32_t sign) {
    return sign ? -0.0f : 0.0f;
}
double __math_invalid(double x) {
    return x != x ? x : __builtin_nan("");
}
double __math_divzero(uint32_t sign) {
    return sign ? -__builtin_inf() : __builtin_inf();
}
double __math_oflow(uint32_t sign) {
    return sign ? -__builtin_inf() : __builtin_inf();
}
double __math_uflow(uint32_t sign) {
    return sign ? -0.0 : 0.0;
}

#endif
