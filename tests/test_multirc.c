/* test_multirc.c — MultiRC F1a / EM / accuracy against the official SuperGLUE metric.
 *
 * Table: tests/data/multirc_scores.jsonl; its "shared" row scores the real validation split in ../shared (skipped
 * with a message when that is absent). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/error.h"
#include "harness/fileio.h"
#include "scoring/multirc.h"
#include "tests/case_file.h"
#include "tests/tap.h"

#define TOL 1e-12

static void check_scores(const struct multirc_option *opts, size_t n, const cJSON *c, const char *id)
{
    struct multirc_scores s;
    struct ge_error err = {0};
    int rc = multirc_score(opts, n, &s, &err);
    double f1a = case_num(c, id, "f1a"), em = case_num(c, id, "em"), acc = case_num(c, id, "acc");
    if (!tap_ok(rc == GE_OK, "multirc: case %s scores (%s)", id, err.msg))
        return;
    tap_is_double(s.f1a, f1a, TOL, "multirc f1a: case %s", id);
    tap_is_double(s.em, em, TOL, "multirc em: case %s", id);
    tap_is_double(s.acc, acc, TOL, "multirc acc: case %s", id);
}

/* The real validation split: prediction = UTF-8 byte length of the answer mod 2 (see the data file). */
static void check_shared(const cJSON *c, const char *id, const char *rel)
{
    const char *shared = tap_shared_dir();
    char path[4096];
    if (shared)
        snprintf(path, sizeof path, "%s/data/%s", shared, rel);
    if (shared == NULL || !file_exists(path)) {
        tap_skip("../shared/data is absent", "multirc: case %s (real %s)", id, rel);
        return;
    }
    char *data = NULL;
    size_t len, n = 0;
    struct ge_error err = {0};
    if (file_read_all(path, 0, &data, &len, &err) != GE_OK) {
        tap_ok(0, "multirc: case %s: %s readable (%s)", id, rel, err.msg);
        return;
    }
    size_t cap = (size_t)case_num(c, id, "n_options");
    struct multirc_option *opts = calloc(cap ? cap : 1, sizeof *opts);
    struct line_iter it;
    const char *line;
    size_t line_len;
    int ok = opts != NULL;
    line_iter_init(&it, data, len);
    while (ok && line_iter_next(&it, &line, &line_len)) {
        if (line_len == 0)
            continue;
        cJSON *doc = cJSON_ParseWithLength(line, line_len);
        const cJSON *idx = cJSON_GetObjectItemCaseSensitive(doc, "idx");
        const cJSON *para = cJSON_GetObjectItemCaseSensitive(idx, "paragraph");
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(idx, "question");
        const cJSON *ans = cJSON_GetObjectItemCaseSensitive(doc, "answer");
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(doc, "label");
        if (n >= cap || !cJSON_IsNumber(para) || !cJSON_IsNumber(q) || !cJSON_IsString(ans) || !cJSON_IsNumber(label)) {
            tap_diag("%s:%zu: unexpected record (or more than %zu)", rel, it.line_no, cap);
            ok = 0;
        } else {
            opts[n++] = (struct multirc_option){.paragraph_id = (int64_t)para->valuedouble,
                                                .question_id = (int64_t)q->valuedouble,
                                                .pred = (int)(strlen(ans->valuestring) % 2),
                                                .gold = (int)label->valuedouble};
        }
        cJSON_Delete(doc);
    }
    if (tap_ok(ok && n == cap, "multirc: case %s: read %zu of %zu options from %s", id, n, cap, rel))
        check_scores(opts, n, c, id);
    free(opts);
    free(data);
}

static void check_case(const cJSON *c, const char *id, void *ctx)
{
    long *n_cases = ctx;
    const char *shared = case_opt_str(c, id, "shared");
    (*n_cases)++;
    if (shared) {
        check_shared(c, id, shared);
        return;
    }
    const cJSON *arr = case_array(c, id, "options");
    if (arr == NULL)
        return;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    struct multirc_option *opts = calloc(n ? n : 1, sizeof *opts);
    if (!tap_ok(opts != NULL, "multirc: case %s: allocate %zu options", id, n))
        return;
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetArrayItem(arr, (int)i);
        opts[i] = (struct multirc_option){.paragraph_id = (int64_t)cJSON_GetArrayItem(o, 0)->valuedouble,
                                          .question_id = (int64_t)cJSON_GetArrayItem(o, 1)->valuedouble,
                                          .pred = (int)cJSON_GetArrayItem(o, 2)->valuedouble,
                                          .gold = (int)cJSON_GetArrayItem(o, 3)->valuedouble};
    }
    check_scores(opts, n, c, id);
    free(opts);
}

static void test_errors_and_counts(void)
{
    struct ge_error err = {0};
    struct multirc_scores s;
    struct multirc_option opts[3] = {{1, 7, 1, 1, 0}, {1, 7, 2, 0, 0}, {1, 8, 0, 0, 0}};
    tap_is_int(multirc_score(opts, 3, &s, &err), GE_ERR_FORMAT, "multirc: label 2 refused");
    tap_ok(strstr(err.msg, "option 1") && strstr(err.msg, "question 7"), "multirc: the error names the option (%s)",
           err.msg);
    tap_is_int(multirc_score(opts, 0, &s, &err), GE_ERR_USAGE, "multirc: no options refused");
    tap_is_int(multirc_score(opts, MULTIRC_MAX_OPTIONS + 1, &s, &err), GE_ERR_LIMIT,
               "multirc: more than MULTIRC_MAX_OPTIONS refused before reading them");
    opts[1].pred = 1;
    tap_ok(multirc_score(opts, 3, &s, &err) == GE_OK && s.n_questions == 2 && s.n_options == 3 && s.tp == 1 &&
               s.fp == 1 && s.fn == 0,
           "multirc: counts of options, questions, tp/fp/fn");
}

int main(void)
{
    long n_cases = 0;
    long n = case_file_each("multirc_scores.jsonl", check_case, &n_cases);
    tap_ok(n >= 30, "multirc: table has %ld cases", n);
    test_errors_and_counts();
    return tap_done();
}
