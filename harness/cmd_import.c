/* cmd_import.c — `glam-eval import published`: bring the published results shipped in published (GPT-3's
 * per-task table, GLaM's averages; docs/reports.md lists them) into the results database as read-only reference
 * runs (results/published.h). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli.h"
#include "harness/clock.h"
#include "harness/commands.h"
#include "results/published.h"
#include "results/store.h"

#define IMPORT_MAX_ONLY 64

static void list_set(const struct published_set *set)
{
    printf("%-16s %-22s %-6s %8s %s\n", "label", "model", "arch", "cells", "source");
    for (size_t i = 0; i < set->n_models; i++) {
        size_t n = 0;
        for (size_t j = 0; j < set->n_scores; j++)
            n += strcmp(set->scores[j].label, set->models[i].label) == 0;
        printf("%-16s %-22s %-6s %8zu %s\n", set->models[i].label, set->models[i].model, set->models[i].architecture, n,
               set->models[i].source);
    }
}

static int run_import(int argc, char **argv)
{
    enum { OPT_DB = 256, OPT_DATA_DIR, OPT_ONLY, OPT_LIST };
    static const struct option opts[] = {
        {"db", required_argument, NULL, OPT_DB}, {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"only", required_argument, NULL, OPT_ONLY}, {"list", no_argument, NULL, OPT_LIST},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *dir = NULL, *only_spec = NULL;
    int list = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: db = optarg; break;
        case OPT_DATA_DIR: dir = optarg; break;
        case OPT_ONLY: only_spec = optarg; break;
        case OPT_LIST: list = 1; break;
        case 'h': return cli_help(&cmd_import);
        default: return cli_option_error(&cmd_import, c, argv);
        }
    }
    if (argc - optind != 1 || strcmp(argv[optind], "published") != 0)
        return cli_usage_error(&cmd_import, "the only thing to import is 'published'");
    if (dir == NULL)
        dir = published_default_dir();
    struct ge_error err;
    ge_error_clear(&err);
    struct published_set set;
    int rc = published_load(dir, &set, &err);
    if (rc != GE_OK)
        return cli_fail(&cmd_import, &err);
    if (list) {
        list_set(&set);
        published_release(&set);
        return CLI_EXIT_OK;
    }
    char *copy = only_spec ? strdup(only_spec) : NULL, *save = NULL;
    const char *only[IMPORT_MAX_ONLY];
    size_t n_only = 0;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
        if (n_only == IMPORT_MAX_ONLY) {
            free(copy);
            published_release(&set);
            return cli_usage_error(&cmd_import, "--only: at most %d labels", IMPORT_MAX_ONLY);
        }
        only[n_only++] = tok;
    }
    if (only_spec && n_only == 0) {
        free(copy);
        published_release(&set);
        return cli_usage_error(&cmd_import, "--only needs at least one label");
    }
    struct store *st = NULL;
    char now[CLOCK_ISO8601_CAP];
    rc = published_check_only(&set, only, n_only, &err); /* before the database is created or opened */
    if (rc == GE_OK)
        rc = store_open(cli_db_path(db), STORE_MODE_WRITE, 0, &st, &err);
    if (rc == GE_OK)
        rc = published_import(st, &set, only, n_only, clock_iso8601_now(now), stdout, &err);
    store_close(st);
    free(copy);
    published_release(&set);
    return rc == GE_OK ? CLI_EXIT_OK : cli_fail(&cmd_import, &err);
}

const struct command cmd_import = {
    .name = "import",
    .summary = "import published reference results (GPT-3's per-task table, GLaM's averages) as read-only runs",
    .usage = "usage: glam-eval import published [--only LABEL,...] [--list] [--data-dir DIR] [--db FILE]\n"
             "\n"
             "Reads DIR/models.tsv and DIR/scores.tsv (default $GLAM_EVAL_PUBLISHED, else the installed\n"
             "share/glam-eval/published, else for a build never installed its source tree's published/; format in\n"
             "docs/reports.md) and stores each model's per-task numbers as a published reference run: read-only (it\n"
             "cannot be resumed, extended or deleted; merge copies it as it is), with its source cited. Reports put\n"
             "them beside your runs with 'glam-eval report --against LABEL'. Importing the same files again changes\n"
             "nothing; different files under an existing label are refused.\n"
             "\n"
             "  --only LABEL,...  import only these models (default: all); an unknown label is refused before\n"
             "                    the database is opened\n"
             "  --list            print the labels, models, cell counts and sources, and import nothing\n",
    .run = run_import,
};
