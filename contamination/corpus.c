/* corpus.c — the corpus list (files, directories, @LIST files expanded in a fixed order) and the part files a scan
 * writes (contracts in scan.h; the part file format in docs/contamination.md). Split from scan.c, which keeps the
 * hot path. */
#include "config.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contamination/scan.h"
#include "contamination/source.h"
#include "harness/outfile.h"
#include "harness/sha256.h"
#include "harness/xalloc.h"

#define CN_MAX_DEPTH 64 /* directory nesting followed */

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* ---- corpus list ------------------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int corpus_add(struct cn_corpus *c, size_t *cap, const char *path, struct ge_error *err)
{
    if (c->n >= CN_MAX_FILES)
        return ge_error_set(err, GE_ERR_LIMIT, "more than %zu corpus files", CN_MAX_FILES);
    if (c->n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        c->paths = xrealloc(c->paths, *cap * sizeof *c->paths);
    }
    c->paths[c->n++] = xstrdup(path);
    return GE_OK;
}

static void corpus_skip(struct cn_corpus *c, const char *path, const char *why)
{
    if (c->n_skipped++ == 0)
        snprintf(c->first_skipped, sizeof c->first_skipped, "%s: %s", path, why);
}

/* The directories being walked, outermost first: a link back to one of them is a loop. */
struct walk_stack {
    dev_t dev[CN_MAX_DEPTH + 1];
    ino_t ino[CN_MAX_DEPTH + 1];
};

static int corpus_walk(struct cn_corpus *c, size_t *cap, const char *path, int depth, struct walk_stack *ws,
                       struct ge_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (depth == 0)
            return ge_error_set(err, GE_ERR_NOTFOUND, "%s: %s", path, strerror(errno));
        corpus_skip(c, path, strerror(errno)); /* e.g. a dangling symbolic link */
        return GE_OK;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (S_ISREG(st.st_mode) || depth == 0)
            return corpus_add(c, cap, path, err);
        corpus_skip(c, path, "not a regular file");
        return GE_OK;
    }
    for (int k = 0; k < depth; k++)
        if (ws->dev[k] == st.st_dev && ws->ino[k] == st.st_ino) {
            corpus_skip(c, path, "a link back to a directory being walked (a loop)");
            return GE_OK;
        }
    if (depth >= CN_MAX_DEPTH)
        return ge_error_set(err, GE_ERR_LIMIT, "%s: directories nested deeper than %d", path, CN_MAX_DEPTH);
    ws->dev[depth] = st.st_dev;
    ws->ino[depth] = st.st_ino;
    DIR *d = opendir(path);
    if (!d)
        return ge_error_set(err, GE_ERR_IO, "%s: cannot open directory: %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, ncap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == ncap) {
            ncap = ncap ? ncap * 2 : 64;
            names = xrealloc(names, ncap * sizeof *names);
        }
        size_t l = strlen(path) + strlen(de->d_name) + 2;
        names[n] = xmalloc(l);
        snprintf(names[n++], l, "%s%s%s", path, has_suffix(path, "/") ? "" : "/", de->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    int rc = GE_OK;
    for (size_t i = 0; i < n; i++) {
        if (rc == GE_OK)
            rc = corpus_walk(c, cap, names[i], depth + 1, ws, err);
        free(names[i]);
    }
    free(names);
    return rc;
}

int cn_corpus_expand(char *const *args, size_t n_args, struct cn_corpus *out, struct ge_error *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    int rc = GE_OK;
    struct walk_stack ws;
    for (size_t i = 0; i < n_args && rc == GE_OK; i++) {
        if (args[i][0] != '@') {
            rc = corpus_walk(out, &cap, args[i], 0, &ws, err);
            continue;
        }
        FILE *f = fopen(args[i] + 1, "r");
        if (!f) {
            rc = ge_error_set(err, GE_ERR_NOTFOUND, "%s: cannot open file list: %s", args[i] + 1, strerror(errno));
            break;
        }
        char *line = NULL;
        size_t lcap = 0, line_no = 0;
        ssize_t got;
        while (rc == GE_OK && (got = getline(&line, &lcap, f)) >= 0) {
            line_no++;
            while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
                line[--got] = '\0';
            if (line[strspn(line, " \t\v\f")] == '\0')
                continue; /* blank or only whitespace */
            rc = corpus_walk(out, &cap, line, 0, &ws, err);
            if (rc)
                ge_error_prefix(err, "%s: line %zu: ", args[i] + 1, line_no);
        }
        free(line);
        fclose(f);
    }
    if (rc == GE_OK && out->n == 0)
        rc = ge_error_set(err, GE_ERR_NOTFOUND, "empty corpus: no files found in the corpus arguments");
    if (rc) {
        cn_corpus_release(out);
        return rc;
    }
    struct sha256 h;
    uint8_t d[32];
    sha256_init(&h);
    for (size_t i = 0; i < out->n; i++) {
        sha256_update(&h, out->paths[i], strlen(out->paths[i]));
        sha256_update(&h, "\n", 1);
    }
    sha256_final(&h, d);
    sha256_digest_hex(d, out->list_sha256);
    return GE_OK;
}

void cn_corpus_release(struct cn_corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->paths[i]);
    free(c->paths);
    memset(c, 0, sizeof *c);
}

int cn_corpus_plain_sizes(const struct cn_corpus *c, uint64_t *bytes)
{
    for (size_t i = 0; i < c->n; i++) {
        /* Opened first and then examined through the descriptor: the size and the magic number are one file's. A
         * FIFO or device is not opened at all (opening could block, reading would consume the stream). */
        struct stat st;
        if (stat(c->paths[i], &st) != 0 || !S_ISREG(st.st_mode))
            return 0;
        int fd = open(c->paths[i], O_RDONLY | O_NONBLOCK);
        if (fd < 0)
            return 0;
        uint8_t magic[4];
        ssize_t got = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? pread(fd, magic, sizeof magic, 0) : -1;
        close(fd);
        if (got < 0 || cn_source_kind_of_magic(magic, (size_t)got) != CN_SOURCE_PLAIN)
            return 0;
        bytes[i] = (uint64_t)st.st_size;
    }
    return 1;
}

/* ---- part files -------------------------------------------------------------------------------------------- */

static int put_line(FILE *f, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return -1;
    int bad = fputs(s, f) < 0 || fputc('\n', f) < 0;
    free(s);
    return bad ? -1 : 0;
}

int cn_part_write(const char *path, const struct cn_index *ix, const struct cn_corpus *corpus,
                  const struct cn_scan_opts *o, const struct cn_scan_result *res, struct ge_error *err)
{
    struct out_file out;
    int rc = out_file_open(&out, path, err), bad = 0;
    if (rc)
        return rc;
    FILE *f = out.f;
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "format", "glam-eval-contamination-part");
    cJSON_AddNumberToObject(h, "version", 1);
    cJSON_AddStringToObject(h, "index_sha256", ix->sha256);
    char abs_index[PATH_MAX]; /* absolute, so merge can run from another directory */
    cJSON_AddStringToObject(h, "index_path", ix->path && realpath(ix->path, abs_index) ? abs_index
                                             : ix->path ? ix->path : "");
    cJSON_AddNumberToObject(h, "shard", o->shard_index);
    cJSON_AddNumberToObject(h, "shards", o->shard_count);
    cJSON_AddNumberToObject(h, "files_total", (double)corpus->n);
    cJSON_AddStringToObject(h, "file_list_sha256", corpus->list_sha256);
    cJSON_AddStringToObject(h, "text_field", o->text_field);
    cJSON_AddStringToObject(h, "text_docs", o->text_docs_blank ? "blank" : "file");
    cJSON_AddStringToObject(h, "format_option", o->format == CN_FORMAT_AUTO ? "auto" :
                            o->format == CN_FORMAT_TEXT ? "text" : "jsonl");
    bad |= put_line(f, h);
    uint64_t n_wit = 0;
    for (size_t i = 0; i < res->n_files; i++) {
        const struct cn_file_result *fr = &res->files[i];
        cJSON *l = cJSON_CreateObject();
        cJSON_AddNumberToObject(l, "file", fr->file);
        cJSON_AddStringToObject(l, "path", corpus->paths[fr->file]);
        cJSON_AddNumberToObject(l, "bytes", (double)fr->bytes);
        cJSON_AddNumberToObject(l, "docs", (double)fr->docs);
        cJSON_AddNumberToObject(l, "words", (double)fr->words);
        cJSON_AddNumberToObject(l, "warnings", (double)fr->n_warnings);
        if (fr->first_warning)
            cJSON_AddStringToObject(l, "first_warning", fr->first_warning);
        if (fr->error)
            cJSON_AddStringToObject(l, "error", fr->error);
        bad |= put_line(f, l);
    }
    for (size_t e = 0; e < res->n_examples; e++) {
        const struct cn_witness *w = &res->witness[e];
        if (w->file == CN_NO_FILE)
            continue;
        cJSON *l = cJSON_CreateObject();
        cJSON_AddNumberToObject(l, "example", (double)e);
        cJSON_AddNumberToObject(l, "file", w->file);
        cJSON_AddNumberToObject(l, "doc", (double)w->doc);
        cJSON_AddNumberToObject(l, "offset", (double)w->offset);
        cJSON_AddNumberToObject(l, "entry", w->entry);
        bad |= put_line(f, l);
        n_wit++;
    }
    cJSON *end = cJSON_CreateObject();
    cJSON_AddBoolToObject(end, "end", 1);
    cJSON_AddNumberToObject(end, "files", (double)res->n_files);
    cJSON_AddNumberToObject(end, "witnesses", (double)n_wit);
    bad |= put_line(f, end);
    if (bad) { /* a line that could not be made or written: the part is not committed */
        out_file_abort(&out);
        return ge_error_set(err, GE_ERR_IO, "%s: cannot write the part file", path);
    }
    return out_file_commit(&out, err);
}
