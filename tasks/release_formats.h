/* release_formats.h — readers for the files a benchmark's authors publish (SQuAD's dev-v2.0.json, PIQA's
 * valid.jsonl + valid-labels.lst, WSCollection.xml, the SuperGLUE and ANLI jsonl files, RACE's per-article
 * folders, StoryCloze's CSV) and for our own DIR/<task>/<split>.jsonl, all turned into the same thing: records in
 * the Hugging Face schema the task's load / load_multi reads (../shared/data/README.md). A task therefore renders
 * identical documents whichever file the user has; docs/data-formats.md documents every format with its source.
 *
 * Invariants: a reader hands records to the sink in file order, numbering them 1, 2, ... as the lines of the
 * equivalent Hugging Face JSONL file (the ordinal is what the task's load gets as line_no, so ids derived from
 * it agree between formats). A source record that cannot be converted is reported to the sink's malformed
 * callback with its file and location and not counted as a record; the sink decides whether that stops the read
 * (--strict). Whole-file problems (unreadable, not the expected format at all, a labels file with a different
 * number of lines) are errors. Converted cJSON trees live only for the sink call. */
#ifndef GE_TASK_RELEASE_FORMATS_H
#define GE_TASK_RELEASE_FORMATS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "harness/error.h"

#define RELEASE_MAX_PATHS 4      /* candidate locations of one source */
#define RELEASE_MAX_FILES 200000 /* files of one RACE folder (RACE has 25,137 articles in all) */
#define RELEASE_WHERE_CAP 96     /* bytes of a location text ("line 12", "data[3].paragraphs[0].qas[4]") */

enum release_format {
    RELEASE_HF_JSONL,        /* DIR/<task>/<split>.jsonl as the task's load reads it; one record per line */
    RELEASE_SQUAD_JSON,      /* SQuAD 2.0 dev-v2.0.json: {data: [{title, paragraphs: [{context, qas: [...]}]}]} */
    RELEASE_PIQA_LST,        /* PIQA valid.jsonl (goal, sol1, sol2) + companion labels file, one 0/1 per line */
    RELEASE_WSC_XML,         /* WSCollection.xml (Davis's Winograd schemas); first_n schemas */
    RELEASE_RACE_DIR,        /* a RACE folder (e.g. RACE/test/middle) of per-article JSON files */
    RELEASE_STORYCLOZE_CSV,  /* ROCStories cloze test CSV (InputStoryid, InputSentence1..4, RandomFifth...) */
    RELEASE_ANLI_JSONL,      /* ANLI R1/R2/R3 {train,dev,test}.jsonl: uid, context, hypothesis, label e/n/c */
    RELEASE_SG_BOOLQ,        /* SuperGLUE release jsonl files, one enum per task (labels and nesting differ) */
    RELEASE_SG_CB,
    RELEASE_SG_COPA,
    RELEASE_SG_MULTIRC,
    RELEASE_SG_RECORD,
    RELEASE_SG_RTE,
    RELEASE_SG_WIC,
    RELEASE_SG_WSC,
};

/* One file layout a task accepts for one split besides DIR/<task>/<split>.jsonl; tasks list theirs in
 * struct task.sources (a table ended by an entry with split == NULL).
 * Invariant: paths[0] != NULL; paths are relative to the data directory and are tried in order. */
struct task_source {
    const char *split;                      /* the split it provides, e.g. "validation" */
    enum release_format format;
    const char *paths[RELEASE_MAX_PATHS];   /* candidate files (a folder for RELEASE_RACE_DIR), NULL-ended */
    const char *companion;                  /* RELEASE_PIQA_LST: the labels file's name, in the same folder */
    size_t first_n;                         /* RELEASE_WSC_XML: keep only the first first_n schemas; 0 = all */
    const char *origin;                     /* where users get the files (for the missing-data message) */
};

/* Receives the converted records. Both callbacks return GE_OK to go on or an error code (with err set) to stop
 * the read, which then returns that code. */
struct release_sink {
    /* record: borrowed for the call, in the Hugging Face schema; ordinal: 1-based number as above; file: the
     * file it came from; where: its location there ("line 7", "data[0].paragraphs[2].qas[1]"). */
    int (*record)(void *ctx, const cJSON *record, size_t ordinal, const char *file, const char *where,
                  struct ge_error *err);
    /* A source record that could not be converted: msg names the field. */
    int (*malformed)(void *ctx, const char *file, const char *where, const char *msg, struct ge_error *err);
    void *ctx;
};

/* Reads the source at path (a file, or a folder for RELEASE_RACE_DIR; companion_path is the labels file of
 * RELEASE_PIQA_LST, else NULL) and feeds every record to sink. sha256_hex receives the SHA-256 of the bytes read:
 * for one file exactly the file's hash (sha256sum agrees), for several the hash of their contents in reading
 * order. Returns GE_OK, the sink's code, or an error naming the file (and line) of a whole-file problem. */
int release_read(const struct task_source *src, const char *path, const char *companion_path,
                 const struct release_sink *sink, char sha256_hex[65], struct ge_error *err);

/* A short name of the format for messages ("SQuAD 2.0 official JSON"), never NULL. */
const char *release_format_name(enum release_format format);

/* Per-format readers, in their own files (release_formats.c dispatches to them). Same contract as release_read;
 * data/len is the whole file already read, hashed by the caller. */
int release_read_wsc_xml(const char *path, const char *data, size_t len, size_t first_n,
                         const struct release_sink *sink, struct ge_error *err);
int release_read_storycloze_csv(const char *path, const char *data, size_t len, const struct release_sink *sink,
                                struct ge_error *err);
/* Converts one SuperGLUE release record (format RELEASE_SG_*) into its Hugging Face rows, handing each to sink
 * with ordinals *ordinal + 1, ... (advanced). A record that cannot be converted is reported as malformed. */
int release_superglue_record(enum release_format format, const cJSON *in, const char *path, const char *where,
                             size_t *ordinal, const struct release_sink *sink, struct ge_error *err);

#endif
