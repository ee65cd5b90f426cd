#ifndef ALAVERIFY_CPNGTEXT_H
#define ALAVERIFY_CPNGTEXT_H

#include <stddef.h>

/// One tEXt chunk: a Latin-1 keyword of 1-79 characters and its Latin-1 text.
typedef struct {
    const char *key;
    const char *text;
} alav_png_text;

/// Encodes 8-bit, non-premultiplied RGBA rows as a PNG in memory, with tEXt chunks written
/// before the image data. No time chunk is written, so equal input gives equal bytes.
///
/// Owns the setjmp that libpng's classic API longjmps to: errors never leave this function
/// by longjmp. Returns 0 on success and sets *out (free it with alav_png_free) and *out_size;
/// returns non-zero on failure with libpng's message copied into `error` (NUL-terminated).
int alav_png_encode_rgba(const unsigned char *rgba, unsigned width, unsigned height, size_t stride,
                         const alav_png_text *texts, int text_count, int compression_level,
                         unsigned char **out, size_t *out_size, char *error, size_t error_size);

/// Frees a buffer returned by alav_png_encode_rgba.
void alav_png_free(void *buffer);

#endif
