/* cmd_score.c — `glam-eval score METRIC --dataset FILE --predictions FILE`: a drop-in for the official scorers.
 * The scorers live in scoring/; this file only maps metric names to them and handles options and output. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli.h"
#include "harness/commands.h"
#include "harness/outfile.h"
#include "harness/strbuf.h"
#include "scoring/coqa.h"
#include "scoring/drop.h"
#include "scoring/qa_em.h"
#include "scoring/quac.h"
#include "scoring/squad.h"
#include "scoring/triviaqa.h"

static const char *const metric_names[] = {"squad_v2", "drop", "coqa", "quac", "triviaqa", "em", "f1"};

/* Options of the metrics that take them; a value stays at its default unless the user gave it. */
struct score_options {
    const char *answer_field;     /* em, f1 */
    const char *id_field;         /* em, f1 */
    struct squad_v2_options squad;
    struct quac_options quac;
    int n_squad_opts, n_quac_opts, n_qa_opts; /* how many options of each family were given */
};

static int run_metric(const char *metric, const char *dataset, const char *predictions,
                      const struct score_options *o, struct strbuf *json, struct ge_error *err)
{
    if (strcmp(metric, "squad_v2") == 0)
        return squad_v2_score_files_opts(dataset, predictions, &o->squad, json, err);
    if (strcmp(metric, "drop") == 0)
        return drop_score_files(dataset, predictions, json, err);
    if (strcmp(metric, "coqa") == 0)
        return coqa_score_files(dataset, predictions, json, err);
    if (strcmp(metric, "quac") == 0)
        return quac_score_files_opts(dataset, predictions, &o->quac, json, err);
    if (strcmp(metric, "triviaqa") == 0)
        return triviaqa_score_files(dataset, predictions, json, err);
    return qa_score_files(metric, dataset, predictions, o->answer_field, o->id_field, json, err);
}

static int parse_double(const char *text, const char *name, double *out, struct ge_error *err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !isfinite(v))
        return ge_error_set(err, GE_ERR_USAGE, "%s: expected a number, got \"%s\"", name, text);
    *out = v;
    return GE_OK;
}

static int write_output(const char *path, const struct strbuf *json, struct ge_error *err)
{
    if (path == NULL) {
        fputs(strbuf_str(json), stdout);
        fputc('\n', stdout);
        return GE_OK;
    }
    struct out_file out; /* the rule of every --out (harness/outfile.h): a regular file is replaced once whole */
    int rc = out_file_open(&out, path, err);
    if (rc)
        return rc;
    fputs(strbuf_str(json), out.f);
    fputc('\n', out.f);
    return out_file_commit(&out, err);
}

static int score_run(int argc, char **argv)
{
    enum { OPT_NA_PROB_FILE = 256, OPT_NA_PROB_THRESH, OPT_MISSING_AS_ZERO, OPT_MIN_F1, OPT_MAP_UNANSWERABLE };
    static const struct option opts[] = {
        {"dataset", required_argument, NULL, 'd'},
        {"predictions", required_argument, NULL, 'p'},
        {"answer-field", required_argument, NULL, 'a'},
        {"id-field", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},
        {"na-prob-file", required_argument, NULL, OPT_NA_PROB_FILE},
        {"na-prob-thresh", required_argument, NULL, OPT_NA_PROB_THRESH},
        {"missing-as-zero", no_argument, NULL, OPT_MISSING_AS_ZERO},
        {"min-f1", required_argument, NULL, OPT_MIN_F1},
        {"map-unanswerable", no_argument, NULL, OPT_MAP_UNANSWERABLE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dataset = NULL, *predictions = NULL, *out_path = NULL;
    struct score_options o = {.squad = SQUAD_V2_OPTIONS_DEFAULT, .quac = QUAC_OPTIONS_DEFAULT};
    struct ge_error err;
    ge_error_clear(&err);
    int c;
    while ((c = getopt_long(argc, argv, ":d:p:a:i:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dataset = optarg; break;
        case 'p': predictions = optarg; break;
        case 'a': o.answer_field = optarg; o.n_qa_opts++; break;
        case 'i': o.id_field = optarg; o.n_qa_opts++; break;
        case 'o': out_path = optarg; break;
        case OPT_NA_PROB_FILE: o.squad.na_prob_path = optarg; o.n_squad_opts++; break;
        case OPT_NA_PROB_THRESH:
            if (parse_double(optarg, "--na-prob-thresh", &o.squad.na_prob_thresh, &err))
                return cli_usage_error(&cmd_score, "%s", err.msg);
            o.n_squad_opts++;
            break;
        case OPT_MISSING_AS_ZERO: o.squad.missing_as_zero = 1; o.n_squad_opts++; break;
        case OPT_MIN_F1:
            if (parse_double(optarg, "--min-f1", &o.quac.min_f1, &err))
                return cli_usage_error(&cmd_score, "%s", err.msg);
            o.n_quac_opts++;
            break;
        case OPT_MAP_UNANSWERABLE: o.quac.map_unanswerable = 1; o.n_quac_opts++; break;
        case 'h': return cli_help(&cmd_score);
        default: return cli_option_error(&cmd_score, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(&cmd_score, "missing METRIC (one of squad_v2, drop, coqa, quac, triviaqa, em, f1)");
    if (optind + 1 < argc)
        return cli_usage_error(&cmd_score, "unexpected argument '%s'", argv[optind + 1]);
    const char *metric = argv[optind];
    int known = 0;
    for (size_t i = 0; i < sizeof metric_names / sizeof metric_names[0]; i++)
        known |= strcmp(metric_names[i], metric) == 0;
    if (!known)
        return cli_usage_error(&cmd_score, "unknown metric '%s' (one of squad_v2, drop, coqa, quac, triviaqa, em, f1)",
                               metric);
    if (dataset == NULL)
        return cli_usage_error(&cmd_score, "missing --dataset FILE");
    if (predictions == NULL)
        return cli_usage_error(&cmd_score, "missing --predictions FILE");
    int is_qa = strcmp(metric, "em") == 0 || strcmp(metric, "f1") == 0;
    if (o.n_qa_opts && !is_qa)
        return cli_usage_error(&cmd_score, "--answer-field and --id-field apply to the em and f1 metrics only");
    if (o.n_squad_opts && strcmp(metric, "squad_v2") != 0)
        return cli_usage_error(&cmd_score, "--na-prob-file, --na-prob-thresh and --missing-as-zero apply to squad_v2 only");
    if (o.n_quac_opts && strcmp(metric, "quac") != 0)
        return cli_usage_error(&cmd_score, "--min-f1 and --map-unanswerable apply to quac only");

    struct strbuf json;
    strbuf_init(&json, 0);
    int rc = run_metric(metric, dataset, predictions, &o, &json, &err);
    if (rc == GE_OK)
        rc = write_output(out_path, &json, &err);
    strbuf_release(&json);
    return rc == GE_OK ? CLI_EXIT_OK : cli_fail(&cmd_score, &err);
}

const struct command cmd_score = {
    .name = "score",
    .summary = "score a predictions file like the official script of a benchmark",
    .usage =
        "usage: glam-eval score METRIC --dataset FILE --predictions FILE [--out FILE]\n"
        "       glam-eval score em|f1 --dataset FILE.jsonl --predictions FILE.jsonl [--answer-field F] [--id-field F]\n"
        "\n"
        "Scores predictions exactly as the official evaluation script of the benchmark and prints its JSON keys.\n"
        "\n"
        "Metrics:\n"
        "  squad_v2   dataset: official dev-v2.0.json or our JSONL; predictions: {qid: answer} (\"\" = no answer)\n"
        "             prints exact, f1, total, HasAns_*, NoAns_* like evaluate-v2.0.py. Unlike `run`, which scores a\n"
        "             generated \"unanswerable\" as \"\" (no answer), it takes answers as they are: to reproduce a\n"
        "             run's number, map \"unanswerable\" to \"\" in the predictions (docs/metrics.md has the query)\n"
        "  drop       dataset: official drop_dataset_dev.json or our JSONL; predictions: {query_id: answer}\n"
        "             prints global_em, global_f1 like drop_eval.py\n"
        "  coqa       dataset: official coqa-dev-v1.0.json or our JSONL; predictions: [{id, turn_id, answer}]\n"
        "             prints per-domain and overall em/f1/turns like evaluate-v1.0.py\n"
        "  quac       dataset: official val_v0.2.json or our JSONL; predictions as the official scorer reads them\n"
        "  triviaqa   dataset: official *-dev.json or our JSONL; predictions: {qid: answer}\n"
        "             prints exact_match, f1, common, denominator, pred_len, gold_len\n"
        "  em, f1     dataset: a JSONL of ours (not TriviaQA: score triviaqa); predictions: JSONL of\n"
        "             {\"id\": ..., \"prediction\": ...};\n"
        "             ids are the dataset's id field or, without one, the 1-based line number\n"
        "\n"
        "Ids: in our JSONL a record without an id (nq_open, webqs, the shared triviaqa and quac files) is known by\n"
        "its 1-based line number, blank lines counted (quac: dialogue \"N\", question \"N_q#0\"). These are the\n"
        "documents.doc_id values `glam-eval run` stores, so answers exported from a run's database score as they\n"
        "are. A prediction keyed by a line number the dataset does not have (0, or past its last line, as from a\n"
        "file numbered from 0) is an error.\n"
        "\n"
        "Options:\n"
        "  --dataset FILE        the gold data\n"
        "  --predictions FILE    the predictions\n"
        "  --answer-field F      em/f1: the gold answer field (dotted path, default: detected for known tasks)\n"
        "  --id-field F          em/f1: the id field (default: per record, id, else question_id, else its line)\n"
        "  --out FILE            write the JSON there instead of stdout (a regular FILE is replaced once\n"
        "                        whole, a symbolic link's target likewise, a FIFO or device written in place)\n"
        "  --na-prob-file FILE   squad_v2: {qid: probability of no answer}, as evaluate-v2.0.py --na-prob-file\n"
        "  --na-prob-thresh X    squad_v2: predict no answer above this probability (default 1.0)\n"
        "  --missing-as-zero     squad_v2: score a question without a prediction 0 (the official script stops)\n"
        "  --min-f1 X            quac: skip questions whose human F1 is below X (default 0.4)\n"
        "  --map-unanswerable    quac: count a generated \"unanswerable\"/\"cannotanswer\" as CANNOTANSWER\n"
        "\n"
        "Deliberate differences from the official scripts are listed in docs/metrics.md.\n",
    .run = score_run,
};
