/* published.c — parsing the published-results data files and importing them as read-only runs (see published.h).
 *
 * Invariants: a file is parsed completely and checked before anything is written; the import runs in one
 * transaction that inserts, per label, the model, the run (status finished), the published_runs row and then the
 * cells (the schema's triggers forbid adding task runs to a published run, so nothing else can be attached to it
 * later). Part of the results layer: writes through raw constant statements on the store's connection. */
#include "config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/fileio.h"
#include "harness/sha256.h"
#include "harness/xalloc.h"
#include "results/published.h"
#include "results/schema.h"
#include "results/store_int.h"
#include "tasks/registry.h"

#define MAX_FIELDS 8

#ifdef GE_PKGDATADIR
#define INSTALLED_DIR GE_PKGDATADIR "/published"
#else
#define INSTALLED_DIR "published"
#endif

const char *published_default_dir(void)
{
    const char *env = getenv("GLAM_EVAL_PUBLISHED");
    if (env && *env)
        return env;
#ifdef GE_SRCDIR
    /* A build that was never installed (the README's quick start) reads its own source tree's copy. */
    if (access(INSTALLED_DIR "/models.tsv", R_OK) != 0 && access(GE_SRCDIR "/published/models.tsv", R_OK) == 0)
        return GE_SRCDIR "/published";
#endif
    return INSTALLED_DIR;
}

void published_release(struct published_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n_models; i++) {
        struct published_model *m = &set->models[i];
        free(m->label), free(m->model), free(m->architecture), free(m->source), free(m->params_source);
    }
    for (size_t i = 0; i < set->n_scores; i++) {
        struct published_score *s = &set->scores[i];
        free(s->label), free(s->setting), free(s->task), free(s->metric), free(s->split), free(s->source_table);
    }
    free(set->models);
    free(set->scores);
    memset(set, 0, sizeof *set);
}

/* Splits a line at tabs into exactly n fields (copies into fields[], caller frees). */
static int split_fields(const char *path, size_t line_no, const char *line, size_t len, size_t n, char **fields,
                        struct ge_error *err)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t')
            continue;
        if (k == n) {
            k++;
            break;
        }
        fields[k++] = xstrndup(line + start, i - start);
        start = i + 1;
    }
    if (k != n) {
        for (size_t i = 0; i < k && i < n; i++)
            free(fields[i]);
        return ge_error_set(err, GE_ERR_FORMAT, "%s:%zu: expected %zu tab-separated fields, found %s%zu", path,
                            line_no, n, k > n ? "more than " : "", k > n ? n : k);
    }
    for (size_t i = 0; i < n; i++)
        if (fields[i][0] == '\0') {
            for (size_t j = 0; j < n; j++)
                free(fields[j]);
            return ge_error_set(err, GE_ERR_FORMAT, "%s:%zu: field %zu is empty", path, line_no, i + 1);
        }
    return GE_OK;
}

/* A whole number >= 0, or "-" for unknown (-1). */
static int parse_count(const char *path, size_t line_no, const char *field, const char *s, long long *out,
                       struct ge_error *err)
{
    if (strcmp(s, "-") == 0) {
        *out = -1;
        return GE_OK;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0 || !isdigit((unsigned char)s[0]))
        return ge_error_set(err, GE_ERR_FORMAT, "%s:%zu: %s: \"%s\" is not a whole number or \"-\"", path, line_no,
                            field, s);
    *out = v;
    return GE_OK;
}

static int parse_number(const char *path, size_t line_no, const char *field, const char *s, double lo, double hi,
                        double *out, struct ge_error *err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi)
        return ge_error_set(err, GE_ERR_FORMAT, "%s:%zu: %s: \"%s\" is not a number in [%g, %g]", path, line_no,
                            field, s, lo, hi);
    *out = v;
    return GE_OK;
}

static int label_ok(const char *s)
{
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static int parse_model(const char *path, size_t line_no, char **f, struct published_model *m, struct ge_error *err)
{
    m->label = f[0], m->model = f[1], m->architecture = f[2], m->source = f[6], m->params_source = f[7];
    m->line_no = line_no;
    int ret = GE_OK;
    if (!label_ok(m->label))
        ret = ge_error_set(err, GE_ERR_FORMAT, "%s:%zu: label \"%s\" is not [a-z0-9._-]+", path, line_no, m->label);
    else if (strcmp(m->architecture, "dense") != 0 && strcmp(m->architecture, "moe") != 0)
        ret = ge_error_set(err, GE_ERR_FORMAT, "%s:%zu: architecture \"%s\" is not dense or moe", path, line_no,
                           m->architecture);
    if (ret == GE_OK)
        ret = parse_count(path, line_no, "n_params", f[3], &m->n_params, err);
    if (ret == GE_OK)
        ret = parse_count(path, line_no, "n_active_params", f[4], &m->n_active_params, err);
    m->flops_per_token = NAN;
    if (ret == GE_OK && strcmp(f[5], "-") != 0)
        ret = parse_number(path, line_no, "flops_per_token", f[5], 0, 1e18, &m->flops_per_token, err);
    free(f[3]), free(f[4]), free(f[5]);
    return ret;
}

static int parse_score(const char *path, size_t line_no, char **f, struct published_score *s, struct ge_error *err)
{
    s->label = f[0], s->setting = f[1], s->task = f[3], s->metric = f[4], s->split = f[5], s->source_table = f[7];
    s->line_no = line_no;
    int ret = GE_OK;
    long long k = 0;
    int is_avg =
        strcmp(s->task, "avg_nlg") == 0 || strcmp(s->task, "avg_nlu") == 0 || strcmp(s->task, "avg_all") == 0;
    if (strcmp(s->setting, "zero") != 0 && strcmp(s->setting, "one") != 0 && strcmp(s->setting, "few") != 0)
        ret = ge_error_set(err, GE_ERR_FORMAT, "%s:%zu: setting \"%s\" is not zero, one or few", path, line_no,
                           s->setting);
    else if (!is_avg && task_find(s->task) == NULL)
        ret = ge_error_set(err, GE_ERR_FORMAT, "%s:%zu: task \"%s\" is not a registered task (glam-eval tasks) nor "
                           "avg_nlg / avg_nlu / avg_all", path, line_no, s->task);
    /* An average mixes the tasks' K: its n_shots is "-" (stored as 0). */
    if (ret == GE_OK && is_avg && strcmp(f[2], "-") != 0)
        ret = ge_error_set(err, GE_ERR_FORMAT, "%s:%zu: n_shots of an average must be \"-\"", path, line_no);
    else if (ret == GE_OK && !is_avg)
        ret = parse_count(path, line_no, "n_shots", f[2], &k, err);
    if (ret == GE_OK && !is_avg && (k < 0 || k > 1024 || (s->setting[0] == 'z' && k != 0) ||
                                    (s->setting[0] == 'o' && k != 1) || (s->setting[0] == 'f' && k < 1)))
        ret = ge_error_set(err, GE_ERR_FORMAT, "%s:%zu: n_shots %s does not fit setting %s", path, line_no, f[2],
                           s->setting);
    s->n_shots = (int)k;
    if (ret == GE_OK)
        ret = parse_number(path, line_no, "score", f[6], 0, 100, &s->score, err);
    free(f[2]), free(f[6]);
    return ret;
}

/* Reads one file into models or scores, hashing its bytes into h. */
static int load_file(const char *dir, const char *name, int scores, struct published_set *out, struct sha256 *h,
                     struct ge_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *data = NULL;
    size_t len = 0;
    int ret = file_read_all(path, PUBLISHED_FILE_LIMIT, &data, &len, err);
    if (ret != GE_OK)
        return ret;
    sha256_update(h, data, len);
    struct line_iter it;
    const char *line;
    size_t line_len;
    line_iter_init(&it, data, len);
    while (ret == GE_OK && line_iter_next(&it, &line, &line_len)) {
        if (line_len == 0 || line[0] == '#')
            continue;
        char *f[MAX_FIELDS];
        ret = split_fields(path, it.line_no, line, line_len, 8, f, err);
        if (ret != GE_OK)
            break;
        if (scores) {
            if (out->n_scores == PUBLISHED_MAX_SCORES) {
                for (int i = 0; i < 8; i++)
                    free(f[i]);
                ret = ge_error_set(err, GE_ERR_LIMIT, "%s:%zu: more than %d cells", path, it.line_no,
                                   PUBLISHED_MAX_SCORES);
                break;
            }
            out->scores = xrealloc(out->scores, (out->n_scores + 1) * sizeof *out->scores);
            struct published_score *s = &out->scores[out->n_scores++];
            memset(s, 0, sizeof *s);
            ret = parse_score(path, it.line_no, f, s, err);
        } else {
            if (out->n_models == PUBLISHED_MAX_MODELS) {
                for (int i = 0; i < 8; i++)
                    free(f[i]);
                ret = ge_error_set(err, GE_ERR_LIMIT, "%s:%zu: more than %d models", path, it.line_no,
                                   PUBLISHED_MAX_MODELS);
                break;
            }
            out->models = xrealloc(out->models, (out->n_models + 1) * sizeof *out->models);
            struct published_model *m = &out->models[out->n_models++];
            memset(m, 0, sizeof *m);
            ret = parse_model(path, it.line_no, f, m, err);
        }
    }
    free(data);
    return ret;
}

static const struct published_model *model_of(const struct published_set *set, const char *label)
{
    for (size_t i = 0; i < set->n_models; i++)
        if (strcmp(set->models[i].label, label) == 0)
            return &set->models[i];
    return NULL;
}

int published_load(const char *dir, struct published_set *out, struct ge_error *err)
{
    struct sha256 h;
    uint8_t digest[SHA256_DIGEST_LEN];
    memset(out, 0, sizeof *out);
    sha256_init(&h);
    int ret = load_file(dir, "models.tsv", 0, out, &h, err);
    if (ret == GE_OK)
        ret = load_file(dir, "scores.tsv", 1, out, &h, err);
    sha256_final(&h, digest);
    sha256_digest_hex(digest, out->data_hash);
    for (size_t i = 0; ret == GE_OK && i < out->n_models; i++)
        for (size_t j = 0; ret == GE_OK && j < i; j++)
            if (strcmp(out->models[i].label, out->models[j].label) == 0)
                ret = ge_error_set(err, GE_ERR_FORMAT, "%s/models.tsv:%zu: label \"%s\" repeats line %zu", dir,
                                   out->models[i].line_no, out->models[i].label, out->models[j].line_no);
    /* Quadratic in cells (a few thousand at most): simple, and only run on import. */
    for (size_t i = 0; ret == GE_OK && i < out->n_scores; i++) {
        const struct published_score *s = &out->scores[i];
        if (model_of(out, s->label) == NULL) {
            ret = ge_error_set(err, GE_ERR_FORMAT, "%s/scores.tsv:%zu: label \"%s\" is not in models.tsv", dir,
                               s->line_no, s->label);
            break;
        }
        for (size_t j = 0; j < i; j++) {
            const struct published_score *t = &out->scores[j];
            if (strcmp(s->label, t->label) == 0 && strcmp(s->task, t->task) == 0 && strcmp(s->metric, t->metric) == 0 &&
                strcmp(s->setting, t->setting) == 0) {
                ret = ge_error_set(err, GE_ERR_FORMAT, "%s/scores.tsv:%zu: %s %s %s %s-shot repeats line %zu", dir,
                                   s->line_no, s->label, s->task, s->metric, s->setting, t->line_no);
                break;
            }
        }
    }
    if (ret != GE_OK)
        published_release(out);
    return ret;
}

/* Runs one constant statement with the given text/NULL bindings; *last_id gets the inserted row id. */
static int exec_bound(struct store *st, const char *sql, const char *what, int n, const char *const *texts,
                      int64_t *last_id, struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, what, err);
    for (int i = 0; i < n; i++)
        store_bind_text(q, i + 1, texts[i]);
    rc = sqlite3_step(q);
    int ret = GE_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ret = store_fail(st, rc, what, err);
    else if (last_id)
        *last_id = sqlite3_last_insert_rowid(st->db);
    sqlite3_finalize(q);
    return ret;
}

/* The data hash a label was imported with ("" when it was not). */
static int existing_hash(struct store *st, const char *label, char hash[65], struct ge_error *err)
{
    sqlite3_stmt *q = NULL;
    hash[0] = '\0';
    int rc = sqlite3_prepare_v2(st->db, "SELECT data_hash FROM published_runs WHERE label = ?1", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "reading published runs", err);
    sqlite3_bind_text(q, 1, label, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    int ret = GE_OK;
    if (rc == SQLITE_ROW)
        snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(q, 0));
    else if (rc != SQLITE_DONE)
        ret = store_fail(st, rc, "reading published runs", err);
    sqlite3_finalize(q);
    return ret;
}

static int import_one(struct store *st, const struct published_set *set, const struct published_model *m,
                      const char *data_file, const char *at, struct ge_error *err)
{
    char hash[65], buf[512];
    snprintf(buf, sizeof buf, "published\n%s\n%s\n%s", m->label, m->model, m->source);
    sha256_hash_hex(buf, strlen(buf), hash);
    struct store_model sm = {.identity_hash = hash, .kind = STORE_MODEL_LOCAL, .name = m->model,
                             .architecture = m->architecture, .n_params = m->n_params,
                             .n_active_params = m->n_active_params,
                             .flops_per_token = isnan(m->flops_per_token) ? -1 : m->flops_per_token,
                             .details_json = NULL};
    int64_t model_id = 0, run_id = 0;
    int ret = store_put_model(st, &sm, &model_id, err);
    if (ret != GE_OK)
        return ret;
    /* The run's args record what was imported (JSON built by cJSON: the strings come from the data file). */
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "import", "published");
    cJSON_AddStringToObject(a, "label", m->label);
    cJSON_AddStringToObject(a, "data_hash", set->data_hash);
    cJSON_AddStringToObject(a, "params_source", m->params_source);
    char *args = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    if (args == NULL)
        return ge_error_set(err, GE_ERR_NOMEM, "out of memory recording the import of %s", m->label);
    struct store_run run = {.model_id = model_id, .args_json = args, .seeds_json = "{}",
                            .program_version = PACKAGE_STRING, .started_at = at, .host = "published"};
    ret = store_create_run(st, &run, &run_id, err);
    free(args);
    if (ret == GE_OK)
        ret = store_set_run_status(st, run_id, STORE_RUN_FINISHED, at, err);
    if (ret != GE_OK)
        return ret;
    char run_text[32];
    snprintf(run_text, sizeof run_text, "%lld", (long long)run_id);
    const char *pr[] = {run_text, m->label, m->source, data_file, set->data_hash, at};
    ret = exec_bound(st, "INSERT INTO published_runs (run_id, label, source, data_file, data_hash, imported_at) "
                         "VALUES (CAST(?1 AS INTEGER), ?2, ?3, ?4, ?5, ?6)", "storing a published run", 6, pr, NULL,
                     err);
    for (size_t i = 0; ret == GE_OK && i < set->n_scores; i++) {
        const struct published_score *s = &set->scores[i];
        if (strcmp(s->label, m->label) != 0)
            continue;
        char k[16], v[40];
        snprintf(k, sizeof k, "%d", s->n_shots);
        snprintf(v, sizeof v, "%.17g", s->score / 100.0);
        const char *ps[] = {run_text, s->task, s->metric, s->setting, k, s->split, v, s->source_table};
        ret = exec_bound(st, "INSERT INTO published_scores (run_id, task, metric, setting, n_shots, split, value, "
                             "source_table) VALUES (CAST(?1 AS INTEGER), ?2, ?3, ?4, CAST(?5 AS INTEGER), ?6, "
                             "CAST(?7 AS REAL), ?8)", "storing a published score", 8, ps, NULL, err);
    }
    return ret;
}

int published_check_only(const struct published_set *set, const char *const *only, size_t n_only,
                         struct ge_error *err)
{
    for (size_t i = 0; i < n_only; i++)
        if (model_of(set, only[i]) == NULL)
            return ge_error_set(err, GE_ERR_NOTFOUND, "no published model is labelled \"%s\" (import published "
                                "--list shows the labels)", only[i]);
    return GE_OK;
}

int published_import(struct store *st, const struct published_set *set, const char *const *only, size_t n_only,
                     const char *imported_at, FILE *log, struct ge_error *err)
{
    const char *data_file = "models.tsv+scores.tsv";
    if (st->schema_version != SCHEMA_VERSION)
        return ge_error_set(err, GE_ERR_STATE, "%s: the database is at schema version %d, not %d", st->path,
                            st->schema_version, SCHEMA_VERSION);
    int ret = published_check_only(set, only, n_only, err);
    if (ret != GE_OK)
        return ret;
    ret = store_begin(st, err);
    if (ret != GE_OK)
        return ret;
    for (size_t i = 0; ret == GE_OK && i < set->n_models; i++) {
        const struct published_model *m = &set->models[i];
        int wanted = n_only == 0;
        for (size_t j = 0; j < n_only; j++)
            wanted |= strcmp(only[j], m->label) == 0;
        if (!wanted)
            continue;
        char have[65];
        ret = existing_hash(st, m->label, have, err);
        if (ret != GE_OK)
            break;
        if (have[0] && strcmp(have, set->data_hash) == 0) {
            fprintf(log, "%s: already imported\n", m->label);
            continue;
        }
        if (have[0]) {
            ret = ge_error_set(err, GE_ERR_STATE, "%s: \"%s\" was imported from different data files (hash %.12s..., "
                               "now %.12s...); published runs are read-only, so import into a new database",
                               st->path, m->label, have, set->data_hash);
            break;
        }
        ret = import_one(st, set, m, data_file, imported_at, err);
        if (ret == GE_OK)
            fprintf(log, "%s: imported as a published run (%s)\n", m->label, m->model);
    }
    return store_tx_end(st, ret, err);
}

void published_run_info_release(struct published_run_info *info)
{
    if (info == NULL)
        return;
    free(info->label);
    memset(info, 0, sizeof *info);
}

/* Adds one text field to a digest with its terminating NUL, so that field boundaries are part of what is hashed
 * (a stored text never holds a NUL: sqlite3_column_text would end it there). */
static void digest_field(struct sha256 *h, const char *s)
{
    s = s ? s : "";
    sha256_update(h, s, strlen(s) + 1);
}

int published_run_read(struct store *st, int64_t run_id, struct published_run_info *out, struct ge_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *q = NULL;
    struct sha256 h;
    sha256_init(&h);
    int rc = sqlite3_prepare_v2(st->db, "SELECT p.label, p.data_hash, p.source, m.identity_hash FROM published_runs p "
                                "JOIN runs r ON r.id = p.run_id JOIN models m ON m.id = r.model_id "
                                "WHERE p.run_id = ?1", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "reading a published run", err);
    sqlite3_bind_int64(q, 1, run_id);
    rc = sqlite3_step(q);
    int ret = GE_OK;
    if (rc == SQLITE_ROW) {
        out->label = xstrdup((const char *)sqlite3_column_text(q, 0));
        snprintf(out->data_hash, sizeof out->data_hash, "%s", (const char *)sqlite3_column_text(q, 1));
        for (int col = 0; col < 4; col++)
            digest_field(&h, (const char *)sqlite3_column_text(q, col));
    } else if (rc == SQLITE_DONE) {
        ret = ge_error_set(err, GE_ERR_NOTFOUND, "%s: run %lld is not a published reference run", st->path,
                           (long long)run_id);
    } else {
        ret = store_fail(st, rc, "reading a published run", err);
    }
    sqlite3_finalize(q);
    q = NULL;
    if (ret == GE_OK) {
        rc = sqlite3_prepare_v2(st->db, "SELECT task, metric, setting, n_shots, split, value, source_table FROM "
                                "published_scores WHERE run_id = ?1 ORDER BY task, metric, setting", -1, &q, NULL);
        if (rc != SQLITE_OK)
            ret = store_fail(st, rc, "reading published scores", err);
    }
    if (ret == GE_OK) {
        sqlite3_bind_int64(q, 1, run_id);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            char num[40];
            for (int col = 0; col < 3; col++)
                digest_field(&h, (const char *)sqlite3_column_text(q, col));
            snprintf(num, sizeof num, "%lld", (long long)sqlite3_column_int64(q, 3));
            digest_field(&h, num);
            digest_field(&h, (const char *)sqlite3_column_text(q, 4));
            snprintf(num, sizeof num, "%.17g", sqlite3_column_double(q, 5));
            digest_field(&h, num);
            digest_field(&h, (const char *)sqlite3_column_text(q, 6));
            out->n_cells++;
        }
        if (rc != SQLITE_DONE)
            ret = store_fail(st, rc, "reading published scores", err);
    }
    sqlite3_finalize(q);
    uint8_t digest[SHA256_DIGEST_LEN];
    sha256_final(&h, digest);
    sha256_digest_hex(digest, out->digest);
    if (ret != GE_OK)
        published_run_info_release(out);
    return ret;
}

int published_copy_run(struct store *in, int64_t run_id, struct store *out, int64_t *out_run_id, struct ge_error *err)
{
    sqlite3_stmt *q = NULL, *cells = NULL;
    int64_t model_id = 0, new_id = 0;
    int rc = sqlite3_prepare_v2(in->db, "SELECT m.identity_hash, r.args, r.seeds, r.program_version, r.started_at, "
                                "r.finished_at, r.host, p.label, p.source, p.data_file, p.data_hash, p.imported_at "
                                "FROM published_runs p JOIN runs r ON r.id = p.run_id JOIN models m ON "
                                "m.id = r.model_id WHERE p.run_id = ?1", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return store_fail(in, rc, "reading a published run", err);
    sqlite3_bind_int64(q, 1, run_id);
    int ret = GE_OK;
    rc = sqlite3_step(q);
    if (rc == SQLITE_DONE)
        ret = ge_error_set(err, GE_ERR_NOTFOUND, "%s: run %lld is not a published reference run", in->path,
                           (long long)run_id);
    else if (rc != SQLITE_ROW)
        ret = store_fail(in, rc, "reading a published run", err);
    if (ret == GE_OK) {
        sqlite3_stmt *m = NULL;
        rc = sqlite3_prepare_v2(out->db, "SELECT id FROM models WHERE identity_hash = ?1", -1, &m, NULL);
        if (rc != SQLITE_OK)
            ret = store_fail(out, rc, "finding a model", err);
        else {
            sqlite3_bind_text(m, 1, (const char *)sqlite3_column_text(q, 0), -1, SQLITE_STATIC);
            if (sqlite3_step(m) == SQLITE_ROW)
                model_id = sqlite3_column_int64(m, 0);
            else
                ret = ge_error_set(err, GE_ERR_STATE, "%s: the model %.12s... of published run '%s' is not stored",
                                   out->path, (const char *)sqlite3_column_text(q, 0),
                                   (const char *)sqlite3_column_text(q, 7));
        }
        sqlite3_finalize(m);
    }
    /* The order of the import (published_import): the runs row and its status first (the triggers keep a run
     * read-only once its published_runs row exists), then that row, then the cells. */
    if (ret == GE_OK) {
        struct store_run run = {.model_id = model_id, .args_json = (const char *)sqlite3_column_text(q, 1),
                                .seeds_json = (const char *)sqlite3_column_text(q, 2),
                                .program_version = (const char *)sqlite3_column_text(q, 3),
                                .started_at = (const char *)sqlite3_column_text(q, 4),
                                .host = (const char *)sqlite3_column_text(q, 6)};
        ret = store_create_run(out, &run, &new_id, err);
    }
    if (ret == GE_OK)
        ret = store_set_run_status(out, new_id, STORE_RUN_FINISHED, (const char *)sqlite3_column_text(q, 5), err);
    char run_text[32];
    snprintf(run_text, sizeof run_text, "%lld", (long long)new_id);
    if (ret == GE_OK) {
        const char *pr[] = {run_text,
                            (const char *)sqlite3_column_text(q, 7),
                            (const char *)sqlite3_column_text(q, 8),
                            (const char *)sqlite3_column_text(q, 9),
                            (const char *)sqlite3_column_text(q, 10),
                            (const char *)sqlite3_column_text(q, 11)};
        ret = exec_bound(out, "INSERT INTO published_runs (run_id, label, source, data_file, data_hash, imported_at) "
                              "VALUES (CAST(?1 AS INTEGER), ?2, ?3, ?4, ?5, ?6)", "storing a published run", 6, pr,
                         NULL, err);
    }
    /* Cells go column for column, the value bound as the double it is (a text round trip may not be exact). */
    sqlite3_stmt *put = NULL;
    if (ret == GE_OK) {
        rc = sqlite3_prepare_v2(in->db, "SELECT task, metric, setting, n_shots, split, value, source_table FROM "
                                "published_scores WHERE run_id = ?1 ORDER BY id", -1, &cells, NULL);
        if (rc != SQLITE_OK)
            ret = store_fail(in, rc, "reading published scores", err);
        else
            sqlite3_bind_int64(cells, 1, run_id);
    }
    if (ret == GE_OK) {
        rc = sqlite3_prepare_v2(out->db, "INSERT INTO published_scores (run_id, task, metric, setting, n_shots, split, "
                                "value, source_table) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &put, NULL);
        if (rc != SQLITE_OK)
            ret = store_fail(out, rc, "storing a published score", err);
    }
    while (ret == GE_OK && (rc = sqlite3_step(cells)) == SQLITE_ROW) {
        sqlite3_reset(put);
        sqlite3_bind_int64(put, 1, new_id);
        for (int col = 0; col < 3; col++)
            store_bind_text(put, col + 2, (const char *)sqlite3_column_text(cells, col));
        sqlite3_bind_int64(put, 5, sqlite3_column_int64(cells, 3));
        store_bind_text(put, 6, (const char *)sqlite3_column_text(cells, 4));
        sqlite3_bind_double(put, 7, sqlite3_column_double(cells, 5));
        store_bind_text(put, 8, (const char *)sqlite3_column_text(cells, 6));
        int prc = sqlite3_step(put);
        if (prc != SQLITE_DONE)
            ret = store_fail(out, prc, "storing a published score", err);
    }
    if (ret == GE_OK && cells && rc != SQLITE_DONE)
        ret = store_fail(in, rc, "reading published scores", err);
    sqlite3_finalize(put);
    sqlite3_finalize(cells);
    sqlite3_finalize(q);
    if (ret == GE_OK)
        *out_run_id = new_id;
    return ret;
}
