/* audit.c — contamination results in the results database (see audit.h; tables in docs/schema.md): merging part
 * files into an audit, and the Appendix D table; the clean/dirty scores of a run are in clean.c.
 *
 * The store module owns the connection; this file reaches the sqlite3 handle through results/store_int.h and uses
 * its own prepared statements (finalised before returning), with values always bound, never spliced. */
#include "config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contamination/audit.h"
#include "contamination/index.h"
#include "contamination/scan.h"
#include "harness/clock.h"
#include "harness/sha256.h"
#include "harness/xalloc.h"
#include "results/store_int.h"
#include "tasks/registry.h"

#define CN_PART_LINE_MAX ((size_t)16 << 20)

/* ---- reading part files ------------------------------------------------------------------------------------ */

struct part_header {
    char index_sha256[65];
    char index_path[4096];
    char file_list_sha256[65];
    char options[256];        /* text_field, text_docs, format joined: must agree between parts */
    long shard, shards, files_total;
};

struct merge_state {
    struct cn_index *ix;
    struct part_header h0;
    uint8_t *shard_seen;      /* (shards) */
    char **file_path;         /* (files_total) owned */
    uint64_t *file_bytes, *file_docs;
    uint8_t *file_seen;
    struct cn_witness *wit;   /* (n_examples) */
    size_t n_files_with_errors;
};

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jnum(const cJSON *o, const char *k, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble))
        return -1;
    *out = v->valuedouble;
    return 0;
}

static int parse_header(const char *path, const cJSON *o, struct part_header *h, struct ge_error *err)
{
    const char *fmt = jstr(o, "format"), *isha = jstr(o, "index_sha256"), *ipath = jstr(o, "index_path"),
               *lsha = jstr(o, "file_list_sha256"), *tf = jstr(o, "text_field"), *td = jstr(o, "text_docs"),
               *fo = jstr(o, "format_option");
    double version, shard, shards, total;
    if (!fmt || strcmp(fmt, "glam-eval-contamination-part") != 0)
        return ge_error_set(err, GE_ERR_FORMAT, "%s: line 1: not a contamination part file (field \"format\")", path);
    if (jnum(o, "version", &version) || version != 1)
        return ge_error_set(err, GE_ERR_FORMAT, "%s: line 1: unsupported part version (field \"version\")", path);
    if (!isha || !sha256_is_hex(isha) || !ipath || !lsha || !tf || !td || !fo || jnum(o, "shard", &shard) ||
        jnum(o, "shards", &shards) || jnum(o, "files_total", &total) || shards < 1 || shard >= shards)
        return ge_error_set(err, GE_ERR_FORMAT, "%s: line 1: malformed header (index_sha256, index_path, shard, "
                            "shards, files_total, file_list_sha256, text_field, text_docs, format_option)", path);
    snprintf(h->index_sha256, sizeof h->index_sha256, "%s", isha);
    snprintf(h->index_path, sizeof h->index_path, "%s", ipath);
    snprintf(h->file_list_sha256, sizeof h->file_list_sha256, "%s", lsha);
    snprintf(h->options, sizeof h->options, "text_field=%s text_docs=%s format=%s", tf, td, fo);
    h->shard = (long)shard;
    h->shards = (long)shards;
    h->files_total = (long)total;
    return GE_OK;
}

/* Reads one part into ms (the first part also loads the index and sizes the arrays). */
/* Whether a witness read from a part is one its scan could have written: its file is one of this shard's, listed
 * earlier in the part (file lines come first), its offset is inside that file, and its entry (the matched n-gram)
 * is one of the example's. (A document number is not bounded by the file's document count: JSONL numbers lines,
 * blank and skipped ones included.) */
static int witness_consistent(const struct merge_state *ms, const struct part_header *h, size_t example, long file,
                              double offset, size_t entry)
{
    if (file % h->shards != h->shard || !ms->file_seen[file] || offset >= (double)ms->file_bytes[file])
        return 0;
    const struct cn_entry *e = &ms->ix->entries[entry];
    for (uint32_t k = 0; k < e->n_post; k++)
        if (ms->ix->postings[e->post_off + k] == example)
            return 1;
    return 0;
}

static int read_part(struct merge_state *ms, const char *path, const char *index_override, int first,
                     struct ge_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ge_error_set(err, GE_ERR_NOTFOUND, "%s: cannot open part file", path);
    char *line = NULL;
    size_t cap = 0, line_no = 0;
    ssize_t got;
    int rc = GE_OK, ended = 0;
    double n_files_seen = 0, n_wit_seen = 0;
    struct part_header h;
    while (rc == GE_OK && (got = getline(&line, &cap, f)) >= 0) {
        line_no++;
        if ((size_t)got > CN_PART_LINE_MAX) {
            rc = ge_error_set(err, GE_ERR_LIMIT, "%s: line %zu: longer than %zu bytes", path, line_no,
                              CN_PART_LINE_MAX);
            break;
        }
        cJSON *o = cJSON_ParseWithLength(line, (size_t)got);
        if (!o || !cJSON_IsObject(o)) {
            cJSON_Delete(o);
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line %zu: not a JSON object", path, line_no);
            break;
        }
        if (ended) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line %zu: data after the end line", path, line_no);
        } else if (line_no == 1) {
            rc = parse_header(path, o, &h, err);
            if (rc == GE_OK && first) {
                ms->h0 = h;
                rc = cn_index_load(index_override ? index_override : h.index_path, 0, &ms->ix, err);
                if (rc)
                    ge_error_prefix(err, "%s: the index of this part: ", path);
                if (rc == GE_OK && strcmp(ms->ix->sha256, h.index_sha256) != 0)
                    rc = ge_error_set(err, GE_ERR_STATE, "%s: made with index %.12s…, but %s is %.12s…", path,
                                      h.index_sha256, ms->ix->path, ms->ix->sha256);
                if (rc == GE_OK) {
                    ms->shard_seen = xcalloc((size_t)h.shards, 1);
                    size_t t = (size_t)h.files_total ? (size_t)h.files_total : 1;
                    ms->file_path = xcalloc(t, sizeof *ms->file_path);
                    ms->file_bytes = xcalloc(t, sizeof *ms->file_bytes);
                    ms->file_docs = xcalloc(t, sizeof *ms->file_docs);
                    ms->file_seen = xcalloc(t, 1);
                    ms->wit = xmalloc((ms->ix->n_examples ? ms->ix->n_examples : 1) * sizeof *ms->wit);
                    for (size_t i = 0; i < ms->ix->n_examples; i++)
                        ms->wit[i] = (struct cn_witness){.file = CN_NO_FILE};
                }
            } else if (rc == GE_OK) {
                const char *field = strcmp(h.index_sha256, ms->h0.index_sha256) ? "index_sha256"
                                    : h.shards != ms->h0.shards                 ? "shards"
                                    : h.files_total != ms->h0.files_total       ? "files_total"
                                    : strcmp(h.file_list_sha256, ms->h0.file_list_sha256) ? "file_list_sha256"
                                    : strcmp(h.options, ms->h0.options)         ? "text_field/text_docs/format"
                                                                                : NULL;
                if (field)
                    rc = ge_error_set(err, GE_ERR_STATE, "%s: field \"%s\" differs from the first part's: the parts "
                                      "come from different scans", path, field);
            }
            if (rc == GE_OK && ms->shard_seen[h.shard]++)
                rc = ge_error_set(err, GE_ERR_STATE, "%s: shard %ld/%ld is given twice", path, h.shard, h.shards);
        } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "end"))) {
            double nf, nw;
            ended = 1;
            if (jnum(o, "files", &nf) || jnum(o, "witnesses", &nw) || nf != n_files_seen || nw != n_wit_seen)
                rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line %zu: the end line's counts do not match the part",
                                  path, line_no);
        } else if (cJSON_GetObjectItemCaseSensitive(o, "example")) {
            double ex, file, doc, off, entry;
            if (jnum(o, "example", &ex) || jnum(o, "file", &file) || jnum(o, "doc", &doc) ||
                jnum(o, "offset", &off) || jnum(o, "entry", &entry) || ex >= (double)ms->ix->n_examples ||
                file >= (double)h.files_total || entry >= (double)ms->ix->n_entries) {
                rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line %zu: malformed witness (example, file, doc, offset, "
                                  "entry)", path, line_no);
            } else if (!witness_consistent(ms, &h, (size_t)ex, (long)file, off, (size_t)entry)) {
                rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line %zu: witness of example %.0f does not fit the part "
                                  "(its file is not this shard's or not listed before it, its offset is past the "
                                  "file's end, or its n-gram is not one of the example's): an edited or "
                                  "damaged part", path, line_no, ex);
            } else {
                struct cn_witness w = {.file = (uint32_t)file, .doc = (uint64_t)doc, .offset = (uint64_t)off,
                                       .entry = (uint32_t)entry};
                struct cn_witness *cur = &ms->wit[(size_t)ex];
                if (cur->file == CN_NO_FILE || w.file < cur->file ||
                    (w.file == cur->file && w.offset < cur->offset))
                    *cur = w;
                n_wit_seen++;
            }
        } else {
            double file, bytes, docs;
            const char *p = jstr(o, "path");
            if (jnum(o, "file", &file) || jnum(o, "bytes", &bytes) || jnum(o, "docs", &docs) || !p ||
                file >= (double)h.files_total || (long)file % h.shards != h.shard) {
                rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line %zu: malformed file line (file, path, bytes, docs)",
                                  path, line_no);
            } else if (ms->file_seen[(size_t)file]++) {
                rc = ge_error_set(err, GE_ERR_STATE, "%s: line %zu: corpus file %.0f appears twice", path, line_no,
                                  file);
            } else {
                ms->file_path[(size_t)file] = xstrdup(p);
                ms->file_bytes[(size_t)file] = (uint64_t)bytes;
                ms->file_docs[(size_t)file] = (uint64_t)docs;
                if (jstr(o, "error"))
                    ms->n_files_with_errors++;
                n_files_seen++;
            }
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    if (rc == GE_OK && line_no == 0)
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: empty part file", path);
    if (rc == GE_OK && !ended)
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: truncated: no end line (the scan did not finish writing it)",
                          path);
    return rc;
}

static void merge_state_release(struct merge_state *ms)
{
    if (ms->file_path)
        for (long i = 0; i < ms->h0.files_total; i++)
            free(ms->file_path[i]);
    free(ms->file_path);
    free(ms->file_bytes);
    free(ms->file_docs);
    free(ms->file_seen);
    free(ms->shard_seen);
    free(ms->wit);
    cn_index_free(ms->ix);
}

/* ---- storing ----------------------------------------------------------------------------------------------- */

static int prep(struct store *st, const char *sql, sqlite3_stmt **s, struct ge_error *err)
{
    int r = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
    return r == SQLITE_OK ? GE_OK : store_fail(st, r, "prepare", err);
}

static const char SQL_INDEX_INSERT[] =
    "INSERT INTO contamination_indexes (name, corpus, corpus_hash, ngram_n, normalization, location, n_documents, "
    "n_ngrams, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_FLAG_INSERT[] =
    "INSERT OR IGNORE INTO contamination_flags (index_id, task, split, doc_id, content_hash, dirty, corpus_file, "
    "corpus_doc, byte_offset, ngram, checked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
#define FLAG_MATCH                                                                                               \
    "FROM contamination_flags f JOIN task_runs t ON t.task = f.task AND t.split = f.split "                      \
    "WHERE f.index_id = ?1 AND t.id = documents.task_run_id AND f.doc_id = documents.doc_id "                     \
    "AND f.content_hash = documents.content_hash "
static const char SQL_DOCS_DIRTY[] =
    "UPDATE documents SET dirty = 1, witness = (SELECT json_object('index', f.index_id, 'corpus_file', "
    "f.corpus_file, 'corpus_doc', f.corpus_doc, 'byte_offset', f.byte_offset, 'ngram', f.ngram) " FLAG_MATCH
    "AND f.dirty = 1) WHERE dirty IS NOT 1 AND EXISTS (SELECT 1 " FLAG_MATCH "AND f.dirty = 1)";
static const char SQL_DOCS_CLEAN[] =
    "UPDATE documents SET dirty = 0 WHERE dirty IS NULL AND EXISTS (SELECT 1 " FLAG_MATCH "AND f.dirty = 0)";

void cn_corpus_hash(char *const *paths, const uint64_t *bytes, size_t n, char hex[65])
{
    struct sha256 h;
    uint8_t d[32];
    sha256_init(&h);
    for (size_t i = 0; i < n; i++) {
        char num[32];
        snprintf(num, sizeof num, "\t%llu\n", (unsigned long long)bytes[i]);
        sha256_update(&h, paths[i], strlen(paths[i]));
        sha256_update(&h, num, strlen(num));
    }
    sha256_final(&h, d);
    sha256_digest_hex(d, hex);
}

/* The base name of index_path: what the default name of its audits starts with, before the '@'. */
static const char *index_base(const char *index_path)
{
    const char *base = strrchr(index_path, '/');
    return base ? base + 1 : index_path;
}

void cn_audit_default_name(const char *index_path, const char *corpus_hash, char *name, size_t cap)
{
    snprintf(name, cap, "%s@%.12s", index_base(index_path), corpus_hash);
}

static int store_audit(struct store *st, struct merge_state *ms, const struct cn_merge_opts *o,
                       struct cn_merge_summary *sum, struct ge_error *err)
{
    const struct cn_index *ix = ms->ix;
    char now[CLOCK_ISO8601_CAP];
    clock_iso8601_now(now);
    char corpus_hash[65];
    cn_corpus_hash(ms->file_path, ms->file_bytes, (size_t)ms->h0.files_total, corpus_hash);
    uint64_t n_docs = 0;
    size_t desc_len = 0;
    char *desc = NULL;
    for (long i = 0; i < ms->h0.files_total; i++) {
        n_docs += ms->file_docs[i];
        if (!o->corpus && desc_len < 3800) {
            size_t l = strlen(ms->file_path[i]);
            desc = xrealloc(desc, desc_len + l + 3);
            memcpy(desc + desc_len, ms->file_path[i], l);
            desc_len += l;
            if (i + 1 < ms->h0.files_total)
                desc[desc_len++] = ' ';
            desc[desc_len] = '\0';
        }
    }
    if (!o->corpus && ms->h0.files_total > 0 && desc_len >= 3800) {
        char more[64];
        snprintf(more, sizeof more, "... (%ld files)", ms->h0.files_total);
        desc = xrealloc(desc, desc_len + strlen(more) + 1);
        strcpy(desc + desc_len, more);
    }
    if (o->name)
        snprintf(sum->name, sizeof sum->name, "%s", o->name);
    else
        cn_audit_default_name(ix->path, corpus_hash, sum->name, sizeof sum->name);
    /* the normalisation, with the n-gram length(s) */
    char *norm = xmalloc(strlen(cn_normalization_name) + 64 + ix->n_tasks * 80);
    size_t nl = (size_t)sprintf(norm, "%s; %s", cn_normalization_name, ix->gpt3 ? "gpt3 per-task n:" : "n=");
    if (ix->gpt3)
        for (size_t t = 0; t < ix->n_tasks; t++)
            nl += (size_t)sprintf(norm + nl, " %.60s=%u", ix->tasks[t].name, ix->tasks[t].n);
    else
        sprintf(norm + nl, "%u", ix->n);

    sqlite3_stmt *s = NULL;
    int rc = store_begin(st, err);
    if (rc)
        goto out;
    if ((rc = prep(st, SQL_INDEX_INSERT, &s, err)) != GE_OK)
        goto rollback;
    sqlite3_bind_text(s, 1, sum->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, o->corpus ? o->corpus : desc ? desc : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, corpus_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, ix->n);
    sqlite3_bind_text(s, 5, norm, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, ix->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, (sqlite3_int64)n_docs);
    sqlite3_bind_int64(s, 8, (sqlite3_int64)ix->n_entries);
    sqlite3_bind_text(s, 9, now, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_CONSTRAINT_UNIQUE) {
        rc = ge_error_set(err, GE_ERR_STATE, "%s: an audit named '%s' is already stored; pass another --name",
                          store_path(st), sum->name);
        goto rollback;
    }
    if (r != SQLITE_DONE) {
        rc = store_fail(st, r, "insert contamination_indexes", err);
        goto rollback;
    }
    sum->index_id = sqlite3_last_insert_rowid(st->db);
    sqlite3_finalize(s);
    if ((rc = prep(st, SQL_FLAG_INSERT, &s, err)) != GE_OK)
        goto rollback;
    for (size_t e = 0; e < ix->n_examples; e++) {
        const struct cn_example *ex = &ix->examples[e];
        const struct cn_witness *w = &ms->wit[e];
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        sqlite3_bind_int64(s, 1, sum->index_id);
        sqlite3_bind_text(s, 2, ix->tasks[ex->task].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, ix->tasks[ex->task].split, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, ex->doc_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, ex->content_hash, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 6, w->file != CN_NO_FILE);
        if (w->file != CN_NO_FILE) {
            const struct cn_entry *en = &ix->entries[w->entry];
            sqlite3_bind_text(s, 7, ms->file_path[w->file], -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 8, (sqlite3_int64)w->doc);
            sqlite3_bind_int64(s, 9, (sqlite3_int64)w->offset);
            sqlite3_bind_text(s, 10, ix->text + en->text_off, (int)en->text_len, SQLITE_STATIC);
            sum->n_dirty++;
        }
        sqlite3_bind_text(s, 11, now, -1, SQLITE_STATIC);
        if ((r = sqlite3_step(s)) != SQLITE_DONE) {
            rc = store_fail(st, r, "insert contamination_flags", err);
            goto rollback;
        }
    }
    sum->n_examples = ix->n_examples;
    const char *upd[2] = {SQL_DOCS_DIRTY, SQL_DOCS_CLEAN};
    for (int k = 0; k < 2; k++) {
        sqlite3_finalize(s);
        s = NULL;
        if ((rc = prep(st, upd[k], &s, err)) != GE_OK)
            goto rollback;
        sqlite3_bind_int64(s, 1, sum->index_id);
        if ((r = sqlite3_step(s)) != SQLITE_DONE) {
            rc = store_fail(st, r, "update documents", err);
            goto rollback;
        }
        sum->n_documents_marked += (size_t)sqlite3_changes(st->db);
    }
    sqlite3_finalize(s);
    s = NULL;
    rc = store_commit(st, err);
    goto out;
rollback:
    sqlite3_finalize(s);
    s = NULL;
    store_rollback(st);
out:
    free(norm);
    free(desc);
    return rc;
}

/* Whether an audit named name is stored (*found); with prefix != 0, one whose name starts with name. */
static int audit_name_taken(struct store *st, const char *name, int prefix, int *found, struct ge_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc = prep(st, prefix ? "SELECT 1 FROM contamination_indexes WHERE substr(name, 1, length(?1)) = ?1 LIMIT 1"
                             : "SELECT 1 FROM contamination_indexes WHERE name = ?1", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    *found = r == SQLITE_ROW;
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = store_fail(st, r, "reading contamination_indexes", err);
    sqlite3_finalize(s);
    return rc;
}

int cn_merge_precheck(const char *db_path, const char *name, const char *index_path, const struct cn_corpus *corpus,
                      struct ge_error *err)
{
    struct store *st = NULL;
    int found = 0;
    int rc = store_open(db_path, STORE_MODE_WRITE, 0, &st, err);
    if (rc == GE_OK && name) {
        rc = audit_name_taken(st, name, 0, &found, err);
        if (rc == GE_OK && found)
            rc = ge_error_set(err, GE_ERR_STATE, "%s: an audit named '%s' is already stored; pass another --name",
                              db_path, name);
    } else if (rc == GE_OK && index_path && corpus) {
        /* The default name: known now when the corpus sizes are (plain files); the files are only probed when an
         * audit of an index file of this name is stored at all. */
        char prefix[512], dflt[512];
        snprintf(prefix, sizeof prefix, "%s@", index_base(index_path));
        rc = audit_name_taken(st, prefix, 1, &found, err);
        uint64_t *bytes = found ? xcalloc(corpus->n ? corpus->n : 1, sizeof *bytes) : NULL;
        if (rc == GE_OK && found && cn_corpus_plain_sizes(corpus, bytes)) {
            char hash[65];
            cn_corpus_hash(corpus->paths, bytes, corpus->n, hash);
            cn_audit_default_name(index_path, hash, dflt, sizeof dflt);
            rc = audit_name_taken(st, dflt, 0, &found, err);
            if (rc == GE_OK && found)
                rc = ge_error_set(err, GE_ERR_STATE, "%s: an audit named '%s' is already stored: the default name of "
                                  "this index file over these %zu corpus files (their paths and sizes), which this "
                                  "scan would get too; pass --name NAME to store another audit of them", db_path,
                                  dflt, corpus->n);
        }
        free(bytes);
    }
    store_close(st);
    return rc;
}

int cn_merge(const struct cn_merge_opts *o, struct cn_merge_summary *sum, struct ge_error *err)
{
    memset(sum, 0, sizeof *sum);
    struct merge_state ms;
    memset(&ms, 0, sizeof ms);
    struct store *st = NULL;
    int rc = GE_OK;
    if (o->n_parts == 0)
        return ge_error_set(err, GE_ERR_USAGE, "no part files");
    for (size_t i = 0; i < o->n_parts && rc == GE_OK; i++)
        rc = read_part(&ms, o->parts[i], o->index_path, i == 0, err);
    for (long k = 0; rc == GE_OK && k < ms.h0.shards; k++)
        if (!ms.shard_seen[k])
            rc = ge_error_set(err, GE_ERR_STATE, "shard %ld/%ld is missing: pass the part files of all %ld shards",
                              k, ms.h0.shards, ms.h0.shards);
    for (long k = 0; rc == GE_OK && k < ms.h0.files_total; k++)
        if (!ms.file_seen[k])
            rc = ge_error_set(err, GE_ERR_FORMAT, "corpus file %ld is in no part file (a part was edited?)", k);
    if (rc == GE_OK && ms.n_files_with_errors && o->warn)
        fprintf(o->warn, "glam-eval contamination merge: warning: %zu corpus file%s could not be read to the end "
                "(see the scan's warnings); the audit covers them only up to the error\n", ms.n_files_with_errors,
                ms.n_files_with_errors == 1 ? "" : "s");
    if (rc == GE_OK)
        rc = store_open(o->db_path, STORE_MODE_WRITE, 0, &st, err);
    if (rc == GE_OK)
        rc = store_audit(st, &ms, o, sum, err);
    sum->n_files = (size_t)ms.h0.files_total;
    sum->n_files_with_errors = ms.n_files_with_errors;
    store_close(st);
    merge_state_release(&ms);
    return rc;
}

/* ---- reading back ------------------------------------------------------------------------------------------ */

int cn_audit_resolve(struct store *st, int64_t *index_id, char *name, size_t cap, struct ge_error *err)
{
    if (store_schema_version(st) < 2)
        return ge_error_set(err, GE_ERR_STATE, "%s: schema version %d has no contamination tables; run `glam-eval "
                            "db migrate`", store_path(st), store_schema_version(st));
    sqlite3_stmt *s = NULL;
    int rc = prep(st, *index_id > 0 ? "SELECT id, name FROM contamination_indexes WHERE id = ?1"
                                    : "SELECT id, name FROM contamination_indexes ORDER BY id DESC LIMIT 1", &s, err);
    if (rc)
        return rc;
    if (*index_id > 0)
        sqlite3_bind_int64(s, 1, *index_id);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *index_id = sqlite3_column_int64(s, 0);
        snprintf(name, cap, "%s", (const char *)sqlite3_column_text(s, 1));
    } else if (r == SQLITE_DONE) {
        rc = *index_id > 0 ? ge_error_set(err, GE_ERR_NOTFOUND, "%s: no contamination audit with id %lld",
                                          store_path(st), (long long)*index_id)
                           : ge_error_set(err, GE_ERR_NOTFOUND, "%s: no contamination audit stored yet (run "
                                          "`glam-eval contamination merge`)", store_path(st));
    } else {
        rc = store_fail(st, r, "read contamination_indexes", err);
    }
    sqlite3_finalize(s);
    return rc;
}

static size_t registry_pos(const char *task)
{
    size_t i = 0;
    for (; task_registry[i]; i++)
        if (strcmp(task_registry[i]->name, task) == 0)
            break;
    return i;
}

static int cmp_table_row(const void *a, const void *b)
{
    const struct cn_table_row *x = a, *y = b;
    size_t px = registry_pos(x->task), py = registry_pos(y->task);
    if (px != py)
        return px < py ? -1 : 1;
    int c = strcmp(x->task, y->task);
    return c ? c : strcmp(x->split, y->split);
}

int cn_audit_table(struct store *st, int64_t index_id, struct cn_table_row **rows, size_t *n_rows,
                   struct ge_error *err)
{
    *rows = NULL;
    *n_rows = 0;
    sqlite3_stmt *s = NULL;
    int rc = prep(st, "SELECT task, split, sum(dirty), count(*) FROM contamination_flags WHERE index_id = ?1 "
                      "GROUP BY task, split", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, index_id);
    size_t cap = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n_rows == cap) {
            cap = cap ? cap * 2 : 32;
            *rows = xrealloc(*rows, cap * sizeof **rows);
        }
        struct cn_table_row *row = &(*rows)[(*n_rows)++];
        snprintf(row->task, sizeof row->task, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(row->split, sizeof row->split, "%s", (const char *)sqlite3_column_text(s, 1));
        const struct task *t = task_find(row->task);
        snprintf(row->display, sizeof row->display, "%s", t ? t->display : row->task);
        row->dirty = sqlite3_column_int64(s, 2);
        row->total = sqlite3_column_int64(s, 3);
        row->pct_clean = row->total ? 100.0 * (double)(row->total - row->dirty) / (double)row->total : NAN;
    }
    if (r != SQLITE_DONE)
        rc = store_fail(st, r, "read contamination_flags", err);
    sqlite3_finalize(s);
    if (rc) {
        free(*rows);
        *rows = NULL;
        *n_rows = 0;
        return rc;
    }
    if (*n_rows)
        qsort(*rows, *n_rows, sizeof **rows, cmp_table_row);
    return GE_OK;
}
