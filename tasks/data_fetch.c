/* data_fetch.c — resumable downloads of split files with recorded checksums (see data_fetch.h for the layout,
 * the SOURCE.json format and the rules).
 *
 * The rows API (Hugging Face dataset viewer, GET {base}/rows?dataset=D&config=C&split=S&offset=O&length=L with
 * L <= 100) answers {"features": [...], "rows": [{"row_idx": i, "row": {...}, "truncated_cells": [...]}],
 * "num_rows_total": N, "num_rows_per_page": 100, "partial": false}; each "row" is written as one line in the text
 * style of ../shared/data (tasks/pyjson.h), in row_idx order. Resuming reads nothing back but the count of
 * complete lines of the .part: page k is appended (and fsync'ed) only after it was fully checked, and the state
 * file is written before the first page, so the count is always the next offset. */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/clock.h"
#include "harness/fileio.h"
#include "harness/sha256.h"
#include "harness/strbuf.h"
#include "tasks/data_fetch.h"
#include "tasks/pyjson.h"

#define SOURCE_JSON_LIMIT ((size_t)16 << 20) /* SOURCE.json and state files are small; anything bigger is wrong */

/* mkdir -p for path (which must fit PATH_MAX-sized buffers). */
static int make_dirs(const char *path, struct ge_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ge_error_set(err, GE_ERR_LIMIT, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return ge_error_set(err, GE_ERR_IO, "%s: cannot create the directory: %s", buf, strerror(errno));
        *p = saved;
        if (saved == '\0')
            break;
    }
    return GE_OK;
}

/* SHA-256, newline count and size of a file, read in 64 KiB pieces. */
static int digest_file(const char *path, char hex[SHA256_HEX_LEN + 1], uint64_t *lines, uint64_t *bytes,
                       struct ge_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ge_error_set(err, GE_ERR_IO, "%s: %s", path, strerror(errno));
    static const size_t piece = 65536;
    unsigned char *buf = malloc(piece);
    if (buf == NULL) {
        fclose(f);
        return ge_error_set(err, GE_ERR_NOMEM, "out of memory");
    }
    struct sha256 s;
    sha256_init(&s);
    uint64_t nl = 0, total = 0;
    size_t n;
    while ((n = fread(buf, 1, piece, f)) > 0) {
        sha256_update(&s, buf, n);
        for (size_t i = 0; i < n; i++)
            nl += buf[i] == '\n';
        total += n;
    }
    int rc = ferror(f) ? ge_error_set(err, GE_ERR_IO, "%s: read error", path) : GE_OK;
    fclose(f);
    free(buf);
    uint8_t d[SHA256_DIGEST_LEN];
    sha256_final(&s, d);
    sha256_digest_hex(d, hex);
    *lines = nl;
    *bytes = total;
    return rc;
}

/* Counts the complete lines of a .part and cuts a torn last line. */
static int part_complete_lines(const char *path, uint64_t *lines, struct ge_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ge_error_set(err, GE_ERR_IO, "%s: %s", path, strerror(errno));
    char buf[65536];
    uint64_t nl = 0, pos = 0, end = 0; /* end: offset just after the last newline */
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < n; i++)
            if (buf[i] == '\n') {
                nl++;
                end = pos + i + 1;
            }
        pos += n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return ge_error_set(err, GE_ERR_IO, "%s: read error", path);
    if (end != pos && truncate(path, (off_t)end) != 0)
        return ge_error_set(err, GE_ERR_IO, "%s: cannot cut the torn last line: %s", path, strerror(errno));
    *lines = nl;
    return GE_OK;
}

/* Writes text to path through path.tmp, fsync and rename, so path is either the old or the new content. */
static int write_atomic(const char *path, const char *text, struct ge_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL)
        return ge_error_set(err, GE_ERR_IO, "%s: %s", tmp, strerror(errno));
    size_t len = strlen(text);
    int bad = fwrite(text, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad || rename(tmp, path) != 0) {
        if (!bad)
            e = errno;
        unlink(tmp);
        return ge_error_set(err, GE_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    return GE_OK;
}

/* Parses a small JSON object file; *out is NULL (and GE_OK) when the file does not exist. */
static int read_json_object(const char *path, cJSON **out, struct ge_error *err)
{
    *out = NULL;
    if (!file_exists(path))
        return GE_OK;
    char *data = NULL;
    size_t len = 0;
    int rc = file_read_all(path, SOURCE_JSON_LIMIT, &data, &len, err);
    if (rc)
        return rc;
    cJSON *j = cJSON_ParseWithLength(data, len);
    free(data);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return ge_error_set(err, GE_ERR_FORMAT, "%s: not a JSON object (remove or repair it)", path);
    }
    *out = j;
    return GE_OK;
}

/* Reads the SOURCE.json record of one file: sha (and fetched_at) are "" when there is none. */
static int record_read(const char *task_dir, const char *fname, char sha[65], char fetched_at[32],
                       struct ge_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/SOURCE.json", task_dir);
    sha[0] = '\0';
    fetched_at[0] = '\0';
    cJSON *j = NULL;
    int rc = read_json_object(path, &j, err);
    if (rc || j == NULL)
        return rc;
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(j, "files");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(files, fname);
    if (e != NULL) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "sha256");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "fetched_at");
        if (!cJSON_IsString(s) || !sha256_is_hex(s->valuestring))
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: files.\"%s\".sha256: not a SHA-256 in hex", path, fname);
        else
            snprintf(sha, 65, "%s", s->valuestring);
        if (rc == GE_OK && cJSON_IsString(t))
            snprintf(fetched_at, 32, "%s", t->valuestring);
    }
    cJSON_Delete(j);
    return rc;
}

/* Sets files[fname] = entry in task_dir/SOURCE.json (entry is consumed), keeping the other records. */
static int record_write(const char *task_dir, const char *task, const char *fname, cJSON *entry,
                        struct ge_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/SOURCE.json", task_dir);
    cJSON *j = NULL;
    int rc = read_json_object(path, &j, err);
    if (rc) {
        cJSON_Delete(entry);
        return rc;
    }
    if (j == NULL) {
        j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "task", task);
    }
    cJSON *files = cJSON_GetObjectItemCaseSensitive(j, "files");
    if (!cJSON_IsObject(files)) {
        cJSON_DeleteItemFromObjectCaseSensitive(j, "files");
        files = cJSON_AddObjectToObject(j, "files");
    }
    if (cJSON_GetObjectItemCaseSensitive(files, fname))
        cJSON_ReplaceItemInObjectCaseSensitive(files, fname, entry);
    else
        cJSON_AddItemToObject(files, fname, entry);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    struct strbuf sb;
    strbuf_init(&sb, 0);
    rc = strbuf_append_str(&sb, text, err);
    if (rc == GE_OK)
        rc = strbuf_append_char(&sb, '\n', err);
    if (rc == GE_OK)
        rc = write_atomic(path, strbuf_str(&sb), err);
    strbuf_release(&sb);
    free(text);
    return rc;
}

/* The rows API URL of a source without offset and length. */
static int rows_url(const char *base, const struct data_source *src, struct strbuf *out, struct ge_error *err)
{
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    int rc = strbuf_append(out, base, blen, err);
    if (rc == GE_OK)
        rc = strbuf_append_str(out, "/rows?dataset=", err);
    if (rc == GE_OK)
        rc = http_append_query_value(out, src->dataset, err);
    if (rc == GE_OK)
        rc = strbuf_append_str(out, "&config=", err);
    if (rc == GE_OK)
        rc = http_append_query_value(out, src->config, err);
    if (rc == GE_OK)
        rc = strbuf_append_str(out, "&split=", err);
    if (rc == GE_OK)
        rc = http_append_query_value(out, src->hf_split, err);
    return rc;
}

/* Checks one rows API page and appends its rows as lines. offset: row_idx of the first row expected; asked: the
 * length requested; *total: num_rows_total (set when !have_total, checked otherwise). *truncated is set when the
 * failure is a truncated cell, which a smaller page may avoid. */
static int take_page(const char *url, const struct strbuf *body, uint64_t offset, uint64_t asked, int have_total,
                     uint64_t *total, struct strbuf *lines, uint64_t *n_rows, int *truncated, struct ge_error *err)
{
    int rc = GE_OK;
    *truncated = 0;
    cJSON *j = cJSON_ParseWithLength(strbuf_str(body), body->len);
    if (!cJSON_IsObject(j)) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: the response is not a JSON object (%zu bytes)", url, body->len);
        goto out;
    }
    const cJSON *partial = cJSON_GetObjectItemCaseSensitive(j, "partial");
    if (cJSON_IsTrue(partial)) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: \"partial\": true — the server has only part of this split, so "
                          "num_rows_total is not the split's size; refusing to fetch an incomplete split", url);
        goto out;
    }
    const cJSON *nt = cJSON_GetObjectItemCaseSensitive(j, "num_rows_total");
    if (!cJSON_IsNumber(nt) || nt->valuedouble < 0 || nt->valuedouble != floor(nt->valuedouble) ||
        nt->valuedouble > 1e15) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: num_rows_total is missing or not a count", url);
        goto out;
    }
    uint64_t t = (uint64_t)nt->valuedouble;
    if (have_total && t != *total) {
        rc = ge_error_set(err, GE_ERR_STATE, "%s: num_rows_total is %llu, but was %llu when this file was begun: "
                          "the split changed on the server; start over with --force", url, (unsigned long long)t,
                          (unsigned long long)*total);
        goto out;
    }
    *total = t;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(j, "rows");
    if (!cJSON_IsArray(rows)) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: no \"rows\" array", url);
        goto out;
    }
    uint64_t n = (uint64_t)cJSON_GetArraySize(rows);
    if (n > asked || offset + n > t) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: %llu rows returned at offset %llu, more than the %llu asked for "
                          "or than num_rows_total = %llu allows", url, (unsigned long long)n,
                          (unsigned long long)offset, (unsigned long long)asked, (unsigned long long)t);
        goto out;
    }
    if (n == 0 && offset < t) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: no rows at offset %llu, but num_rows_total is %llu: the server "
                          "has fewer rows than it says", url, (unsigned long long)offset, (unsigned long long)t);
        goto out;
    }
    uint64_t k = 0;
    for (const cJSON *r = rows->child; r; r = r->next, k++) {
        uint64_t want = offset + k;
        const cJSON *idx = cJSON_GetObjectItemCaseSensitive(r, "row_idx");
        const cJSON *row = cJSON_GetObjectItemCaseSensitive(r, "row");
        const cJSON *trunc = cJSON_GetObjectItemCaseSensitive(r, "truncated_cells");
        if (!cJSON_IsNumber(idx) || idx->valuedouble != (double)want) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: rows[%llu]: row_idx is not %llu", url, (unsigned long long)k,
                              (unsigned long long)want);
            goto out;
        }
        if (cJSON_GetArraySize(trunc) > 0) {
            char *cells = cJSON_PrintUnformatted(trunc);
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: row %llu: the server truncated cells %.200s even in a page of "
                              "%llu row%s (it cuts cells to bound its answers); this split cannot be fetched exactly "
                              "through the rows API", url, (unsigned long long)want, cells ? cells : "?",
                              (unsigned long long)asked, asked == 1 ? "" : "s");
            free(cells);
            *truncated = 1;
            goto out;
        }
        if (!cJSON_IsObject(row)) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: row %llu: \"row\" is not an object", url,
                              (unsigned long long)want);
            goto out;
        }
        rc = pyjson_append(lines, row, err);
        if (rc == GE_OK)
            rc = strbuf_append_char(lines, '\n', err);
        if (rc) {
            ge_error_prefix(err, "%s: row %llu: ", url, (unsigned long long)want);
            goto out;
        }
    }
    *n_rows = n;
out:
    cJSON_Delete(j);
    return rc;
}

/* The state file of a rows .part: which split it belongs to and its total. */
static int state_check(const char *state_path, const struct data_source *src, uint64_t *total,
                       struct ge_error *err)
{
    cJSON *j = NULL;
    int rc = read_json_object(state_path, &j, err);
    if (rc)
        return rc;
    if (j == NULL)
        return ge_error_set(err, GE_ERR_STATE, "%s is missing, so the .part beside it cannot be resumed; remove "
                            "the .part or use --force", state_path);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "dataset");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "config");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "split");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "num_rows_total");
    if (!cJSON_IsString(d) || !cJSON_IsString(c) || !cJSON_IsString(s) || !cJSON_IsNumber(t) ||
        t->valuedouble < 0)
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: needs dataset, config, split and num_rows_total", state_path);
    else if (strcmp(d->valuestring, src->dataset) != 0 || strcmp(c->valuestring, src->config) != 0 ||
             strcmp(s->valuestring, src->hf_split) != 0)
        rc = ge_error_set(err, GE_ERR_STATE, "%s: the .part was begun from %s/%s/%s, not %s/%s/%s; use --force to "
                          "start over", state_path, d->valuestring, c->valuestring, s->valuestring, src->dataset,
                          src->config, src->hf_split);
    else
        *total = (uint64_t)t->valuedouble;
    cJSON_Delete(j);
    return rc;
}

static int append_to_part(const char *path, const struct strbuf *lines, struct ge_error *err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0666);
    if (fd < 0)
        return ge_error_set(err, GE_ERR_IO, "%s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < lines->len) {
        ssize_t w = write(fd, lines->data + done, lines->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return ge_error_set(err, GE_ERR_IO, "%s: %s", path, strerror(e));
        }
        done += (size_t)w;
    }
    int bad = fsync(fd) != 0;
    int e = errno;
    if (close(fd) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    return bad ? ge_error_set(err, GE_ERR_IO, "%s: %s", path, strerror(e)) : GE_OK;
}

static int fetch_rows(struct http_client *hc, const struct data_source *src, const struct data_fetch_options *opt,
                      const char *part, struct data_fetch_result *res, cJSON *entry, struct ge_error *err)
{
    char state[4300];
    snprintf(state, sizeof state, "%s.json", part); /* part < 4200 bytes: fits */
    struct strbuf base, url, body, lines;
    strbuf_init(&base, 8192);
    strbuf_init(&url, 8192);
    strbuf_init(&body, DATA_MAX_PAGE_BYTES);
    strbuf_init(&lines, DATA_MAX_PAGE_BYTES * 2);
    uint64_t offset = 0, total = 0, n = 0;
    int have_total = 0;
    int rc = rows_url(opt->base_url, src, &base, err);
    if (rc)
        goto out;
    struct stat sb;
    if (stat(part, &sb) == 0 && sb.st_size > 0) {
        rc = state_check(state, src, &total, err);
        if (rc == GE_OK)
            rc = part_complete_lines(part, &offset, err);
        if (rc)
            goto out;
        if (offset > total) {
            rc = ge_error_set(err, GE_ERR_STATE, "%s has %llu lines, more than the %llu rows of the split; use "
                              "--force to start over", part, (unsigned long long)offset, (unsigned long long)total);
            goto out;
        }
        have_total = 1;
        res->resumed_from = offset;
        if (opt->log)
            fprintf(opt->log, "glam-eval data: %s: resuming at row %llu of %llu\n", res->path,
                    (unsigned long long)offset, (unsigned long long)total);
    } else {
        unlink(state);
    }
    unsigned pages = 0;
    uint64_t page_cap = opt->page_rows; /* halved while the server truncates cells, doubled back after a page */
    while (!have_total || offset < total) {
        uint64_t asked = page_cap;
        int truncated = 0;
        if (have_total && total - offset < asked)
            asked = total - offset;
        strbuf_reset(&url);
        rc = strbuf_appendf(&url, err, "%s&offset=%llu&length=%llu", strbuf_str(&base), (unsigned long long)offset,
                            (unsigned long long)asked);
        if (rc == GE_OK)
            rc = http_get_body(hc, strbuf_str(&url), &body, err);
        strbuf_reset(&lines);
        if (rc == GE_OK)
            rc = take_page(strbuf_str(&url), &body, offset, asked, have_total, &total, &lines, &n, &truncated, err);
        if (rc && truncated && asked > 1) {
            page_cap = asked / 2;
            if (opt->log)
                fprintf(opt->log, "glam-eval data: %s: the server truncated cells in a page of %llu rows at offset "
                        "%llu; asking for %llu\n", res->path, (unsigned long long)asked, (unsigned long long)offset,
                        (unsigned long long)page_cap);
            ge_error_clear(err);
            continue;
        }
        if (rc)
            goto out;
        page_cap = page_cap * 2 > opt->page_rows ? opt->page_rows : page_cap * 2;
        if (!have_total) {
            if (total == 0) {
                rc = ge_error_set(err, GE_ERR_FORMAT, "%s: the split has no rows", strbuf_str(&url));
                goto out;
            }
            cJSON *st = cJSON_CreateObject();
            cJSON_AddStringToObject(st, "dataset", src->dataset);
            cJSON_AddStringToObject(st, "config", src->config);
            cJSON_AddStringToObject(st, "split", src->hf_split);
            cJSON_AddNumberToObject(st, "num_rows_total", (double)total);
            char *text = cJSON_PrintUnformatted(st);
            cJSON_Delete(st);
            rc = write_atomic(state, text, err);
            free(text);
            if (rc)
                goto out;
            have_total = 1;
        }
        rc = append_to_part(part, &lines, err);
        if (rc)
            goto out;
        offset += n;
        if (opt->log && (++pages % 20 == 0 || offset == total))
            fprintf(opt->log, "glam-eval data: %s: %llu of %llu rows\n", res->path, (unsigned long long)offset,
                    (unsigned long long)total);
    }
    cJSON_AddStringToObject(entry, "kind", "rows");
    cJSON_AddStringToObject(entry, "dataset", src->dataset);
    cJSON_AddStringToObject(entry, "config", src->config);
    cJSON_AddStringToObject(entry, "split", src->hf_split);
    cJSON_AddStringToObject(entry, "url", strbuf_str(&base));
    cJSON_AddNullToObject(entry, "revision");
    res->rows = total;
out:
    strbuf_release(&base);
    strbuf_release(&url);
    strbuf_release(&body);
    strbuf_release(&lines);
    return rc;
}

static int fetch_file(struct http_client *hc, const struct data_source *src, const struct data_fetch_options *opt,
                      const char *part, struct data_fetch_result *res, cJSON *entry, struct ge_error *err)
{
    char url[4096];
    const char *u = src->url;
    if (opt->mirror) {
        const char *host = strstr(u, "://");
        host = host ? host + 3 : u;
        size_t mlen = strlen(opt->mirror);
        while (mlen > 0 && opt->mirror[mlen - 1] == '/')
            mlen--;
        snprintf(url, sizeof url, "%.*s/%s", (int)mlen, opt->mirror, host);
        u = url;
    }
    struct stat sb;
    if (stat(part, &sb) == 0 && sb.st_size > 0) {
        res->resumed_from = (uint64_t)sb.st_size;
        if (opt->log)
            fprintf(opt->log, "glam-eval data: %s: resuming at byte %llu\n", res->path,
                    (unsigned long long)sb.st_size);
    }
    uint64_t bytes = 0;
    int rc = http_get_file(hc, u, part, &bytes, err);
    if (rc)
        return rc;
    char hex[SHA256_HEX_LEN + 1];
    uint64_t lines = 0;
    rc = digest_file(part, hex, &lines, &bytes, err);
    if (rc)
        return rc;
    if (strcmp(hex, src->sha256) != 0) {
        unlink(part); /* known bad: the next attempt starts from byte 0 */
        return ge_error_set(err, GE_ERR_FORMAT, "%s: the downloaded file has SHA-256 %s, but the release file has "
                            "%s; it was deleted (a changed upstream file or a broken mirror)", u, hex, src->sha256);
    }
    cJSON_AddStringToObject(entry, "kind", "file");
    cJSON_AddStringToObject(entry, "url", u);
    cJSON_AddNullToObject(entry, "revision");
    res->rows = lines;
    return GE_OK;
}

/* Builds DIR/<task>, "<split>.jsonl", DIR/<task>/<split>.jsonl and its .part (buffers of the sizes below). */
static int file_paths(const char *dir, const char *task, const char *split, char task_dir[4096], char fname[256],
                      char path[4096], char part[4200], struct ge_error *err)
{
    if (snprintf(task_dir, 4096, "%s/%s", dir, task) >= 4096 || snprintf(fname, 256, "%s.jsonl", split) >= 256 ||
        snprintf(path, 4096, "%s/%s", task_dir, fname) >= 4096 || snprintf(part, 4200, "%s.part", path) >= 4200)
        return ge_error_set(err, GE_ERR_LIMIT, "%s: path too long", dir);
    return GE_OK;
}

/* Completes a fetch that was stopped after SOURCE.json recorded the file but before its .part was renamed: a
 * .part whose SHA-256 equals the record is that file, so it is renamed over the path (outcome DONE, resumed).
 * Anything else (no .part, no record, another checksum: a fetch still in progress) is left alone. */
static int finish_recorded_part(const char *task_dir, const char *fname, const char *part, int by_rows,
                                struct data_fetch_result *res, int *finished, struct ge_error *err)
{
    *finished = 0;
    if (!file_exists(part))
        return GE_OK;
    char rec[65], at[32];
    int rc = record_read(task_dir, fname, rec, at, err);
    if (rc || rec[0] == '\0')
        return rc;
    int fd = open(part, O_RDONLY);
    if (fd < 0)
        return GE_OK; /* unreadable: the normal path reports it */
    int busy = flock(fd, LOCK_SH | LOCK_NB) != 0; /* another fetch holds it: not ours to touch */
    int same = 0;
    uint64_t bytes = 0;
    if (!busy) {
        rc = digest_file(part, res->sha256, &res->rows, &bytes, err);
        same = rc == GE_OK && strcmp(res->sha256, rec) == 0;
    }
    if (same && rename(part, res->path) != 0)
        rc = ge_error_set(err, GE_ERR_IO, "%s: cannot rename to %s: %s", part, res->path, strerror(errno));
    close(fd);
    if (rc == GE_OK && same) {
        char state[4300];
        snprintf(state, sizeof state, "%s.json", part);
        unlink(state);
        res->outcome = DATA_FETCH_DONE;
        res->resumed_from = by_rows ? res->rows : bytes;
        *finished = 1;
    } else
        res->sha256[0] = '\0', res->rows = 0;
    return rc;
}

int data_fetch(struct http_client *hc, const struct data_source *src, const struct data_fetch_options *opt,
               struct data_fetch_result *res, struct ge_error *err)
{
    memset(res, 0, sizeof *res);
    char task_dir[4096], part[4200], fname[256];
    if (file_paths(opt->dir, src->task, src->split, task_dir, fname, res->path, part, err))
        return err->code;
    if (src->kind == DATA_SOURCE_NONE)
        return ge_error_set(err, GE_ERR_NOTFOUND, "%s: %s", res->path, src->note);
    if (!opt->force) {
        int finished;
        int rc = finish_recorded_part(task_dir, fname, part, src->kind == DATA_SOURCE_ROWS, res, &finished, err);
        if (rc || finished)
            return rc;
    }
    if (file_exists(res->path) && !opt->force) {
        char rec[65], at[32];
        int rc = record_read(task_dir, fname, rec, at, err);
        if (rc)
            return rc;
        if (rec[0] == '\0') {
            res->outcome = DATA_FETCH_KEPT;
            return GE_OK;
        }
        uint64_t bytes;
        rc = digest_file(res->path, res->sha256, &res->rows, &bytes, err);
        if (rc)
            return rc;
        if (strcmp(res->sha256, rec) != 0)
            return ge_error_set(err, GE_ERR_STATE, "%s: SHA-256 %s, but SOURCE.json recorded %s when it was fetched "
                                "(%s): the file changed since; --force downloads it again", res->path, res->sha256,
                                rec, at);
        res->outcome = DATA_FETCH_UP_TO_DATE;
        return GE_OK;
    }
    int rc = make_dirs(task_dir, err);
    if (rc)
        return rc;
    /* The .part is locked for the whole fetch, so two fetches of one file cannot interleave their writes. */
    char state[4300], now[CLOCK_ISO8601_CAP];
    snprintf(state, sizeof state, "%s.json", part); /* part < 4200 bytes: fits */
    cJSON *entry = NULL;
    int lock_fd = open(part, O_WRONLY | O_CREAT, 0666);
    if (lock_fd < 0)
        return ge_error_set(err, GE_ERR_IO, "%s: %s", part, strerror(errno));
    int locked = flock(lock_fd, LOCK_EX | LOCK_NB) == 0;
    if (!locked) {
        rc = errno == EWOULDBLOCK ? ge_error_set(err, GE_ERR_STATE, "%s: another glam-eval data fetch is writing it",
                                                 part)
                                  : ge_error_set(err, GE_ERR_IO, "%s: cannot lock: %s", part, strerror(errno));
        goto out;
    }
    if (opt->force) {
        unlink(state);
        if (ftruncate(lock_fd, 0) != 0) {
            rc = ge_error_set(err, GE_ERR_IO, "%s: %s", part, strerror(errno));
            goto out;
        }
    }
    entry = cJSON_CreateObject();
    rc = src->kind == DATA_SOURCE_ROWS ? fetch_rows(hc, src, opt, part, res, entry, err)
                                       : fetch_file(hc, src, opt, part, res, entry, err);
    uint64_t lines = 0, bytes = 0;
    if (rc == GE_OK)
        rc = digest_file(part, res->sha256, &lines, &bytes, err);
    if (rc == GE_OK && lines != res->rows)
        rc = ge_error_set(err, GE_ERR_STATE, "%s: %llu lines, expected %llu", part, (unsigned long long)lines,
                          (unsigned long long)res->rows);
    if (rc)
        goto out;
    /* The record is written before the rename: a fetch killed between the two leaves a complete .part whose
     * SHA-256 is recorded, which the next fetch recognises and renames (finish_recorded_part); the other order
     * would leave a complete file without its record. sha256, rows and bytes first, so the record reads
     * top-down. */
    cJSON *full = cJSON_CreateObject();
    cJSON_AddStringToObject(full, "sha256", res->sha256);
    cJSON_AddNumberToObject(full, "rows", (double)lines);
    cJSON_AddNumberToObject(full, "bytes", (double)bytes);
    while (entry->child) {
        cJSON *item = cJSON_DetachItemViaPointer(entry, entry->child);
        cJSON_AddItemToObject(full, item->string, item);
    }
    cJSON_AddStringToObject(full, "fetched_at", clock_iso8601_now(now));
    rc = record_write(task_dir, src->task, fname, full, err);
    if (rc == GE_OK && rename(part, res->path) != 0)
        rc = ge_error_set(err, GE_ERR_IO, "%s: cannot rename to %s: %s", part, res->path, strerror(errno));
    if (rc == GE_OK) {
        unlink(state);
        res->outcome = DATA_FETCH_DONE;
    }
out:
    cJSON_Delete(entry);
    struct stat sb;
    if (rc && locked && fstat(lock_fd, &sb) == 0 && sb.st_size == 0)
        unlink(part); /* nothing to resume: leave no empty .part behind */
    close(lock_fd);
    return rc;
}

int data_file_status(const char *dir, const char *task, const char *split, struct data_file_status *st,
                     struct ge_error *err)
{
    memset(st, 0, sizeof *st);
    char task_dir[4096], part[4200], fname[256];
    if (file_paths(dir, task, split, task_dir, fname, st->path, part, err))
        return err->code;
    int rc = record_read(task_dir, fname, st->recorded_sha256, st->fetched_at, err);
    if (rc)
        return rc;
    if (file_exists(part)) {
        st->has_part = 1;
        char hex[SHA256_HEX_LEN + 1];
        uint64_t bytes;
        rc = digest_file(part, hex, &st->part_rows, &bytes, err);
        if (rc)
            return rc;
    }
    if (!file_exists(st->path)) {
        st->state = DATA_FILE_MISSING;
        return GE_OK;
    }
    rc = digest_file(st->path, st->sha256, &st->rows, &st->bytes, err);
    if (rc)
        return rc;
    st->state = st->recorded_sha256[0] == '\0'                 ? DATA_FILE_UNRECORDED
                : strcmp(st->sha256, st->recorded_sha256) == 0 ? DATA_FILE_VERIFIED
                                                               : DATA_FILE_CHANGED;
    return GE_OK;
}
