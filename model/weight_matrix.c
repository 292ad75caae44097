/* weight_matrix.c — float32 rows of a weight matrix, converted on use when it is lazy (see weight_matrix.h). */
#include "config.h"

#include <assert.h>

#include "model/weight_matrix.h"

const float *weight_matrix_rows(const struct weight_matrix *m, int64_t r0, int64_t n, float *buf)
{
    assert(r0 >= 0 && n >= 0 && r0 + n <= m->rows);
    if (m->f32 != NULL)
        return m->f32 + r0 * m->cols;
    assert(m->raw != NULL && buf != NULL);
    /* Rows are whole blocks, so rows [r0, r0 + n) are one contiguous byte range converted in one call. */
    dtype_to_f32(m->dtype, (const unsigned char *)m->raw + (size_t)r0 * m->row_bytes, buf, (size_t)(n * m->cols));
    return buf;
}
