/* cmd_data.c — `glam-eval data fetch TASK...|all` (download the split files each task reads, resumably, with
 * recorded checksums; tasks/data_fetch.h) and `glam-eval data status [TASK...]` (what is present, with record
 * counts, checksums and whether they match the record). Nothing else in glam-eval downloads: `run` only reads. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/cli.h"
#include "harness/commands.h"
#include "tasks/data_fetch.h"
#include "tasks/data_sources.h"
#include "tasks/dataset.h"
#include "tasks/registry.h"

#define DATA_MAX_SOURCES_PER_TASK 8

/* Resolves the TASK arguments ("all", "nlg", "nlu" or names, also comma-separated) into registry order. */
static int select_tasks(int argc, char **argv, const struct task **out, size_t *n_out, int *all,
                        struct ge_error *err)
{
    *n_out = 0;
    *all = 0;
    for (int i = 0; i < argc; i++) {
        const struct task *sel[REGISTRY_MAX_SELECTED];
        size_t n = 0;
        int rc = task_select(argv[i], sel, REGISTRY_MAX_SELECTED, &n, err);
        if (rc)
            return rc;
        if (strcmp(argv[i], "all") == 0 || strcmp(argv[i], "nlg") == 0 || strcmp(argv[i], "nlu") == 0)
            *all = 1;
        for (size_t k = 0; k < n; k++) {
            size_t j = 0;
            while (j < *n_out && out[j] != sel[k])
                j++;
            if (j == *n_out && *n_out < REGISTRY_MAX_SELECTED)
                out[(*n_out)++] = sel[k];
        }
    }
    return GE_OK;
}

static int fetch_run(int argc, char **argv)
{
    enum { OPT_BASE = 256, OPT_MIRROR, OPT_PAGE, OPT_RETRIES, OPT_TIMEOUT, OPT_WAIT, OPT_MAXWAIT, OPT_SKIP };
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"data-dir", required_argument, NULL, 'd'},
        {"force", no_argument, NULL, 'f'},
        {"base-url", required_argument, NULL, OPT_BASE},
        {"mirror", required_argument, NULL, OPT_MIRROR},
        {"page-rows", required_argument, NULL, OPT_PAGE},
        {"retries", required_argument, NULL, OPT_RETRIES},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"retry-wait-ms", required_argument, NULL, OPT_WAIT},
        {"max-wait", required_argument, NULL, OPT_MAXWAIT},
        {"skip-unavailable", no_argument, NULL, OPT_SKIP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const struct command *cmd = &cmd_data;
    const char *dir_opt = NULL, *base = NULL, *mirror = NULL;
    uint64_t page = DATA_MAX_PAGE_ROWS, retries = 5, timeout = 60, wait_ms = 1000, max_wait = 300;
    int force = 0, skip_unavailable = 0, c;
    struct ge_error err;
    ge_error_clear(&err);
    while ((c = getopt_long(argc, argv, ":d:fh", opts, NULL)) != -1) {
        uint64_t *num = NULL;
        const char *name = NULL;
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'f': force = 1; break;
        case OPT_BASE: base = optarg; break;
        case OPT_MIRROR: mirror = optarg; break;
        case OPT_PAGE: num = &page; name = "--page-rows"; break;
        case OPT_RETRIES: num = &retries; name = "--retries"; break;
        case OPT_TIMEOUT: num = &timeout; name = "--timeout"; break;
        case OPT_WAIT: num = &wait_ms; name = "--retry-wait-ms"; break;
        case OPT_MAXWAIT: num = &max_wait; name = "--max-wait"; break;
        case OPT_SKIP: skip_unavailable = 1; break;
        case 'h': return cli_help(cmd);
        default: return cli_option_error(cmd, c, argv);
        }
        if (num && cli_parse_u64(optarg, name, num, &err))
            return cli_usage_error(cmd, "%s", err.msg);
    }
    if (page < 1 || page > DATA_MAX_PAGE_ROWS)
        return cli_usage_error(cmd, "--page-rows must be 1..%u (the rows API's limit)", DATA_MAX_PAGE_ROWS);
    if (retries > 100 || timeout < 1 || timeout > 3600 || wait_ms > 600000 || max_wait > 86400)
        return cli_usage_error(cmd, "--retries (<= 100), --timeout (1..3600 s), --retry-wait-ms (<= 600000) or "
                               "--max-wait (<= 86400 s) out of range");
    if (optind >= argc)
        return cli_usage_error(cmd, "data fetch needs TASK... or all (see glam-eval tasks)");
    const struct task *tasks[REGISTRY_MAX_SELECTED];
    size_t n_tasks = 0;
    int all = 0;
    if (select_tasks(argc - optind, argv + optind, tasks, &n_tasks, &all, &err))
        return cli_usage_error(cmd, "%s", err.msg);
    if (base == NULL)
        base = getenv("GLAM_EVAL_DATASETS_SERVER");
    if (base == NULL || *base == '\0')
        base = DATA_DEFAULT_BASE_URL;
    struct data_fetch_options fo = {
        .dir = dataset_dir(dir_opt), .base_url = base, .mirror = mirror, .force = force,
        .page_rows = (unsigned)page, .log = stderr,
    };
    struct http_client hc;
    if (http_client_init(&hc, (long)timeout, (unsigned)retries, (unsigned)wait_ms, (unsigned)max_wait, stderr, &err))
        return cli_fail(cmd, &err);
    size_t n_failed = 0, n_unavailable = 0, n_resumable = 0;
    for (size_t i = 0; i < n_tasks; i++) {
        const struct data_source *srcs[DATA_MAX_SOURCES_PER_TASK];
        size_t n = data_sources_for(tasks[i]->name, srcs, DATA_MAX_SOURCES_PER_TASK);
        if (n > DATA_MAX_SOURCES_PER_TASK)
            n = DATA_MAX_SOURCES_PER_TASK;
        for (size_t k = 0; k < n; k++) {
            struct data_fetch_result r;
            ge_error_clear(&err);
            int rc = data_fetch(&hc, srcs[k], &fo, &r, &err);
            if (rc == GE_ERR_NOTFOUND && srcs[k]->kind == DATA_SOURCE_NONE) {
                n_unavailable++;
                fprintf(stderr, "glam-eval data: %s: %s\n", all ? "not downloadable (skipped)" : "error", err.msg);
                continue;
            }
            if (rc == GE_ERR_NOTFOUND && skip_unavailable) {
                n_unavailable++;
                fprintf(stderr, "glam-eval data: not available from the server (skipped): %s\n", err.msg);
                continue;
            }
            if (rc) {
                n_failed++;
                fprintf(stderr, "glam-eval data: error: %s\n", err.msg);
                char part[4200];
                struct stat pst;
                if (snprintf(part, sizeof part, "%s.part", r.path) < (int)sizeof part && stat(part, &pst) == 0 &&
                    pst.st_size > 0)
                    n_resumable++; /* what was downloaded is kept for the next attempt */
                continue;
            }
            switch (r.outcome) {
            case DATA_FETCH_DONE:
                printf("%s  %llu rows  sha256 %s  (fetched%s)\n", r.path, (unsigned long long)r.rows, r.sha256,
                       r.resumed_from ? ", resumed" : "");
                break;
            case DATA_FETCH_UP_TO_DATE:
                printf("%s  %llu rows  sha256 %s  (present, matches SOURCE.json)\n", r.path,
                       (unsigned long long)r.rows, r.sha256);
                break;
            case DATA_FETCH_KEPT:
                printf("%s  present without a SOURCE.json record: left as it is (--force replaces it)\n", r.path);
                break;
            }
        }
    }
    http_client_release(&hc);
    if (n_failed || (n_unavailable && !all && !skip_unavailable)) {
        char how[160] = "";
        if (n_resumable)
            snprintf(how, sizeof how, "; %zu kept what was downloaded: run the same command again to resume",
                     n_resumable);
        else if (n_failed)
            snprintf(how, sizeof how, "; see the errors above");
        fprintf(stderr, "glam-eval data: %zu file%s failed, %zu not downloadable%s\n", n_failed,
                n_failed == 1 ? "" : "s", n_unavailable, how);
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

static const char *state_name(const struct data_file_status *st, const struct data_source *src)
{
    switch (st->state) {
    case DATA_FILE_VERIFIED: return "ok";
    case DATA_FILE_UNRECORDED:
        return src->kind == DATA_SOURCE_FILE && strcmp(st->sha256, src->sha256) == 0 ? "release" : "unrecorded";
    case DATA_FILE_CHANGED: return "CHANGED";
    case DATA_FILE_MISSING: break;
    }
    return st->has_part ? "partial" : "MISSING";
}

static int status_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const struct command *cmd = &cmd_data;
    const char *dir_opt = NULL;
    int c;
    struct ge_error err;
    ge_error_clear(&err);
    while ((c = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'h': return cli_help(cmd);
        default: return cli_option_error(cmd, c, argv);
        }
    }
    const struct task *tasks[REGISTRY_MAX_SELECTED];
    size_t n_tasks = 0;
    int all = 0;
    char *all_arg[] = {"all"};
    if (optind < argc ? select_tasks(argc - optind, argv + optind, tasks, &n_tasks, &all, &err)
                      : select_tasks(1, all_arg, tasks, &n_tasks, &all, &err))
        return cli_usage_error(cmd, "%s", err.msg);
    const char *dir = dataset_dir(dir_opt);
    size_t n_changed = 0, n_unreadable = 0;
    printf("%-14s %-18s %-10s %8s  %-64s  %s\n", "task", "file", "state", "records", "sha256", "source");
    for (size_t i = 0; i < n_tasks; i++) {
        const struct data_source *srcs[DATA_MAX_SOURCES_PER_TASK];
        size_t n = data_sources_for(tasks[i]->name, srcs, DATA_MAX_SOURCES_PER_TASK);
        if (n > DATA_MAX_SOURCES_PER_TASK)
            n = DATA_MAX_SOURCES_PER_TASK;
        for (size_t k = 0; k < n; k++) {
            struct data_file_status st;
            if (data_file_status(dir, tasks[i]->name, srcs[k]->split, &st, &err)) { /* the others still listed */
                printf("%-14s %-18.18s %-10s %8s  %-64s  %s\n", tasks[i]->name, srcs[k]->split, "UNREADABLE", "-",
                       "-", err.msg); /* (the split: its file name is in the message) */
                n_unreadable++;
                ge_error_clear(&err);
                continue;
            }
            char fname[300], rows[32], src[400];
            snprintf(fname, sizeof fname, "%s.jsonl", srcs[k]->split);
            if (st.state != DATA_FILE_MISSING)
                snprintf(rows, sizeof rows, "%llu", (unsigned long long)st.rows);
            else if (st.has_part)
                snprintf(rows, sizeof rows, "%llu", (unsigned long long)st.part_rows);
            else
                snprintf(rows, sizeof rows, "-");
            struct dataset_location loc;
            struct ge_error loc_err;
            const char *state = state_name(&st, srcs[k]);
            if (st.state == DATA_FILE_MISSING && !st.has_part &&
                dataset_locate(tasks[i], dir, srcs[k]->split, &loc, &loc_err) == GE_OK &&
                loc.source.format != RELEASE_HF_JSONL) {
                state = "official"; /* readable from an official release file (tasks/release_formats.h) */
                snprintf(src, sizeof src, "%s file %.300s", release_format_name(loc.source.format), loc.path);
            } else if (srcs[k]->kind == DATA_SOURCE_ROWS)
                snprintf(src, sizeof src, "rows %s/%s/%s", srcs[k]->dataset, srcs[k]->config, srcs[k]->hf_split);
            else if (srcs[k]->kind == DATA_SOURCE_FILE)
                snprintf(src, sizeof src, "file %s", srcs[k]->url);
            else
                snprintf(src, sizeof src, "not downloadable (glam-eval data fetch %s explains)", tasks[i]->name);
            printf("%-14s %-18s %-10s %8s  %-64s  %s\n", tasks[i]->name, fname, state, rows,
                   st.sha256[0] ? st.sha256 : "-", src);
            if (st.state == DATA_FILE_CHANGED) {
                n_changed++;
                fprintf(stderr, "glam-eval data: %s: SHA-256 %s differs from %s recorded in SOURCE.json (%s)\n",
                        st.path, st.sha256, st.recorded_sha256, st.fetched_at);
            }
        }
    }
    printf("\ndata directory: %s (--dir, else $GLAM_EVAL_DATA, else ./data). ok = matches the SHA-256 recorded by "
           "data fetch; release = equals the release file's known SHA-256; official = no JSONL, but an official release file the task reads (docs/data-formats.md); unrecorded = present, not fetched by glam-eval; partial = an interrupted fetch (records so "
           "far); records = lines\n", dir);
    if (n_unreadable)
        fprintf(stderr, "glam-eval data: %zu file%s could not be read (UNREADABLE rows)\n", n_unreadable,
                n_unreadable == 1 ? "" : "s");
    return n_changed || n_unreadable ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

static int data_run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cmd_data, "missing subcommand (fetch or status)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cli_help(&cmd_data);
    if (strcmp(argv[1], "fetch") == 0)
        return fetch_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "status") == 0)
        return status_run(argc - 1, argv + 1);
    return cli_usage_error(&cmd_data, "unknown subcommand '%s' (fetch or status)", argv[1]);
}

const struct command cmd_data = {
    .name = "data",
    .summary = "download the benchmark data (data fetch) and show what is present (data status)",
    .usage = "usage: glam-eval data fetch TASK...|all [--dir DIR] [--force] [--base-url URL] [--mirror URL]\n"
             "                       [--page-rows N] [--retries N] [--timeout S] [--retry-wait-ms MS] [--max-wait S]\n"
             "                       [--skip-unavailable]\n"
             "       glam-eval data status [TASK...] [--dir DIR]\n"
             "\n"
             "fetch downloads the split files each task reads (its evaluation split and its few-shot split) into\n"
             "DIR/<task>/<split>.jsonl, in the Hugging Face Hub schema of the dataset lm-evaluation-harness loads:\n"
             "from the Hugging Face dataset viewer's rows API (--base-url, else $GLAM_EVAL_DATASETS_SERVER, else\n"
             "https://datasets-server.huggingface.co), or, where the original release file already is that JSONL,\n"
             "from its pinned URL, checked against its known SHA-256 (--mirror URL fetches it as URL/<host>/<path>).\n"
             "A download in progress lives in <split>.jsonl.part; an interrupted fetch continues where it stopped\n"
             "when run again. Each finished file's SHA-256, record count, source and time are recorded in\n"
             "DIR/<task>/SOURCE.json and printed. A complete file is never overwritten unless --force; one with a\n"
             "record is checked against it. Transient failures (connection errors, timeouts, HTTP 429, 5xx but 501) are\n"
             "retried --retries times (default 5), waiting what Retry-After asks (at most --max-wait, default 300 s)\n"
             "or --retry-wait-ms (default 1000) doubled per retry; --timeout (default 60 s) is how long a request\n"
             "may make no progress. --page-rows (1..100, default 100) is rows per request. Tasks that cannot be\n"
             "downloaded (StoryCloze: request form; RACE) are explained; with all they are skipped, by name they fail.\n"
             "A file the server answers 401, 403, 404, 410 or 501 for (the dataset viewer's answer for datasets it\n"
             "does not serve) is a failure, or with --skip-unavailable reported and skipped. Exit status 1 when a file\n"
             "failed; one whose download was interrupted continues from its .part when run again.\n"
             "\n"
             "status lists, per task (default all), each file: ok (SHA-256 equals its record), release (equals the\n"
             "release file's known SHA-256), unrecorded (present, not fetched by glam-eval), CHANGED (differs from\n"
             "its record: exit status 1), partial (an interrupted fetch), official (no JSONL, but an official release\n"
             "file the task reads instead), or MISSING; with its record count (lines), SHA-256 and source.\n"
             "\n"
             "DIR is --dir (or --data-dir), else $GLAM_EVAL_DATA, else ./data. glam-eval run never downloads.\n",
    .run = data_run,
};
