/* cli.h — the command framework of the glam-eval binary: one const table entry per command (git-style
 * `glam-eval <command> [options]`), and the shared conventions every command follows:
 *   exit code 0 = success, 1 = failure (the message names what failed), 2 = usage error, and for `run` only 3 =
 *   what was asked is done but the run stays unfinished (a resume that selected part of it);
 *   errors go to stderr as "glam-eval <command>: <message>"; `--help` prints the command's usage to stdout. */
#ifndef GE_CLI_H
#define GE_CLI_H

#include <stdint.h>

#include "harness/error.h"

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,
    CLI_EXIT_USAGE = 2,
    /* `run`: no error, but the run is not finished. Neither 0, so that `run ... && report` stops rather than
     * report a run as done, nor 1, so that a script that resumes a run part by part can tell it from a failure. */
    CLI_EXIT_UNFINISHED = 3
};

struct command {
    const char *name;    /* what the user types, e.g. "db" */
    const char *summary; /* one line for `glam-eval --help` */
    const char *usage;   /* full text printed by `glam-eval <name> --help`, ending in "\n" */
    /* Runs the command; argv[0] is the command name, getopt state is fresh. Returns an enum cli_exit value. */
    int (*run)(int argc, char **argv);
};

/* The registered commands, in the order `glam-eval --help` lists them; NULL-terminated. */
extern const struct command *const cli_commands[];

/* Finds a command by name, or NULL. */
const struct command *cli_find(const char *name);

/* Prints "glam-eval <cmd>: <message>" and a hint to use --help to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "glam-eval <cmd>: <err->msg>" to stderr; returns CLI_EXIT_FAILURE. */
int cli_fail(const struct command *cmd, const struct ge_error *err);
/* Reports a getopt_long failure (c is '?' for an unknown option, ':' for a missing value; the optstring must
 * start with ':') naming the option; returns CLI_EXIT_USAGE. */
int cli_option_error(const struct command *cmd, int c, char **argv);
/* Prints the command's usage to stdout; returns CLI_EXIT_OK. */
int cli_help(const struct command *cmd);

/* Parses a whole decimal unsigned number for option `name`; fails with GE_ERR_USAGE naming the option. */
int cli_parse_u64(const char *text, const char *name, uint64_t *out, struct ge_error *err);

/* The database path from --db, else $GLAM_EVAL_DB, else "./glam-eval.db". */
const char *cli_db_path(const char *opt_db);

/* 1 when writing out would clobber the database db: out is db itself or one of SQLite's files beside it
 * (db-wal, db-shm, db-journal; after a kill the WAL may hold every committed row), as named or through symbolic
 * links (harness/outfile.h follows them). */
int cli_out_is_db(const char *out, const char *db);

#endif
