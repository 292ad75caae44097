/* main.c — entry point of the glam-eval binary: dispatches `glam-eval <command> [options]` to the command
 * table (harness/commands.c). Only main exits. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli.h"

static void print_overview(FILE *out)
{
    fprintf(out, "usage: glam-eval <command> [options]\n\n"
                 "Few-shot evaluation of dense and Mixture-of-Experts language models on GLaM's benchmarks.\n\n"
                 "Commands:\n");
    for (size_t i = 0; cli_commands[i] != NULL; i++)
        fprintf(out, "  %-14s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fprintf(out, "\nRun 'glam-eval <command> --help' for a command's options. Exit status: 0 success, "
                 "1 failure, 2 usage error;\n3 from run: no error, but the run stays unfinished (a resume that "
                 "selected part of it).\n");
}

/* A standard descriptor the caller closed (`glam-eval run ... >&-`) gets /dev/null opened read-only in its place:
 * otherwise the next file opened (a report, a data file) would become "stdout" and the table would be written
 * into it; read-only, every write to it fails, and main reports the failure. */
static void hold_standard_fds(void)
{
    /* open returns the lowest free descriptor, which is fd itself: the lower ones are open or were just filled */
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
            (void)open("/dev/null", O_RDONLY);
}

int main(int argc, char **argv)
{
    hold_standard_fds();
    /* Past a file-size limit (ulimit -f) the default action kills the process without a word; ignored, the write
       fails with EFBIG and the error path names the file like any full disk. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        print_overview(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            const struct command *cmd = cli_find(argv[2]);
            if (cmd)
                return cli_help(cmd);
            fprintf(stderr, "glam-eval: unknown command '%s'\n", argv[2]);
            return CLI_EXIT_USAGE;
        }
        print_overview(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
        name = "version";
    const struct command *cmd = cli_find(name);
    if (cmd == NULL) {
        fprintf(stderr, "glam-eval: unknown command '%s'\nRun 'glam-eval --help' for the list of commands.\n", name);
        return CLI_EXIT_USAGE;
    }
    optind = 0; /* glibc: 0 fully reinitialises getopt for the command's own argument vector */
    opterr = 0; /* commands report option errors themselves, naming the command */
    int rc = cmd->run(argc - 1, argv + 1);
    /* What a command printed (the run's table, `tasks`) is its result too: a write that failed (stdout closed, a
     * full disk) must not end with status 0. */
    if ((fflush(stdout) != 0 || ferror(stdout)) && (rc == CLI_EXIT_OK || rc == CLI_EXIT_UNFINISHED)) {
        fprintf(stderr, "glam-eval %s: writing to standard output failed: %s\n", cmd->name,
                errno ? strerror(errno) : "write error");
        rc = CLI_EXIT_FAILURE; /* (a command that failed already said why) */
    }
    return rc;
}
