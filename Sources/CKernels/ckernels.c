#include "ckernels.h"

#include <math.h>

#pragma STDC FP_CONTRACT OFF

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
        w[i] = w[i] * shrink - step * mi / (sqrtf(vi * inv_c2) + eps);
    }
}
