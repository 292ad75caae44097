/* weight_matrix.h — one weight matrix of the forward pass, either float32 in memory or left in a checkpoint's
 * mapped file in its stored element type and converted to float32 when it is used ("lazy" weights).
 *
 * Why: a BF16 / F16 / quantised checkpoint converted to float32 at load needs 2x (BF16/F16) to about 4x (Q8_0)
 * its file size in RAM. Left in the mapping, a matrix costs only the file pages the forward pass touches (the
 * kernel may drop them again under memory pressure, as they are clean), plus a float32 scratch that holds the
 * matrix being multiplied (model/transformer.h, "Memory"). The price is one conversion per use.
 *
 * Conversions go through dtype_to_f32, the function the copying load uses (weights_read_f32), on whole rows; it
 * is element- or block-wise, so rows converted on use are bit for bit the values a copy at load would hold.
 *
 * Invariant of struct weight_matrix: at most one of f32 and raw is non-NULL (both are NULL only for a matrix a
 * layer lacks, which is never used); with raw, every row is a whole number of dtype blocks
 * (row_bytes = dtype_nbytes(dtype, cols)). */
#ifndef GE_MODEL_WEIGHT_MATRIX_H
#define GE_MODEL_WEIGHT_MATRIX_H

#include <stddef.h>
#include <stdint.h>

#include "model/dtype.h"

struct weight_matrix {
    const float *f32;  /* (rows, cols) float32: a view into the tensor source or an owned copy; NULL when lazy */
    const void *raw;   /* (rows, cols) stored bytes in the source's memory (borrowed), row-major; NULL unless lazy */
    enum dtype dtype;  /* element type of raw */
    int64_t rows;      /* a Linear weight is (out, in): rows = out */
    int64_t cols;
    size_t row_bytes;  /* bytes of one row of raw */
};

/* 1 when the matrix is converted on use. */
static inline int weight_matrix_is_lazy(const struct weight_matrix *m)
{
    return m->raw != NULL;
}

/* Rows [r0, r0 + n) of m as float32 (n * cols values, row-major): a pointer into m's own float32 memory when it
 * has it (buf untouched), else those rows converted into buf, which must hold n * cols floats, and buf.
 * 0 <= r0, r0 + n <= rows (assert). Cost: none, or one conversion of n * cols elements. */
const float *weight_matrix_rows(const struct weight_matrix *m, int64_t r0, int64_t n, float *buf);

/* The whole matrix as float32: weight_matrix_rows(m, 0, m->rows, buf). */
static inline const float *weight_matrix_f32(const struct weight_matrix *m, float *buf)
{
    return weight_matrix_rows(m, 0, m->rows, buf);
}

#endif
