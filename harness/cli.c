/* cli.c — shared helpers of the command framework (see cli.h). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli.h"
#include "harness/fileio.h"
#include "harness/outfile.h"
#include "harness/xalloc.h"

const struct command *cli_find(const char *name)
{
    for (size_t i = 0; cli_commands[i] != NULL; i++)
        if (strcmp(cli_commands[i]->name, name) == 0)
            return cli_commands[i];
    return NULL;
}

int cli_usage_error(const struct command *cmd, const char *fmt, ...)
{
    fprintf(stderr, "glam-eval %s: ", cmd->name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'glam-eval %s --help'.\n", cmd->name);
    return CLI_EXIT_USAGE;
}

int cli_fail(const struct command *cmd, const struct ge_error *err)
{
    fprintf(stderr, "glam-eval %s: %s\n", cmd->name, err->msg[0] ? err->msg : ge_status_name(err->code));
    return err->code == GE_ERR_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
}

int cli_option_error(const struct command *cmd, int c, char **argv)
{
    const char *opt = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", opt);
    if (optopt && optopt != '?')
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", opt);
}

int cli_help(const struct command *cmd)
{
    fputs(cmd->usage, stdout);
    return CLI_EXIT_OK;
}

int cli_parse_u64(const char *text, const char *name, uint64_t *out, struct ge_error *err)
{
    char *end = NULL;
    errno = 0;
    if (text[0] == '\0' || text[0] == '-' || text[0] == '+')
        return ge_error_set(err, GE_ERR_USAGE, "%s: expected a non-negative whole number, got \"%s\"", name, text);
    unsigned long long v = strtoull(text, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return ge_error_set(err, GE_ERR_USAGE, "%s: expected a non-negative whole number, got \"%s\"", name, text);
    *out = v;
    return GE_OK;
}

static int names_db(const char *out, const char *db)
{
    static const char *const sidecars[] = {"-wal", "-shm", "-journal"};
    if (file_same(out, db))
        return 1;
    size_t n = strlen(out);
    for (size_t i = 0; i < sizeof sidecars / sizeof sidecars[0]; i++) {
        size_t k = strlen(sidecars[i]);
        if (n > k && strcmp(out + n - k, sidecars[i]) == 0) {
            char *base = xstrndup(out, n - k);
            int same = file_same(base, db);
            free(base);
            if (same)
                return 1;
        }
    }
    return 0;
}

int cli_out_is_db(const char *out, const char *db)
{
    if (names_db(out, db))
        return 1;
    /* Through a symbolic link: the file written is the link's target (outfile.h), which may be a sidecar that does
     * not exist yet, so stat alone cannot see it. A path that cannot be resolved is refused later, when opened. */
    char *target = NULL;
    int in_place, same = 0;
    struct ge_error err;
    if (out_file_resolve(out, &target, &in_place, &err) == GE_OK)
        same = names_db(target, db);
    free(target);
    return same;
}

const char *cli_db_path(const char *opt_db)
{
    if (opt_db && *opt_db)
        return opt_db;
    const char *env = getenv("GLAM_EVAL_DB");
    return env && *env ? env : "./glam-eval.db";
}
