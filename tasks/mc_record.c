/* mc_record.c — field access and string building shared by the multiple-choice task modules (see mc_record.h).
 *
 * Invariant: on any error the helpers leave their outputs untouched (getters) or the doc released (loaders), so a
 * task's load can return the code straight away after task_doc_release. */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/xalloc.h"
#include "scoring/doc_id.h"
#include "tasks/mc_record.h"

int mc_get_string(const cJSON *record, const char *field, const char **out, struct ge_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(record, field);
    if (v == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is missing", field);
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is not a string", field);
    *out = v->valuestring;
    return GE_OK;
}

int mc_get_index(const cJSON *record, const char *field, size_t n, size_t *out, struct ge_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(record, field);
    if (v == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is missing", field);
    if (!cJSON_IsNumber(v))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is not a number", field);
    double d = v->valuedouble;
    if (!(d >= 0 && d < (double)n) || d != floor(d))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" = %g is not an integer in [0, %zu)", field, d, n);
    *out = (size_t)d;
    return GE_OK;
}

int mc_set_id(struct task_doc *doc, const cJSON *record, const char *field, size_t line_no, struct ge_error *err)
{
    char buf[DOC_ID_LINE_CAP];
    if (field == NULL) {
        doc_id_from_line(line_no, buf);
        doc->id = xstrdup(buf);
        return GE_OK;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(record, field);
    if (cJSON_IsString(v) && v->valuestring != NULL && v->valuestring[0] != '\0') {
        doc->id = xstrdup(v->valuestring);
        return GE_OK;
    }
    /* |d| < 2^53 keeps the conversion exact. */
    if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9007199254740992.0) {
        snprintf(buf, sizeof buf, "%" PRId64, (int64_t)v->valuedouble);
        doc->id = xstrdup(buf);
        return GE_OK;
    }
    if (v == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is missing", field);
    return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is neither a non-empty string nor an integer", field);
}

void mc_alloc_choices(struct task_doc *doc, size_t n, int with_contexts)
{
    doc->n_choices = n;
    doc->choices = xcalloc(n, sizeof *doc->choices);
    if (with_contexts)
        doc->contexts = xcalloc(n, sizeof *doc->contexts);
}

char *mc_concat(const char *first, ...)
{
    va_list ap;
    size_t len = 0;
    va_start(ap, first);
    for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
        len += strlen(s);
    va_end(ap);

    char *out = xmalloc(len + 1);
    char *p = out;
    va_start(ap, first);
    for (const char *s = first; s != NULL; s = va_arg(ap, const char *)) {
        size_t n = strlen(s);
        memcpy(p, s, n);
        p += n;
    }
    va_end(ap);
    *p = '\0';
    return out;
}

static int is_ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char *mc_strip(const char *s, size_t len)
{
    size_t b = 0, e = len;
    while (b < e && is_ascii_space(s[b]))
        b++;
    while (e > b && is_ascii_space(s[e - 1]))
        e--;
    return xstrndup(s + b, e - b);
}

int mc_utf8_offset(const char *s, size_t cp_index, size_t *byte_off)
{
    size_t pos = 0;
    /* A code point starts at every byte that is not a continuation byte (10xxxxxx). */
    for (size_t cp = 0; cp < cp_index; cp++) {
        if (s[pos] == '\0')
            return -1;
        pos++;
        while (((unsigned char)s[pos] & 0xC0) == 0x80)
            pos++;
    }
    *byte_off = pos;
    return 0;
}

int mc_load_lettered(const cJSON *record, size_t line_no, const char *question_field, struct task_doc *doc,
                     struct ge_error *err)
{
    const char *question, *key;
    int rc;
    memset(doc, 0, sizeof *doc);
    if ((rc = mc_set_id(doc, record, "id", line_no, err)) < 0 ||
        (rc = mc_get_string(record, question_field, &question, err)) < 0 ||
        (rc = mc_get_string(record, "answerKey", &key, err)) < 0)
        goto out;

    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(record, "choices");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(choices, "text");
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(choices, "label");
    if (!cJSON_IsObject(choices)) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"choices\" is missing or not an object");
        goto out;
    }
    if (!cJSON_IsArray(text) || !cJSON_IsArray(label)) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"choices.%s\" is missing or not an array",
                          cJSON_IsArray(text) ? "label" : "text");
        goto out;
    }
    int n = cJSON_GetArraySize(text);
    if (n < 2 || n > TASK_MAX_CHOICES || cJSON_GetArraySize(label) != n) {
        rc = ge_error_set(err, GE_ERR_FORMAT,
                          "field \"choices.text\" has %d options and \"choices.label\" %d (need 2..%d, equal)", n,
                          cJSON_GetArraySize(label), TASK_MAX_CHOICES);
        goto out;
    }

    mc_alloc_choices(doc, (size_t)n, 0);
    doc->n_gold = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *t = cJSON_GetArrayItem(text, i);
        const cJSON *l = cJSON_GetArrayItem(label, i);
        if (!cJSON_IsString(t) || !cJSON_IsString(l)) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "field \"choices.%s[%d]\" is not a string",
                              cJSON_IsString(t) ? "label" : "text", i);
            goto out;
        }
        doc->choices[i] = mc_concat(" ", t->valuestring, (const char *)NULL);
        if (doc->n_gold == 0 && strcmp(l->valuestring, key) == 0) {
            doc->gold[0] = (size_t)i;
            doc->n_gold = 1;
        }
    }
    if (doc->n_gold == 0) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"answerKey\" = \"%s\" is not among \"choices.label\"", key);
        goto out;
    }
    doc->query = mc_concat("Question: ", question, "\nAnswer:", (const char *)NULL);
    doc->uncond_context = xstrdup("Answer:");
    doc->fewshot_target = xstrdup(doc->choices[doc->gold[0]]);
    return GE_OK;
out:
    task_doc_release(doc);
    return rc;
}

int mc_load_nli(const cJSON *record, size_t line_no, const char *id_key, const char *const *options, size_t n_options,
                const char *question_suffix, struct task_doc *doc, struct ge_error *err)
{
    const char *premise, *hypothesis;
    size_t label;
    int rc;
    memset(doc, 0, sizeof *doc);
    if ((rc = mc_get_string(record, "premise", &premise, err)) < 0 ||
        (rc = mc_get_string(record, "hypothesis", &hypothesis, err)) < 0 ||
        (rc = mc_get_index(record, "label", n_options, &label, err)) < 0 ||
        (rc = mc_set_id(doc, record, id_key, line_no, err)) < 0)
        goto out;
    mc_alloc_choices(doc, n_options, 0);
    for (size_t i = 0; i < n_options; i++)
        doc->choices[i] = xstrdup(options[i]);
    doc->gold[0] = label;
    doc->n_gold = 1;
    doc->query = mc_concat(premise, "\nQuestion: ", hypothesis, question_suffix, (const char *)NULL);
    doc->fewshot_target = xstrdup(options[label]);
out:
    if (rc < 0)
        task_doc_release(doc);
    return rc;
}

int mc_load_anli(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    /* facebook/anli labels: 0 entailment, 1 neutral, 2 contradiction. */
    static const char *const options[] = {" True", " Neither", " False"};
    return mc_load_nli(record, line_no, "uid", options, 3, " True, False, or Neither?\nAnswer:", doc, err);
}

#define MC_RACE_MAX_PROBLEMS 64 /* per article; RACE has at most ~10 */

/* Checks problems[j] and hands back its question, options array and gold index. */
static int race_problem(const cJSON *p, size_t j, const char **question, const cJSON **options, size_t *gold,
                        struct ge_error *err)
{
    if (!cJSON_IsObject(p))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"problems[%zu]\" is not an object", j);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(p, "question");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(p, "options");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "answer");
    if (!cJSON_IsString(q))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"problems[%zu].question\" is missing or not a string", j);
    int n = cJSON_GetArraySize(o);
    if (!cJSON_IsArray(o) || n < 2 || n > 26 || n > TASK_MAX_CHOICES)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"problems[%zu].options\" is not an array of 2..26 strings",
                            j);
    size_t k = 0;
    for (const cJSON *it = o->child; it != NULL; it = it->next, k++)
        if (!cJSON_IsString(it))
            return ge_error_set(err, GE_ERR_FORMAT, "field \"problems[%zu].options[%zu]\" is not a string", j, k);
    if (!cJSON_IsString(a) || strlen(a->valuestring) != 1 || a->valuestring[0] < 'A' ||
        a->valuestring[0] >= 'A' + n)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"problems[%zu].answer\" is not a letter A..%c", j,
                            'A' + n - 1);
    *question = q->valuestring;
    *options = o;
    *gold = (size_t)(a->valuestring[0] - 'A');
    return GE_OK;
}

int mc_load_race(const cJSON *record, size_t line_no, struct task_doc **docs_out, size_t *n_out,
                 struct ge_error *err)
{
    const char *article;
    struct task_doc *docs = NULL;
    cJSON *parsed = NULL; /* problems given as a JSON string */
    char *history = NULL;
    size_t n = 0;
    *docs_out = NULL;
    *n_out = 0;
    int rc = mc_get_string(record, "article", &article, err);
    if (rc < 0)
        goto out;
    const cJSON *problems = cJSON_GetObjectItemCaseSensitive(record, "problems");
    if (cJSON_IsString(problems)) {
        parsed = cJSON_Parse(problems->valuestring);
        if (parsed == NULL) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "field \"problems\" is a string that is not JSON (the HF export "
                              "holds a Python literal: convert it with json.dumps(ast.literal_eval(s)))");
            goto out;
        }
        problems = parsed;
    }
    n = (size_t)cJSON_GetArraySize(problems);
    if (!cJSON_IsArray(problems) || n == 0 || n > MC_RACE_MAX_PROBLEMS) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"problems\" is missing or not an array of 1..%d problems",
                          MC_RACE_MAX_PROBLEMS);
        n = 0;
        goto out;
    }
    docs = xcalloc(n, sizeof *docs);
    history = mc_concat("Article: ", article, "\n\n", (const char *)NULL);
    size_t j = 0;
    for (const cJSON *p = problems->child; p != NULL; p = p->next, j++) {
        const char *question = NULL;
        const cJSON *options = NULL;
        size_t gold = 0;
        if ((rc = race_problem(p, j, &question, &options, &gold, err)) < 0)
            goto out;
        struct task_doc *d = &docs[j];
        char line_id[DOC_ID_LINE_CAP], id[DOC_ID_LINE_CAP + 24];
        doc_id_from_line(line_no, line_id);
        snprintf(id, sizeof id, "%s_%zu", line_id, j + 1);
        d->id = xstrdup(id);
        d->group = xstrdup(line_id); /* an example from the same article would reveal this document's answer */
        mc_alloc_choices(d, (size_t)cJSON_GetArraySize(options), 0);
        size_t k = 0;
        for (const cJSON *it = options->child; it != NULL; it = it->next, k++)
            d->choices[k] = mc_concat(" ", it->valuestring, (const char *)NULL);
        d->gold[0] = gold;
        d->n_gold = 1;
        d->query = mc_concat(history, "Question: ", question, "\nAnswer:", (const char *)NULL);
        d->uncond_context = xstrdup("Answer:");
        d->fewshot_target = xstrdup(d->choices[gold]);
        char *next = mc_concat(d->query, d->choices[gold], "\n", (const char *)NULL);
        free(history);
        history = next;
    }
    *docs_out = docs;
    *n_out = n;
    docs = NULL;
out:
    if (docs != NULL) {
        for (size_t i = 0; i < n; i++)
            task_doc_release(&docs[i]);
        free(docs);
    }
    free(history);
    cJSON_Delete(parsed);
    return rc;
}
