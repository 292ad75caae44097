/* cmd_merge.c — `glam-eval merge OUT.db IN.db...`: combine the databases of a sharded run (results/merge.h). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "harness/cli.h"
#include "harness/commands.h"
#include "results/merge.h"

static int run_merge(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': return cli_help(&cmd_merge);
        default: return cli_option_error(&cmd_merge, c, argv);
        }
    }
    if (argc - optind < 2)
        return cli_usage_error(&cmd_merge, "needs OUT.db and at least one IN.db");
    struct ge_error err;
    ge_error_clear(&err);
    const char *out = argv[optind];
    int rc = merge_databases(out, (const char *const *)&argv[optind + 1], (size_t)(argc - optind - 1), stderr, &err);
    if (rc)
        return cli_fail(&cmd_merge, &err);
    printf("%s: merged %d database%s\n", out, argc - optind - 1, argc - optind - 1 == 1 ? "" : "s");
    return CLI_EXIT_OK;
}

const struct command cmd_merge = {
    .name = "merge",
    .summary = "combine the databases of a sharded run (run --shard I/N) into one",
    .usage = "usage: glam-eval merge OUT.db IN.db...\n"
             "\n"
             "Writes the new database OUT.db (it must not exist) with everything the IN databases hold. Runs made with\n"
             "--shard I/N and the same seeds and N become one run: their task runs are combined, and each task's\n"
             "metrics are recomputed from the per-example scores, so the result equals one unsharded run. Other runs\n"
             "are copied as they are. A published reference run (import published) is no shard's result: it is copied\n"
             "once, with its cells, however many inputs hold it; one label with different data in two inputs is\n"
             "refused. Shards that disagree (model, program version, dataset hashes, task version, prompts), a shard\n"
             "or an unsharded run present twice, a shard missing, and unfinished runs are refused with a message\n"
             "naming the database and the field. The inputs are only read. OUT.db is built as\n"
             "OUT.db.merging-XXXXXX beside it and named OUT.db only when complete (never replacing a file that\n"
             "appeared there meanwhile), so OUT.db exists only when the merge succeeded; a killed merge leaves\n"
             "OUT.db.merging-XXXXXX (with its -wal and -shm), which can be removed once no merge is running.\n",
    .run = run_merge,
};
