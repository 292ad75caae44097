/* data_sources.h — where `glam-eval data fetch` gets each task's files: one row per file DIR/<task>/<split>.jsonl.
 *
 * A file comes from one of:
 *   rows    the Hugging Face dataset viewer's /rows API (dataset id, config, split), which returns the rows in the
 *           Hub schema that lm-evaluation-harness loads; written one JSON object per line (tasks/data_fetch.h);
 *   file    an original release file that already is the JSONL we read (byte-identical to ../shared/data), fetched
 *           from a pinned URL and checked against its known SHA-256;
 *   none    not downloadable; note says why and how to get it.
 *
 * Invariants of the table: every task of the registry has a row for its eval_split and one for its
 * fewshot_split (tests/test_data_fetch checks it); (task, split) pairs are unique; rows sources have dataset,
 * config and hf_split; file sources have url and sha256; none sources have a note. */
#ifndef GE_TASK_DATA_SOURCES_H
#define GE_TASK_DATA_SOURCES_H

#include <stddef.h>

enum data_source_kind {
    DATA_SOURCE_ROWS,
    DATA_SOURCE_FILE,
    DATA_SOURCE_NONE,
};

struct data_source {
    const char *task;     /* registry name, e.g. "arc_easy" */
    const char *split;    /* our file stem: DIR/<task>/<split>.jsonl */
    enum data_source_kind kind;
    const char *dataset;  /* rows: Hub dataset id, e.g. "allenai/ai2_arc" */
    const char *config;   /* rows: config name, e.g. "ARC-Easy" */
    const char *hf_split; /* rows: the Hub split, e.g. "validation" (differs from split for nq_open's pool) */
    const char *url;      /* file: the release URL (pinned commit where the host has commits) */
    const char *sha256;   /* file: expected SHA-256 of the file, lowercase hex */
    const char *note;     /* NULL, or what the user should know (none: why and how to get it) */
};

/* The table, terminated by an entry with task == NULL. */
extern const struct data_source data_sources[];

/* Fills out (cap entries) with the sources of task, in table order; returns how many there are (which may
 * exceed cap; only cap are written). 0 means the task has no entry at all. */
size_t data_sources_for(const char *task, const struct data_source **out, size_t cap);

/* The source of DIR/<task>/<split>.jsonl, or NULL. */
const struct data_source *data_source_find(const char *task, const char *split);

/* "rows", "file" or "none". */
const char *data_source_kind_name(enum data_source_kind kind);

#endif
