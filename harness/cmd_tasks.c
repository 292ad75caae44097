/* cmd_tasks.c — `glam-eval tasks` (what each benchmark needs and whether its data is there) and
 * `glam-eval prompt TASK` (the exact requests a document produces). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli.h"
#include "harness/commands.h"
#include "harness/evaluate.h"
#include "harness/fileio.h"
#include "tasks/dataset.h"
#include "tasks/registry.h"

/* "(found)" when a run could read the file, "(UNREADABLE)" when it is there but not readable by this user. */
static const char *data_state(int found, const char *path)
{
    if (!found)
        return "(MISSING)";
    return access(path, R_OK) == 0 ? "(found)" : "(UNREADABLE)";
}

static int tasks_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data_opt = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data_opt = optarg; break;
        case 'h': return cli_help(&cmd_tasks);
        default: return cli_option_error(&cmd_tasks, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_tasks, "unexpected argument '%s'", argv[optind]);
    const char *dir = dataset_dir(data_opt);
    printf("%-14s %-12s %-5s %-9s %-11s %-14s %4s  %s\n", "task", "GLaM name", "group", "kind", "split", "metric",
           "K", "data");
    for (size_t i = 0; task_registry[i]; i++) {
        const struct task *t = task_registry[i];
        /* The file a run would read: our JSONL or an official release file (dataset_locate); when neither is
         * there, the JSONL path (`glam-eval prompt` or `run` print every accepted path). */
        struct dataset_location eval_loc, pool_loc;
        struct ge_error loc_err;
        int have_eval = dataset_locate(t, dir, t->eval_split, &eval_loc, &loc_err) == GE_OK;
        int have_pool = dataset_locate(t, dir, t->fewshot_split, &pool_loc, &loc_err) == GE_OK;
        if (!have_eval)
            snprintf(eval_loc.path, sizeof eval_loc.path, "%s/%s/%s.jsonl", dir, t->name, t->eval_split);
        if (!have_pool)
            snprintf(pool_loc.path, sizeof pool_loc.path, "%s/%s/%s.jsonl", dir, t->name, t->fewshot_split);
        printf("%-14s %-12s %-5s %-9s %-11s %-14s %4d  %s %s", t->name, t->display, task_category_name(t->category),
               t->kind == TASK_MULTIPLE_CHOICE ? "choice" : "generate", t->eval_split, t->primary_metric,
               t->glam_shots, eval_loc.path, data_state(have_eval, eval_loc.path));
        if (strcmp(t->fewshot_split, t->eval_split) != 0) /* a 0-shot run never reads it (cmd_run.c) */
            printf("; shots from %s %s", pool_loc.path,
                   have_pool ? data_state(have_pool, pool_loc.path) : "(MISSING: only K > 0 needs it)");
        printf("\n");
    }
    printf("\ndata directory: %s (--data-dir, else $GLAM_EVAL_DATA, else ./data)\n", dir);
    return CLI_EXIT_OK;
}

const struct command cmd_tasks = {
    .name = "tasks",
    .summary = "list the benchmarks, what data each needs, and whether it is there",
    .usage = "usage: glam-eval tasks [--data-dir DIR]\n"
             "\n"
             "Lists every task with GLaM's name, its group (NLG or NLU as in GLaM's averages; other = outside),\n"
             "kind, evaluation split, primary metric, GLaM's few-shot K, and the data file found under DIR (our\n"
             "JSONL, else an official release file the task accepts; docs/data-formats.md) or the one expected.\n"
             "A separate few-shot split (\"shots from\") is read only at K > 0: 0-shot runs do without it.\n",
    .run = tasks_run,
};

static int prompt_run(int argc, char **argv)
{
    enum { OPT_SEED = 256 };
    static const struct option opts[] = {
        {"doc", required_argument, NULL, 'n'},
        {"shots", required_argument, NULL, 's'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data_opt = NULL, *shots = "0";
    uint64_t doc = 0, seed = 1234;
    int c;
    struct ge_error err;
    ge_error_clear(&err);
    while ((c = getopt_long(argc, argv, ":n:s:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (cli_parse_u64(optarg, "--doc", &doc, &err))
                return cli_usage_error(&cmd_prompt, "%s", err.msg);
            break;
        case 's': shots = optarg; break;
        case OPT_SEED:
            if (cli_parse_u64(optarg, "--seed", &seed, &err))
                return cli_usage_error(&cmd_prompt, "%s", err.msg);
            break;
        case 'd': data_opt = optarg; break;
        case 'h': return cli_help(&cmd_prompt);
        default: return cli_option_error(&cmd_prompt, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(&cmd_prompt, "missing TASK (see glam-eval tasks)");
    if (optind + 1 < argc)
        return cli_usage_error(&cmd_prompt, "unexpected argument '%s'", argv[optind + 1]);
    const struct task *t = task_find(argv[optind]);
    if (t == NULL)
        return cli_usage_error(&cmd_prompt, "unknown task '%s' (see glam-eval tasks)", argv[optind]);
    uint64_t k;
    if (strcmp(shots, "few") == 0)
        k = (uint64_t)t->glam_shots;
    else if (cli_parse_u64(shots, "--shots", &k, &err) || k > 256)
        return cli_usage_error(&cmd_prompt, "--shots must be 0..256 or few");
    const char *dir = dataset_dir(data_opt);
    struct dataset eval, pool_ds;
    memset(&pool_ds, 0, sizeof pool_ds);
    int rc = dataset_load(t, dir, t->eval_split, 0, stderr, &eval, &err);
    if (rc)
        return cli_fail(&cmd_prompt, &err);
    const struct dataset *pool = k > 0 ? &eval : NULL; /* 0 shots: the few-shot split is not needed */
    if (k > 0 && strcmp(t->fewshot_split, t->eval_split) != 0) {
        rc = dataset_load(t, dir, t->fewshot_split, 0, stderr, &pool_ds, &err);
        pool = &pool_ds;
    }
    if (rc == GE_OK) /* the shot counts `run` refuses, with its message */
        rc = evaluate_check_shots(t, &eval, pool, (int)k, &err);
    if (rc == GE_OK && doc >= eval.n_docs)
        rc = ge_error_set(&err, GE_ERR_USAGE, "--doc %llu: %s has %zu documents", (unsigned long long)doc, eval.path,
                          eval.n_docs);
    if (rc == GE_OK) {
        struct evaluate_spec spec = {.task = t, .eval = &eval, .pool = pool, .n_shots = (int)k, .seed = seed};
        char *gen_json = evaluate_gen_settings_json(t);
        struct evaluate_doc_requests dr;
        rc = evaluate_doc_requests(&spec, (size_t)doc, gen_json, &dr, &err);
        if (rc == GE_OK) {
            printf("# %s document %llu (id %s), %zu-shot, few-shot ids %s\n", t->name, (unsigned long long)doc,
                   eval.docs[doc].id, dr.n_shots, dr.reqs[0].fewshot_ids_json);
            for (size_t r = 0; r < dr.n; r++) {
                printf("\n## request %d (%s)\n--- context ---\n%s\n", dr.reqs[r].req_index,
                       dr.reqs[r].type == STORE_REQ_GENERATE ? "generate" : "loglikelihood", dr.reqs[r].context);
                if (dr.reqs[r].continuation)
                    printf("--- continuation ---\n%s\n", dr.reqs[r].continuation);
                if (dr.reqs[r].gen_settings_json)
                    printf("--- settings ---\n%s\n", dr.reqs[r].gen_settings_json);
            }
            evaluate_doc_requests_release(&dr);
        }
        free(gen_json);
    }
    dataset_release(&eval);
    dataset_release(&pool_ds);
    return rc ? cli_fail(&cmd_prompt, &err) : CLI_EXIT_OK;
}

const struct command cmd_prompt = {
    .name = "prompt",
    .summary = "print the exact requests a task's document produces",
    .usage = "usage: glam-eval prompt TASK [--doc N] [--shots K|few] [--seed S] [--data-dir DIR]\n"
             "\n"
             "Prints every request of document N (0-based) of TASK's evaluation split at K shots, exactly as\n"
             "`glam-eval run` sends them: context, continuation (multiple choice) or generation settings. The first\n"
             "line names the document's id, the one `run` stores and `score` keys predictions by (for a dataset\n"
             "without ids, the 1-based line number: --doc 0 is id 1). `run` also drops few-shot examples (the\n"
             "last drawn first) when a prompt exceeds the model's window; without a model this command shows the\n"
             "prompt before that fitting. More shots than the task's few-shot split holds are refused as `run`\n"
             "refuses them (exit status 2).\n",
    .run = prompt_run,
};
