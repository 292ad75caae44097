/* data_fetch.h — downloading a task's split files into the data directory, resumably, with recorded checksums;
 * and reporting what is present.
 *
 * Layout (docs/data.md): DIR/<task>/<split>.jsonl, one JSON object per line in the Hub schema of the dataset the
 * task reads (tasks/data_sources.h). While a file is being fetched it is DIR/<task>/<split>.jsonl.part (complete
 * lines only matter: a torn last line is cut on resume), and for the rows API DIR/<task>/<split>.jsonl.part.json
 * records which dataset/config/split and how many rows the part belongs to. The finished file is renamed into
 * place in one step, so DIR/<task>/<split>.jsonl is never a partial file. DIR/<task>/SOURCE.json records, per
 * file, its SHA-256, rows, bytes, where it came from and when:
 *   {"task": "arc_easy", "files": {"test.jsonl": {"sha256": "...", "rows": 2376, "bytes": 641839,
 *    "kind": "rows", "dataset": "allenai/ai2_arc", "config": "ARC-Easy", "split": "test",
 *    "url": "https://datasets-server.huggingface.co/rows?dataset=...", "revision": null,
 *    "fetched_at": "2026-11-22T23:50:00Z"}}}
 * ("revision" is null because the rows API does not report the dataset's revision; release files are pinned by
 * the commit in their URL.)
 *
 * Rules: an existing complete file is never overwritten unless force; when SOURCE.json has a record for it, its
 * SHA-256 is checked against the record (a difference is an error: the file changed since it was fetched); a file
 * without a record (copied by hand, e.g. from ../shared/data) is left alone and reported. The rows API's answers
 * are checked: every row_idx in order, no truncated cell, no page beyond or short of num_rows_total, a total that
 * does not change between pages, and "partial": false; a finished file has exactly num_rows_total lines. */
#ifndef GE_TASK_DATA_FETCH_H
#define GE_TASK_DATA_FETCH_H

#include <stdint.h>
#include <stdio.h>

#include "harness/error.h"
#include "tasks/data_http.h"
#include "tasks/data_sources.h"

#define DATA_DEFAULT_BASE_URL "https://datasets-server.huggingface.co"
#define DATA_MAX_PAGE_ROWS 100u             /* the rows API's limit on length */
#define DATA_MAX_PAGE_BYTES ((size_t)256 << 20) /* one rows API response */

struct data_fetch_options {
    const char *dir;      /* the data directory; borrowed */
    const char *base_url; /* the rows API base (no trailing "/rows"); borrowed */
    const char *mirror;   /* NULL, or a base URL under which release files are fetched as
                             MIRROR/<host>/<path> instead of from their hosts; borrowed */
    int force;            /* replace complete files and discard partial ones */
    unsigned page_rows;   /* rows per request, 1..DATA_MAX_PAGE_ROWS */
    FILE *log;            /* progress and notices; borrowed, may be NULL */
};

enum data_fetch_outcome {
    DATA_FETCH_DONE,       /* downloaded (or finished a resumed download) and recorded */
    DATA_FETCH_UP_TO_DATE, /* present and equal to its record */
    DATA_FETCH_KEPT,       /* present without a record: left alone */
};

struct data_fetch_result {
    enum data_fetch_outcome outcome;
    char path[4096];         /* DIR/<task>/<split>.jsonl */
    char sha256[65];         /* of the file ("" for KEPT) */
    uint64_t rows;           /* lines of the file (0 for KEPT) */
    uint64_t resumed_from;   /* rows (rows API) or bytes (file) already present in the .part when it began */
};

/* Fetches one source (kind rows or file) into opt->dir. A source of kind none fails with GE_ERR_NOTFOUND and its
 * note. On failure a .part (and its state) is kept for the next attempt unless its content is known bad. */
int data_fetch(struct http_client *hc, const struct data_source *src, const struct data_fetch_options *opt,
               struct data_fetch_result *res, struct ge_error *err);

enum data_file_state {
    DATA_FILE_MISSING,    /* no file (maybe a .part) */
    DATA_FILE_VERIFIED,   /* present, SHA-256 equals its SOURCE.json record */
    DATA_FILE_UNRECORDED, /* present, no record */
    DATA_FILE_CHANGED,    /* present, SHA-256 differs from its record */
};

struct data_file_status {
    enum data_file_state state;
    char path[4096];           /* DIR/<task>/<split>.jsonl */
    uint64_t rows;             /* lines, when present */
    uint64_t bytes;            /* size, when present */
    char sha256[65];           /* of the file when present, else "" */
    char recorded_sha256[65];  /* from SOURCE.json, or "" */
    char fetched_at[32];       /* from SOURCE.json, or "" */
    int has_part;              /* a .part exists */
    uint64_t part_rows;        /* complete lines in the .part */
};

/* Looks at DIR/<task>/<split>.jsonl (reading it whole to hash it). Fails only on I/O errors or a malformed
 * SOURCE.json (naming it). */
int data_file_status(const char *dir, const char *task, const char *split, struct data_file_status *st,
                     struct ge_error *err);

#endif
