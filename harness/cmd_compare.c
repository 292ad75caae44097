/* cmd_compare.c — `glam-eval compare RUN_A RUN_B [...]`: per-task differences with paired-bootstrap intervals and
 * the models' parameter / FLOP counts (results/compare.h). Reads only. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "harness/cli.h"
#include "harness/commands.h"
#include "results/compare.h"
#include "results/store.h"

static int run_compare(int argc, char **argv)
{
    enum { OPT_DB = 256, OPT_ITERS, OPT_SEED };
    static const struct option opts[] = {
        {"db", required_argument, NULL, OPT_DB}, {"iters", required_argument, NULL, OPT_ITERS},
        {"seed", required_argument, NULL, OPT_SEED}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    uint64_t iters = COMPARE_DEFAULT_ITERS, seed = 1234, v;
    struct ge_error err;
    ge_error_clear(&err);
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: db = optarg; break;
        case OPT_ITERS:
            if (cli_parse_u64(optarg, "--iters", &iters, &err) || iters < 2 || iters > 10000000)
                return cli_usage_error(&cmd_compare, "--iters: \"%s\" is not 2..10000000", optarg);
            break;
        case OPT_SEED:
            if (cli_parse_u64(optarg, "--seed", &seed, &err))
                return cli_usage_error(&cmd_compare, "%s", err.msg);
            break;
        case 'h': return cli_help(&cmd_compare);
        default: return cli_option_error(&cmd_compare, c, argv);
        }
    }
    int64_t ids[COMPARE_MAX_RUNS];
    size_t n = 0;
    for (int i = optind; i < argc; i++) {
        if (n == COMPARE_MAX_RUNS)
            return cli_usage_error(&cmd_compare, "at most %d runs", COMPARE_MAX_RUNS);
        if (cli_parse_u64(argv[i], "RUN", &v, &err) || v == 0 || v > INT64_MAX)
            return cli_usage_error(&cmd_compare, "\"%s\" is not a run id", argv[i]);
        ids[n++] = (int64_t)v;
    }
    if (n < 2)
        return cli_usage_error(&cmd_compare, "needs at least two run ids");
    struct store *st = NULL;
    int rc = store_open(cli_db_path(db), STORE_MODE_READ, 0, &st, &err);
    if (rc == GE_OK) {
        struct compare_options opt = {.run_ids = ids, .n_runs = n, .n_iters = (size_t)iters, .seed = seed};
        rc = compare_runs(st, &opt, stdout, &err);
    }
    store_close(st);
    return rc == GE_OK ? CLI_EXIT_OK : cli_fail(&cmd_compare, &err);
}

const struct command cmd_compare = {
    .name = "compare",
    .summary = "compare runs per task with paired-bootstrap intervals, and their parameter / FLOP counts",
    .usage = "usage: glam-eval compare RUN_A RUN_B [RUN...] [--iters N] [--seed S] [--db FILE]\n"
             "\n"
             "For each benchmark and shot count both runs evaluated: each run's score on the documents both scored\n"
             "(paired on task, shots, doc id and content hash), the difference A - B, its 95% paired-bootstrap\n"
             "interval and a mark where the interval excludes 0; then Avg NLG / Avg NLU differences per shot setting\n"
             "as report groups them (0, 1, few = each task's GLaM K, other K) with a stratified paired-bootstrap\n"
             "interval; then each model's total parameters, activated parameters per token, FLOPs\n"
             "per token and score per GFLOP. With more runs, RUN_A is compared with each of them.\n"
             "\n"
             "  --iters N   bootstrap iterations (default 1000)\n"
             "  --seed S    resampling seed (default 1234; printed with the results)\n"
             "  --db FILE   the results database (default $GLAM_EVAL_DB or ./glam-eval.db); only read\n",
    .run = run_compare,
};
