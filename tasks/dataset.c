/* dataset.c — finding a task's split (our JSONL or an official release file) and rendering its records into
 * documents (see dataset.h). The readers (tasks/release_formats.c) hand over records in the Hugging Face schema;
 * this file is their sink: it renders each through the task's load / load_multi, counts and reports malformed
 * records, and enforces DATASET_MAX_DOCS. */
#include "config.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/fileio.h"
#include "harness/strbuf.h"
#include "harness/xalloc.h"
#include "tasks/dataset.h"

#define DATASET_MAX_WARNINGS 5

const char *dataset_dir(const char *opt_dir)
{
    if (opt_dir && *opt_dir)
        return opt_dir;
    const char *env = getenv("GLAM_EVAL_DATA");
    return env && *env ? env : "./data";
}

static int dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void dataset_dir_describe(const char *opt_dir, char *buf, size_t cap)
{
    const char *env = getenv("GLAM_EVAL_DATA"), *dir = dataset_dir(opt_dir);
    const char *origin = opt_dir && *opt_dir ? "from --data-dir"
                         : env && *env    ? "from $GLAM_EVAL_DATA"
                                          : "the default: neither --data-dir nor $GLAM_EVAL_DATA is set";
    snprintf(buf, cap, "%s (%s%s)", dir, origin, dir_exists(dir) ? "" : "; no such directory");
}

/* The folder part of path (up to and including the last '/'), for a companion file beside it. */
static void beside(const char *path, const char *name, char out[DATASET_PATH_CAP])
{
    const char *slash = strrchr(path, '/');
    int n = slash ? (int)(slash - path + 1) : 0;
    snprintf(out, DATASET_PATH_CAP, "%.*s%s", n, path, name);
}

/* The missing-data message: every accepted path, what it is, and where to get it. */
static int missing(const struct task *task, const char *dir, const char *split, struct ge_error *err)
{
    struct strbuf sb;
    strbuf_init(&sb, GE_ERROR_MSG_CAP * 4);
    char jsonl[DATASET_PATH_CAP];
    struct stat st;
    snprintf(jsonl, sizeof jsonl, "%s/%s/%s.jsonl", dir, task->name, split);
    int other = stat(jsonl, &st) == 0 && !S_ISREG(st.st_mode); /* there, but a directory or the like */
    strbuf_appendf(&sb, NULL, "%s: %s (the %s split of %s as %s, schema in docs/data-formats.md)", jsonl,
                   other ? "not a regular file" : "not found", split, task->name,
                   release_format_name(RELEASE_HF_JSONL));
    for (const struct task_source *s = task->sources; s != NULL && s->split != NULL; s++) {
        if (strcmp(s->split, split) != 0)
            continue;
        strbuf_append_str(&sb, "; nor ", NULL);
        for (size_t i = 0; i < RELEASE_MAX_PATHS && s->paths[i] != NULL; i++)
            strbuf_appendf(&sb, NULL, "%s%s/%s%s", i ? " or " : "", dir, s->paths[i],
                           s->format == RELEASE_RACE_DIR ? "/*.txt" : "");
        if (s->companion)
            strbuf_appendf(&sb, NULL, " with %s beside it", s->companion);
        strbuf_appendf(&sb, NULL, " (%s%s%s)", release_format_name(s->format), s->origin ? ": " : "",
                       s->origin ? s->origin : "");
    }
    if (task->data_note)
        strbuf_appendf(&sb, NULL, ". %s", task->data_note);
    else
        strbuf_appendf(&sb, NULL, ". Get it with `glam-eval data fetch %s`", task->name);
    strbuf_append_str(&sb, ", or point --data-dir or GLAM_EVAL_DATA at a folder that has it", NULL);
    int rc = ge_error_set(err, GE_ERR_NOTFOUND, "%s", strbuf_str(&sb));
    strbuf_release(&sb);
    return rc;
}

int dataset_locate(const struct task *task, const char *dir, const char *split, struct dataset_location *loc,
                   struct ge_error *err)
{
    memset(loc, 0, sizeof *loc);
    loc->source.split = split;
    loc->source.format = RELEASE_HF_JSONL;
    snprintf(loc->path, sizeof loc->path, "%s/%s/%s.jsonl", dir, task->name, split);
    int have_jsonl = file_exists(loc->path);
    /* A release file may have our JSONL's name (PIQA's train.jsonl): it is the release file exactly when its
     * companion (train-labels.lst) is beside it. */
    for (const struct task_source *s = task->sources; have_jsonl && s != NULL && s->split != NULL; s++) {
        char path[DATASET_PATH_CAP];
        snprintf(path, sizeof path, "%s/%s", dir, s->paths[0]);
        if (strcmp(s->split, split) != 0 || s->companion == NULL || strcmp(path, loc->path) != 0)
            continue;
        beside(loc->path, s->companion, loc->companion);
        if (file_exists(loc->companion)) {
            loc->source = *s;
            return GE_OK;
        }
        loc->companion[0] = '\0';
    }
    if (have_jsonl)
        return GE_OK;
    for (const struct task_source *s = task->sources; s != NULL && s->split != NULL; s++) {
        if (strcmp(s->split, split) != 0)
            continue;
        for (size_t i = 0; i < RELEASE_MAX_PATHS && s->paths[i] != NULL; i++) {
            snprintf(loc->path, sizeof loc->path, "%s/%s", dir, s->paths[i]);
            if (s->format == RELEASE_RACE_DIR ? !dir_exists(loc->path) : !file_exists(loc->path))
                continue;
            loc->source = *s;
            if (s->companion) {
                beside(loc->path, s->companion, loc->companion);
                if (!file_exists(loc->companion))
                    return ge_error_set(err, GE_ERR_NOTFOUND, "%s: found, but its labels %s are missing (%s: %s)",
                                        loc->path, loc->companion, release_format_name(s->format),
                                        s->origin ? s->origin : "see docs/data-formats.md");
            }
            return GE_OK;
        }
    }
    loc->path[0] = '\0';
    return missing(task, dir, split, err);
}

/* The sink's state while one split loads. */
struct load_state {
    const struct task *task;
    struct dataset *ds;
    size_t cap;    /* allocated docs */
    int strict;
    FILE *warn;    /* may be NULL */
};

static int on_malformed(void *ctx, const char *file, const char *where, const char *msg, struct ge_error *err)
{
    struct load_state *st = ctx;
    const char *sep = where[0] ? ": " : "";
    if (st->strict)
        return ge_error_set(err, GE_ERR_FORMAT, "%s: %s%s%s (--strict: malformed records are errors)", file, where,
                            sep, msg);
    if (st->warn && st->ds->n_skipped < DATASET_MAX_WARNINGS)
        fprintf(st->warn, "glam-eval: warning: %s: %s%s%s (skipped)\n", file, where, sep, msg);
    st->ds->n_skipped++;
    return GE_OK;
}

static int on_record(void *ctx, const cJSON *rec, size_t ordinal, const char *file, const char *where,
                     struct ge_error *err)
{
    struct load_state *st = ctx;
    struct dataset *ds = st->ds;
    struct task_doc one, *docs = &one;
    size_t n = 1;
    struct ge_error rec_err;
    ge_error_clear(&rec_err);
    memset(&one, 0, sizeof one);
    int rc = st->task->load_multi ? st->task->load_multi(rec, ordinal, &docs, &n, &rec_err)
                                  : st->task->load(rec, ordinal, &one, &rec_err);
    if (rc < 0) {
        if (!st->task->load_multi)
            task_doc_release(&one);
        return on_malformed(ctx, file, where, rec_err.msg, err);
    }
    if (ds->n_docs + n > DATASET_MAX_DOCS) {
        rc = ge_error_set(err, GE_ERR_LIMIT, "%s: more than %zu documents", file, DATASET_MAX_DOCS);
        for (size_t k = 0; k < n; k++)
            task_doc_release(&docs[k]);
    } else {
        while (ds->n_docs + n > st->cap) {
            st->cap = st->cap ? st->cap * 2 : 256;
            ds->docs = xrealloc(ds->docs, st->cap * sizeof *ds->docs);
        }
        memcpy(ds->docs + ds->n_docs, docs, n * sizeof *docs);
        ds->n_docs += n;
        ds->n_records++;
    }
    if (docs != &one)
        free(docs);
    return rc;
}

int dataset_load(const struct task *task, const char *dir, const char *split, int strict, FILE *warn,
                 struct dataset *ds, struct ge_error *err)
{
    struct dataset_location loc;
    memset(ds, 0, sizeof *ds);
    int rc = dataset_locate(task, dir, split, &loc, err);
    if (rc < 0)
        return rc;
    snprintf(ds->path, sizeof ds->path, "%s", loc.path);
    ds->format = loc.source.format;
    struct load_state st = {.task = task, .ds = ds, .strict = strict, .warn = warn};
    struct release_sink sink = {.record = on_record, .malformed = on_malformed, .ctx = &st};
    rc = release_read(&loc.source, loc.path, loc.companion[0] ? loc.companion : NULL, &sink, ds->sha256, err);
    if (rc < 0)
        goto out;
    if (warn && ds->n_skipped > DATASET_MAX_WARNINGS)
        fprintf(warn, "glam-eval: warning: %s: %zu malformed records skipped in all\n", ds->path, ds->n_skipped);
    if (warn && strcmp(split, task->eval_split) == 0 && task->expected_records &&
        ds->n_records + ds->n_skipped != task->expected_records)
        fprintf(warn, "glam-eval: warning: %s: %zu records, the official %s split has %zu\n", ds->path,
                ds->n_records + ds->n_skipped, split, task->expected_records);
    if (ds->n_docs == 0)
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: no usable records", ds->path);
out:
    if (rc < 0)
        dataset_release(ds);
    return rc;
}

void dataset_release(struct dataset *ds)
{
    for (size_t i = 0; i < ds->n_docs; i++)
        task_doc_release(&ds->docs[i]);
    free(ds->docs);
    ds->docs = NULL;
    ds->n_docs = 0;
}
