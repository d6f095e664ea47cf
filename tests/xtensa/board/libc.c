// libc.c: the few C library and libgcc functions the module's library leaves for the
// firmware (`make cross` lists them: memcpy, memmove, memset, memcmp, abort, __muldi3).
// On a firmware, ESP-IDF's C library and GCC's libgcc provide them; the lx106 toolchain's
// libgcc here is call0 code, which windowed code cannot call, so the board has its own.
// Compiled with -ffreestanding, so the compiler turns none of these loops back into calls.
#include <stddef.h>
#include <stdint.h>

#include "board.h"

void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0) {
        for (; n >= 4; n -= 4, d += 4, s += 4) {
            *(uint32_t *)d = *(const uint32_t *)s;
        }
    }
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d <= s || d >= s + n) {
        return memcpy(dst, src, n);
    }
    while (n--) {
        d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = dst;
    while (n--) {
        *d++ = (uint8_t)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}

void abort(void) {
    board_puts("\r\n*** FATAL: abort() (an LLVM trap)\r\n");
    board_exit(97);
}

// 64-bit product from 16-bit halves: the core's MUL32 gives only the low 32 bits (the
// module is built without MUL32_HIGH, which QEMU's little-endian cores lack).
uint64_t __muldi3(uint64_t a, uint64_t b) {
    uint32_t al = (uint32_t)a, ah = (uint32_t)(a >> 32);
    uint32_t bl = (uint32_t)b, bh = (uint32_t)(b >> 32);
    uint32_t a0 = al & 0xffffu, a1 = al >> 16, b0 = bl & 0xffffu, b1 = bl >> 16;
    uint32_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint32_t mid = (p00 >> 16) + (p01 & 0xffffu) + (p10 & 0xffffu);
    uint32_t lo = (p00 & 0xffffu) | (mid << 16);
    uint32_t hi = p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16) + al * bh + ah * bl;
    return ((uint64_t)hi << 32) | lo;
}
