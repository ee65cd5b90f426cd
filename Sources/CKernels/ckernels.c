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

__attribute__((target_clones("avx2", "default")))
void alav_im2col_rows(const float *restrict x, int c, int h, int w, int k, int stride, int pad, int ho, int wo, int r0,
                      int r1, float *restrict col) {
    (void)ho;
    const size_t columns = (size_t)(r1 - r0) * wo;
    for (int ch = 0; ch < c; ch++) {
        const float *xc = x + (size_t)ch * h * w;
        for (int ki = 0; ki < k; ki++) {
            for (int kj = 0; kj < k; kj++) {
                float *row = col + ((size_t)(ch * k + ki) * k + kj) * columns;
                // Output columns whose input column ox*stride - pad + kj lies in [0, w).
                int lo = (pad - kj + stride - 1) / stride;
                if (lo < 0) lo = 0;
                if (lo > wo) lo = wo;
                int last = w - 1 + pad - kj;
                int hi = last < 0 ? lo : last / stride + 1;
                if (hi > wo) hi = wo;
                if (hi < lo) hi = lo;
                for (int oy = r0; oy < r1; oy++) {
                    float *dst = row + (size_t)(oy - r0) * wo;
                    const int iy = oy * stride - pad + ki;
                    if (iy < 0 || iy >= h) {
                        for (int ox = 0; ox < wo; ox++) dst[ox] = 0;
                        continue;
                    }
                    const float *src = xc + (size_t)iy * w - pad + kj;
                    for (int ox = 0; ox < lo; ox++) dst[ox] = 0;
                    if (stride == 1) {
                        for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox];
                    } else {
                        for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox * stride];
                    }
                    for (int ox = hi; ox < wo; ox++) dst[ox] = 0;
                }
            }
        }
    }
}

void alav_im2col(const float *restrict x, int c, int h, int w, int k, int stride, int pad, int ho, int wo,
                 float *restrict col) {
    alav_im2col_rows(x, c, h, w, k, stride, pad, ho, wo, 0, ho, col);
}

__attribute__((target_clones("avx2", "default")))
void alav_col2im(const float *restrict col, int c, int h, int w, int k, int stride, int pad, int ho, int wo,
                 float *restrict x) {
    const size_t spatial = (size_t)ho * wo;
    for (size_t i = 0; i < (size_t)c * h * w; i++) x[i] = 0;
    for (int ch = 0; ch < c; ch++) {
        float *xc = x + (size_t)ch * h * w;
        for (int ki = 0; ki < k; ki++) {
            for (int kj = 0; kj < k; kj++) {
                const float *row = col + ((size_t)(ch * k + ki) * k + kj) * spatial;
                int lo = (pad - kj + stride - 1) / stride;
                if (lo < 0) lo = 0;
                if (lo > wo) lo = wo;
                int last = w - 1 + pad - kj;
                int hi = last < 0 ? lo : last / stride + 1;
                if (hi > wo) hi = wo;
                if (hi < lo) hi = lo;
                for (int oy = 0; oy < ho; oy++) {
                    const int iy = oy * stride - pad + ki;
                    if (iy < 0 || iy >= h) continue;
                    const float *src = row + (size_t)oy * wo;
                    float *dst = xc + (size_t)iy * w - pad + kj;
                    if (stride == 1) {
                        for (int ox = lo; ox < hi; ox++) dst[ox] += src[ox];
                    } else {
                        for (int ox = lo; ox < hi; ox++) dst[ox * stride] += src[ox];
                    }
                }
            }
        }
    }
}
