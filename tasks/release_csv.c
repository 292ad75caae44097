/* release_csv.c — the StoryCloze 2016 release CSV files ("cloze_test_val__spring2016 - cloze_test_ALL_val.csv",
 * "cloze_test_test__spring2016 - cloze_test_ALL_test.csv", from the request form at
 * https://cs.rochester.edu/nlp/rocstories/) read into rows of LSDSem/story_cloze (config 2016).
 *
 * Format: RFC 4180 CSV in UTF-8 (an initial byte-order mark is skipped): fields separated by ",", a field in
 * double quotes may hold commas, line breaks and "" for a quote; records end with "\n" or "\r\n". The first
 * record is the header; columns are found by name, so their order does not matter:
 *   InputStoryid -> story_id, InputSentence1..4 -> input_sentence_1..4, RandomFifthSentenceQuiz1/2 ->
 *   sentence_quiz1/2, AnswerRightEnding ("1" or "2") -> answer_right_ending (the number).
 * Field values are kept byte for byte. A record with the wrong number of fields or a bad AnswerRightEnding is
 * malformed (reported with the line it starts on); a missing column or an unterminated quote is an error.
 * Limits: RELEASE_CSV_MAX_FIELDS fields per record. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/strbuf.h"
#include "harness/xalloc.h"
#include "tasks/release_formats.h"

#define RELEASE_CSV_MAX_FIELDS 64

/* One parsed record: fields point into owned copies. */
struct csv_record {
    char *field[RELEASE_CSV_MAX_FIELDS]; /* (n) owned */
    size_t n;
    size_t line;                         /* line the record starts on, 1-based */
    int too_many;                        /* more than RELEASE_CSV_MAX_FIELDS fields (the rest dropped) */
};

static void csv_record_release(struct csv_record *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->field[i]);
    r->n = 0;
}

/* Reads the record at *pos (< len) into r and advances *pos and *line past it. */
static int csv_next(const char *path, const char *s, size_t len, size_t *pos, size_t *line, struct csv_record *r,
                    struct ge_error *err)
{
    struct strbuf f;
    strbuf_init(&f, 0);
    memset(r, 0, sizeof *r);
    r->line = *line;
    size_t p = *pos;
    int rc = GE_OK;
    for (;;) {
        strbuf_reset(&f);
        if (p < len && s[p] == '"') {
            size_t open_line = *line;
            p++;
            for (;;) {
                if (p >= len) {
                    rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line %zu: quoted field is not closed", path,
                                      open_line);
                    goto out;
                }
                if (s[p] == '"') {
                    if (p + 1 < len && s[p + 1] == '"') {
                        strbuf_append_char(&f, '"', NULL);
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *line += s[p] == '\n';
                if ((rc = strbuf_append_char(&f, s[p++], err)) < 0)
                    goto out;
            }
        }
        /* Unquoted part (or text after a closing quote, kept as Python's csv module does). */
        while (p < len && s[p] != ',' && s[p] != '\n' && !(s[p] == '\r' && p + 1 < len && s[p + 1] == '\n'))
            if ((rc = strbuf_append_char(&f, s[p++], err)) < 0)
                goto out;
        if (r->n < RELEASE_CSV_MAX_FIELDS)
            r->field[r->n++] = strbuf_detach(&f, NULL);
        else
            r->too_many = 1;
        if (p < len && s[p] == ',') {
            p++;
            continue;
        }
        if (p < len && s[p] == '\r')
            p++;
        if (p < len && s[p] == '\n') {
            p++;
            (*line)++;
        }
        break;
    }
out:
    strbuf_release(&f);
    *pos = p;
    if (rc < 0)
        csv_record_release(r);
    return rc;
}

int release_read_storycloze_csv(const char *path, const char *data, size_t len, const struct release_sink *sink,
                                struct ge_error *err)
{
    static const char *const columns[] = {"InputStoryid", "InputSentence1", "InputSentence2", "InputSentence3",
                                          "InputSentence4", "RandomFifthSentenceQuiz1", "RandomFifthSentenceQuiz2",
                                          "AnswerRightEnding"};
    static const char *const keys[] = {"story_id", "input_sentence_1", "input_sentence_2", "input_sentence_3",
                                       "input_sentence_4", "sentence_quiz1", "sentence_quiz2"};
    enum { N_COLUMNS = 8 };
    size_t pos = 0, line = 1, col[N_COLUMNS], ordinal = 0;
    struct csv_record hdr, r;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    if (pos >= len)
        return ge_error_set(err, GE_ERR_FORMAT, "%s: empty file (expected a header line)", path);
    int rc = csv_next(path, data, len, &pos, &line, &hdr, err);
    if (rc < 0)
        return rc;
    for (size_t c = 0; c < N_COLUMNS && rc == GE_OK; c++) {
        size_t k = 0;
        while (k < hdr.n && strcmp(hdr.field[k], columns[c]) != 0)
            k++;
        if (k == hdr.n)
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line 1: the header has no column \"%s\" (is this the "
                              "StoryCloze cloze test CSV?)", path, columns[c]);
        col[c] = k;
    }
    size_t n_fields = hdr.n;
    csv_record_release(&hdr);
    while (rc == GE_OK && pos < len) {
        if ((rc = csv_next(path, data, len, &pos, &line, &r, err)) < 0)
            break;
        if (r.n == 1 && r.field[0][0] == '\0') { /* an empty line */
            csv_record_release(&r);
            continue;
        }
        char where[RELEASE_WHERE_CAP], msg[128];
        snprintf(where, sizeof where, "line %zu", r.line);
        ordinal++;
        const char *right = r.n == n_fields && !r.too_many ? r.field[col[7]] : NULL;
        if (right == NULL) {
            snprintf(msg, sizeof msg, "%zu%s fields, the header has %zu", r.n, r.too_many ? "+" : "", n_fields);
            rc = sink->malformed(sink->ctx, path, where, msg, err);
        } else if (strcmp(right, "1") != 0 && strcmp(right, "2") != 0) {
            rc = sink->malformed(sink->ctx, path, where, "field \"AnswerRightEnding\" is not 1 or 2", err);
        } else {
            cJSON *row = cJSON_CreateObject();
            for (size_t c = 0; c < 7; c++)
                cJSON_AddStringToObject(row, keys[c], r.field[col[c]]);
            cJSON_AddNumberToObject(row, "answer_right_ending", right[0] - '0');
            rc = sink->record(sink->ctx, row, ordinal, path, where, err);
            cJSON_Delete(row);
        }
        csv_record_release(&r);
    }
    return rc;
}
