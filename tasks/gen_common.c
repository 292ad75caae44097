/* gen_common.c — record access and result helpers shared by the generation tasks (see gen_common.h). */
#include "config.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/xalloc.h"
#include "scoring/doc_id.h"
#include "scoring/qa_em.h"
#include "tasks/gen_common.h"

#define GEN_PATH_MAX 128 /* longest dotted path a task uses, with room to spare */

const cJSON *gen_field(const cJSON *record, const char *path)
{
    const cJSON *node = record;
    char key[GEN_PATH_MAX];
    const char *p = path;
    while (node != NULL) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        assert(len < sizeof key);
        memcpy(key, p, len);
        key[len] = '\0';
        if (!cJSON_IsObject(node))
            return NULL;
        node = cJSON_GetObjectItemCaseSensitive(node, key);
        if (dot == NULL)
            return node;
        p = dot + 1;
    }
    return NULL;
}

int gen_string(const cJSON *record, const char *path, int allow_empty, const char **out, struct ge_error *err)
{
    const cJSON *v = gen_field(record, path);
    *out = NULL;
    if (v == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is missing", path);
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is not a string", path);
    if (!allow_empty && v->valuestring[0] == '\0')
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is empty", path);
    *out = v->valuestring;
    return GE_OK;
}

int gen_strings(const cJSON *record, const char *path, size_t min, char ***out, size_t *n, struct ge_error *err)
{
    const cJSON *v = gen_field(record, path);
    *out = NULL;
    *n = 0;
    if (v == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is missing", path);
    if (!cJSON_IsArray(v))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is not an array", path);
    size_t count = (size_t)cJSON_GetArraySize(v);
    if (count < min)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" has %zu elements, at least %zu needed", path, count,
                            min);
    if (count > TASK_MAX_ANSWERS)
        return ge_error_set(err, GE_ERR_LIMIT, "field \"%s\" has %zu elements, more than the limit %d", path, count,
                            TASK_MAX_ANSWERS);
    size_t i = 0;
    for (const cJSON *it = v->child; it != NULL; it = it->next, i++)
        if (!cJSON_IsString(it) || it->valuestring == NULL)
            return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\"[%zu] is not a string", path, i);
    char **copy = xcalloc(count ? count : 1, sizeof *copy);
    i = 0;
    for (const cJSON *it = v->child; it != NULL; it = it->next)
        copy[i++] = xstrdup(it->valuestring);
    *out = copy;
    *n = count;
    return GE_OK;
}

char *gen_strdupf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert(len >= 0);
    char *s = xmalloc((size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return s;
}

int gen_doc_id(const cJSON *record, const char *id_path, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    char line_id[DOC_ID_LINE_CAP];
    const char *id;
    int rc = doc_id_string_or_line(id_path ? gen_field(record, id_path) : NULL, line_no, line_id, &id, err);
    if (rc != GE_OK) /* only for a value found at id_path, so id_path is set */
        return ge_error_prefix(err, "field \"%s\" ", id_path ? id_path : "");
    doc->id = xstrdup(id);
    return GE_OK;
}

void gen_scores_add(struct task_doc_scores *out, const char *name, double value)
{
    assert(out->n < TASK_MAX_METRICS);
    out->name[out->n] = name;
    out->value[out->n] = value;
    out->n++;
}

int gen_load_closed_book(const cJSON *record, size_t line_no, const char *answers_path, const char *question_end,
                         struct task_doc *doc, struct ge_error *err)
{
    const char *question;
    int rc = gen_string(record, "question", 0, &question, err);
    if (rc == GE_OK)
        rc = gen_strings(record, answers_path, 1, &doc->answers, &doc->n_answers, err);
    if (rc == GE_OK)
        rc = gen_doc_id(record, NULL, line_no, doc, err);
    if (rc != GE_OK) {
        task_doc_release(doc);
        return rc;
    }
    doc->query = gen_strdupf("Q: %s%s", question, question_end);
    doc->fewshot_target = gen_strdupf(" %s", doc->answers[0]);
    return GE_OK;
}

int gen_score_em(const struct task_doc *doc, const char *generated, struct task_doc_scores *out,
                 struct ge_error *err)
{
    double em;
    int rc = qa_em_score(generated, (const char *const *)doc->answers, doc->n_answers, &em, err);
    if (rc != GE_OK)
        return rc;
    gen_scores_add(out, "em", em);
    return GE_OK;
}
