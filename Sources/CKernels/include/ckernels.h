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

#endif
