#include "ckernels.h"

#include <math.h>

// What used to be compiler flags in Package.swift (unsafeFlags make the library products unusable
// as a dependency): no operation is contracted into a fused multiply-add, so the AVX2 and the
// baseline versions give the same bits; square roots go through a builtin that does not set
// errno, so the loops vectorise without -fno-math-errno (the result is the correctly rounded
// root either way).
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
#define ALAV_SQRTF(x) __builtin_elementwise_sqrt(x)
#else
#define ALAV_SQRTF(x) sqrtf(x)
#endif

__attribute__((target_clones("avx2", "default")))
void alav_adamw_update(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, size_t count,
                       float b1, float b2, float shrink, float step, float inv_c2, float eps) {
    const float a1 = 1 - b1, a2 = 1 - b2;
    for (size_t i = 0; i < count; i++) {
        const float gi = g[i];
        const float mi = b1 * m[i] + a1 * gi;
        const float vi = b2 * v[i] + a2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * shrink - step * mi / (ALAV_SQRTF(vi * inv_c2) + eps);
    }
}
