/* release_superglue.c — the SuperGLUE release jsonl files (BoolQ/val.jsonl, CB/..., the files of
 * https://super.gluebenchmark.com/tasks) converted into rows of Hugging Face's aps/super_glue, the schema the
 * task modules read. The conversion follows the dataset's loading script super_glue.py (v1.0.3):
 *   labels      BoolQ, WiC, WSC: JSON true/false -> 1/0 (ClassLabel names "False", "True"); CB: "entailment" 0,
 *               "contradiction" 1, "neutral" 2; RTE: "entailment" 0, "not_entailment" 1; COPA: label 0/1 kept;
 *               MultiRC: each answer's label 0/1 (bool(label)).
 *   WSC         target.{span1_index, span1_text, span2_index, span2_text} lifted to the top level, then the
 *               wsc.fixed span repair (_fix_wst): a span text that does not occur in the text gets its first
 *               letter's case from the word at its index, trailing "." removed and "\n" turned into " " (the
 *               "Kamenev and Zinoviev" spans are left alone; a span containing "theyscold" sets span2_index 10).
 *               TODO: case changes are ASCII only (Python's also map other letters); WSC spans start in ASCII.
 *   MultiRC     one row per answer: {paragraph, question, answer, idx: {paragraph, question, answer}, label}.
 *   ReCoRD      one row per qas[k]: {passage, query, entities, answers, idx: {passage, query}} with entities the
 *               sorted distinct passage.text[start:end + 1] (code points; end is inclusive in the release) and
 *               answers the sorted distinct answer texts.
 * A row is handed to the sink only when the whole release record converted, so a malformed MultiRC paragraph
 * or ReCoRD passage is skipped as one record. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/xalloc.h"
#include "tasks/mc_record.h"
#include "tasks/release_formats.h"

#define SG_MAX_ROWS 4096 /* rows from one release record (MultiRC paragraphs have ~60 answers, ReCoRD ~5 qas) */

/* Copies in[field] (any type) to out, failing when it is missing or not of the wanted type. */
static int copy_field(cJSON *out, const cJSON *in, const char *field, int want_string, struct ge_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, field);
    if (v == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is missing", field);
    if (want_string ? !cJSON_IsString(v) : !cJSON_IsNumber(v))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is not a %s", field, want_string ? "string" : "number");
    cJSON_AddItemToObject(out, field, cJSON_Duplicate(v, 0));
    return GE_OK;
}

/* label: true/false -> 1/0. An integer label (already converted, as in a Hugging Face file) gets a hint. */
static int bool_label(const cJSON *in, const char *field, int *out, struct ge_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, field);
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return GE_OK;
    }
    if (v == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is missing (test files have no labels)", field);
    return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is not true/false%s", field,
                        cJSON_IsNumber(v) ? " (a Hugging Face row? those go in DIR/<task>/<split>.jsonl)" : "");
}

/* label: one of names[0..n) -> its index. */
static int name_label(const cJSON *in, const char *const *names, int n, int *out, struct ge_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "label");
    for (int i = 0; i < n && cJSON_IsString(v); i++)
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = i;
            return GE_OK;
        }
    return ge_error_set(err, GE_ERR_FORMAT, "field \"label\" is %s, not one of \"%s\", \"%s\"%s%s%s",
                        v == NULL ? "missing" : "unknown", names[0], names[1], n > 2 ? ", \"" : "",
                        n > 2 ? names[2] : "", n > 2 ? "\"" : "");
}

/* Python's `needle in haystack`. */
static int contains(const char *haystack, const char *needle)
{
    return strstr(haystack, needle) != NULL;
}

/* The index-th whitespace-separated word of text (Python's text.split()[index]), as a pointer into text; NULL
 * when there are fewer words. ASCII whitespace (WSC texts have no other). */
static const char *nth_word(const char *text, size_t index)
{
    const char *p = text;
    for (size_t w = 0;; w++) {
        while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
            p++;
        if (*p == '\0')
            return NULL;
        if (w == index)
            return p;
        while (*p != '\0' && !(*p == ' ' || (*p >= '\t' && *p <= '\r')))
            p++;
    }
}

/* super_glue.py's _fix_wst for span k (1 or 2) of the flattened row r. */
static int wsc_fix_span(cJSON *r, int k, struct ge_error *err)
{
    char text_key[16], index_key[16];
    snprintf(text_key, sizeof text_key, "span%d_text", k);
    snprintf(index_key, sizeof index_key, "span%d_index", k);
    const char *text = cJSON_GetObjectItemCaseSensitive(r, "text")->valuestring;
    const char *span = cJSON_GetObjectItemCaseSensitive(r, text_key)->valuestring;
    double index = cJSON_GetObjectItemCaseSensitive(r, index_key)->valuedouble;
    if (contains(text, span) || strcmp(span, "Kamenev and Zinoviev") == 0 ||
        strcmp(span, "Kamenev, Zinoviev, and Stalin") == 0)
        return GE_OK;
    if (contains(span, "theyscold"))
        cJSON_ReplaceItemInObjectCaseSensitive(r, "span2_index", cJSON_CreateNumber(10));
    const char *word = index >= 0 && index == floor(index) && index < 1e6 ? nth_word(text, (size_t)index) : NULL;
    if (word == NULL || span[0] == '\0')
        return ge_error_set(err, GE_ERR_FORMAT, "field \"target.%s\" = \"%s\" is not in \"text\" and \"target.%s\" "
                            "does not point at a word to repair it from", text_key, span, index_key);
    char *fixed = xstrdup(span);
    if (*word >= 'a' && *word <= 'z') {
        if (fixed[0] >= 'A' && fixed[0] <= 'Z')
            fixed[0] = (char)(fixed[0] - 'A' + 'a');
    } else if (fixed[0] >= 'a' && fixed[0] <= 'z') {
        fixed[0] = (char)(fixed[0] - 'a' + 'A');
    }
    size_t len = strlen(fixed);
    while (len > 0 && fixed[len - 1] == '.')
        fixed[--len] = '\0';
    for (char *p = fixed; *p != '\0'; p++)
        if (*p == '\n')
            *p = ' ';
    int ok = contains(text, fixed);
    cJSON_ReplaceItemInObjectCaseSensitive(r, text_key, cJSON_CreateString(fixed));
    free(fixed);
    if (!ok)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"target.%s\" = \"%s\" does not occur in \"text\", even "
                            "after the wsc.fixed repair", text_key, span);
    return GE_OK;
}

/* The one-row tasks: BoolQ, CB, COPA, RTE, WiC, WSC. */
static int sg_simple(enum release_format format, const cJSON *in, cJSON **out, struct ge_error *err)
{
    static const char *const cb_names[] = {"entailment", "contradiction", "neutral"};
    static const char *const rte_names[] = {"entailment", "not_entailment"};
    static const char *const wsc_spans[] = {"span1_index", "span2_index", "span1_text", "span2_text"};
    cJSON *r = cJSON_CreateObject();
    int rc = GE_OK, label = 0;
    switch (format) {
    case RELEASE_SG_BOOLQ:
        if ((rc = copy_field(r, in, "question", 1, err)) == GE_OK &&
            (rc = copy_field(r, in, "passage", 1, err)) == GE_OK)
            rc = bool_label(in, "label", &label, err);
        break;
    case RELEASE_SG_CB:
    case RELEASE_SG_RTE:
        if ((rc = copy_field(r, in, "premise", 1, err)) == GE_OK &&
            (rc = copy_field(r, in, "hypothesis", 1, err)) == GE_OK)
            rc = format == RELEASE_SG_CB ? name_label(in, cb_names, 3, &label, err)
                                         : name_label(in, rte_names, 2, &label, err);
        break;
    case RELEASE_SG_COPA: {
        static const char *const fields[] = {"premise", "choice1", "choice2", "question"};
        for (size_t i = 0; i < 4 && rc == GE_OK; i++)
            rc = copy_field(r, in, fields[i], 1, err);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "label");
        if (rc == GE_OK && !(cJSON_IsNumber(v) && (v->valuedouble == 0 || v->valuedouble == 1)))
            rc = ge_error_set(err, GE_ERR_FORMAT, "field \"label\" is %s", v ? "not 0 or 1" : "missing");
        if (rc == GE_OK)
            label = v->valuedouble == 1; /* "choice2" if row["label"] else "choice1" */
        break;
    }
    case RELEASE_SG_WIC: {
        static const char *const strings[] = {"word", "sentence1", "sentence2"};
        static const char *const numbers[] = {"start1", "start2", "end1", "end2"};
        for (size_t i = 0; i < 3 && rc == GE_OK; i++)
            rc = copy_field(r, in, strings[i], 1, err);
        for (size_t i = 0; i < 4 && rc == GE_OK; i++)
            rc = copy_field(r, in, numbers[i], 0, err);
        if (rc == GE_OK)
            rc = bool_label(in, "label", &label, err);
        break;
    }
    case RELEASE_SG_WSC: {
        const cJSON *target = cJSON_GetObjectItemCaseSensitive(in, "target");
        if ((rc = copy_field(r, in, "text", 1, err)) == GE_OK && !cJSON_IsObject(target))
            rc = ge_error_set(err, GE_ERR_FORMAT, "field \"target\" is missing or not an object");
        for (size_t i = 0; i < 4 && rc == GE_OK; i++)
            if ((rc = copy_field(r, target, wsc_spans[i], i >= 2, err)) < 0)
                ge_error_prefix(err, "target: ");
        if (rc == GE_OK && (rc = wsc_fix_span(r, 1, err)) == GE_OK && (rc = wsc_fix_span(r, 2, err)) == GE_OK)
            rc = bool_label(in, "label", &label, err);
        break;
    }
    default:
        rc = ge_error_set(err, GE_ERR_FORMAT, "not a one-row SuperGLUE format");
        break;
    }
    if (rc == GE_OK)
        rc = copy_field(r, in, "idx", 0, err);
    if (rc < 0) {
        cJSON_Delete(r);
        return rc;
    }
    cJSON_AddNumberToObject(r, "label", label);
    *out = r;
    return GE_OK;
}

/* *out = in[field] when it is an integer in [0, 2^31) (super_glue's idx fields are int32). */
static int get_idx(const cJSON *in, const char *field, const char *path, double *out, struct ge_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, field);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble > 2147483647.0)
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s%s\" is missing or not a non-negative integer", path, field);
    *out = v->valuedouble;
    return GE_OK;
}

/* MultiRC: {idx, passage: {text, questions: [{question, idx, answers: [{text, idx, label}]}]}} -> rows. */
static int sg_multirc(const cJSON *in, cJSON *rows, struct ge_error *err)
{
    const cJSON *passage = cJSON_GetObjectItemCaseSensitive(in, "passage");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(passage, "text");
    const cJSON *questions = cJSON_GetObjectItemCaseSensitive(passage, "questions");
    double p_idx, q_idx, a_idx;
    int rc = get_idx(in, "idx", "", &p_idx, err);
    if (rc < 0)
        return rc;
    if (!cJSON_IsString(text) || !cJSON_IsArray(questions))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"passage.%s\" is missing or not %s",
                            cJSON_IsString(text) ? "questions" : "text",
                            cJSON_IsString(text) ? "an array" : "a string");
    size_t qi = 0;
    for (const cJSON *q = questions->child; q != NULL; q = q->next, qi++) {
        char path[64];
        snprintf(path, sizeof path, "passage.questions[%zu].", qi);
        const cJSON *question = cJSON_GetObjectItemCaseSensitive(q, "question");
        const cJSON *answers = cJSON_GetObjectItemCaseSensitive(q, "answers");
        if ((rc = get_idx(q, "idx", path, &q_idx, err)) < 0)
            return rc;
        if (!cJSON_IsString(question) || !cJSON_IsArray(answers))
            return ge_error_set(err, GE_ERR_FORMAT, "field \"%s%s\" is missing or not %s", path,
                                cJSON_IsString(question) ? "answers" : "question",
                                cJSON_IsString(question) ? "an array" : "a string");
        size_t ai = 0;
        for (const cJSON *a = answers->child; a != NULL; a = a->next, ai++) {
            snprintf(path, sizeof path, "passage.questions[%zu].answers[%zu].", qi, ai);
            const cJSON *atext = cJSON_GetObjectItemCaseSensitive(a, "text");
            const cJSON *label = cJSON_GetObjectItemCaseSensitive(a, "label");
            if ((rc = get_idx(a, "idx", path, &a_idx, err)) < 0)
                return rc;
            if (!cJSON_IsString(atext))
                return ge_error_set(err, GE_ERR_FORMAT, "field \"%stext\" is missing or not a string", path);
            if (!cJSON_IsNumber(label) && !cJSON_IsBool(label))
                return ge_error_set(err, GE_ERR_FORMAT, "field \"%slabel\" is %s", path,
                                    label ? "not a number" : "missing (test files have no labels)");
            if (cJSON_GetArraySize(rows) >= SG_MAX_ROWS)
                return ge_error_set(err, GE_ERR_LIMIT, "more than %d answers in one paragraph", SG_MAX_ROWS);
            cJSON *r = cJSON_CreateObject();
            cJSON_AddItemToArray(rows, r);
            cJSON_AddStringToObject(r, "paragraph", text->valuestring);
            cJSON_AddStringToObject(r, "question", question->valuestring);
            cJSON_AddStringToObject(r, "answer", atext->valuestring);
            cJSON *idx = cJSON_AddObjectToObject(r, "idx");
            cJSON_AddNumberToObject(idx, "paragraph", p_idx);
            cJSON_AddNumberToObject(idx, "question", q_idx);
            cJSON_AddNumberToObject(idx, "answer", a_idx);
            int truth = cJSON_IsBool(label) ? cJSON_IsTrue(label) : label->valuedouble != 0; /* bool(label) */
            cJSON_AddNumberToObject(r, "label", truth);
        }
    }
    return GE_OK;
}

static int strptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted distinct strings of list[0..n) (freed) as a new cJSON array; Python's sorted(set(...)). */
static cJSON *sorted_unique(char **list, size_t n)
{
    qsort(list, n, sizeof *list, strptr_cmp);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(list[i], list[i - 1]) != 0)
            cJSON_AddItemToArray(arr, cJSON_CreateString(list[i]));
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
    return arr;
}

/* ReCoRD: {idx, passage: {text, entities: [{start, end}]}, qas: [{query, idx, answers: [{start, end, text}]}]}. */
static int sg_record(const cJSON *in, cJSON *rows, struct ge_error *err)
{
    const cJSON *passage = cJSON_GetObjectItemCaseSensitive(in, "passage");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(passage, "text");
    const cJSON *entities = cJSON_GetObjectItemCaseSensitive(passage, "entities");
    const cJSON *qas = cJSON_GetObjectItemCaseSensitive(in, "qas");
    double p_idx, q_idx;
    int rc = get_idx(in, "idx", "", &p_idx, err);
    if (rc < 0)
        return rc;
    if (!cJSON_IsString(text) || !cJSON_IsArray(entities) || !cJSON_IsArray(qas))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"%s\" is missing or not %s", !cJSON_IsString(text)
                            ? "passage.text" : !cJSON_IsArray(entities) ? "passage.entities" : "qas",
                            !cJSON_IsString(text) ? "a string" : "an array");
    size_t n_cp = 0;
    for (const char *p = text->valuestring; *p != '\0'; p++)
        n_cp += ((unsigned char)*p & 0xC0) != 0x80;
    size_t n_ent = (size_t)cJSON_GetArraySize(entities), k = 0;
    if (n_ent > SG_MAX_ROWS)
        return ge_error_set(err, GE_ERR_LIMIT, "more than %d entities in one passage", SG_MAX_ROWS);
    char **ents = xcalloc(n_ent ? n_ent : 1, sizeof *ents);
    for (const cJSON *e = entities->child; e != NULL; e = e->next, k++) {
        char path[64];
        double start, end;
        size_t b0, b1;
        snprintf(path, sizeof path, "passage.entities[%zu].", k);
        if ((rc = get_idx(e, "start", path, &start, err)) < 0 || (rc = get_idx(e, "end", path, &end, err)) < 0)
            break;
        if (start > end || end + 1 > (double)n_cp || mc_utf8_offset(text->valuestring, (size_t)start, &b0) < 0 ||
            mc_utf8_offset(text->valuestring, (size_t)end + 1, &b1) < 0) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "field \"%sstart\" = %.0f, \"end\" = %.0f is not a span of the %zu "
                              "characters of \"passage.text\"", path, start, end, n_cp);
            break;
        }
        ents[k] = xstrndup(text->valuestring + b0, b1 - b0);
    }
    if (rc < 0) {
        for (size_t i = 0; i < k; i++)
            free(ents[i]);
        free(ents);
        return rc;
    }
    cJSON *ent_arr = sorted_unique(ents, n_ent);
    size_t qi = 0;
    for (const cJSON *q = qas->child; q != NULL && rc == GE_OK; q = q->next, qi++) {
        char path[64];
        snprintf(path, sizeof path, "qas[%zu].", qi);
        const cJSON *query = cJSON_GetObjectItemCaseSensitive(q, "query");
        const cJSON *answers = cJSON_GetObjectItemCaseSensitive(q, "answers");
        if ((rc = get_idx(q, "idx", path, &q_idx, err)) < 0)
            break;
        if (!cJSON_IsString(query) || !cJSON_IsArray(answers)) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "field \"%s%s\" is missing or not %s", path,
                              cJSON_IsString(query) ? "answers" : "query", cJSON_IsString(query) ? "an array (test "
                              "files have no answers)" : "a string");
            break;
        }
        size_t n_ans = (size_t)cJSON_GetArraySize(answers), j = 0;
        if (n_ans > SG_MAX_ROWS || cJSON_GetArraySize(rows) >= SG_MAX_ROWS) {
            rc = ge_error_set(err, GE_ERR_LIMIT, "more than %d answers or queries in one passage", SG_MAX_ROWS);
            break;
        }
        char **ans = xcalloc(n_ans ? n_ans : 1, sizeof *ans);
        for (const cJSON *a = answers->child; a != NULL; a = a->next, j++) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "text");
            if (!cJSON_IsString(t)) {
                rc = ge_error_set(err, GE_ERR_FORMAT, "field \"%sanswers[%zu].text\" is missing or not a string",
                                  path, j);
                break;
            }
            ans[j] = xstrdup(t->valuestring);
        }
        if (rc < 0) {
            for (size_t i = 0; i < j; i++)
                free(ans[i]);
            free(ans);
            break;
        }
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToArray(rows, r);
        cJSON_AddStringToObject(r, "passage", text->valuestring);
        cJSON_AddStringToObject(r, "query", query->valuestring);
        cJSON_AddItemToObject(r, "entities", cJSON_Duplicate(ent_arr, 1));
        cJSON_AddItemToObject(r, "answers", sorted_unique(ans, n_ans));
        cJSON *idx = cJSON_AddObjectToObject(r, "idx");
        cJSON_AddNumberToObject(idx, "passage", p_idx);
        cJSON_AddNumberToObject(idx, "query", q_idx);
    }
    cJSON_Delete(ent_arr);
    return rc;
}

int release_superglue_record(enum release_format format, const cJSON *in, const char *path, const char *where,
                             size_t *ordinal, const struct release_sink *sink, struct ge_error *err)
{
    struct ge_error conv_err;
    ge_error_clear(&conv_err);
    cJSON *rows = cJSON_CreateArray();
    int rc;
    if (format == RELEASE_SG_MULTIRC) {
        rc = sg_multirc(in, rows, &conv_err);
    } else if (format == RELEASE_SG_RECORD) {
        rc = sg_record(in, rows, &conv_err);
    } else {
        cJSON *row = NULL;
        if ((rc = sg_simple(format, in, &row, &conv_err)) == GE_OK)
            cJSON_AddItemToArray(rows, row);
    }
    if (rc < 0) {
        rc = sink->malformed(sink->ctx, path, where, conv_err.msg, err);
    } else {
        for (const cJSON *r = rows->child; r != NULL && rc == GE_OK; r = r->next)
            rc = sink->record(sink->ctx, r, ++*ordinal, path, where, err);
    }
    cJSON_Delete(rows);
    return rc;
}
