/* test_data_fetch.c — the parts of `data fetch` that need no server: the source table's invariants
 * (tasks/data_sources.h), the Python-style JSON writer (tasks/pyjson.h) on fixed cases, on our fixture and on every
 * generated file of ../shared/data (each line must come back byte for byte), and query-value encoding.
 * The download paths are tested against a loopback server by tests/test_data_fetch.sh. */
#include "config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/fileio.h"
#include "harness/strbuf.h"
#include "tasks/data_http.h"
#include "tasks/data_sources.h"
#include "tasks/pyjson.h"
#include "tasks/registry.h"
#include "tests/tap.h"

static void check_table(void)
{
    for (size_t i = 0; task_registry[i]; i++) {
        const struct task *t = task_registry[i];
        tap_ok(data_source_find(t->name, t->eval_split) != NULL, "%s: a source row for its eval split %s", t->name,
               t->eval_split);
        tap_ok(data_source_find(t->name, t->fewshot_split) != NULL, "%s: a source row for its few-shot split %s",
               t->name, t->fewshot_split);
    }
    int fields_ok = 1, unique = 1, known = 1;
    for (const struct data_source *s = data_sources; s->task; s++) {
        if (task_find(s->task) == NULL) {
            known = 0;
            tap_diag("unknown task %s in the source table", s->task);
        }
        for (const struct data_source *o = data_sources; o < s; o++)
            if (strcmp(o->task, s->task) == 0 && strcmp(o->split, s->split) == 0)
                unique = 0;
        int ok = s->kind == DATA_SOURCE_ROWS   ? s->dataset && s->config && s->hf_split && !s->url
                 : s->kind == DATA_SOURCE_FILE ? s->url && s->sha256 && strlen(s->sha256) == 64 && !s->dataset
                                               : s->note != NULL;
        if (!ok) {
            fields_ok = 0;
            tap_diag("source %s/%s has the wrong fields for kind %s", s->task, s->split, data_source_kind_name(s->kind));
        }
    }
    tap_ok(known, "every source names a registered task");
    tap_ok(unique, "(task, split) pairs are unique");
    tap_ok(fields_ok, "every source has the fields of its kind");
    const struct data_source *sc = data_source_find("storycloze", "test");
    tap_ok(sc && sc->kind == DATA_SOURCE_NONE && strstr(sc->note, "rocstories"),
           "storycloze is not downloadable and names the request form");
    const struct data_source *pool = data_source_find("nq_open", "train_pool");
    tap_ok(pool && pool->kind == DATA_SOURCE_FILE, "nq_open's few-shot pool is a pinned release file");
}

struct style_case {
    const char *json; /* input */
    const char *want; /* Python json.dumps(value, ensure_ascii=False) with the README's three escapes */
};

static void check_cases(void)
{
    static const struct style_case cases[] = {
        {"{\"a\":1,\"b\":[1,2,{}],\"c\":{}}", "{\"a\": 1, \"b\": [1, 2, {}], \"c\": {}}"},
        {"{\"s\":\"q\\\"b\\\\n\\n\\r\\t\\b\\f\"}", "{\"s\": \"q\\\"b\\\\n\\n\\r\\t\\b\\f\"}"},
        {"{\"s\":\"\\u0001\\u001f\\u007f\"}", "{\"s\": \"\\u0001\\u001f\x7f\"}"},
        {"{\"s\":\"caf\\u00e9 \\u2028\\u2029\\u0085 \\ud83d\\ude00\"}",
         "{\"s\": \"caf\xc3\xa9 \\u2028\\u2029\\u0085 \xf0\x9f\x98\x80\"}"},
        {"{\"s\":\"/ \\/\"}", "{\"s\": \"/ /\"}"},
        {"[true,false,null,-0,-7,0.5,1e-05,1.5e-300,9007199254740991]",
         "[true, false, null, 0, -7, 0.5, 1e-05, 1.5e-300, 9007199254740991]"},
        {"{\"\":\"\",\"k\\n\":[]}", "{\"\": \"\", \"k\\n\": []}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *j = cJSON_Parse(cases[i].json);
        struct strbuf sb;
        strbuf_init(&sb, 0);
        struct ge_error err;
        ge_error_clear(&err);
        int rc = j ? pyjson_append(&sb, j, &err) : -1;
        tap_ok(rc == GE_OK, "style case %zu writes", i);
        tap_is_str(strbuf_str(&sb), cases[i].want, "style case %zu text", i);
        strbuf_release(&sb);
        cJSON_Delete(j);
    }
    cJSON *big = cJSON_Parse("[9007199254740993]");
    struct strbuf sb;
    strbuf_init(&sb, 0);
    struct ge_error err;
    ge_error_clear(&err);
    tap_ok(pyjson_append(&sb, big, &err) == GE_ERR_FORMAT && strstr(err.msg, "too large"),
           "an integer beyond 2^53 is an error, not a silently different number");
    strbuf_release(&sb);
    cJSON_Delete(big);
    cJSON *longer = cJSON_Parse("[\"abcdefghijkl\"]");
    strbuf_init(&sb, 8);
    tap_ok(pyjson_append(&sb, longer, &err) == GE_ERR_LIMIT && sb.len <= 8,
           "a value longer than the buffer's limit is GE_ERR_LIMIT, and the buffer stays within it");
    strbuf_release(&sb);
    cJSON_Delete(longer);
    strbuf_init(&sb, 0);
    tap_ok(http_append_query_value(&sb, "aps/super_glue wsc.fixed&x=1~", &err) == GE_OK &&
               strcmp(strbuf_str(&sb), "aps%2Fsuper_glue%20wsc.fixed%26x%3D1~") == 0,
           "query values are percent-encoded (got %s)", strbuf_str(&sb));
    strbuf_release(&sb);
}

/* Every line of path parsed and written again must equal itself. Returns lines checked, or -1 on an I/O error. */
static long roundtrip_file(const char *path, long *bad, char *first_bad, size_t cap)
{
    char *data = NULL;
    size_t len = 0;
    struct ge_error err;
    if (file_read_all(path, 0, &data, &len, &err))
        return -1;
    struct line_iter it;
    const char *line;
    size_t line_len;
    long n = 0;
    *bad = 0;
    struct strbuf sb;
    strbuf_init(&sb, 0);
    line_iter_init(&it, data, len);
    while (line_iter_next(&it, &line, &line_len)) {
        n++;
        cJSON *j = cJSON_ParseWithLength(line, line_len);
        strbuf_reset(&sb);
        int rc = j ? pyjson_append(&sb, j, &err) : -1;
        if (rc != GE_OK || sb.len != line_len || memcmp(sb.data, line, line_len) != 0) {
            if (*bad == 0)
                snprintf(first_bad, cap, "line %zu", it.line_no);
            (*bad)++;
        }
        cJSON_Delete(j);
    }
    strbuf_release(&sb);
    free(data);
    return n;
}

static void check_files(void)
{
    char path[4096], where[64];
    long bad = 0;
    snprintf(path, sizeof path, "%s/data_fetch_fixture.jsonl", tap_data_dir());
    long n = roundtrip_file(path, &bad, where, sizeof where);
    tap_ok(n > 20 && bad == 0, "fixture: %ld lines written back byte for byte (%ld differ%s%s)", n, bad,
           bad ? ", first " : "", bad ? where : "");
    const char *shared = tap_shared_dir();
    /* generated files of ../shared/data (the byte-identical release files gsm8k, lambada, nq_open are not in
       this style and are fetched as files) */
    static const char *const files[] = {
        "arc_challenge/test", "arc_challenge/validation", "arc_easy/test", "arc_easy/validation", "boolq/train",
        "boolq/validation", "cb/train", "cb/validation", "copa/train", "copa/validation", "coqa/validation",
        "drop/validation", "hellaswag/validation", "multirc/train", "multirc/validation", "openbookqa/test",
        "openbookqa/validation", "piqa/validation", "quac/quac", "record/train", "record/train_dev32", "rte/train",
        "rte/validation", "squad_v2/validation", "triviaqa/validation", "webqs/test", "webqs/train", "wic/train",
        "wic/validation", "winogrande/validation", "wsc/train", "wsc/validation", "wsc273/test",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/data/%s.jsonl", shared ? shared : "", files[i]);
        if (shared == NULL || !file_exists(path)) {
            tap_skip("../shared/data not present", "shared %s.jsonl round trip", files[i]);
            continue;
        }
        n = roundtrip_file(path, &bad, where, sizeof where);
        tap_ok(n > 0 && bad == 0, "shared %s.jsonl: %ld lines written back byte for byte (%ld differ%s%s)",
               files[i], n, bad, bad ? ", first " : "", bad ? where : "");
    }
}

int main(void)
{
    check_table();
    check_cases();
    check_files();
    return tap_done();
}
