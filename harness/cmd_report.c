/* cmd_report.c — `glam-eval report`: GLaM-style tables of runs (and published reference runs) in Markdown, CSV,
 * LaTeX, JSON (lm-evaluation-harness's layout) or self-contained HTML (results/report.h). Reads only. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contamination/audit.h"
#include "harness/cli.h"
#include "harness/commands.h"
#include "harness/fileio.h"
#include "harness/outfile.h"
#include "harness/xalloc.h"
#include "results/report.h"
#include "results/store.h"

static int run_report(int argc, char **argv)
{
    enum { OPT_DB = 256, OPT_RUN, OPT_AGAINST, OPT_FORMAT, OPT_OUT, OPT_CLEAN };
    static const struct option opts[] = {
        {"db", required_argument, NULL, OPT_DB},           {"run", required_argument, NULL, OPT_RUN},
        {"against", required_argument, NULL, OPT_AGAINST}, {"format", required_argument, NULL, OPT_FORMAT},
        {"out", required_argument, NULL, OPT_OUT},         {"help", no_argument, NULL, 'h'},
        {"clean", no_argument, NULL, OPT_CLEAN},
        {NULL, 0, NULL, 0},
    };
    int64_t run_ids[REPORT_MAX_RUNS];
    const char *labels[REPORT_MAX_RUNS];
    char label_text[REPORT_MAX_RUNS][128]; /* the items of --run and --against lists, in order */
    size_t n_runs = 0, n_labels = 0;
    const char *db = NULL, *out_path = NULL;
    int clean = 0;
    enum report_format fmt = REPORT_MD;
    struct ge_error err;
    ge_error_clear(&err);
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: db = optarg; break;
        case OPT_RUN:     /* repeatable, and each a comma-separated list as --tasks and --shots are */
        case OPT_AGAINST:
            for (const char *p = optarg;; p++) {
                size_t len = strcspn(p, ",");
                if (len == 0 || len >= sizeof label_text[0])
                    return cli_usage_error(&cmd_report, "%s: \"%s\" is not a list of %s", c == OPT_RUN ? "--run"
                                           : "--against", optarg, c == OPT_RUN ? "run ids" : "labels");
                if (n_runs + n_labels == REPORT_MAX_RUNS)
                    return cli_usage_error(&cmd_report, "at most %d runs", REPORT_MAX_RUNS);
                char *item = label_text[n_runs + n_labels];
                memcpy(item, p, len);
                item[len] = '\0';
                uint64_t v;
                if (c == OPT_AGAINST)
                    labels[n_labels++] = item;
                else if (cli_parse_u64(item, "--run", &v, &err) || v == 0 || v > INT64_MAX)
                    return cli_usage_error(&cmd_report, "--run: \"%s\" is not a run id", item);
                else
                    run_ids[n_runs++] = (int64_t)v;
                p += len;
                if (*p == '\0')
                    break;
            }
            break;
        case OPT_FORMAT:
            if (report_parse_format(optarg, &fmt, &err))
                return cli_usage_error(&cmd_report, "%s", err.msg);
            break;
        case OPT_OUT: out_path = optarg; break;
        case OPT_CLEAN: clean = 1; break;
        case 'h': return cli_help(&cmd_report);
        default: return cli_option_error(&cmd_report, c, argv);
        }
    }
    if (optind != argc)
        return cli_usage_error(&cmd_report, "unexpected argument \"%s\"", argv[optind]);
    if (clean && (fmt != REPORT_MD || n_runs == 0))
        return cli_usage_error(&cmd_report, "--clean needs --run ID and the md format (the clean/dirty tables "
                               "follow the main table)");
    if (out_path && cli_out_is_db(out_path, cli_db_path(db)))
        return cli_usage_error(&cmd_report, "--out %s is the database being read (%s) or one of its files; name "
                               "another file", out_path, cli_db_path(db));
    struct store *st = NULL;
    struct report r = {0};
    FILE *f = NULL;
    int rc = store_open(cli_db_path(db), STORE_MODE_READ, 0, &st, &err);
    if (rc == GE_OK) {
        struct report_request req = {.run_ids = run_ids, .n_run_ids = n_runs, .labels = labels, .n_labels = n_labels};
        rc = report_load(st, &req, &r, &err);
    }
    int64_t index_id = 0; /* --clean: the audit, resolved before anything is written */
    char audit_name[512] = "";
    if (rc == GE_OK && clean)
        rc = cn_audit_resolve(st, &index_id, audit_name, sizeof audit_name, &err);
    struct out_file out = {0}; /* --out: a regular FILE is replaced only once the report is whole (outfile.h) */
    if (rc == GE_OK && out_path)
        rc = out_file_open(&out, out_path, &err);
    if (rc == GE_OK)
        f = out_path ? out.f : stdout;
    for (const char *p = rc == GE_OK ? r.notes : NULL; p && *p;) { /* one line per unfinished run, each prefixed */
        size_t len = strcspn(p, "\n");
        fprintf(stderr, "glam-eval report: %.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
    if (rc == GE_OK)
        rc = report_write(&r, fmt, f, &err);
    for (size_t i = 0; clean && i < n_runs && rc == GE_OK; i++) { /* GPT-3 Appendix C: all, clean, dirty */
        fputc('\n', f);
        rc = cn_print_clean_table(f, stderr, 1, st, run_ids[i], index_id, audit_name, &err);
    }
    if (rc == GE_OK && out.f)
        rc = out_file_commit(&out, &err);
    out_file_abort(&out); /* after a failure: never leave half a report behind; an existing FILE stays as it was */
    report_release(&r);
    store_close(st);
    return rc == GE_OK ? CLI_EXIT_OK : cli_fail(&cmd_report, &err);
}

const struct command cmd_report = {
    .name = "report",
    .summary = "GLaM-style per-task tables with Avg NLG / Avg NLU (md, csv, tex, json, html)",
    .usage = "usage: glam-eval report [--run ID ...] [--against LABEL ...] [--format md|csv|tex|json|html]\n"
             "                        [--clean] [--out FILE] [--db FILE]\n"
             "\n"
             "One row per benchmark in GLaM's order (SQuADv2 as F1 and EM rows), one column per run and shot\n"
             "setting (zero-shot, one-shot, few-shot with each task's K, or another fixed K), with the metric, split,\n"
             "score and standard error; then Avg NLG (mean of 9 numbers: TriviaQA, NQs, WebQS, LAMBADA, DROP, CoQA,\n"
             "QuAC, SQuADv2 F1 and EM), Avg NLU (mean of the 21 other benchmarks) and Avg (all 30: GLaM's Table 1\n"
             "average), and GSM8K outside them. An\n"
             "average with a number missing is printed INCOMPLETE with how many it covers, never as GLaM's.\n"
             "\n"
             "  --run ID         a run to report (repeatable, or a comma-separated list; default: every run that is\n"
             "                   not a published one)\n"
             "  --against LABEL  put a published reference run beside them (repeatable, or a comma-separated list),\n"
             "                   e.g. glam-64b64e,gpt3-175b; import\n"
             "                   them first with 'glam-eval import published'. Their averages are recomputed from\n"
             "                   the per-task numbers; where the paper prints a different average both are shown\n"
             "                   and the difference is marked.\n"
             "  --format F       md (default), csv (one line per cell, stored fractions), tex (booktabs tabular),\n"
             "                   json (lm-evaluation-harness's results layout plus a glam_eval object), html (one\n"
             "                   self-contained file with inline SVG charts)\n"
             "  --clean          after the table, each --run's score per task on all, clean and dirty examples and\n"
             "                   the relative difference, under the latest contamination audit (GPT-3 Appendix C;\n"
             "                   'glam-eval contamination'); md format only\n"
             "  --out FILE       write there instead of standard output: a regular FILE is replaced once the\n"
             "                   report is whole (via FILE.tmp: a failed write leaves it as it was), a symbolic\n"
             "                   link's target is replaced (the link stays), a FIFO or device (/dev/stdout) is\n"
             "                   written in place; never the database itself or its -wal/-shm/-journal\n"
             "  --db FILE        the results database (default $GLAM_EVAL_DB or ./glam-eval.db); only read\n",
    .run = run_report,
};
