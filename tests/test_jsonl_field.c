/* test_jsonl_field.c — cn_jsonl_field (the contamination scan's in-place JSONL field finder) against cJSON.
 *
 * The scan reads a JSONL document's text through cn_jsonl_field, which walks the line without building a tree; a
 * mistake there would scan the wrong text or skip a document without saying so. Checked here:
 *   1. hand-written lines: escaped keys, the field inside nested objects (not top level), repeated keys, escaped
 *      quotes and backslashes before the closing quote, a byte order mark, whitespace, non-string values;
 *   2. a differential test: random valid JSON objects (nested values, keys and strings with every kind of
 *      escape, the field at any place or absent) — the answer must equal cJSON's, and the value's undecoded bytes
 *      must decode to cJSON's string;
 *   3. random damage (bytes dropped, replaced, the line cut short): never a read outside the line, and a line
 *      cJSON parses gets cJSON's answer. */
#include "config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contamination/jsonl_field.h"
#include "harness/rng.h"
#include "harness/strbuf.h"
#include "tests/tap.h"

#define LINE_LIMIT ((size_t)1 << 20) /* a random line is a few KiB at most (objects nest 4 deep) */

/* The answer cJSON gives for field of line: 0 a string (*value: its decoded bytes, malloc'd), 1 absent, 2 not a
 * string, -1 not a JSON object. */
static int reference(const char *line, size_t n, const char *field, char **value)
{
    *value = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(line, n, &end, 0);
    while (root && end < line + n && strchr(" \t\r\n", *end) && *end) /* JSON whitespace after the object */
        end++;
    if (!root || !cJSON_IsObject(root) || end != line + n) {
        cJSON_Delete(root);
        return -1;
    }
    int rc = 1;
    for (const cJSON *c = root->child; c; c = c->next) /* the first of repeated keys */
        if (strcmp(c->string, field) == 0) {
            rc = cJSON_IsString(c) ? 0 : 2;
            if (rc == 0)
                *value = strdup(c->valuestring);
            break;
        }
    cJSON_Delete(root);
    return rc;
}

/* Decodes the inside of a JSON string (escapes as they stand) with cJSON; NULL when it is not valid. */
static char *decode_inside(const char *s, size_t a, size_t b)
{
    struct strbuf q;
    strbuf_init(&q, LINE_LIMIT);
    strbuf_append_char(&q, '"', NULL);
    strbuf_append(&q, s + a, b - a, NULL);
    strbuf_append_char(&q, '"', NULL);
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(q.data, q.len, &end, 0);
    if (end != q.data + q.len) {
        cJSON_Delete(v);
        v = NULL;
    }
    char *out = cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
    cJSON_Delete(v);
    strbuf_release(&q);
    return out;
}

/* Runs cn_jsonl_field on line and compares with cJSON; returns 1 when they agree (a line cJSON cannot parse only
 * needs an answer in range and, when malformed, a stop offset inside the line). */
static int agrees(const char *line, size_t n, const char *field, char *why, size_t why_len)
{
    char *want = NULL;
    int ref = reference(line, n, field, &want);
    size_t vs = 0, ve = 0;
    int got = cn_jsonl_field((const uint8_t *)line, n, field, &vs, &ve);
    int ok = 1;
    if (ref == -1) {
        ok = got >= -1 && got <= 2 && (got != -1 || ve <= n) && (got != 0 || (vs <= ve && ve < n));
        if (!ok)
            snprintf(why, why_len, "not JSON: answer %d, vs %zu ve %zu of %zu bytes", got, vs, ve, n);
    } else if (got != ref) {
        ok = 0;
        snprintf(why, why_len, "answer %d, cJSON %d", got, ref);
    } else if (got == 0) {
        char *dec = vs <= ve && ve < n ? decode_inside(line, vs, ve) : NULL;
        ok = dec && strcmp(dec, want) == 0;
        if (!ok)
            snprintf(why, why_len, "value bytes %zu..%zu decode to \"%s\", cJSON \"%s\"", vs, ve,
                     dec ? dec : "(invalid)", want);
        free(dec);
    }
    free(want);
    return ok;
}

static void test_cases(void)
{
    static const struct {
        const char *line, *field;
        int want;           /* 0 found, 1 absent, 2 not a string, -1 malformed */
        const char *value;  /* the raw bytes inside the quotes, when found */
    } cases[] = {
        {"{\"text\": \"hello\"}", "text", 0, "hello"},
        {"{\"te\\u0078t\": \"escaped key\"}", "text", 0, "escaped key"},
        {"{\"t\\u0065xt\": \"a\", \"text\": \"b\"}", "text", 0, "a"},
        {"{\"meta\": {\"text\": \"nested\"}, \"text\": \"top\"}", "text", 0, "top"},
        {"{\"meta\": [{\"text\": \"in an array\"}]}", "text", 1, NULL},
        {"{\"text\": \"first\", \"text\": \"second\"}", "text", 0, "first"},
        {"{\"text\": \"ends in \\\\\"}", "text", 0, "ends in \\\\"},
        {"{\"text\": \"quote \\\" and \\\\\\\" inside\"}", "text", 0, "quote \\\" and \\\\\\\" inside"},
        {"\xEF\xBB\xBF{\"text\":\"after a byte order mark\"}", "text", 0, "after a byte order mark"},
        {" \t{ \"text\" :\r\n\"spaced\" } \r", "text", 0, "spaced"},
        {"{\"text\": 5}", "text", 2, NULL},
        {"{\"text\": null, \"text\": \"later\"}", "text", 2, NULL},
        {"{\"other\": \"x\"}", "text", 1, NULL},
        {"{}", "text", 1, NULL},
        {"{\"key \\\"text\\\"\": \"not it\"}", "text", 1, NULL},
        {"{\"text\": \"unterminated}", "text", -1, NULL},
        {"[\"text\", \"an array\"]", "text", -1, NULL},
        {"{\"text\": \"x\"} trailing", "text", -1, NULL},
        {"{\"text\" \"no colon\"}", "text", -1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *line = cases[i].line;
        size_t vs = 0, ve = 0;
        int got = cn_jsonl_field((const uint8_t *)line, strlen(line), cases[i].field, &vs, &ve);
        int ok = got == cases[i].want;
        if (ok && got == 0)
            ok = ve - vs == strlen(cases[i].value) && memcmp(line + vs, cases[i].value, ve - vs) == 0;
        if (ok && got == -1)
            ok = ve <= strlen(line);
        tap_ok(ok, "case %zu: %s -> %d%s%.*s", i, line, got, got == 0 ? " " : "", got == 0 ? (int)(ve - vs) : 0,
               got == 0 ? line + vs : "");
    }
}

/* Appends a random JSON string (with its quotes): ASCII, multi-byte UTF-8, every escape, \u forms and surrogate
 * pairs; sometimes exactly `prefer` (a key that is the field). */
static void random_string(struct rng *r, struct strbuf *b, const char *prefer)
{
    strbuf_append_char(b, '"', NULL);
    if (prefer && rng_below(r, 3) == 0) {
        if (rng_below(r, 2)) { /* the field's name with one letter as \u00XX */
            size_t k = (size_t)rng_below(r, strlen(prefer));
            strbuf_append(b, prefer, k, NULL);
            strbuf_appendf(b, NULL, "\\u%04x", (unsigned char)prefer[k]);
            strbuf_append(b, prefer + k + 1, strlen(prefer) - k - 1, NULL);
        } else {
            strbuf_append(b, prefer, strlen(prefer), NULL);
        }
        strbuf_append_char(b, '"', NULL);
        return;
    }
    static const char *const pieces[] = {"a", "text", "b c", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\r", "\\b",
                                         "\\f", "\\u0041", "\\u00e9", "\\u20ac", "\\ud83d\\ude00", "\xc3\xa9",
                                         "\xe2\x82\xac", "\xf0\x9f\x98\x80", "{", "}", "[", "]", ",", ":", " ",
                                         "\\\\\\\"", "x\\\\"};
    unsigned n = (unsigned)rng_below(r, 8);
    for (unsigned k = 0; k < n; k++) {
        const char *p = pieces[rng_below(r, sizeof pieces / sizeof pieces[0])];
        strbuf_append(b, p, strlen(p), NULL);
    }
    strbuf_append_char(b, '"', NULL);
}

static void random_ws(struct rng *r, struct strbuf *b)
{
    static const char ws[] = " \t\r\n";
    unsigned n = rng_below(r, 4) == 0 ? (unsigned)rng_below(r, 3) : 0;
    for (unsigned k = 0; k < n; k++)
        strbuf_append_char(b, ws[rng_below(r, 4)], NULL);
}

static void random_value(struct rng *r, struct strbuf *b, const char *field, int depth);

static void random_object(struct rng *r, struct strbuf *b, const char *field, int depth)
{
    strbuf_append_char(b, '{', NULL);
    unsigned n = (unsigned)rng_below(r, 5);
    for (unsigned k = 0; k < n; k++) {
        if (k)
            strbuf_append_char(b, ',', NULL);
        random_ws(r, b);
        random_string(r, b, field);
        random_ws(r, b);
        strbuf_append_char(b, ':', NULL);
        random_ws(r, b);
        random_value(r, b, field, depth + 1);
        random_ws(r, b);
    }
    strbuf_append_char(b, '}', NULL);
}

static void random_value(struct rng *r, struct strbuf *b, const char *field, int depth)
{
    static const char *const scalars[] = {"0", "-1.5e3", "12", "true", "false", "null", "3.25E-2"};
    unsigned kind = (unsigned)rng_below(r, depth > 3 ? 2 : 4);
    if (kind == 0) {
        random_string(r, b, NULL);
    } else if (kind == 1) {
        const char *s = scalars[rng_below(r, sizeof scalars / sizeof scalars[0])];
        strbuf_append(b, s, strlen(s), NULL);
    } else if (kind == 2) {
        random_object(r, b, field, depth);
    } else {
        strbuf_append_char(b, '[', NULL);
        unsigned n = (unsigned)rng_below(r, 4);
        for (unsigned k = 0; k < n; k++) {
            if (k)
                strbuf_append_char(b, ',', NULL);
            random_ws(r, b);
            random_value(r, b, field, depth + 1);
        }
        strbuf_append_char(b, ']', NULL);
    }
}

static void test_random(void)
{
    struct rng r;
    rng_seed(&r, 20261123);
    const char *field = "text";
    int rounds = 20000, bad = 0, found = 0, damaged_parsed = 0;
    char why[512] = "";
    struct strbuf line, first_bad;
    strbuf_init(&line, LINE_LIMIT);
    strbuf_init(&first_bad, LINE_LIMIT);
    for (int i = 0; i < rounds; i++) {
        strbuf_reset(&line);
        random_ws(&r, &line);
        random_object(&r, &line, field, 0);
        random_ws(&r, &line);
        char *v = NULL;
        found += reference(line.data, line.len, field, &v) == 0;
        free(v);
        if (!agrees(line.data, line.len, field, why, sizeof why) && bad++ == 0)
            strbuf_appendf(&first_bad, NULL, "%.*s: %s", (int)line.len, line.data, why);
        /* the same line damaged: a byte dropped or replaced, or cut short (read through a copy of exactly its
           length, so that a read past the end would show under the address sanitizer) */
        size_t at = line.len ? (size_t)rng_below(&r, line.len) : 0;
        unsigned how = (unsigned)rng_below(&r, 3);
        size_t n = line.len;
        char *copy = malloc(line.len + 1);
        memcpy(copy, line.data, line.len);
        if (how == 0 && n) {
            memmove(copy + at, copy + at + 1, n - at - 1);
            n--;
        } else if (how == 1 && n) {
            copy[at] = "\"\\{}[],: a\x80"[rng_below(&r, 11)]; /* not a NUL: cJSON takes bytes <= 32 as spaces */
        } else {
            n = at;
        }
        char *exact = malloc(n ? n : 1);
        memcpy(exact, copy, n);
        char *w = NULL;
        damaged_parsed += reference(exact, n, field, &w) != -1;
        free(w);
        if (!agrees(exact, n, field, why, sizeof why) && bad++ == 0)
            strbuf_appendf(&first_bad, NULL, "damaged (%zu bytes) %.*s: %s", n, (int)n, exact, why);
        free(exact);
        free(copy);
    }
    tap_diag("%d random objects, %d with the field as a string, %d of their damaged copies still JSON", rounds, found,
             damaged_parsed);
    tap_ok(bad == 0 && found > rounds / 10, "cn_jsonl_field equals cJSON on %d random objects and their damaged "
           "copies (%d disagree%s%s)", rounds, bad, bad ? ": first " : "", bad ? first_bad.data : "");
    strbuf_release(&line);
    strbuf_release(&first_bad);
}

int main(void)
{
    test_cases();
    test_random();
    return tap_done();
}
