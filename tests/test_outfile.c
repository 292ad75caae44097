/* test_outfile.c — the --out rule of harness/outfile.h in a temporary directory: a new and an existing regular file
 * (replaced: a new inode, no temporary left), symbolic links (relative, into another directory, a chain, dangling:
 * the target is written beside itself and the link stays), a FIFO (written in place, read by a child), a duplicate
 * of our own descriptor through /proc (/dev/fd/N: same offset and append mode), a directory and a loop of links
 * (refused), an abort (the target as it was), cli_out_is_db through links, and cn_index_write through a link. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "contamination/index.h"
#include "harness/cli.h"
#include "harness/error.h"
#include "harness/fileio.h"
#include "harness/outfile.h"
#include "tests/tap.h"

static char dir[64];

static const char *at(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void put(const char *name, const char *text)
{
    FILE *f = fopen(at(name), "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* The file's text ("(unreadable)" when it cannot be read); static buffer. */
static const char *text_of(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    if (!f)
        return "(unreadable)";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Writes text through out_file to name; returns the rc of open or commit. */
static int write_via(const char *path, const char *text, struct ge_error *err)
{
    struct out_file o;
    int rc = out_file_open(&o, path, err);
    if (rc)
        return rc;
    fputs(text, o.f);
    return out_file_commit(&o, err);
}

static int is_link(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode);
}

static int exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static void test_regular(void)
{
    struct ge_error err;
    tap_is_int(write_via(at("new.md"), "one\n", &err), GE_OK, "a new file is created");
    tap_is_str(text_of(at("new.md")), "one\n", "... with the output");
    struct stat before, after;
    stat(at("new.md"), &before);
    tap_is_int(write_via(at("new.md"), "two\n", &err), GE_OK, "an existing regular file is written");
    stat(at("new.md"), &after);
    tap_is_str(text_of(at("new.md")), "two\n", "... with the new output");
    tap_ok(before.st_ino != after.st_ino, "... by replacing it (a rename: a new inode)");
    tap_ok(!exists(at("new.md.tmp")), "... leaving no temporary");
    struct out_file o;
    tap_is_int(out_file_open(&o, at("new.md"), &err), GE_OK, "open for an output that will be abandoned");
    fputs("half", o.f);
    out_file_abort(&o);
    tap_is_str(text_of(at("new.md")), "two\n", "an abandoned output leaves the file as it was");
    tap_ok(!exists(at("new.md.tmp")), "... and no temporary");
    out_file_abort(&o); /* released: a no-op */
}

static void test_links(void)
{
    struct ge_error err;
    put("target.md", "old\n");
    symlink("target.md", at("link.md"));
    tap_is_int(write_via(at("link.md"), "new\n", &err), GE_OK, "write through a symbolic link");
    tap_ok(is_link(at("link.md")), "the link stays a link");
    tap_is_str(text_of(at("target.md")), "new\n", "the file it names gets the output");

    mkdir(at("sub"), 0777);
    put("sub/t.md", "old\n");
    symlink("sub/t.md", at("into-sub"));   /* relative to the link's directory */
    symlink("into-sub", at("chain"));      /* a chain of two */
    tap_is_int(write_via(at("chain"), "chained\n", &err), GE_OK, "write through a chain of links into another "
               "directory");
    tap_is_str(text_of(at("sub/t.md")), "chained\n", "the last target gets the output");
    tap_ok(is_link(at("chain")) && is_link(at("into-sub")), "both links stay");
    tap_ok(!exists(at("chain.tmp")) && !exists(at("sub/t.md.tmp")), "no temporary left in either directory");

    symlink("sub/absent.md", at("dangling"));
    tap_is_int(write_via(at("dangling"), "made\n", &err), GE_OK, "write through a dangling link");
    tap_is_str(text_of(at("sub/absent.md")), "made\n", "the file it names is created");
    tap_ok(is_link(at("dangling")), "... and the link stays");

    char *target = NULL;
    int in_place = -1;
    tap_is_int(out_file_resolve(at("chain"), &target, &in_place, &err), GE_OK, "resolve a chain");
    tap_is_str(target ? target : "", at("sub/t.md"), "... to the file it reaches");
    tap_is_int(in_place, 0, "... which is replaced, not written in place");
    free(target);

    symlink("loop-b", at("loop-a"));
    symlink("loop-a", at("loop-b"));
    tap_is_int(write_via(at("loop-a"), "x", &err), GE_ERR_IO, "a loop of links is refused");
    tap_ok(strstr(err.msg, "loop-a") != NULL, "... naming the path (%s)", err.msg);
    tap_is_int(write_via(at("sub"), "x", &err), GE_ERR_IO, "a directory is refused");
    tap_ok(strstr(err.msg, "is a directory") != NULL, "... saying so (%s)", err.msg);
}

static void test_fifo(void)
{
    struct ge_error err;
    if (mkfifo(at("pipe"), 0600) != 0) {
        tap_skip("mkfifo failed", "FIFO cases");
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) { /* the reader: copies the FIFO into a file */
        int in = open(at("pipe"), O_RDONLY), out = open(at("from-pipe"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        char buf[256];
        ssize_t n;
        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n)
                break;
        _exit(0);
    }
    int rc = write_via(at("pipe"), "through the pipe\n", &err);
    int status = 0;
    waitpid(pid, &status, 0);
    tap_is_int(rc, GE_OK, "write to a FIFO");
    struct stat sb;
    tap_ok(lstat(at("pipe"), &sb) == 0 && S_ISFIFO(sb.st_mode), "the FIFO stays a FIFO");
    tap_is_str(text_of(at("from-pipe")), "through the pipe\n", "its reader gets the output");
    tap_ok(!exists(at("pipe.tmp")), "no temporary is made");
    symlink("pipe", at("pipe-link"));
    char *target = NULL;
    int in_place = 0;
    tap_ok(out_file_resolve(at("pipe-link"), &target, &in_place, &err) == GE_OK && in_place,
           "a link to a FIFO resolves to a file written in place");
    free(target);
}

static void test_proc_fd(void)
{
    struct ge_error err;
    if (!exists("/dev/fd") || !exists("/proc/self/fd")) {
        tap_skip("no /dev/fd or /proc", "/dev/fd cases");
        return;
    }
    put("log", "header\n");
    int fd = open(at("log"), O_WRONLY | O_APPEND);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    struct stat before, after;
    stat(at("log"), &before);
    tap_is_int(write_via(path, "appended\n", &err), GE_OK, "write to %s (our descriptor, in append mode)", path);
    stat(at("log"), &after);
    close(fd);
    tap_is_str(text_of(at("log")), "header\nappended\n", "the output goes where the descriptor writes (appended)");
    tap_ok(before.st_ino == after.st_ino, "... and the file behind it is not replaced");
}

static void test_db_refusal(void)
{
    put("r.db", "not really a database\n");
    symlink("r.db", at("to-db"));
    symlink("r.db-wal", at("to-wal")); /* dangling: the WAL does not exist yet */
    symlink("to-wal", at("to-to-wal"));
    tap_ok(cli_out_is_db(at("to-db"), at("r.db")), "a link to the database is the database");
    tap_ok(cli_out_is_db(at("to-wal"), at("r.db")), "a link to its -wal (not there yet) is refused");
    tap_ok(cli_out_is_db(at("to-to-wal"), at("r.db")), "... also through a chain");
    tap_ok(cli_out_is_db(at("r.db-journal"), at("r.db")), "its -journal by name");
    tap_ok(!cli_out_is_db(at("target.md"), at("r.db")), "another file is not");
}

static void test_index_write(void)
{
    struct ge_error err;
    const char *texts[] = {"the quick brown fox jumps over the lazy dog"};
    struct cn_index *ix = NULL;
    if (cn_index_build_texts(texts, 1, 3, &ix, &err) != GE_OK) {
        tap_skip(err.msg, "cn_index_write through a link");
        return;
    }
    put("real.idx", "stale");
    symlink("real.idx", at("current.idx"));
    tap_is_int(cn_index_write(ix, at("current.idx"), &err), GE_OK, "contamination index --out through a link");
    tap_ok(is_link(at("current.idx")), "... keeps the link");
    struct cn_index *back = NULL;
    tap_is_int(cn_index_load(at("real.idx"), 0, &back, &err), GE_OK, "... and its target is the index (%s)", err.msg);
    cn_index_free(back);
    cn_index_free(ix);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/outfile-XXXXXX", base && *base && strlen(base) < 40 ? base : "/tmp");
    if (mkdtemp(dir) == NULL)
        return tap_skip_all("cannot make a temporary directory");
    test_regular();
    test_links();
    test_fifo();
    test_proc_fd();
    test_db_refusal();
    test_index_write();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
