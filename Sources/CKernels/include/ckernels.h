#ifndef ALAVERIFY_CKERNELS_H
#define ALAVERIFY_CKERNELS_H

#include <stddef.h>

/// One AdamW update of `count` weights, element by element in this order:
///   m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g * g;
///   w = w * shrink - step * m / (sqrt(v * inv_c2) + eps)
/// Compiled for AVX2 and for the baseline, chosen when the library loads. No operation is
/// contracted into a fused multiply-add, so both versions give the same bits.
void alav_adamw_update(float *w, const float *g, float *m, float *v, size_t count,
                       float b1, float b2, float shrink, float step, float inv_c2, float eps);

/// Unfolds one image `x` [c, h, w] into `col` [c*k*k, ho*wo] (row (ch*k + ki)*k + kj, column
/// oy*wo + ox holds x[ch, oy*stride - pad + ki, ox*stride - pad + kj], or 0 outside the image).
void alav_im2col(const float *x, int c, int h, int w, int k, int stride, int pad, int ho, int wo, float *col);

/// `alav_im2col` for output rows `[r0, r1)` only: `col` is [c*k*k, (r1-r0)*wo].
void alav_im2col_rows(const float *x, int c, int h, int w, int k, int stride, int pad, int ho, int wo, int r0, int r1,
                      float *col);

/// Folds `col` [c*k*k, ho*wo] back into `x` [c, h, w], summing the entries that land on the same
/// pixel in a fixed order (taps in row order, then positions); overwrites `x`.
void alav_col2im(const float *col, int c, int h, int w, int k, int stride, int pad, int ho, int wo, float *x);

#endif
