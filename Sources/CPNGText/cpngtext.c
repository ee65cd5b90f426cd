#include "cpngtext.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
    int failed;
    char *error;
    size_t error_size;
} alav_sink;

static void alav_set_error(alav_sink *sink, const char *message) {
    if (sink->error == NULL || sink->error_size == 0) return;
    strncpy(sink->error, message ? message : "unknown libpng error", sink->error_size - 1);
    sink->error[sink->error_size - 1] = '\0';
}

static void alav_write(png_structp png, png_bytep bytes, png_size_t length) {
    alav_sink *sink = (alav_sink *)png_get_io_ptr(png);
    if (sink->failed) return;
    if (sink->size + length > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity : 65536;
        while (capacity < sink->size + length) capacity *= 2;
        unsigned char *grown = realloc(sink->data, capacity);
        if (grown == NULL) {
            sink->failed = 1;
            alav_set_error(sink, "out of memory while encoding PNG");
            png_error(png, "out of memory");
        }
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->size, bytes, length);
    sink->size += length;
}

static void alav_flush(png_structp png) { (void)png; }

static void alav_error(png_structp png, png_const_charp message) {
    alav_sink *sink = (alav_sink *)png_get_error_ptr(png);
    if (!sink->failed) {
        sink->failed = 1;
        alav_set_error(sink, message);
    }
    png_longjmp(png, 1);
}

static void alav_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

int alav_png_encode_rgba(const unsigned char *rgba, unsigned width, unsigned height, size_t stride,
                         const alav_png_text *texts, int text_count, int compression_level,
                         unsigned char **out, size_t *out_size, char *error, size_t error_size) {
    alav_sink sink = {NULL, 0, 0, 0, error, error_size};
    png_structp volatile png = NULL;
    png_infop volatile info = NULL;
    png_textp volatile chunks = NULL;
    *out = NULL;
    *out_size = 0;
    if (error && error_size) error[0] = '\0';

    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, alav_error, alav_warning);
    if (png == NULL) {
        alav_set_error(&sink, "cannot create libpng write struct");
        return 1;
    }
    info = png_create_info_struct(png);
    if (info == NULL) {
        png_structp p = png;
        png_destroy_write_struct(&p, NULL);
        alav_set_error(&sink, "cannot create libpng info struct");
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_structp p = png;
        png_infop i = info;
        png_destroy_write_struct(&p, &i);
        free(chunks);
        free(sink.data);
        if (error && error_size && error[0] == '\0') alav_set_error(&sink, "libpng failed");
        return 1;
    }
    png_set_write_fn(png, &sink, alav_write, alav_flush);
    png_set_compression_level(png, compression_level);
    png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (text_count > 0) {
        chunks = calloc((size_t)text_count, sizeof(png_text));
        if (chunks == NULL) png_error(png, "out of memory");
        for (int k = 0; k < text_count; k++) {
            chunks[k].compression = PNG_TEXT_COMPRESSION_NONE;
            chunks[k].key = (png_charp)texts[k].key;
            chunks[k].text = (png_charp)texts[k].text;
            chunks[k].text_length = strlen(texts[k].text);
        }
        png_set_text(png, info, chunks, text_count);
    }
    png_write_info(png, info);
    for (unsigned y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(rgba + (size_t)y * stride));
    }
    png_write_end(png, NULL);
    {
        png_structp p = png;
        png_infop i = info;
        png_destroy_write_struct(&p, &i);
    }
    free(chunks);
    *out = sink.data;
    *out_size = sink.size;
    return 0;
}

void alav_png_free(void *buffer) { free(buffer); }
