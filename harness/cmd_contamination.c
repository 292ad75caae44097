/* cmd_contamination.c — `glam-eval contamination index|scan|merge|report`: the training-data contamination audit
 * (GLaM Appendix D, GPT-3 Appendix C). The work is in contamination/; this file parses options and prints.
 * docs/contamination.md describes the rule, the file formats and recipes for running shards on a cluster. */
#include "config.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "contamination/audit.h"
#include "contamination/index.h"
#include "contamination/scan.h"
#include "harness/cli.h"
#include "harness/commands.h"
#include "harness/outfile.h"
#include "harness/xalloc.h"
#include "tasks/dataset.h"
#include "tasks/registry.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* progress reporting only */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Writes every example's normalised words as JSONL (what the audit looks for; used by the tests). */
static int write_examples(const struct cn_build_opts *bo, const struct cn_index *ix, const char *path,
                          struct ge_error *err)
{
    struct out_file out; /* the same rule as every --out (harness/outfile.h) */
    int rc = out_file_open(&out, path, err);
    if (rc)
        return rc;
    FILE *f = out.f;
    size_t ex = 0;
    for (size_t t = 0; t < ix->n_tasks && rc == GE_OK; t++) {
        const struct task *task = task_find(ix->tasks[t].name);
        struct dataset ds;
        rc = dataset_load(task, bo->data_dir, ix->tasks[t].split, 0, NULL, &ds, err);
        if (rc)
            break;
        size_t n = ix->tasks[t].n_examples;
        for (size_t i = 0; i < n && i < ds.n_docs; i++, ex++) {
            char *text = cn_example_text(task, &ds.docs[i]);
            struct cn_words w;
            cn_words_init(&w);
            cn_words_add(&w, text, strlen(text), 0, NULL);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "example", (double)ex);
            cJSON_AddStringToObject(o, "task", ix->tasks[t].name);
            cJSON_AddStringToObject(o, "split", ix->tasks[t].split);
            cJSON_AddNumberToObject(o, "n", ix->tasks[t].n);
            cJSON_AddStringToObject(o, "doc_id", ds.docs[i].id);
            cJSON_AddStringToObject(o, "text", text);
            cJSON *arr = cJSON_AddArrayToObject(o, "words");
            for (size_t k = 0; k < w.n; k++)
                cJSON_AddItemToArray(arr, cJSON_CreateString(w.text + w.start[k]));
            char *s = cJSON_PrintUnformatted(o);
            fprintf(f, "%s\n", s);
            free(s);
            cJSON_Delete(o);
            cn_words_release(&w);
            free(text);
        }
        dataset_release(&ds);
    }
    if (rc == GE_OK)
        return out_file_commit(&out, err);
    out_file_abort(&out);
    return rc;
}

static int sub_index(int argc, char **argv)
{
    enum { OPT_NGRAM = 256, OPT_GPT3, OPT_DATA_DIR, OPT_SKIP_MISSING, OPT_LIMIT, OPT_EXAMPLES };
    static const struct option opts[] = {
        {"tasks", required_argument, NULL, 't'},
        {"ngram", required_argument, NULL, OPT_NGRAM},
        {"gpt3", no_argument, NULL, OPT_GPT3},
        {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"skip-missing", no_argument, NULL, OPT_SKIP_MISSING},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"examples", required_argument, NULL, OPT_EXAMPLES},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cn_build_opts bo = {.tasks = "all", .n = 13};
    const char *out = NULL, *data_opt = NULL, *examples = NULL;
    int c, ngram_given = 0;
    uint64_t v;
    struct ge_error err;
    ge_error_clear(&err);
    while ((c = getopt_long(argc, argv, ":t:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': bo.tasks = optarg; break;
        case 'o': out = optarg; break;
        case OPT_NGRAM:
            if (cli_parse_u64(optarg, "--ngram", &v, &err) || v < 1 || v > CN_MAX_N)
                return cli_usage_error(&cmd_contamination, "--ngram must be 1..%d", CN_MAX_N);
            bo.n = (unsigned)v;
            ngram_given = 1;
            break;
        case OPT_GPT3: bo.gpt3 = 1; break;
        case OPT_DATA_DIR: data_opt = optarg; break;
        case OPT_SKIP_MISSING: bo.skip_missing = 1; break;
        case OPT_LIMIT:
            if (cli_parse_u64(optarg, "--limit", &v, &err))
                return cli_usage_error(&cmd_contamination, "%s", err.msg);
            bo.limit = (size_t)v;
            break;
        case OPT_EXAMPLES: examples = optarg; break;
        case 'h': return cli_help(&cmd_contamination);
        default: return cli_option_error(&cmd_contamination, c, argv);
        }
    }
    if (ngram_given && bo.gpt3)
        return cli_usage_error(&cmd_contamination, "--ngram and --gpt3 exclude each other");
    if (!out || optind != argc)
        return cli_usage_error(&cmd_contamination, "index needs --out FILE and no other arguments");
    bo.data_dir = dataset_dir(data_opt);
    struct cn_index *ix = NULL;
    int rc = cn_index_build(&bo, stderr, &ix, &err);
    if (rc == GE_OK)
        rc = cn_index_write(ix, out, &err);
    if (rc == GE_OK && examples)
        rc = write_examples(&bo, ix, examples, &err);
    if (rc) {
        cn_index_free(ix);
        return rc == GE_ERR_USAGE ? cli_usage_error(&cmd_contamination, "%s", err.msg)
                                  : cli_fail(&cmd_contamination, &err);
    }
    printf("%s: %zu examples of %zu task%s, %zu distinct n-grams (sha256 %.12s)\n", out, ix->n_examples,
           ix->n_tasks, ix->n_tasks == 1 ? "" : "s", ix->n_entries, ix->sha256);
    printf("%-16s %-12s %3s %9s %9s %9s\n", "task", "split", "n", "examples", "short", "no words");
    for (size_t t = 0; t < ix->n_tasks; t++)
        printf("%-16s %-12s %3u %9u %9u %9u\n", ix->tasks[t].name, ix->tasks[t].split, ix->tasks[t].n,
               ix->tasks[t].n_examples, ix->tasks[t].n_short, ix->tasks[t].n_empty);
    cn_index_free(ix);
    return CLI_EXIT_OK;
}

static int parse_shard(const char *text, unsigned *index, unsigned *count, struct ge_error *err)
{
    const char *slash = strchr(text, '/');
    uint64_t i, n;
    char head[32];
    if (!slash || (size_t)(slash - text) >= sizeof head)
        return ge_error_set(err, GE_ERR_USAGE, "--shard: \"%s\" is not I/N (e.g. 0/4)", text);
    memcpy(head, text, (size_t)(slash - text));
    head[slash - text] = '\0';
    if (cli_parse_u64(head, "--shard", &i, err) || cli_parse_u64(slash + 1, "--shard", &n, err) || n == 0 ||
        i >= n || n > 1000000)
        return ge_error_set(err, GE_ERR_USAGE, "--shard: \"%s\" is not I/N with 0 <= I < N", text);
    *index = (unsigned)i;
    *count = (unsigned)n;
    return GE_OK;
}

static int sub_scan(int argc, char **argv)
{
    enum { OPT_INDEX = 256, OPT_SHARD, OPT_FORMAT, OPT_TEXT_FIELD, OPT_TEXT_DOCS, OPT_MAX_DOC, OPT_STRICT, OPT_DB,
           OPT_NAME };
    static const struct option opts[] = {
        {"index", required_argument, NULL, OPT_INDEX},
        {"out", required_argument, NULL, 'o'},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"text-field", required_argument, NULL, OPT_TEXT_FIELD},
        {"text-docs", required_argument, NULL, OPT_TEXT_DOCS},
        {"max-doc-bytes", required_argument, NULL, OPT_MAX_DOC},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"db", required_argument, NULL, OPT_DB},
        {"name", required_argument, NULL, OPT_NAME},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cn_scan_opts so = {.format = CN_FORMAT_AUTO, .text_field = "text", .max_doc_bytes = CN_DEFAULT_MAX_DOC,
                              .shard_count = 1, .warn = stderr, .progress = stderr, .progress_tty = -1};
    const char *index_path = NULL, *out = NULL, *db = NULL, *name = NULL;
    int c;
    uint64_t v;
    struct ge_error err;
    ge_error_clear(&err);
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_INDEX: index_path = optarg; break;
        case 'o': out = optarg; break;
        case OPT_SHARD:
            if (parse_shard(optarg, &so.shard_index, &so.shard_count, &err))
                return cli_usage_error(&cmd_contamination, "%s", err.msg);
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "auto") == 0) so.format = CN_FORMAT_AUTO;
            else if (strcmp(optarg, "text") == 0) so.format = CN_FORMAT_TEXT;
            else if (strcmp(optarg, "jsonl") == 0) so.format = CN_FORMAT_JSONL;
            else return cli_usage_error(&cmd_contamination, "--format must be auto, text or jsonl");
            break;
        case OPT_TEXT_FIELD: so.text_field = optarg; break;
        case OPT_TEXT_DOCS:
            if (strcmp(optarg, "file") == 0) so.text_docs_blank = 0;
            else if (strcmp(optarg, "blank") == 0) so.text_docs_blank = 1;
            else return cli_usage_error(&cmd_contamination, "--text-docs must be file or blank");
            break;
        case OPT_MAX_DOC:
            if (cli_parse_u64(optarg, "--max-doc-bytes", &v, &err) || v < 1 || v > ((uint64_t)1 << 32))
                return cli_usage_error(&cmd_contamination, "--max-doc-bytes must be 1..4294967296");
            so.max_doc_bytes = (size_t)v;
            break;
        case OPT_STRICT: so.strict = 1; break;
        case OPT_DB: db = optarg; break;
        case OPT_NAME: name = optarg; break;
        case 'h': return cli_help(&cmd_contamination);
        default: return cli_option_error(&cmd_contamination, c, argv);
        }
    }
    if (!index_path)
        return cli_usage_error(&cmd_contamination, "scan needs --index FILE");
    if (!out && !db)
        return cli_usage_error(&cmd_contamination, "scan needs --out PART (a part file for merge) or --db FILE");
    if (db && so.shard_count > 1)
        return cli_usage_error(&cmd_contamination, "a shard writes a part file (--out); merge the parts into --db");
    if (so.shard_count > 1) /* shards usually run side by side on one terminal: bars redrawn in place would mix */
        so.progress_tty = 0;
    if (out && cli_out_is_db(out, cli_db_path(db)))
        return cli_usage_error(&cmd_contamination, "--out %s is the database (%s) or one of its files; name another "
                               "file", out, cli_db_path(db));
    if (name && !db)
        return cli_usage_error(&cmd_contamination, "--name names the audit in --db; with --out, pass it to merge");
    if (out && db) { /* the merge reads the part back from --out: a FIFO or device would give it nothing */
        char *target = NULL;
        int in_place = 0;
        if (out_file_resolve(out, &target, &in_place, &err) == GE_OK && in_place) {
            free(target);
            return cli_usage_error(&cmd_contamination, "--out %s is not a regular file, and with --db the part is "
                                   "read back to be merged; name a file, or scan with --out alone and merge", out);
        }
        free(target);
    }
    if (name && name[0] == '\0')
        return cli_usage_error(&cmd_contamination, "--name must not be empty");
    if (so.text_field[0] == '\0')
        return cli_usage_error(&cmd_contamination, "--text-field must not be empty");
    if (optind == argc)
        return cli_usage_error(&cmd_contamination, "scan needs at least one CORPUS file, directory or @LIST");
    struct cn_index *ix = NULL;
    struct cn_corpus corpus;
    memset(&corpus, 0, sizeof corpus);
    struct cn_scan_result res;
    memset(&res, 0, sizeof res);
    char *tmp_part = NULL;
    int kept = 0; /* the temporary part outlives a refused merge */
    int rc = cn_corpus_expand(&argv[optind], (size_t)(argc - optind), &corpus, &err);
    if (rc == GE_OK && corpus.n_skipped)
        fprintf(stderr, "glam-eval contamination scan: note: %zu entr%s below the corpus directories left out (not "
                "regular files, or links that loop), the first: %s\n", corpus.n_skipped,
                corpus.n_skipped == 1 ? "y" : "ies", corpus.first_skipped);
    double t0 = now_seconds();
    if (rc == GE_OK)
        rc = cn_index_load(index_path, 1, &ix, &err);
    double t1 = now_seconds();
    /* Before the scan, not after it: the database and the audit name, given or default. After the arguments are
     * checked (the corpus expanded, the index loaded), so a bad one never creates the database. */
    if (rc == GE_OK && db)
        rc = cn_merge_precheck(db, name, index_path, &corpus, &err);
    if (rc == GE_OK)
        rc = cn_scan(ix, &corpus, &so, &res, &err);
    double t2 = now_seconds();
    if (rc == GE_OK) { /* with --db, the part goes to --out when given (and is kept), else to a temporary file */
        if (!out) {
            size_t l = strlen(db) + 32;
            tmp_part = xmalloc(l);
            snprintf(tmp_part, l, "%s.part-%ld", db, (long)getpid());
        }
        rc = cn_part_write(out ? out : tmp_part, ix, &corpus, &so, &res, &err);
    }
    size_t n_dirty = 0;
    for (size_t i = 0; rc == GE_OK && i < res.n_examples; i++)
        n_dirty += res.witness[i].file != CN_NO_FILE;
    if (rc == GE_OK) {
        double dt = t2 - t1 > 1e-9 ? t2 - t1 : 1e-9;
        fprintf(stderr, "glam-eval contamination scan: shard %u/%u: %zu file%s, %llu bytes, %llu documents, %llu "
                "words in %.2f s (%.1f MB/s; index loaded in %.2f s); %llu lookups, %llu past the filter, %llu hash "
                "hits, %llu verified; %zu of %zu examples dirty in this shard\n",
                so.shard_index, so.shard_count, res.n_files, res.n_files == 1 ? "" : "s",
                (unsigned long long)res.bytes, (unsigned long long)res.docs, (unsigned long long)res.words, dt,
                (double)res.bytes / dt / 1e6, t1 - t0, (unsigned long long)res.lookups,
                (unsigned long long)res.filtered, (unsigned long long)res.hits, (unsigned long long)res.verified,
                n_dirty, res.n_examples);
    }
    if (rc == GE_OK && db) {
        const char *parts[1] = {out ? out : tmp_part};
        struct cn_merge_opts mo = {.parts = parts, .n_parts = 1, .index_path = index_path, .db_path = db,
                                   .name = name, .warn = stderr};
        struct cn_merge_summary sum;
        rc = cn_merge(&mo, &sum, &err);
        if (rc == GE_OK)
            printf("%s: audit %lld '%s': %zu of %zu examples dirty\n", db, (long long)sum.index_id, sum.name,
                   sum.n_dirty, sum.n_examples);
        /* A refusal the precheck could not foresee (the default name of a compressed corpus, known only from
         * its decompressed sizes; a name stored meanwhile) keeps the scan: merge stores it under another name. */
        kept = rc != GE_OK && !out;
        if (!out && !kept)
            remove(tmp_part);
    } else if (rc == GE_OK) {
        printf("%s: part %u/%u: %zu of %zu examples dirty in this shard\n", out, so.shard_index, so.shard_count,
               n_dirty, res.n_examples);
    }
    cn_scan_result_release(&res);
    cn_corpus_release(&corpus);
    cn_index_free(ix);
    if (rc == GE_OK) {
        free(tmp_part);
        return CLI_EXIT_OK;
    }
    int code = cli_fail(&cmd_contamination, &err);
    if (kept)
        fprintf(stderr, "glam-eval contamination scan: the scan is kept in the part file %s; store it with "
                "'glam-eval contamination merge %s --db %s --name NAME'\n", tmp_part, tmp_part, db);
    free(tmp_part);
    return code;
}

static int sub_merge(int argc, char **argv)
{
    enum { OPT_INDEX = 256, OPT_DB, OPT_NAME, OPT_CORPUS };
    static const struct option opts[] = {
        {"index", required_argument, NULL, OPT_INDEX},
        {"db", required_argument, NULL, OPT_DB},
        {"name", required_argument, NULL, OPT_NAME},
        {"corpus", required_argument, NULL, OPT_CORPUS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cn_merge_opts mo = {.warn = stderr};
    const char *db = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_INDEX: mo.index_path = optarg; break;
        case OPT_DB: db = optarg; break;
        case OPT_NAME: mo.name = optarg; break;
        case OPT_CORPUS: mo.corpus = optarg; break;
        case 'h': return cli_help(&cmd_contamination);
        default: return cli_option_error(&cmd_contamination, c, argv);
        }
    }
    if (optind == argc)
        return cli_usage_error(&cmd_contamination, "merge needs the part files of every shard");
    mo.parts = (const char *const *)&argv[optind];
    mo.n_parts = (size_t)(argc - optind);
    mo.db_path = cli_db_path(db);
    struct ge_error err;
    ge_error_clear(&err);
    struct cn_merge_summary sum;
    if (cn_merge(&mo, &sum, &err))
        return cli_fail(&cmd_contamination, &err);
    printf("%s: audit %lld '%s': %zu of %zu examples dirty; %zu corpus files (%zu with errors); %zu documents of "
           "stored runs marked\n", mo.db_path, (long long)sum.index_id, sum.name, sum.n_dirty, sum.n_examples,
           sum.n_files, sum.n_files_with_errors, sum.n_documents_marked);
    return CLI_EXIT_OK;
}

static int sub_report(int argc, char **argv)
{
    enum { OPT_DB = 256, OPT_AUDIT, OPT_RUN };
    static const struct option opts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"audit", required_argument, NULL, OPT_AUDIT},
        {"run", required_argument, NULL, OPT_RUN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    uint64_t audit = 0, run = 0;
    int c;
    struct ge_error err;
    ge_error_clear(&err);
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: db = optarg; break;
        case OPT_AUDIT:
            if (cli_parse_u64(optarg, "--audit", &audit, &err) || audit == 0)
                return cli_usage_error(&cmd_contamination, "--audit needs an audit id (a positive number)");
            break;
        case OPT_RUN:
            if (cli_parse_u64(optarg, "--run", &run, &err) || run == 0)
                return cli_usage_error(&cmd_contamination, "--run needs a run id (a positive number)");
            break;
        case 'h': return cli_help(&cmd_contamination);
        default: return cli_option_error(&cmd_contamination, c, argv);
        }
    }
    if (optind != argc)
        return cli_usage_error(&cmd_contamination, "report takes no arguments");
    struct store *st = NULL;
    int64_t index_id = (int64_t)audit;
    char name[512] = "";
    int rc = store_open(cli_db_path(db), STORE_MODE_READ, 0, &st, &err);
    if (rc == GE_OK)
        rc = cn_audit_resolve(st, &index_id, name, sizeof name, &err);
    if (rc == GE_OK && run == 0) {
        struct cn_table_row *rows = NULL;
        size_t n = 0;
        rc = cn_audit_table(st, index_id, &rows, &n, &err);
        if (rc == GE_OK) {
            printf("Contamination audit %lld '%s' (GLaM Appendix D)\n", (long long)index_id, name);
            printf("%-16s %-12s %11s %11s %9s\n", "Dataset", "Split", "Dirty count", "Total count", "% clean");
            for (size_t i = 0; i < n; i++)
                printf("%-16s %-12s %11lld %11lld %9.2f\n", rows[i].display, rows[i].split,
                       (long long)rows[i].dirty, (long long)rows[i].total, rows[i].pct_clean);
        }
        free(rows);
    } else if (rc == GE_OK) {
        rc = cn_print_clean_table(stdout, stderr, 0, st, (int64_t)run, index_id, name, &err);
    }
    store_close(st);
    return rc ? cli_fail(&cmd_contamination, &err) : CLI_EXIT_OK;
}

static int run_contamination(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cmd_contamination, "needs a subcommand: index, scan, merge or report");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
        return cli_help(&cmd_contamination);
    argv[1] = argv[0];
    if (strcmp(sub, "index") == 0)
        return sub_index(argc - 1, argv + 1);
    if (strcmp(sub, "scan") == 0)
        return sub_scan(argc - 1, argv + 1);
    if (strcmp(sub, "merge") == 0)
        return sub_merge(argc - 1, argv + 1);
    if (strcmp(sub, "report") == 0)
        return sub_report(argc - 1, argv + 1);
    return cli_usage_error(&cmd_contamination, "unknown subcommand '%s' (index, scan, merge or report)", sub);
}

const struct command cmd_contamination = {
    .name = "contamination",
    .summary = "audit training corpora for benchmark examples (GLaM Appendix D, GPT-3 Appendix C)",
    .usage =
        "usage: glam-eval contamination index --out FILE [--tasks SPEC] [--ngram N | --gpt3] [--data-dir DIR]\n"
        "                                     [--skip-missing] [--limit N] [--examples FILE]\n"
        "       glam-eval contamination scan --index FILE [--out PART] [--db FILE [--name NAME]] [--shard I/N]\n"
        "                                    [--format auto|text|jsonl] [--text-field F] [--text-docs file|blank]\n"
        "                                    [--max-doc-bytes N] [--strict] CORPUS...\n"
        "       glam-eval contamination merge PART... [--db FILE] [--index FILE] [--name NAME] [--corpus TEXT]\n"
        "       glam-eval contamination report [--db FILE] [--audit ID] [--run ID]\n"
        "\n"
        "index   collects the n-grams of the evaluation examples (the tasks' evaluation splits): every N-word window\n"
        "        (default N = 13; --gpt3: GPT-3's per-task N, the 5th-percentile example length clamped to 8..13),\n"
        "        or the whole example when it has fewer than N words. Text is lowercased, punctuation dropped,\n"
        "        words split on whitespace (docs/contamination.md). --examples FILE also writes each example's\n"
        "        words as JSONL.\n"
        "scan    reads the corpus once: files, directories (recursively, sorted) and @LIST files of paths; plain\n"
        "        text, JSONL (.jsonl/.json: the string field --text-field, default \"text\", one document per line),\n"
        "        gzip and zstd (by magic number). Every hash hit is verified word by word; each dirty example gets a\n"
        "        witness (file, document, byte offset, n-gram). --shard I/N scans files k with k mod N == I and\n"
        "        writes a part file; --db merges at once (unsharded; the database and the audit name, --name or the\n"
        "        default <index file>@<corpus hash>, are checked before the scan, the default one when the corpus is\n"
        "        uncompressed files, whose sizes it hashes; a merge still refused keeps the part file and says how to\n"
        "        store it; with --out too, the part file is kept). Bad input is reported with file and offset\n"
        "        and skipped; --strict makes it an error. --text-docs blank: plain-text documents end at blank\n"
        "        lines (default: one per file). --max-doc-bytes: longest JSONL line (default 64 MiB).\n"
        "merge   combines the part files of all shards of one scan exactly into the database (--db, default\n"
        "        $GLAM_EVAL_DB or ./glam-eval.db): contamination_indexes, contamination_flags, documents.dirty.\n"
        "report  prints GLaM's Appendix D table (dirty count, total count, % clean per dataset and split) of the\n"
        "        latest audit or --audit ID; with --run ID, each task's score on all, clean and dirty examples and\n"
        "        the relative difference (clean - all) / all, as GPT-3 reported.\n",
    .run = run_contamination,
};
