/* doc_id.c — ids of records without one: the 1-based line number (see doc_id.h for the rule and who relies on
 * it). */
#include "config.h"

#include <assert.h>
#include <stdio.h>

#include "scoring/doc_id.h"

void doc_id_from_line(size_t line_no, char buf[DOC_ID_LINE_CAP])
{
    assert(line_no > 0); /* line numbers are 1-based: a 0 here is a reader that counts from 0 */
    snprintf(buf, DOC_ID_LINE_CAP, "%zu", line_no);
}

int doc_id_string_or_line(const cJSON *v, size_t line_no, char line_buf[DOC_ID_LINE_CAP], const char **id,
                          struct ge_error *err)
{
    *id = NULL;
    if (v != NULL && !cJSON_IsString(v))
        return ge_error_set(err, GE_ERR_FORMAT, "is not a string");
    if (v != NULL && v->valuestring[0] != '\0') {
        *id = v->valuestring;
        return GE_OK;
    }
    doc_id_from_line(line_no, line_buf);
    *id = line_buf;
    return GE_OK;
}
