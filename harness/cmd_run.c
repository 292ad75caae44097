/* cmd_run.c — `glam-eval run`: evaluate a model on tasks at shot settings, resumably, into the results database,
 * and print the per-task table with GLaM's Avg NLG / Avg NLU rows. */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli.h"
#include "harness/clock.h"
#include "harness/commands.h"
#include "harness/evaluate.h"
#include "harness/fileio.h"
#include "harness/run_lock.h"
#include "harness/xalloc.h"
#include "model/backend_open.h"
#include "model/runtime.h"
#include "results/published.h"
#include "results/report.h"
#include "results/store.h"
#include "tasks/dataset.h"
#include "tasks/registry.h"

#define RUN_MAX_SHOT_SETTINGS 8

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* A shot setting: -1 = "few" (the task's GLaM K), else a number. */
static int parse_shots(const char *spec, int *out, size_t *n_out, struct ge_error *err)
{
    char *copy = strdup(spec), *save = NULL;
    size_t n = 0;
    int rc = GE_OK;
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == GE_OK; tok = strtok_r(NULL, ",", &save)) {
        if (n == RUN_MAX_SHOT_SETTINGS) {
            rc = ge_error_set(err, GE_ERR_USAGE, "--shots: at most %d settings", RUN_MAX_SHOT_SETTINGS);
            break;
        }
        int v = -1;
        if (strcmp(tok, "few") != 0) {
            uint64_t u;
            if (cli_parse_u64(tok, "--shots", &u, err) || u > 256) {
                rc = ge_error_set(err, GE_ERR_USAGE, "--shots: \"%s\" is not 0..256 or \"few\"", tok);
                break;
            }
            v = (int)u;
        }
        for (size_t k = 0; k < n && rc == GE_OK; k++)
            if (out[k] == v)
                rc = ge_error_set(err, GE_ERR_USAGE, "--shots: \"%s\" is given twice", tok);
        if (rc)
            break;
        out[n++] = v;
    }
    free(copy);
    if (rc == GE_OK && n == 0)
        rc = ge_error_set(err, GE_ERR_USAGE, "--shots: empty list");
    *n_out = n;
    return rc;
}

/* --shard I/N: 0 <= I < N, N >= 1. */
static int parse_shard(const char *text, size_t *index, size_t *count, struct ge_error *err)
{
    const char *slash = strchr(text, '/');
    char head[32];
    uint64_t i = 0, n = 0;
    if (slash == NULL || (size_t)(slash - text) >= sizeof head)
        return ge_error_set(err, GE_ERR_USAGE, "--shard: \"%s\" is not I/N (e.g. 0/4)", text);
    memcpy(head, text, (size_t)(slash - text));
    head[slash - text] = '\0';
    if (cli_parse_u64(head, "--shard", &i, err) || cli_parse_u64(slash + 1, "--shard", &n, err) || n == 0 ||
        n > 1000000 || i >= n)
        return ge_error_set(err, GE_ERR_USAGE, "--shard: \"%s\" is not I/N with 0 <= I < N", text);
    *index = (size_t)i;
    *count = (size_t)n;
    return GE_OK;
}

struct run_row {
    const struct task *task;
    int shots;         /* actual K */
    int scored;        /* 1 once its metrics are computed (print_table shows only those) */
    unsigned settings; /* bit s: the row fills shot setting s (two when "few" is the task's K and also asked for
                          as a number, e.g. 1,few on TriviaQA: one task run serves both) */
    struct evaluate_result res;
};

static void print_table(const struct run_row *rows, size_t n_rows, const int *settings, size_t n_settings,
                        size_t shard_index, size_t shard_count)
{
    if (shard_count > 1)
        printf("\nshard %zu/%zu: PARTIAL metrics over this shard's documents only; combine the shards' databases "
               "with 'glam-eval merge'\n", shard_index, shard_count);
    /* cut: documents whose prompt did not fit the window even at 0 shots and was left-truncated */
    printf("\n%-14s %6s %-14s %10s %9s %7s %7s %7s\n", "task", "shots", "metric", "value", "stderr", "n", "failed",
           "cut");
    for (size_t i = 0; i < n_rows; i++) {
        if (!rows[i].scored)
            continue;
        if (rows[i].res.n == 0 && rows[i].res.n_failed == 0) { /* only a shard can be empty (evaluate.c) */
            printf("%-14s %6d (no documents in this shard)\n", rows[i].task->name, rows[i].shots);
            continue;
        }
        char se[32] = "-"; /* not stored when it is undefined (n < 2, or F1a with no positive prediction) */
        if (isfinite(rows[i].res.std_error))
            snprintf(se, sizeof se, "%.4f", rows[i].res.std_error);
        printf("%-14s %6d %-14s %10.4f %9s %7zu %7zu %7zu%s\n", rows[i].task->name, rows[i].shots, rows[i].res.metric,
               rows[i].res.value, se, rows[i].res.n, rows[i].res.n_failed, rows[i].res.n_truncated,
               shard_count > 1 ? " (partial)" : "");
    }
    /* GLaM's averages, computed and marked by the one implementation in results/report.h, so they read as
     * `glam-eval report`'s (in fractions, as the rows above): an average over fewer numbers than GLaM's, or over a
     * shard's partial ones, is marked INCOMPLETE or PARTIAL, never presented as the real one. */
    size_t n_report_rows = report_n_rows();
    double *values = xmalloc(n_report_rows * sizeof *values);
    int *partial = xmalloc(n_report_rows * sizeof *partial);
    for (size_t s = 0; s < n_settings; s++) {
        char label[32];
        snprintf(label, sizeof label, settings[s] < 0 ? "few" : "%d", settings[s]);
        for (size_t k = 0; k < n_report_rows; k++) {
            values[k] = NAN;
            partial[k] = shard_count > 1; /* every row shown is a finished task run: only a shard is partial */
        }
        for (size_t i = 0; i < n_rows; i++)
            if (rows[i].scored && (rows[i].settings & (1u << s)))
                for (size_t m = 0; m < rows[i].res.n_all; m++) {
                    long k = report_row_find(rows[i].task->name, rows[i].res.all_names[m]);
                    if (k >= 0)
                        values[k] = rows[i].res.all_values[m];
                }
        struct report_avg avgs[2];
        report_glam_averages(values, partial, &avgs[0], &avgs[1], NULL);
        for (int g = 0; g < 2; g++) {
            const struct report_avg *a = &avgs[g];
            char status[REPORT_AVG_STATUS_CAP];
            if (a->n_present == 0)
                continue;
            if (report_avg_complete(a))
                printf("Avg %s (%s-shot)  %.4f (all %zu %s)\n", g ? "NLU" : "NLG", label, a->value, a->n_expected,
                       g ? "tasks" : "numbers");
            else
                printf("Avg %s (%s-shot)  %.4f %s: not comparable with GLaM's\n", g ? "NLU" : "NLG", label, a->value,
                       report_avg_status(a, status, sizeof status));
        }
    }
    free(values);
    free(partial);
}

/* {"argv":[...]} plus, for a shard, "shard":{"index":I,"count":N} (read by merge, results/merge.c). */
static char *args_json(int argc, char **argv, size_t shard_index, size_t shard_count)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < argc; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "argv", a);
    if (shard_count > 1) {
        cJSON *sh = cJSON_AddObjectToObject(o, "shard");
        cJSON_AddNumberToObject(sh, "index", (double)shard_index);
        cJSON_AddNumberToObject(sh, "count", (double)shard_count);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* The --tasks and --shots a run was started with, read from its stored argv with the same option table (so
 * "--tasks=x", "-tx" and abbreviations read as they did), into *tasks_spec and *shots_spec (owned, freed by the
 * caller; the defaults when absent). */
static int stored_selection(const char *args_json, const struct option *opts, char **tasks_spec, char **shots_spec,
                            struct ge_error *err)
{
    cJSON *root = cJSON_Parse(args_json ? args_json : "");
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(root, "argv");
    int n = cJSON_IsArray(av) ? cJSON_GetArraySize(av) : 0;
    if (n < 1) {
        cJSON_Delete(root);
        return ge_error_set(err, GE_ERR_FORMAT, "the run's stored args have no argv");
    }
    char **argv = xcalloc((size_t)n + 1, sizeof *argv);
    int k = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, av)
        argv[k++] = xstrdup(cJSON_IsString(a) ? a->valuestring : "");
    const char *t = "all", *sh = "0";
    int c;
    optind = 0; /* glibc: reinitialise for this vector; the command line was parsed already */
    while ((c = getopt_long(n, argv, ":m:t:s:h", opts, NULL)) != -1) {
        if (c == 't')
            t = optarg;
        else if (c == 's')
            sh = optarg;
    }
    optind = 0;
    *tasks_spec = xstrdup(t);
    *shots_spec = xstrdup(sh);
    for (int i = 0; i < n; i++)
        free(argv[i]);
    free(argv);
    cJSON_Delete(root);
    return GE_OK;
}

/* A resume may select the run's tasks and shot settings or fewer (the run then stays interrupted), never more: an
 * added task would change a run whose stored arguments say otherwise. */
static int check_resume_selection(const char *args_json, const struct option *opts, const struct task *const *tasks,
                                  size_t n_tasks, const int *settings, size_t n_settings, int64_t run_id,
                                  struct ge_error *err)
{
    char *ts = NULL, *ss = NULL;
    const struct task *had[REGISTRY_MAX_SELECTED];
    size_t n_had = 0, n_had_settings = 0;
    int had_settings[RUN_MAX_SHOT_SETTINGS];
    int rc = stored_selection(args_json, opts, &ts, &ss, err);
    struct ge_error why;
    ge_error_clear(&why);
    if (rc == GE_OK && (task_select(ts, had, REGISTRY_MAX_SELECTED, &n_had, &why) != GE_OK ||
                        parse_shots(ss, had_settings, &n_had_settings, &why) != GE_OK))
        rc = ge_error_set(err, GE_ERR_FORMAT, "run %lld: its stored --tasks %s --shots %s do not parse: %s",
                          (long long)run_id, ts, ss, why.msg);
    for (size_t i = 0; rc == GE_OK && i < n_tasks; i++) {
        int found = 0;
        for (size_t j = 0; j < n_had && !found; j++)
            found = had[j] == tasks[i];
        if (!found)
            rc = ge_error_set(err, GE_ERR_STATE, "run %lld was started with --tasks %s; a resume cannot add %s "
                              "(start a new run for it); the run was not changed", (long long)run_id, ts,
                              tasks[i]->name);
    }
    for (size_t i = 0; rc == GE_OK && i < n_settings; i++) {
        int found = 0;
        for (size_t j = 0; j < n_had_settings && !found; j++)
            found = had_settings[j] == settings[i];
        if (!found)
            rc = ge_error_set(err, GE_ERR_STATE, "run %lld was started with --shots %s; a resume cannot add a shot "
                              "setting (start a new run for it); the run was not changed", (long long)run_id, ss);
    }
    free(ts);
    free(ss);
    return rc;
}

/* The largest K any shot setting asks of task (0 when none asks for examples). */
static int max_shots(const struct task *task, const int *settings, size_t n_settings)
{
    int most = 0;
    for (size_t s = 0; s < n_settings; s++) {
        int k = settings[s] < 0 ? task->glam_shots : settings[s];
        most = k > most ? k : most;
    }
    return most;
}

/* Reads the data of every selected task before anything is stored, so that a data problem (a missing file without
 * --skip-missing, a malformed record under --strict, more shots than the few-shot split holds) stops the command
 * with no run row behind it. The evaluation split of tasks[t] is loaded into evals[t] (kept: scoring reads it).
 * The few-shot split, when a setting asks for examples, is read, checked against the largest K and released:
 * every task's training split at once would not fit in memory on the full data, so the run reads it again
 * when it builds the prompts (twice the parse, once the memory). With skip_missing a task whose evaluation split
 * is absent is named on stderr and dropped: tasks[] and evals[] are compacted and *n_tasks is the number kept (a
 * missing few-shot split is still an error: that task's data is there, only incomplete). On failure every split
 * loaded is released and *n_tasks is 0. */
static int load_task_data(const struct task **tasks, size_t *n_tasks, struct dataset *evals, const int *settings,
                          size_t n_settings, const char *data_dir, int strict, int skip_missing, struct ge_error *err)
{
    size_t n_kept = 0;
    int rc = GE_OK;
    for (size_t t = 0; t < *n_tasks && rc == GE_OK; t++) {
        const struct task *task = tasks[t];
        struct dataset *eval = &evals[n_kept], pool_ds;
        memset(&pool_ds, 0, sizeof pool_ds);
        rc = dataset_load(task, data_dir, task->eval_split, strict, stderr, eval, err);
        if (rc == GE_ERR_NOTFOUND && skip_missing) {
            fprintf(stderr, "glam-eval: skipping %s: %s\n", task->name, err->msg);
            rc = GE_OK;
            continue;
        }
        /* The few-shot split only when a setting asks for examples: a 0-shot run needs only the evaluation
         * split, and what it stores is the same whether or not the few-shot file is there (evaluate_prepare
         * hashes the pool only for K > 0). */
        int k = max_shots(task, settings, n_settings);
        const struct dataset *pool = k > 0 ? eval : NULL;
        if (rc == GE_OK && k > 0 && strcmp(task->fewshot_split, task->eval_split) != 0) {
            rc = dataset_load(task, data_dir, task->fewshot_split, strict, stderr, &pool_ds, err);
            pool = &pool_ds;
        }
        if (rc == GE_OK)
            rc = evaluate_check_shots(task, eval, pool, k, err);
        dataset_release(&pool_ds);
        if (rc == GE_OK)
            tasks[n_kept++] = task;
    }
    if (rc != GE_OK) {
        for (size_t t = 0; t <= n_kept && t < *n_tasks; t++) /* n_kept: the one that failed, if it loaded */
            dataset_release(&evals[t]);
        n_kept = 0;
    }
    *n_tasks = n_kept;
    return rc;
}

/* The checks of a resume that need only the database, made before any data or model is read: run run_id exists
 * (read into *ri, owned by the caller: store_run_info_release), is not a published reference run, and was started
 * with the tasks and shot settings selected or more. Changes nothing. */
static int check_resume_run(struct store *st, int64_t run_id, const struct option *opts,
                            const struct task *const *tasks, size_t n_tasks, const int *settings, size_t n_settings,
                            struct store_run_info *ri, struct ge_error *err)
{
    int rc = store_get_run(st, run_id, ri, err);
    struct published_run_info pub;
    struct ge_error why;
    ge_error_clear(&why);
    int prc = rc == GE_OK ? published_run_read(st, run_id, &pub, &why) : GE_ERR_NOTFOUND;
    if (prc == GE_OK)
        rc = ge_error_set(err, GE_ERR_STATE, "run %lld is the published reference run '%s' (imported by 'glam-eval "
                          "import published'): published runs are read-only and cannot be resumed; evaluate a model "
                          "with a new run (without --resume)", (long long)run_id, pub.label);
    else if (prc != GE_ERR_NOTFOUND)
        rc = ge_error_set(err, prc, "%s", why.msg);
    if (prc == GE_OK)
        published_run_info_release(&pub);
    if (rc == GE_OK)
        rc = check_resume_selection(ri->args_json, opts, tasks, n_tasks, settings, n_settings, run_id, err);
    return rc;
}

static int run_run(int argc, char **argv)
{
    enum { OPT_LIMIT = 256, OPT_SEED, OPT_DB, OPT_DATA_DIR, OPT_BATCH, OPT_RESUME, OPT_STRICT, OPT_SKIP_MISSING,
           OPT_SHARD };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"tasks", required_argument, NULL, 't'},
        {"shots", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"seed", required_argument, NULL, OPT_SEED},
        {"db", required_argument, NULL, OPT_DB},
        {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"batch-size", required_argument, NULL, OPT_BATCH},
        {"resume", required_argument, NULL, OPT_RESUME},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"skip-missing", no_argument, NULL, OPT_SKIP_MISSING},
        {"shard", required_argument, NULL, OPT_SHARD},
        BACKEND_LONG_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *tasks_spec = "all", *shots_spec = "0", *db_opt = NULL, *data_opt = NULL;
    uint64_t limit = 0, seed = 1234, batch = 32, resume_id = 0;
    size_t shard_index = 0, shard_count = 1;
    int strict = 0, skip_missing = 0, c;
    struct backend_options bo; /* --model and the endpoint options (model/backend_open.h) */
    backend_options_init(&bo);
    struct ge_error err;
    ge_error_clear(&err);
    while ((c = getopt_long(argc, argv, ":m:t:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (backend_add_model(&bo, optarg, &err))
                return cli_usage_error(&cmd_run, "%s", err.msg);
            break;
        case 't': tasks_spec = optarg; break;
        case 's': shots_spec = optarg; break;
        case OPT_LIMIT:
            if (cli_parse_u64(optarg, "--limit", &limit, &err))
                return cli_usage_error(&cmd_run, "%s", err.msg);
            break;
        case OPT_SEED:
            if (cli_parse_u64(optarg, "--seed", &seed, &err))
                return cli_usage_error(&cmd_run, "%s", err.msg);
            break;
        case OPT_DB: db_opt = optarg; break;
        case OPT_DATA_DIR: data_opt = optarg; break;
        case OPT_BATCH:
            if (cli_parse_u64(optarg, "--batch-size", &batch, &err) || batch == 0 || batch > RUNLOOP_MAX_BATCH)
                return cli_usage_error(&cmd_run, "--batch-size must be 1..%d", RUNLOOP_MAX_BATCH);
            bo.batch_size_given = 1;
            break;
        case OPT_RESUME:
            if (cli_parse_u64(optarg, "--resume", &resume_id, &err) || resume_id == 0)
                return cli_usage_error(&cmd_run, "--resume needs a run id (a positive number)");
            break;
        case OPT_STRICT: strict = 1; break;
        case OPT_SKIP_MISSING: skip_missing = 1; break;
        case OPT_SHARD:
            if (parse_shard(optarg, &shard_index, &shard_count, &err))
                return cli_usage_error(&cmd_run, "%s", err.msg);
            break;
        case 'h': return cli_help(&cmd_run);
        default:
            if (c >= BACKEND_OPT_FIRST && c < BACKEND_OPT_LAST) {
                if (backend_parse_option(&bo, c, optarg, &err))
                    return cli_usage_error(&cmd_run, "%s", err.msg);
                break;
            }
            return cli_option_error(&cmd_run, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_run, "unexpected argument '%s'", argv[optind]);
    if (bo.path == NULL && !backend_is_remote(&bo))
        return cli_usage_error(&cmd_run, "missing --model PATH or URL");
    const char *model_path = bo.path ? bo.path : bo.urls[0];
    bo.ep.seed = seed;
    if (backend_is_remote(&bo) && !bo.batch_size_given) /* keep --concurrency requests in flight */
        batch = bo.ep.http.concurrency * 4 > 32 ? bo.ep.http.concurrency * 4 : 32;
    if (batch > RUNLOOP_MAX_BATCH)
        batch = RUNLOOP_MAX_BATCH;
    const struct task *tasks[REGISTRY_MAX_SELECTED];
    size_t n_tasks = 0, n_settings = 0;
    int settings[RUN_MAX_SHOT_SETTINGS];
    if (task_select(tasks_spec, tasks, REGISTRY_MAX_SELECTED, &n_tasks, &err))
        return cli_usage_error(&cmd_run, "%s", err.msg);
    if (parse_shots(shots_spec, settings, &n_settings, &err))
        return cli_usage_error(&cmd_run, "%s", err.msg);

    int rc = GE_OK;
    struct store *st = NULL;
    struct model m = {0};
    int have_model = 0;
    int64_t run_id = 0;
    enum store_run_status prior_status = STORE_RUN_RUNNING; /* --resume: the run's status before this command */
    char *prior_finished_at = NULL;                          /* owned */
    int work_started = 0;                                    /* requests have been sent to the model */
    int left_unfinished = 0; /* what was asked is done, but task runs it did not select keep the run interrupted */
    char now[CLOCK_ISO8601_CAP];
    char *args = NULL;
    struct run_lock lock; /* held from the moment the run id is known until the end (harness/run_lock.h) */
    run_lock_init(&lock);
    struct store_run_info ri = {0}; /* --resume: the run as stored before this command */
    struct run_row *rows = calloc(n_tasks * n_settings + 1, sizeof *rows);
    struct dataset *evals = xcalloc(n_tasks, sizeof *evals); /* (n_tasks) the evaluation splits, load_task_data */
    const char *data_dir = dataset_dir(data_opt);
    const char *db_path = cli_db_path(db_opt);

    if (resume_id && !file_exists(db_path)) { /* never create an empty database to resume from */
        rc = ge_error_set(&err, GE_ERR_NOTFOUND, "%s: no such database to resume run %llu from", db_path,
                          (unsigned long long)resume_id);
        goto out;
    }
    /* Before the database is opened for writing or the model loaded: a second process resuming the run fails at
     * once and changes nothing. */
    if (resume_id && (rc = run_lock_acquire(&lock, db_path, (int64_t)resume_id, &err)) != GE_OK)
        goto out;
    if (resume_id && (rc = store_open(db_path, STORE_MODE_WRITE, 0, &st, &err)) != GE_OK)
        goto out;
    if (resume_id && (rc = check_resume_run(st, (int64_t)resume_id, opts, tasks, n_tasks, settings, n_settings, &ri,
                                            &err)) != GE_OK)
        goto out;
    /* Before the run exists (a new run) or is touched (a resume), and before the model is loaded: a data problem
     * stores nothing, and a new run's database is not even created. */
    size_t n_selected = n_tasks;
    char where[DATASET_PATH_CAP + 128]; /* the data directory and how it was chosen */
    dataset_dir_describe(data_opt, where, sizeof where);
    rc = load_task_data(tasks, &n_tasks, evals, settings, n_settings, data_dir, strict, skip_missing, &err);
    if (rc == GE_OK && n_tasks == 0) /* --skip-missing skipped them all: likely the wrong folder, never "done" */
        rc = ge_error_set(&err, GE_ERR_NOTFOUND, "none of the %zu selected task%s has data in %s, so --skip-missing "
                          "left nothing to run; nothing was stored. Point --data-dir or GLAM_EVAL_DATA at the data, "
                          "or get it with 'glam-eval data fetch'", n_selected, n_selected == 1 ? "" : "s", where);
    else if (rc == GE_OK && n_tasks < n_selected)
        fprintf(stderr, "glam-eval: %zu of the %zu selected tasks skipped for want of data in %s\n",
                n_selected - n_tasks, n_selected, where);
    /* A local model path that does not exist is found before a new database is created for nothing (loading the
     * model itself comes after the database, whose problems are quicker to find than a large model's hash). */
    if (rc == GE_OK && st == NULL && !backend_is_remote(&bo) && access(model_path, R_OK) != 0)
        rc = ge_error_set(&err, GE_ERR_NOTFOUND, "%s: cannot read the model: %s; nothing was stored", model_path,
                          strerror(errno));
    if (rc == GE_OK && st == NULL)
        rc = store_open(db_path, STORE_MODE_WRITE, 0, &st, &err);
    if (rc)
        goto out;
    fprintf(stderr, backend_is_remote(&bo) ? "glam-eval: connecting to %s (asking the model id and probing "
                    "echo)\n" : "glam-eval: loading %s (hashing its files for the model identity)\n", model_path);
    rc = backend_open(&bo, &m, &err);
    if (rc)
        goto out;
    have_model = 1;
    struct model_info info;
    m.ops->info(m.self, &info, &err);
    backend_settings_identity(&bo, &info); /* --bos / --max-length are part of what answers */
    if (endpoint_is(&m)) /* fail loglikelihood tasks before any work when the server cannot score them */
        for (size_t t = 0; t < n_tasks && rc == GE_OK; t++)
            if (tasks[t]->kind == TASK_MULTIPLE_CHOICE && endpoint_check_loglikelihood(&m, &err) != GE_OK)
                rc = ge_error_prefix(&err, "task %s: ", tasks[t]->name);
    if (rc)
        goto out;
    struct store_model sm;
    backend_store_model(&m, &info, &sm);
    int64_t model_id = 0;
    rc = store_put_model(st, &sm, &model_id, &err);
    if (rc)
        goto out;
    if (resume_id) {
        if (strcmp(ri.model_hash, info.identity) != 0)
            rc = ge_error_set(&err, GE_ERR_STATE, "run %llu was made with another model, or with other --bos / "
                              "--max-length settings (identity %.12s..., this one is %.12s...); resume it with the "
                              "same checkpoint and options", (unsigned long long)resume_id, ri.model_hash,
                              info.identity);
        if (rc == GE_OK && ri.status == STORE_RUN_RUNNING) /* this process holds its lock: nobody works on it */
            fprintf(stderr, "glam-eval: note: run %llu is marked running, but no process holds it: the one that "
                    "ran it was killed (or its machine stopped); resuming\n", (unsigned long long)resume_id);
        if (rc == GE_OK) { /* restored if the resume is refused before any work */
            prior_status = ri.status;
            prior_finished_at = ri.finished_at ? xstrdup(ri.finished_at) : NULL;
        }
        if (rc == GE_OK)
            rc = store_set_run_status(st, (int64_t)resume_id, STORE_RUN_RUNNING, NULL, &err);
        run_id = (int64_t)resume_id;
    } else {
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        args = args_json(argc, argv, shard_index, shard_count);
        char seeds[64];
        snprintf(seeds, sizeof seeds, "{\"fewshot\":%llu}", (unsigned long long)seed);
        struct store_run run = {.model_id = model_id, .args_json = args, .seeds_json = seeds,
                                .program_version = PACKAGE_STRING, .started_at = clock_iso8601_now(now), .host = host};
        rc = store_create_run(st, &run, &run_id, &err);
        /* Locked as soon as the id exists. Refused only if another process resumed the new id in between: the run
         * is then its, and this one leaves it alone (out: changes no status). */
        if (rc == GE_OK)
            rc = run_lock_acquire(&lock, db_path, run_id, &err);
    }
    if (rc)
        goto out;
    fprintf(stderr, "glam-eval: run %lld (resume with: glam-eval run --resume %lld and the same options)\n",
            (long long)run_id, (long long)run_id);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    struct runloop_options loop;
    runloop_options_init(&loop);
    loop.batch_size = (size_t)batch;
    loop.progress_out = stderr;
    loop.stop = &stop_requested;
    /* Three phases, so the requests of all tasks are pooled (runloop_execute_pool): store every task run's
     * requests, answer them all, then score each task. Each phase is resumable on its own: the store is the
     * work list. The evaluation splits stay loaded for scoring; few-shot pools are released once used. */
    struct evaluate_spec *specs = xcalloc(n_tasks * n_settings + 1, sizeof *specs);
    struct runloop_task *pooled = xcalloc(n_tasks * n_settings + 1, sizeof *pooled);
    char (*labels)[96] = xcalloc(n_tasks * n_settings + 1, sizeof *labels);
    size_t n_specs = 0;
    for (size_t t = 0; t < n_tasks && rc == GE_OK; t++) {
        const struct task *task = tasks[t];
        struct dataset pool_ds;
        memset(&pool_ds, 0, sizeof pool_ds);
        /* The few-shot split again (load_task_data checked it and let it go), without its warnings this time */
        int needs_pool = max_shots(task, settings, n_settings) > 0;
        const struct dataset *pool = needs_pool ? &evals[t] : NULL;
        if (needs_pool && strcmp(task->fewshot_split, task->eval_split) != 0) {
            rc = dataset_load(task, data_dir, task->fewshot_split, strict, NULL, &pool_ds, &err);
            pool = &pool_ds;
        }
        size_t first_spec = n_specs;
        for (size_t s = 0; s < n_settings && rc == GE_OK; s++) {
            int k = settings[s] < 0 ? task->glam_shots : settings[s];
            size_t same = first_spec;
            while (same < n_specs && rows[same].shots != k)
                same++;
            if (same < n_specs) { /* this K is already evaluated for the task: the same task run fills both */
                rows[same].settings |= 1u << s;
                continue;
            }
            if ((rc = evaluate_check_shots(task, &evals[t], pool, k, &err)) != GE_OK) /* the file changed since */
                break;
            struct evaluate_spec *spec = &specs[n_specs];
            *spec = (struct evaluate_spec){.task = task, .eval = &evals[t], .pool = k > 0 ? pool : NULL,
                                           .n_shots = k, .seed = seed, .limit = (size_t)limit,
                                           .shard_index = shard_index, .shard_count = shard_count,
                                           .started_at = clock_iso8601_now(now),
                                           .count_tokens = backend_count_tokens(&m), .count_ctx = &m,
                                           .max_tokens = backend_max_length(&m)};
            struct run_row *row = &rows[n_specs];
            rc = evaluate_prepare(st, run_id, spec, &pooled[n_specs].task_run_id, &row->res, &err);
            if (rc == GE_OK) {
                row->task = task;
                row->shots = k;
                row->settings = 1u << s;
                snprintf(labels[n_specs], sizeof labels[n_specs], "%s %d-shot", task->name, k);
                pooled[n_specs].label = labels[n_specs];
                spec->pool = NULL; /* released below; scoring reads only the evaluation split */
                n_specs++;
            }
        }
        dataset_release(&pool_ds);
    }
    if (rc == GE_OK) {
        work_started = 1;
        rc = runloop_execute_pool(st, info.identity, &m, &loop, pooled, n_specs, &err);
    }
    size_t n_unscorable = 0; /* task runs where no document could be scored: the others still finish */
    char first_unscorable[GE_ERROR_MSG_CAP] = "";
    for (size_t i = 0; i < n_specs && rc == GE_OK; i++) {
        struct run_row *row = &rows[i];
        size_t n_fewer = row->res.n_fewer_shots;
        rc = evaluate_finish(st, pooled[i].task_run_id, &specs[i], &row->res, &err);
        if (rc != GE_OK && row->res.n == 0 && row->res.n_failed > 0) { /* every document failed (e.g. too long) */
            fprintf(stderr, "glam-eval run: %s\n", err.msg);
            if (n_unscorable++ == 0)
                snprintf(first_unscorable, sizeof first_unscorable, "%s", err.msg);
            rc = store_set_task_status(st, pooled[i].task_run_id, STORE_TASK_FAILED, clock_iso8601_now(now), &err);
            continue;
        }
        row->res.n_fewer_shots = n_fewer;
        row->res.n_from_model = pooled[i].stats.n_from_model;
        row->res.n_from_cache = pooled[i].stats.n_from_cache;
        if (rc == GE_OK) {
            row->scored = 1;
            fprintf(stderr, "glam-eval: %s %d-shot: %s = %.4f (n=%zu, %zu not scored; %llu requests from the "
                    "model, %llu cached; %zu prompts dropped shots to fit the window, %zu were cut to it)\n",
                    row->task->name, row->shots, row->res.metric, row->res.value, row->res.n, row->res.n_failed,
                    (unsigned long long)row->res.n_from_model, (unsigned long long)row->res.n_from_cache,
                    row->res.n_fewer_shots, row->res.n_truncated);
        }
    }
    free(specs);
    free(pooled);
    free(labels);
    int64_t n_open = 0; /* task runs of this run left unfinished (a resume that selected fewer tasks) */
    if (rc == GE_OK && n_unscorable > 0) { /* the scored tasks are stored and shown; the run is failed */
        print_table(rows, n_specs, settings, n_settings, shard_index, shard_count);
        rc = ge_error_set(&err, GE_ERR_STATE, "%zu task run%s had no document that could be scored, the first: %s",
                          n_unscorable, n_unscorable == 1 ? "" : "s", first_unscorable);
    }
    if (rc == GE_OK)
        rc = store_count_unfinished_task_runs(st, run_id, &n_open, &err);
    if (rc == GE_OK && n_open > 0) {
        fprintf(stderr, "glam-eval run: run %lld still has %lld unfinished task run%s that this command did not "
                "select; it stays interrupted (exit status %d): resume it with its original --tasks and --shots\n",
                (long long)run_id, (long long)n_open, n_open == 1 ? "" : "s", CLI_EXIT_UNFINISHED);
        rc = store_set_run_status(st, run_id, STORE_RUN_INTERRUPTED, clock_iso8601_now(now), &err);
        left_unfinished = 1;
    } else if (rc == GE_OK) {
        rc = store_set_run_status(st, run_id, STORE_RUN_FINISHED, clock_iso8601_now(now), &err);
    } else if (run_id && resume_id && !work_started) { /* a refused resume changes nothing */
        store_set_run_status(st, run_id, prior_status, prior_finished_at, NULL);
    } else if (run_id) {
        struct ge_error e2;
        ge_error_clear(&e2);
        if (store_set_run_status(st, run_id, stop_requested ? STORE_RUN_INTERRUPTED : STORE_RUN_FAILED,
                                 clock_iso8601_now(now), &e2) != GE_OK) /* e.g. the disk is full: say so */
            fprintf(stderr, "glam-eval run: run %lld stays marked running (%s); its stored answers are intact: "
                    "resume it once the cause is fixed\n", (long long)run_id, e2.msg);
    }
    if (rc == GE_OK)
        print_table(rows, n_specs, settings, n_settings, shard_index, shard_count);
out:
    if (have_model)
        m.ops->free(m.self);
    store_close(st);
    run_lock_release(&lock); /* after the last write to the run */
    for (size_t t = 0; t < n_tasks; t++)
        dataset_release(&evals[t]);
    free(evals);
    backend_options_release(&bo);
    free(args);
    free(rows);
    free(prior_finished_at);
    store_run_info_release(&ri);
    if (rc && stop_requested && run_id) {
        fprintf(stderr, "glam-eval run: interrupted; everything answered so far is stored. Resume with: glam-eval "
                        "run --resume %lld (same options)\n", (long long)run_id);
        return CLI_EXIT_FAILURE;
    }
    if (rc)
        return cli_fail(&cmd_run, &err);
    return left_unfinished ? CLI_EXIT_UNFINISHED : CLI_EXIT_OK;
}

const struct command cmd_run = {
    .name = "run",
    .summary = "evaluate a model on GLaM's tasks (zero/one/few-shot) into the results database",
    .usage = "usage: glam-eval run --model PATH|URL [--tasks all|nlg|nlu|LIST] [--shots 0,1,few|N,...] [--limit N]\n"
             "                     [--seed S] [--db FILE] [--data-dir DIR] [--batch-size N] [--resume RUN_ID]\n"
             "                     [--strict] [--skip-missing] [--max-length N] [--bos auto|always|never]\n"
             "                     [--shard I/N]\n"
             "\n"
             "Evaluates the checkpoint at PATH (a Hugging Face directory or a .gguf file) on the selected tasks at\n"
             "each shot setting (\"few\" = GLaM's K for the task; where that K is also asked for as a number, as\n"
             "1,few on TriviaQA, one evaluation fills both), storing every request, response, per-example score\n"
             "and metric in the database (default ./glam-eval.db), then prints the table. Data comes from\n"
             "DIR/<task>/<split>.jsonl (--data-dir, else $GLAM_EVAL_DATA, else ./data) or, when that is absent,\n"
             "the task's official release files (docs/data-formats.md); `glam-eval tasks` lists what each task\n"
             "reads; its few-shot split only when a shot setting above 0 needs examples. All of it is read before\n"
             "anything is stored: a missing file, a malformed record under --strict or more shots than a few-shot\n"
             "split holds stops the command with no run created (and no database, if there was none). Few-shot\n"
             "examples depend only on (seed, task, document id).\n"
             "A run stopped for any reason (Ctrl-C, kill -9) resumes with --resume RUN_ID and the same options:\n"
             "finished requests are never asked again, and the results equal an uninterrupted run's. One process\n"
             "at a time works on a run: it holds a lock on DB.lock-run-N (released when it ends, even by kill -9),\n"
             "and a second --resume of the run fails at once, naming the first one's pid. Published reference\n"
             "runs ('glam-eval import published') are read-only and cannot be resumed. A resume that selects\n"
             "fewer tasks or shot settings than the run has evaluates those, prints their table and exits with\n"
             "status 3: the run stays interrupted until a resume with its original --tasks and --shots.\n"
             "  --limit N        evaluate the first N documents of each task (default, and 0: all of them)\n"
             "  --max-length N   context window in tokens (default: the model's, at most 4096); with --bos\n"
             "                   always|never (default auto: as the tokenizer says) part of the stored model\n"
             "                   identity, so runs with other settings never share cached answers\n"
             "  --skip-missing   skip tasks whose data is absent (default: an error naming the expected file);\n"
             "                   when that leaves no task, an error naming the data directory searched\n"
             "  --strict         a malformed dataset record is an error (default: reported with file and line,\n"
             "                   skipped, and counted in the task run's metric_variants as skipped_records)\n"
             "  --shard I/N      evaluate only documents k (after --limit) with k mod N == I; metrics are partial\n"
             "                   until 'glam-eval merge' combines the N shards' databases\n"
             "  --batch-size N   requests per model call and per database transaction (default 32; with endpoints\n"
             "                   4 x --concurrency)\n"
             BACKEND_USAGE,
    .run = run_run,
};
