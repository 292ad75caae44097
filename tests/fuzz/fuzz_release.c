/* fuzz_release.c — fuzz entry points for the hand-written readers of official release files (see fuzz.h):
 * WSCollection.xml (tasks/release_wsc_xml.c) and the StoryCloze CSV (tasks/release_csv.c). Every record handed
 * to the sink must be a JSON object with the fields the task reads, every malformed report must have a location
 * and a message, and a failure must name the input. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/release_formats.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_release.h"

#define FUZZ_XML_NAME "fuzz/WSCollection.xml"
#define FUZZ_CSV_NAME "fuzz/cloze_test.csv"

static const char *const xml_fields[] = {"text", "pronoun", "quote", "source", NULL};
static const char *const csv_fields[] = {"story_id", "input_sentence_1", "input_sentence_4", "sentence_quiz1",
                                         "sentence_quiz2", NULL};

static int check_record(void *ctx, const cJSON *record, size_t ordinal, const char *file, const char *where,
                        struct ge_error *err)
{
    const char *const *fields = ctx;
    for (size_t i = 0; fields[i] != NULL; i++)
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(record, fields[i]))) {
            fprintf(stderr, "fuzz: %s: record %zu (%s) has no string \"%s\"\n", file, ordinal, where, fields[i]);
            abort();
        }
    return GE_OK;
}

static int check_malformed(void *ctx, const char *file, const char *where, const char *msg, struct ge_error *err)
{
    if (file == NULL || where == NULL || where[0] == '\0' || msg == NULL || msg[0] == '\0') {
        fprintf(stderr, "fuzz: a malformed record without location or message\n");
        abort();
    }
    return GE_OK;
}

static int check_rc(int rc, const struct ge_error *err, const char *name)
{
    if (rc != GE_OK && (rc > 0 || strstr(err->msg, name) == NULL)) {
        fprintf(stderr, "fuzz: failure %d without a message naming the file: \"%s\"\n", rc, err->msg);
        abort();
    }
    return rc;
}

int fuzz_wsc_xml_input(const uint8_t *data, size_t size)
{
    struct ge_error err;
    ge_error_clear(&err);
    struct release_sink sink = {.record = check_record, .malformed = check_malformed, .ctx = (void *)xml_fields};
    int rc = release_read_wsc_xml(FUZZ_XML_NAME, (const char *)data, size, 0, &sink, &err);
    return check_rc(rc, &err, FUZZ_XML_NAME);
}

int fuzz_storycloze_csv_input(const uint8_t *data, size_t size)
{
    struct ge_error err;
    ge_error_clear(&err);
    struct release_sink sink = {.record = check_record, .malformed = check_malformed, .ctx = (void *)csv_fields};
    int rc = release_read_storycloze_csv(FUZZ_CSV_NAME, (const char *)data, size, &sink, &err);
    return check_rc(rc, &err, FUZZ_CSV_NAME);
}

#ifndef GE_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == ',')
        fuzz_storycloze_csv_input(data + 1, size - 1);
    else
        fuzz_wsc_xml_input(data, size);
    return 0;
}
#endif
