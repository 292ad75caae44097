/* cmd_db.c — `glam-eval db init|migrate|info|delete-run`: create, upgrade, describe the results database, and
 * delete a run. */
#include "config.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness/cli.h"
#include "harness/commands.h"
#include "harness/run_lock.h"
#include "results/store.h"

static int db_init(const char *path, struct ge_error *err)
{
    struct store *st = NULL;
    int existed = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        existed = 1;
        fclose(f);
    }
    int rc = store_open(path, STORE_MODE_WRITE, 0, &st, err);
    if (rc)
        return rc;
    printf("%s: %s at schema version %d\n", path, existed ? "already a glam-eval database," : "created",
           store_schema_version(st));
    store_close(st);
    return GE_OK;
}

static int db_migrate(const char *path, struct ge_error *err)
{
    int from = 0, to = 0;
    int rc = store_migrate(path, 0, &from, &to, err);
    if (rc)
        return rc;
    if (from == to)
        printf("%s: already at the current schema version %d\n", path, to);
    else
        printf("%s: migrated from schema version %d to %d\n", path, from, to);
    return GE_OK;
}

static int db_info(const char *path, struct ge_error *err)
{
    struct store *st = NULL;
    struct store_info info = {0};
    int rc = store_open(path, STORE_MODE_READ, 0, &st, err);
    if (rc)
        return rc;
    rc = store_get_info(st, &info, err);
    if (rc == GE_OK) {
        printf("path            %s\n", info.path);
        printf("schema version  %d (this program: %d)%s\n", info.schema_version, info.schema_version_current,
               info.schema_version < info.schema_version_current ? "; run 'glam-eval db migrate'" : "");
        printf("journal mode    %s\n", info.journal_mode);
        printf("page size       %lld bytes\n", (long long)info.page_size);
        printf("pages           %lld (%lld free)\n", (long long)info.page_count, (long long)info.freelist_count);
        printf("file size       %lld bytes (+ %lld bytes of write-ahead log)\n", (long long)info.file_bytes,
               (long long)info.wal_bytes);
        printf("rows\n");
        for (size_t i = 0; i < info.n_tables; i++)
            printf("  %-22s %lld\n", info.tables[i].table, (long long)info.tables[i].n_rows);
    }
    store_info_release(&info);
    store_close(st);
    return rc;
}

static void print_run_rows(const char *verb, int64_t run_id, const struct store_run_rows *r)
{
    printf("run %lld%s: %lld task run%s, %lld document%s, %lld request%s, %lld response%s (with their scores and "
           "metrics)\n", (long long)run_id, verb, (long long)r->task_runs, r->task_runs == 1 ? "" : "s",
           (long long)r->documents, r->documents == 1 ? "" : "s", (long long)r->requests,
           r->requests == 1 ? "" : "s", (long long)r->responses, r->responses == 1 ? "" : "s");
}

/* Without yes: says what would be deleted and fails (nothing is changed). With yes: takes the run's lock, so a run
 * being evaluated is never deleted under its process, and deletes it in one transaction. */
static int db_delete_run(const char *path, int64_t run_id, int yes, struct ge_error *err)
{
    struct store *st = NULL;
    struct store_run_rows rows;
    struct run_lock lk;
    run_lock_init(&lk);
    int rc;
    if (!yes) {
        rc = store_open(path, STORE_MODE_READ, 0, &st, err);
        struct store_run_info info;
        if (rc == GE_OK)
            rc = store_get_run(st, run_id, &info, err);
        if (rc == GE_OK) {
            store_run_info_release(&info);
            rc = store_run_rows(st, run_id, &rows, err);
        }
        if (rc == GE_OK && rows.published)
            rc = ge_error_set(err, GE_ERR_STATE, "%s: run %lld is a published reference run (glam-eval import "
                              "published): it is read-only and cannot be deleted", path, (long long)run_id);
        if (rc == GE_OK) {
            print_run_rows(" would be deleted", run_id, &rows);
            rc = ge_error_set(err, GE_ERR_USAGE, "nothing was deleted: add --yes to delete run %lld",
                              (long long)run_id);
        }
        store_close(st);
        return rc;
    }
    rc = store_open_existing(path, 0, &st, err);
    if (rc == GE_OK)
        rc = run_lock_acquire(&lk, path, run_id, err);
    if (rc == GE_OK)
        rc = store_delete_run(st, run_id, &rows, err);
    if (rc == GE_OK)
        print_run_rows(" deleted", run_id, &rows);
    run_lock_release(&lk);
    store_close(st);
    return rc;
}

static int db_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"yes", no_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *opt_db = NULL;
    int c, yes = 0;
    while ((c = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': opt_db = optarg; break;
        case 'y': yes = 1; break;
        case 'h': return cli_help(&cmd_db);
        default: return cli_option_error(&cmd_db, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(&cmd_db, "missing subcommand (init, migrate, info or delete-run)");
    const char *sub = argv[optind];
    int delete_run = strcmp(sub, "delete-run") == 0;
    if (delete_run && optind + 1 >= argc)
        return cli_usage_error(&cmd_db, "delete-run needs a RUN id");
    if (optind + 1 + delete_run < argc)
        return cli_usage_error(&cmd_db, "unexpected argument '%s'", argv[optind + 1 + delete_run]);
    if (yes && !delete_run)
        return cli_usage_error(&cmd_db, "--yes is for delete-run only");
    const char *path = cli_db_path(opt_db);
    struct ge_error err;
    ge_error_clear(&err);
    int rc;
    if (strcmp(sub, "init") == 0) {
        rc = db_init(path, &err);
    } else if (strcmp(sub, "migrate") == 0) {
        rc = db_migrate(path, &err);
    } else if (strcmp(sub, "info") == 0) {
        rc = db_info(path, &err);
    } else if (delete_run) {
        uint64_t id;
        if (cli_parse_u64(argv[optind + 1], "RUN", &id, &err) || id == 0 || id > INT64_MAX)
            return cli_usage_error(&cmd_db, "RUN: '%s' is not a run id (a positive integer)", argv[optind + 1]);
        rc = db_delete_run(path, (int64_t)id, yes, &err);
        if (rc == GE_ERR_USAGE) { /* the dry run: not a usage error, but nothing was done */
            fprintf(stderr, "glam-eval db: %s\n", err.msg);
            return CLI_EXIT_FAILURE;
        }
    } else {
        return cli_usage_error(&cmd_db, "unknown subcommand '%s' (init, migrate, info or delete-run)", sub);
    }
    return rc == GE_OK ? CLI_EXIT_OK : cli_fail(&cmd_db, &err);
}

const struct command cmd_db = {
    .name = "db",
    .summary = "create, upgrade or describe the results database, or delete a run from it",
    .usage = "usage: glam-eval db init|migrate|info [--db FILE]\n"
             "       glam-eval db delete-run RUN [--yes] [--db FILE]\n"
             "\n"
             "  init        create the database at the current schema version (an existing glam-eval database is\n"
             "              left as it is, after pending migrations)\n"
             "  migrate     upgrade an existing database to the current schema, one transaction per step\n"
             "  info        print the schema version, journal mode, size and row counts (read-only)\n"
             "  delete-run  delete run RUN and everything it produced (task runs, documents, requests, responses,\n"
             "              scores, metrics) in one transaction; without --yes it only prints what would be deleted\n"
             "              and exits with status 1. The model and its response cache stay, so running the same\n"
             "              evaluation again is answered from the cache. A run another process is evaluating and a\n"
             "              published reference run are refused. The file keeps its size (SQLite reuses the pages).\n"
             "\n"
             "Options:\n"
             "  --db FILE   the database (default: $GLAM_EVAL_DB, else ./glam-eval.db)\n"
             "  --yes       delete-run: really delete\n"
             "\n"
             "A file that is not a glam-eval database, is corrupt, locked, read-only or has a newer schema is\n"
             "reported and never modified. The schema is documented in docs/schema.md.\n",
    .run = db_run,
};
