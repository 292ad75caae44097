/* report_format.c — writes a struct report (report.h) as Markdown, CSV, LaTeX, JSON or self-contained HTML.
 *
 * Invariants every format keeps: rows in GLaM's order, then Avg NLG and Avg NLU, then GSM8K (outside the averages);
 * an incomplete average is printed with how many numbers it covers and the word INCOMPLETE, never as a bare
 * number; a published column shows the recomputed average and, when the paper prints one, the paper's, marked
 * where they differ by more than REPORT_AVG_TOLERANCE. Scores print as percentages (the stored fraction × 100):
 * two decimals with "± standard error" for our runs, one decimal (the papers' precision) for published cells.
 * CSV and JSON carry the stored fractions unrounded.
 *
 * The JSON is lm-evaluation-harness's results layout (keys results, groups, group_subtasks, n-shot, configs,
 * versions, higher_is_better, n-samples, config, as v0.4's evaluator writes them: "<metric>,none" and
 * "<metric>_stderr,none" per task) plus a "glam_eval" object with the columns, rows and averages. Only complete
 * averages are lm-eval groups (a group's score has no room for a mark). With more than one column, task keys are
 * prefixed "<column>/" so that each (run, setting) stays a separate entry.
 *
 * Longer than ~800 lines because the five formats share this file's cell, average and title helpers, which a split
 * would have to export.
 *
 * The HTML embeds its style and two kinds of inline SVG chart (no script, no external resource): GLaM's scaling
 * figure (Avg NLG / Avg NLU against activated parameters per token, log scale) and per-task bars of the columns. */
#include "config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/report.h"
#include "tasks/registry.h"

#define CELL_CAP 160 /* "100.00 ± 100.00 (k=64)" and four marks with 20-digit counts */

/* "stories260K.gguf (run 3)" (a run's model is stored by path and titled by its last component; CSV and JSON keep
 * the whole name) or "GPT-3 175B [gpt3-175b]". */
static void column_title(const struct report_column *c, char *buf, size_t cap)
{
    const char *name = c->model, *slash = strrchr(name, '/');
    if (!c->published && slash && slash[1] != '\0')
        name = slash + 1;
    if (c->published)
        snprintf(buf, cap, "%s [%s]", name, c->label);
    else
        snprintf(buf, cap, "%s (run %lld)", name, (long long)c->run_id);
}

/* A short key for JSON and CSV: "run3:zero-shot" or "glam-64b64e:few-shot". */
static void column_key(const struct report_column *c, char *buf, size_t cap)
{
    char s[24];
    report_setting_name(c, s, sizeof s);
    if (c->published)
        snprintf(buf, cap, "%s:%s", c->label, s);
    else
        snprintf(buf, cap, "run%lld:%s", (long long)c->run_id, s);
}

static void cell_text(const struct report_column *col, const struct report_cell *c, char *buf, size_t cap)
{
    if (!c->present) {
        snprintf(buf, cap, "–");
        return;
    }
    size_t n;
    if (col->published)
        n = (size_t)snprintf(buf, cap, "%.1f", 100.0 * c->value);
    else if (isnan(c->std_error))
        n = (size_t)snprintf(buf, cap, "%.2f", 100.0 * c->value);
    else
        n = (size_t)snprintf(buf, cap, "%.2f ± %.2f", 100.0 * c->value, 100.0 * c->std_error);
    if (n < cap && (col->setting == REPORT_FEW))
        n += (size_t)snprintf(buf + n, cap - n, " (k=%d)", c->n_shots);
    /* Each mark counts documents, so every format says the same ("cell_text" is the md, tex and html cell; csv
       and json carry the counts as n_failed, n_fewer_shots and n_truncated). */
    if (n < cap && c->n_failed > 0) /* the score is over the n others only */
        n += (size_t)snprintf(buf + n, cap - n, " (%lld failed)", (long long)c->n_failed);
    if (n < cap && c->n_fewer_shots > 0) /* examples dropped to fit the window: not a K-shot score for these */
        n += (size_t)snprintf(buf + n, cap - n, " (%lld with fewer shots)", (long long)c->n_fewer_shots);
    if (n < cap && c->n_truncated > 0) /* prompts cut to the window: not the whole benchmark's prompts */
        n += (size_t)snprintf(buf + n, cap - n, " (%lld cut)", (long long)c->n_truncated);
    if (n < cap && c->partial)
        snprintf(buf + n, cap - n, " (partial)");
}

/* The three averages of a column: 0 = Avg NLG, 1 = Avg NLU, 2 = the mean of all 30 numbers (GLaM's Table 1). */
#define N_AVGS 3
static const char *const avg_names[N_AVGS] = {"Avg NLG", "Avg NLU", "Avg (all 30)"};
static const char *const avg_keys[N_AVGS] = {"avg_nlg", "avg_nlu", "avg_all"};

static const struct report_avg *col_avg(const struct report_column *c, int g)
{
    return g == 0 ? &c->nlg : g == 1 ? &c->nlu : &c->all;
}

static double col_published(const struct report_column *c, int g)
{
    return g == 0 ? c->published_nlg : g == 1 ? c->published_nlu : c->published_all;
}

/* Whether the paper's average differs from the recomputation (both present, recomputation complete). */
static int avg_differs(const struct report_avg *a, double published)
{
    return !isnan(published) && report_avg_complete(a) && fabs(a->value - published) > REPORT_AVG_TOLERANCE;
}

static void avg_text(const struct report_avg *a, double published, int plain, char *buf, size_t cap)
{
    size_t n;
    char status[REPORT_AVG_STATUS_CAP];
    if (a->n_present == 0)
        n = (size_t)snprintf(buf, cap, "–");
    else if (report_avg_complete(a))
        n = (size_t)snprintf(buf, cap, "%.2f", 100.0 * a->value);
    else
        n = (size_t)snprintf(buf, cap, "%.2f %s", 100.0 * a->value, report_avg_status(a, status, sizeof status));
    if (!isnan(published) && n < cap)
        snprintf(buf + n, cap - n, avg_differs(a, published) ? (plain ? "; paper %.1f DIFFERS" : "; paper %.1f ≠")
                                                             : "; paper %.1f", 100.0 * published);
}

/* The splits of row i over all columns, "/"-joined without repeats. */
static void row_splits(const struct report *r, size_t i, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t c = 0; c < r->n_columns; c++) {
        const struct report_cell *cell = &r->columns[c].cells[i];
        if (!cell->present || cell->split[0] == '\0')
            continue;
        char needle[40];
        snprintf(needle, sizeof needle, "/%s/", cell->split);
        char have[256];
        snprintf(have, sizeof have, "/%s/", buf);
        if (strstr(have, needle))
            continue;
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%s", n ? "/" : "", cell->split);
    }
}

static void format_count(int64_t n, char *buf, size_t cap)
{
    if (n < 0)
        snprintf(buf, cap, "?");
    else if (n >= 1000000000000LL)
        snprintf(buf, cap, "%.3gT", (double)n / 1e12);
    else if (n >= 1000000000)
        snprintf(buf, cap, "%.3gB", (double)n / 1e9);
    else if (n >= 1000000)
        snprintf(buf, cap, "%.3gM", (double)n / 1e6);
    else if (n >= 1000) /* every size in the table in the same form: 543K beside 1.27M, not 542946 */
        snprintf(buf, cap, "%.3gK", (double)n / 1e3);
    else
        snprintf(buf, cap, "%lld", (long long)n);
}

/* ---- Markdown ---------------------------------------------------------------------------------------------- */

/* Text inside a table cell: a '|' would start a new cell and a line break end the row (names come from paths). */
static void md_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static void md_avg_row(const struct report *r, FILE *f, int g)
{
    fprintf(f, "| **%s** | | |", avg_names[g]);
    for (size_t c = 0; c < r->n_columns; c++) {
        char b[CELL_CAP];
        const struct report_column *col = &r->columns[c];
        int differs = avg_differs(col_avg(col, g), col_published(col, g));
        avg_text(col_avg(col, g), col_published(col, g), 0, b, sizeof b);
        fprintf(f, " %s%s%s |", differs ? "**" : "", b, differs ? "**" : "");
    }
    fputc('\n', f);
}

static void md_row(const struct report *r, FILE *f, size_t i)
{
    const struct report_row *row = report_row_at(i);
    char splits[128];
    row_splits(r, i, splits, sizeof splits);
    fprintf(f, "| %s | %s | %s |", row->label, report_row_metric(i), splits);
    for (size_t c = 0; c < r->n_columns; c++) {
        char b[CELL_CAP];
        cell_text(&r->columns[c], &r->columns[c].cells[i], b, sizeof b);
        fprintf(f, " %s |", b);
    }
    fputc('\n', f);
}

/* What a cell's marks mean, under the title of the md and html reports (docs/reports.md has the full table). */
#define CELL_MARKS_TEXT                                                                                               \
    "Marks: (N failed): documents the model could not answer, not scored; (N cut): scored documents whose prompt "  \
    "was cut to the model's window; (N with fewer shots): scored documents whose prompt dropped examples to fit it."

static void write_md(const struct report *r, FILE *f)
{
    fprintf(f, "# GLaM-style results\n\nDatabase: `%s`. Scores in %%, ± standard error; few-shot cells show their "
               "K. %s\n\n", r->db_path, CELL_MARKS_TEXT);
    for (const char *p = r->notes; p && *p;) { /* one line per unfinished run */
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        fprintf(f, "**Note:** %.*s\n\n", (int)len, p);
        p += len + (e != NULL);
    }
    fprintf(f, "| Task | Metric | Split |");
    for (size_t c = 0; c < r->n_columns; c++) {
        char t[160], s[24];
        column_title(&r->columns[c], t, sizeof t);
        fputc(' ', f);
        md_escape(f, t);
        fprintf(f, "<br>%s |", report_setting_name(&r->columns[c], s, sizeof s));
    }
    fprintf(f, "\n|---|---|---|");
    for (size_t c = 0; c < r->n_columns; c++)
        fprintf(f, "---:|");
    fputc('\n', f);
    size_t n = report_n_rows();
    for (size_t i = 0; i < n; i++)
        if (report_row_at(i)->group != REPORT_OTHER)
            md_row(r, f, i);
    for (int g = 0; g < N_AVGS; g++)
        md_avg_row(r, f, g);
    for (size_t i = 0; i < n; i++)
        if (report_row_at(i)->group == REPORT_OTHER)
            md_row(r, f, i);
    fprintf(f, "\nAvg NLG is the mean of 9 numbers (TriviaQA, NQs, WebQS, LAMBADA, DROP, CoQA, QuAC, SQuADv2 F1 and "
               "EM), Avg NLU the mean of the 21 other benchmarks, Avg (all 30) the mean of those 30 numbers "
               "(GLaM's Table 1 average); GSM8K is in none. INCOMPLETE: numbers are missing, "
               "so the average is not comparable with GLaM's; PARTIAL: some numbers come from unfinished or "
               "one-shard task runs, likewise. \"paper X\": the average the paper prints; ≠ marks a "
               "difference of more than %.1f points from the recomputation.\n\n", 100.0 * REPORT_AVG_TOLERANCE);
    fprintf(f, "| Model | Run | Parameters | Activated / token | GFLOPs / token | Source |\n"
               "|---|---|---:|---:|---:|---|\n");
    for (size_t c = 0; c < r->n_columns; c++) {
        const struct report_column *col = &r->columns[c];
        if (c > 0 && r->columns[c - 1].run_id == col->run_id)
            continue;
        char a[32], b[32], fl[32];
        format_count(col->n_params, a, sizeof a);
        format_count(col->n_active_params, b, sizeof b);
        if (isnan(col->flops_per_token))
            snprintf(fl, sizeof fl, "?");
        else
            snprintf(fl, sizeof fl, "%.4g", col->flops_per_token / 1e9);
        fputs("| ", f);
        md_escape(f, col->model);
        fprintf(f, " | %s%lld | %s | %s | %s | ", col->published ? "published " : "", (long long)col->run_id, a, b,
                fl);
        md_escape(f, col->source ? col->source : "this database");
        fputs(" |\n", f);
    }
}

/* ---- CSV --------------------------------------------------------------------------------------------------- */

static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v)
{
    if (!isnan(v))
        fprintf(f, "%.17g", v);
}

/* A count, or nothing when it is not known (REPORT_UNKNOWN): 0 would claim a paper's cell covers no example. */
static void csv_count(FILE *f, int64_t v)
{
    if (v != REPORT_UNKNOWN)
        fprintf(f, "%lld", (long long)v);
}

static void write_csv(const struct report *r, FILE *f)
{
    fputs("column,run_id,published,model,setting,k,row,task,metric,split,value,std_error,n,partial,"
          "n_present,n_expected,published_value,differs,n_truncated,n_fewer_shots,n_failed\n", f);
    size_t n = report_n_rows();
    for (size_t c = 0; c < r->n_columns; c++) {
        const struct report_column *col = &r->columns[c];
        char key[160], s[24];
        column_key(col, key, sizeof key);
        report_setting_name(col, s, sizeof s);
        for (size_t i = 0; i < n; i++) {
            const struct report_cell *cell = &col->cells[i];
            if (!cell->present)
                continue;
            csv_field(f, key);
            fprintf(f, ",%lld,%d,", (long long)col->run_id, col->published);
            csv_field(f, col->model);
            fprintf(f, ",%s,%d,", s, cell->n_shots);
            csv_field(f, report_row_at(i)->label);
            fprintf(f, ",%s,%s,", report_row_at(i)->task, report_row_metric(i));
            csv_field(f, cell->split);
            fputc(',', f);
            csv_num(f, cell->value);
            fputc(',', f);
            csv_num(f, cell->std_error);
            fputc(',', f);
            csv_count(f, cell->n);
            fprintf(f, ",%d,,,,,", cell->partial);
            csv_count(f, cell->n_truncated);
            fputc(',', f);
            csv_count(f, cell->n_fewer_shots);
            fputc(',', f);
            csv_count(f, cell->n_failed);
            fputc('\n', f);
        }
        for (int g = 0; g < N_AVGS; g++) {
            const struct report_avg *a = col_avg(col, g);
            double p = col_published(col, g);
            csv_field(f, key);
            fprintf(f, ",%lld,%d,", (long long)col->run_id, col->published);
            csv_field(f, col->model);
            fprintf(f, ",%s,,%s,%s,avg,,", s, avg_names[g], avg_keys[g]);
            csv_num(f, a->value);
            fprintf(f, ",,,%d,%zu,%zu,", a->n_partial > 0, a->n_present, a->n_expected);
            csv_num(f, p);
            fprintf(f, ",%d,,,\n", avg_differs(a, p));
        }
    }
}

/* ---- LaTeX ------------------------------------------------------------------------------------------------- */

static void tex_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '_': case '&': case '%': case '#': case '$': case '{': case '}':
            fputc('\\', f);
            fputc(*s, f);
            break;
        case '\\': fputs("\\textbackslash{}", f); break;
        case '<': fputs("\\textless{}", f); break; /* '<' and '>' print as other glyphs in the OT1 encoding */
        case '>': fputs("\\textgreater{}", f); break;
        case '~': fputs("\\textasciitilde{}", f); break;
        case '^': fputs("\\textasciicircum{}", f); break;
        default:
            if ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xb1) { /* ± */
                fputs("$\\pm$", f);
                s++;
            } else if ((unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x80 && (unsigned char)s[2] == 0x93) {
                fputs("--", f); /* the en dash of a missing cell */
                s += 2;
            } else if ((unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x89 && (unsigned char)s[2] == 0xa0) {
                fputs("$\\neq$", f);
                s += 2;
            } else {
                fputc(*s, f);
            }
        }
    }
}

static void tex_row(const struct report *r, FILE *f, size_t i)
{
    char splits[128];
    row_splits(r, i, splits, sizeof splits);
    tex_escape(f, report_row_at(i)->label);
    fputs(" & ", f);
    tex_escape(f, report_row_metric(i));
    fputs(" & ", f);
    tex_escape(f, splits);
    for (size_t c = 0; c < r->n_columns; c++) {
        char b[CELL_CAP];
        cell_text(&r->columns[c], &r->columns[c].cells[i], b, sizeof b);
        fputs(" & ", f);
        tex_escape(f, b);
    }
    fputs(" \\\\\n", f);
}

static void write_tex(const struct report *r, FILE *f)
{
    fputs("% GLaM-style results written by glam-eval report; needs \\usepackage{booktabs}\n", f);
    fputs("\\begin{tabular}{lll", f);
    for (size_t c = 0; c < r->n_columns; c++)
        fputc('r', f);
    fputs("}\n\\toprule\nTask & Metric & Split", f);
    for (size_t c = 0; c < r->n_columns; c++) {
        char t[160], s[24];
        column_title(&r->columns[c], t, sizeof t);
        fputs(" & ", f);
        tex_escape(f, t);
        fputs(" ", f);
        tex_escape(f, report_setting_name(&r->columns[c], s, sizeof s));
    }
    fputs(" \\\\\n\\midrule\n", f);
    size_t n = report_n_rows();
    for (size_t i = 0; i < n; i++)
        if (report_row_at(i)->group != REPORT_OTHER)
            tex_row(r, f, i);
    fputs("\\midrule\n", f);
    for (int g = 0; g < N_AVGS; g++) {
        tex_escape(f, avg_names[g]);
        fputs(" & & ", f);
        for (size_t c = 0; c < r->n_columns; c++) {
            const struct report_column *col = &r->columns[c];
            char b[CELL_CAP];
            avg_text(col_avg(col, g), col_published(col, g), 0, b, sizeof b);
            fputs(" & ", f);
            tex_escape(f, b);
        }
        fputs(" \\\\\n", f);
    }
    fputs("\\midrule\n", f);
    for (size_t i = 0; i < n; i++)
        if (report_row_at(i)->group == REPORT_OTHER)
            tex_row(r, f, i);
    fputs("\\bottomrule\n\\end{tabular}\n", f);
}

/* ---- JSON (lm-evaluation-harness layout plus glam_eval) ---------------------------------------------------- */

static cJSON *num_or_null(double v)
{
    return isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

static cJSON *count_or_null(int64_t v)
{
    return v == REPORT_UNKNOWN ? cJSON_CreateNull() : cJSON_CreateNumber((double)v);
}

static cJSON *avg_json(const struct report_avg *a, double published)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "value", num_or_null(a->value));
    cJSON_AddNumberToObject(o, "n_present", (double)a->n_present);
    cJSON_AddNumberToObject(o, "n_expected", (double)a->n_expected);
    cJSON_AddNumberToObject(o, "n_partial", (double)a->n_partial);
    cJSON_AddBoolToObject(o, "complete", report_avg_complete(a));
    cJSON_AddItemToObject(o, "published", num_or_null(published));
    cJSON_AddBoolToObject(o, "differs_from_published", avg_differs(a, published));
    /* lm-eval's "groups" reads "score,none" as the group's score with no room for a mark, so an average that is
       not comparable with GLaM's is kept out of it and says why here */
    char status[REPORT_AVG_STATUS_CAP];
    report_avg_status(a, status, sizeof status);
    cJSON_AddStringToObject(o, "status", a->n_present == 0 ? "no numbers" : status);
    cJSON_AddBoolToObject(o, "in_lm_eval_groups", report_avg_complete(a));
    if (!report_avg_complete(a))
        cJSON_AddStringToObject(o, "not_in_lm_eval_groups_because",
                                a->n_present == 0 ? "none of its numbers is present"
                                                  : "it does not cover all its numbers, each from a finished, "
                                                    "unsharded task run, so it is not comparable with GLaM's");
    return o;
}

/* The "config" of lm-eval's results: "model" is the model's name (lm-eval writes the --model argument, or
 * the model's own name when it is given a model object) and "model_args" its "key=value,..." string. A report
 * can hold several models: the names of the runs' models (the published runs' when the report has none of ours,
 * since they are references beside them), without repeats, joined by ", "; model_names lists every column's. */
static void json_config(const struct report *r, cJSON *config)
{
    char names[1024] = "", args[1100] = "";
    int any_own = 0;
    for (size_t c = 0; c < r->n_columns; c++)
        any_own |= !r->columns[c].published;
    for (size_t c = 0; c < r->n_columns; c++) {
        const struct report_column *col = &r->columns[c];
        if (col->published == any_own)
            continue;
        int seen = 0;
        for (size_t d = 0; d < c && !seen; d++)
            seen = r->columns[d].published == col->published && strcmp(r->columns[d].model, col->model) == 0;
        if (seen)
            continue;
        size_t nl = strlen(names), al = strlen(args);
        snprintf(names + nl, sizeof names - nl, "%s%s", nl ? ", " : "", col->model);
        snprintf(args + al, sizeof args - al, "%smodel=%s", al ? "," : "", col->model);
    }
    cJSON_AddStringToObject(config, "model", names);
    cJSON_AddStringToObject(config, "model_args", args);
}

/* lm-eval's metric_list entry. "aggregation" names lm-eval's registered aggregation: "mean" over documents for
 * every metric but MultiRC's F1a, which is binary F1 over all answer options pooled (each of our MultiRC documents
 * is one answer option), lm-eval's "f1" aggregation (sklearn's f1_score over the (gold, prediction) pairs). */
static cJSON *json_metric(const char *metric)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "metric", metric);
    int f1a = strcmp(metric, "f1a") == 0;
    cJSON_AddStringToObject(m, "aggregation", f1a ? "f1" : "mean");
    if (f1a)
        cJSON_AddStringToObject(m, "aggregation_note", "F1a: F1 of the positive class over all answer options "
                                                       "pooled (Khashabi et al. 2018), not a mean over documents");
    cJSON_AddBoolToObject(m, "higher_is_better", 1);
    return m;
}

static cJSON *build_json(const struct report *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *results = cJSON_AddObjectToObject(root, "results");
    cJSON *groups = cJSON_AddObjectToObject(root, "groups");
    cJSON *nshot = cJSON_AddObjectToObject(root, "n-shot");
    cJSON *configs = cJSON_AddObjectToObject(root, "configs");
    cJSON *versions = cJSON_AddObjectToObject(root, "versions");
    cJSON *hib = cJSON_AddObjectToObject(root, "higher_is_better");
    cJSON *nsamples = cJSON_AddObjectToObject(root, "n-samples");
    cJSON *subtasks = cJSON_AddObjectToObject(root, "group_subtasks");
    cJSON *config = cJSON_AddObjectToObject(root, "config");
    json_config(r, config);
    cJSON_AddStringToObject(config, "database", r->db_path);
    cJSON *models = cJSON_AddArrayToObject(config, "model_names");
    cJSON *ge = cJSON_AddObjectToObject(root, "glam_eval");
    cJSON *cols = cJSON_AddArrayToObject(ge, "columns");
    size_t n = report_n_rows();
    for (size_t c = 0; c < r->n_columns; c++) {
        const struct report_column *col = &r->columns[c];
        char key[160], s[24], prefix[170];
        column_key(col, key, sizeof key);
        snprintf(prefix, sizeof prefix, "%s%s", r->n_columns > 1 ? key : "", r->n_columns > 1 ? "/" : "");
        if (c == 0 || r->columns[c - 1].run_id != col->run_id)
            cJSON_AddItemToArray(models, cJSON_CreateString(col->model));
        cJSON *jc = cJSON_CreateObject();
        cJSON_AddStringToObject(jc, "key", key);
        cJSON_AddNumberToObject(jc, "run_id", (double)col->run_id);
        cJSON_AddStringToObject(jc, "model", col->model);
        cJSON_AddBoolToObject(jc, "published", col->published);
        if (col->published) {
            cJSON_AddStringToObject(jc, "label", col->label);
            cJSON_AddStringToObject(jc, "source", col->source ? col->source : "");
        }
        cJSON_AddStringToObject(jc, "setting", report_setting_name(col, s, sizeof s));
        cJSON_AddItemToObject(jc, "n_params", col->n_params < 0 ? cJSON_CreateNull()
                                                                : cJSON_CreateNumber((double)col->n_params));
        cJSON_AddItemToObject(jc, "n_active_params", col->n_active_params < 0
                                                         ? cJSON_CreateNull()
                                                         : cJSON_CreateNumber((double)col->n_active_params));
        cJSON_AddItemToObject(jc, "flops_per_token", num_or_null(col->flops_per_token));
        cJSON *cells = cJSON_AddArrayToObject(jc, "cells");
        for (size_t i = 0; i < n; i++) {
            const struct report_cell *cell = &col->cells[i];
            if (!cell->present)
                continue;
            const struct report_row *row = report_row_at(i);
            const char *metric = report_row_metric(i);
            cJSON *jcell = cJSON_CreateObject();
            cJSON_AddStringToObject(jcell, "row", row->label);
            cJSON_AddStringToObject(jcell, "task", row->task);
            cJSON_AddStringToObject(jcell, "metric", metric);
            cJSON_AddStringToObject(jcell, "split", cell->split);
            cJSON_AddNumberToObject(jcell, "n_shots", cell->n_shots);
            cJSON_AddNumberToObject(jcell, "value", cell->value);
            cJSON_AddItemToObject(jcell, "std_error", num_or_null(cell->std_error));
            cJSON_AddItemToObject(jcell, "n", count_or_null(cell->n));
            cJSON_AddBoolToObject(jcell, "partial", cell->partial);
            cJSON_AddItemToObject(jcell, "n_truncated", count_or_null(cell->n_truncated));
            cJSON_AddItemToObject(jcell, "n_fewer_shots", count_or_null(cell->n_fewer_shots));
            cJSON_AddItemToObject(jcell, "n_failed", count_or_null(cell->n_failed));
            cJSON_AddItemToObject(jcell, "n_documents", count_or_null(cell->n_documents));
            cJSON_AddItemToArray(cells, jcell);
            /* lm-eval's layout: results[task]["<metric>,none"], n-shot, configs, versions */
            char tkey[200], mkey[64];
            snprintf(tkey, sizeof tkey, "%s%s", prefix, row->task);
            cJSON *res = cJSON_GetObjectItemCaseSensitive(results, tkey);
            if (res == NULL) {
                res = cJSON_AddObjectToObject(results, tkey);
                cJSON_AddStringToObject(res, "alias", tkey);
                cJSON_AddNumberToObject(nshot, tkey, cell->n_shots);
                cJSON *cf = cJSON_AddObjectToObject(configs, tkey);
                cJSON_AddStringToObject(cf, "task", row->task);
                cJSON_AddStringToObject(cf, "test_split", cell->split);
                cJSON_AddNumberToObject(cf, "num_fewshot", cell->n_shots);
                cJSON_AddArrayToObject(cf, "metric_list");
                const struct task *t = task_find(row->task);
                if (col->published)
                    cJSON_AddStringToObject(versions, tkey, "published");
                else
                    cJSON_AddNumberToObject(versions, tkey, t ? t->version : 0);
                cJSON_AddObjectToObject(hib, tkey);
                cJSON_AddArrayToObject(subtasks, tkey); /* lm-eval lists a task outside any group with [] */
                if (!col->published) { /* a paper states no counts: no n-samples entry rather than a guess */
                    cJSON *ns = cJSON_AddObjectToObject(nsamples, tkey);
                    cJSON_AddItemToObject(ns, "original", count_or_null(cell->n_split));
                    cJSON_AddItemToObject(ns, "effective", count_or_null(cell->n_documents));
                }
            }
            snprintf(mkey, sizeof mkey, "%s,none", metric);
            cJSON_AddNumberToObject(res, mkey, cell->value);
            snprintf(mkey, sizeof mkey, "%s_stderr,none", metric);
            if (isnan(cell->std_error))
                cJSON_AddStringToObject(res, mkey, "N/A");
            else
                cJSON_AddNumberToObject(res, mkey, cell->std_error);
            cJSON *ml = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(configs, tkey),
                                                         "metric_list");
            cJSON_AddItemToArray(ml, json_metric(metric));
            cJSON_AddBoolToObject(cJSON_GetObjectItemCaseSensitive(hib, tkey), metric, 1);
        }
        for (int g = 0; g < N_AVGS; g++)
            cJSON_AddItemToObject(jc, avg_keys[g], avg_json(col_avg(col, g), col_published(col, g)));
        cJSON_AddItemToArray(cols, jc);
        for (int g = 0; g < N_AVGS; g++) {
            const struct report_avg *a = col_avg(col, g);
            if (!report_avg_complete(a)) /* out of lm-eval's section; glam_eval's average says why */
                continue;
            char gkey[200];
            snprintf(gkey, sizeof gkey, "%sglam_%s", prefix, avg_keys[g]);
            cJSON *go = cJSON_AddObjectToObject(groups, gkey);
            cJSON_AddStringToObject(go, "alias", gkey);
            cJSON_AddNumberToObject(go, "score,none", a->value);
            cJSON_AddStringToObject(go, "score_stderr,none", "N/A");
            cJSON_AddBoolToObject(go, "complete", 1);
            cJSON *hg = cJSON_AddObjectToObject(hib, gkey);
            cJSON_AddBoolToObject(hg, "score", 1);
            cJSON *members = cJSON_AddArrayToObject(subtasks, gkey);
            for (size_t i = 0; i < n; i++) { /* the task keys of the average's rows (SQuADv2's two rows: one key) */
                const struct report_row *row = report_row_at(i);
                if (!col->cells[i].present || (g == 0 && row->group != REPORT_NLG) ||
                    (g == 1 && row->group != REPORT_NLU) || row->group == REPORT_OTHER ||
                    (i > 0 && strcmp(report_row_at(i - 1)->task, row->task) == 0))
                    continue;
                char tkey[200];
                snprintf(tkey, sizeof tkey, "%s%s", prefix, row->task);
                cJSON_AddItemToArray(members, cJSON_CreateString(tkey));
            }
        }
    }
    return root;
}

/* ---- HTML -------------------------------------------------------------------------------------------------- */

static void html_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                      "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
#define PALETTE_N (sizeof palette / sizeof palette[0])

/* GLaM's scaling figure for one average: x = log10(activated parameters per token), y = score; one colour per
 * shot setting. A square is a paper's printed average, plotted wherever the paper prints one; a circle is a
 * recomputed average, filled when complete and hollow when INCOMPLETE or PARTIAL (not comparable with GLaM's). A
 * published run's incomplete recomputation is not plotted beside its paper's average: it averages a few of the
 * paper's numbers (GLaM 64B/64E one-shot NLU: 3 of 21) and would sit far from the published point. */
static void svg_scaling(const struct report *r, FILE *f, int nlg)
{
    const double W = 420, H = 300, L = 50, R = 15, T = 30, B = 45;
    double xmin = INFINITY, xmax = -INFINITY;
    size_t n_points = 0;
    for (size_t c = 0; c < r->n_columns; c++) {
        const struct report_column *col = &r->columns[c];
        const struct report_avg *a = nlg ? &col->nlg : &col->nlu;
        if (col->n_active_params > 0 && (a->n_present > 0 || !isnan(col_published(col, nlg ? 0 : 1)))) {
            double x = log10((double)col->n_active_params);
            xmin = fmin(xmin, floor(x));
            xmax = fmax(xmax, ceil(x));
            n_points++;
        }
    }
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" role=\"img\">\n", W, H);
    fprintf(f, "<text x=\"%g\" y=\"18\" font-size=\"14\" text-anchor=\"middle\">Avg %s vs activated parameters per "
               "token</text>\n", W / 2, nlg ? "NLG" : "NLU");
    if (n_points == 0) {
        fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\" font-size=\"12\">no column has both an average and "
                   "a known activated parameter count</text></svg>\n", W / 2, H / 2);
        return;
    }
    if (xmax <= xmin)
        xmax = xmin + 1;
    double pw = W - L - R, ph = H - T - B;
    fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#444\"/>\n", L, T, pw, ph);
    for (int y = 0; y <= 100; y += 20)
        fprintf(f, "<text x=\"%g\" y=\"%g\" font-size=\"10\" text-anchor=\"end\">%d</text>\n", L - 4,
                T + ph - ph * y / 100.0 + 3, y);
    for (double x = xmin; x <= xmax + 1e-9; x += 1)
        fprintf(f, "<text x=\"%g\" y=\"%g\" font-size=\"10\" text-anchor=\"middle\">1e%d</text>\n",
                L + pw * (x - xmin) / (xmax - xmin), T + ph + 14, (int)x);
    fprintf(f, "<text x=\"%g\" y=\"%g\" font-size=\"11\" text-anchor=\"middle\">activated parameters per token "
               "(log scale)</text>\n", L + pw / 2, H - 8);
    for (size_t c = 0; c < r->n_columns; c++) {
        const struct report_column *col = &r->columns[c];
        const struct report_avg *a = nlg ? &col->nlg : &col->nlu;
        double published = col_published(col, nlg ? 0 : 1);
        if (col->n_active_params <= 0 || (a->n_present == 0 && isnan(published)))
            continue;
        double px = L + pw * (log10((double)col->n_active_params) - xmin) / (xmax - xmin);
        const char *colour = palette[col->setting % PALETTE_N];
        char t[160], s[24], status[REPORT_AVG_STATUS_CAP];
        column_title(col, t, sizeof t);
        report_setting_name(col, s, sizeof s);
        if (!isnan(published)) { /* the paper's own average: a square */
            double qy = T + ph - ph * fmin(fmax(published, 0), 1);
            fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"8\" height=\"8\" fill=\"%s\"><title>", px - 4,
                    qy - 4, colour);
            html_escape(f, t);
            fprintf(f, " %s: %.1f (published: the paper's average)</title></rect>\n", s, 100.0 * published);
        }
        if (a->n_present == 0 || (!isnan(published) && !report_avg_complete(a)))
            continue;
        double py = T + ph - ph * fmin(fmax(a->value, 0), 1);
        fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" stroke=\"%s\" fill=\"%s\"><title>", px, py, colour,
                report_avg_complete(a) ? colour : "white");
        html_escape(f, t);
        if (report_avg_complete(a))
            fprintf(f, " %s: %.2f recomputed</title></circle>\n", s, 100.0 * a->value);
        else
            fprintf(f, " %s: %.2f recomputed, %s: not comparable with GLaM's</title></circle>\n", s,
                    100.0 * a->value, report_avg_status(a, status, sizeof status));
    }
    static const char *const names[] = {"zero-shot", "one-shot", "few-shot", "other K"};
    for (int s = 0; s < 4; s++)
        fprintf(f, "<circle cx=\"%g\" cy=\"%g\" r=\"4\" fill=\"%s\"/><text x=\"%g\" y=\"%g\" font-size=\"10\">%s"
                   "</text>\n", L + 8 + 80.0 * s, T + 10, palette[s], L + 15 + 80.0 * s, T + 13, names[s]);
    fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"7\" height=\"7\" fill=\"#444\"/><text x=\"%g\" y=\"%g\" "
               "font-size=\"10\">published</text><circle cx=\"%g\" cy=\"%g\" r=\"3.5\" stroke=\"#444\" "
               "fill=\"white\"/><text x=\"%g\" y=\"%g\" font-size=\"10\">INCOMPLETE or PARTIAL</text>\n",
            L + 4.5, T + 20.5, L + 15, T + 27, L + 88, T + 24, L + 95, T + 27);
    fputs("</svg>\n", f);
}

/* Bar styles: a column's colour is palette[c % 10] and, past the first 10 columns, a fill pattern in that colour
 * (diagonal, anti-diagonal, horizontal, vertical, crossed, dotted), so the first 70 columns (REPORT_MAX_COLUMNS is
 * 64) each get their own (colour, pattern) pair. A pattern's id names the pair, "bar-p<pattern>-c<colour>", and is
 * defined once in the bar chart's <defs>; the legend's swatches refer to it. */
#define BAR_PATTERNS 7 /* 0 = solid */

static void bar_fill(size_t column, char *buf, size_t cap)
{
    size_t colour = column % PALETTE_N, pattern = (column / PALETTE_N) % BAR_PATTERNS;
    if (pattern == 0)
        snprintf(buf, cap, "%s", palette[colour]);
    else
        snprintf(buf, cap, "url(#bar-p%zu-c%zu)", pattern, colour);
}

static void bar_defs(const struct report *r, FILE *f)
{
    fputs("<defs>\n", f);
    for (size_t c = PALETTE_N; c < r->n_columns && c < PALETTE_N * BAR_PATTERNS; c++) {
        size_t colour = c % PALETTE_N, pattern = c / PALETTE_N;
        const char *k = palette[colour];
        fprintf(f, "<pattern id=\"bar-p%zu-c%zu\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\">"
                   "<rect width=\"4\" height=\"4\" fill=\"white\"/>", pattern, colour);
        switch (pattern) {
        case 1: fprintf(f, "<path d=\"M0,4 L4,0\" stroke=\"%s\" stroke-width=\"1.5\"/>", k); break;
        case 2: fprintf(f, "<path d=\"M0,0 L4,4\" stroke=\"%s\" stroke-width=\"1.5\"/>", k); break;
        case 3: fprintf(f, "<path d=\"M0,2 L4,2\" stroke=\"%s\" stroke-width=\"1.5\"/>", k); break;
        case 4: fprintf(f, "<path d=\"M2,0 L2,4\" stroke=\"%s\" stroke-width=\"1.5\"/>", k); break;
        case 5: fprintf(f, "<path d=\"M0,2 L4,2 M2,0 L2,4\" stroke=\"%s\" stroke-width=\"1\"/>", k); break;
        default: fprintf(f, "<circle cx=\"2\" cy=\"2\" r=\"1.2\" fill=\"%s\"/>", k); break;
        }
        fputs("</pattern>\n", f);
    }
    fputs("</defs>\n", f);
}

/* Per-task bars: one group per row that some column has, one bar per column (colour = column). */
static void svg_bars(const struct report *r, FILE *f)
{
    size_t n = report_n_rows(), n_groups = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < r->n_columns; c++)
            if (r->columns[c].cells[i].present) {
                n_groups++;
                break;
            }
    const double L = 40, T = 20, ph = 200, B = 90, bar = 8;
    double group_w = bar * (double)r->n_columns + 10;
    double W = L + group_w * (double)(n_groups ? n_groups : 1) + 20, H = T + ph + B;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" role=\"img\">\n", W, H);
    bar_defs(r, f);
    fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#444\"/>\n", L, T + ph, W - 10, T + ph);
    for (int y = 0; y <= 100; y += 25)
        fprintf(f, "<text x=\"%g\" y=\"%g\" font-size=\"10\" text-anchor=\"end\">%d</text>\n", L - 4,
                T + ph - ph * y / 100.0 + 3, y);
    size_t g = 0;
    for (size_t i = 0; i < n; i++) {
        int any = 0;
        for (size_t c = 0; c < r->n_columns; c++)
            any |= r->columns[c].cells[i].present;
        if (!any)
            continue;
        double x0 = L + 5 + group_w * (double)g++;
        for (size_t c = 0; c < r->n_columns; c++) {
            const struct report_cell *cell = &r->columns[c].cells[i];
            if (!cell->present)
                continue;
            double h = ph * fmin(fmax(cell->value, 0), 1);
            char t[160], s[24];
            column_title(&r->columns[c], t, sizeof t);
            char fill[32];
            bar_fill(c, fill, sizeof fill);
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%g\" height=\"%.1f\" fill=\"%s\" stroke=\"%s\" "
                       "stroke-width=\"0.5\"><title>", x0 + bar * (double)c, T + ph - h, bar - 1, h, fill,
                    palette[c % PALETTE_N]);
            html_escape(f, report_row_at(i)->label);
            fputs(", ", f);
            html_escape(f, t);
            fprintf(f, " %s: %.2f</title></rect>\n", report_setting_name(&r->columns[c], s, sizeof s),
                    100.0 * cell->value);
        }
        fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-60)\" font-size=\"10\" text-anchor=\"end\">",
                x0 + group_w / 2, T + ph + 10);
        html_escape(f, report_row_at(i)->label);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n<p class=\"legend\">", f);
    for (size_t c = 0; c < r->n_columns; c++) {
        char t[160], s[24];
        column_title(&r->columns[c], t, sizeof t);
        char fill[32];
        bar_fill(c, fill, sizeof fill);
        fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"12\" height=\"12\" class=\"swatch\"><rect "
                   "x=\"0.5\" y=\"0.5\" width=\"11\" height=\"11\" fill=\"%s\" stroke=\"%s\"/></svg> ", fill,
                palette[c % PALETTE_N]);
        html_escape(f, t);
        fprintf(f, " %s &nbsp; ", report_setting_name(&r->columns[c], s, sizeof s));
    }
    fputs("</p>\n", f);
}

static void html_row(const struct report *r, FILE *f, size_t i)
{
    char splits[128];
    row_splits(r, i, splits, sizeof splits);
    fputs("<tr><td>", f);
    html_escape(f, report_row_at(i)->label);
    fprintf(f, "</td><td>%s</td><td>", report_row_metric(i));
    html_escape(f, splits);
    fputs("</td>", f);
    for (size_t c = 0; c < r->n_columns; c++) {
        char b[CELL_CAP];
        cell_text(&r->columns[c], &r->columns[c].cells[i], b, sizeof b);
        fputs("<td>", f);
        html_escape(f, b);
        fputs("</td>", f);
    }
    fputs("</tr>\n", f);
}

static void write_html(const struct report *r, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>glam-eval report</title>\n"
          "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:13px}"
          "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}"
          ".avg td{font-weight:bold;background:#f4f4f4}.differs{color:#b00}.legend{font-size:12px}</style>\n"
          "</head><body>\n<h1>GLaM-style results</h1>\n<p>Database: <code>", f);
    html_escape(f, r->db_path);
    fputs("</code>. Scores in %, &plusmn; standard error; few-shot cells show their K. " CELL_MARKS_TEXT "</p>\n", f);
    if (r->notes) {
        fputs("<p class=\"differs\">", f);
        html_escape(f, r->notes);
        fputs("</p>\n", f);
    }
    fputs("<table>\n<tr><th>Task</th><th>Metric</th><th>Split</th>", f);
    for (size_t c = 0; c < r->n_columns; c++) {
        char t[160], s[24];
        column_title(&r->columns[c], t, sizeof t);
        fputs("<th>", f);
        html_escape(f, t);
        fprintf(f, "<br>%s</th>", report_setting_name(&r->columns[c], s, sizeof s));
    }
    fputs("</tr>\n", f);
    size_t n = report_n_rows();
    for (size_t i = 0; i < n; i++)
        if (report_row_at(i)->group != REPORT_OTHER)
            html_row(r, f, i);
    for (int g = 0; g < N_AVGS; g++) {
        fprintf(f, "<tr class=\"avg\"><td>%s</td><td></td><td></td>", avg_names[g]);
        for (size_t c = 0; c < r->n_columns; c++) {
            const struct report_column *col = &r->columns[c];
            const struct report_avg *a = col_avg(col, g);
            double p = col_published(col, g);
            char b[CELL_CAP];
            avg_text(a, p, 0, b, sizeof b);
            fprintf(f, "<td%s>", avg_differs(a, p) ? " class=\"differs\"" : "");
            html_escape(f, b);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    for (size_t i = 0; i < n; i++)
        if (report_row_at(i)->group == REPORT_OTHER)
            html_row(r, f, i);
    fputs("</table>\n<p>Avg NLG: mean of 9 numbers (TriviaQA, NQs, WebQS, LAMBADA, DROP, CoQA, QuAC, SQuADv2 F1 "
          "and EM); Avg NLU: mean of the 21 other benchmarks; Avg (all 30): mean of those 30 numbers (GLaM's Table 1); "
          "GSM8K is in none. INCOMPLETE averages are missing numbers, PARTIAL ones include numbers of "
          "unfinished or one-shard task runs; neither is comparable with GLaM's. &ne; marks a paper's average that differs from the recomputation.</p>\n", f);
    fputs("<h2>Scaling</h2>\n<div>", f);
    svg_scaling(r, f, 1);
    svg_scaling(r, f, 0);
    fputs("</div>\n<h2>Per task</h2>\n", f);
    svg_bars(r, f);
    fputs("</body></html>\n", f);
}

int report_write(const struct report *r, enum report_format fmt, FILE *f, struct ge_error *err)
{
    switch (fmt) {
    case REPORT_MD: write_md(r, f); break;
    case REPORT_CSV: write_csv(r, f); break;
    case REPORT_TEX: write_tex(r, f); break;
    case REPORT_HTML: write_html(r, f); break;
    case REPORT_JSON: {
        cJSON *root = build_json(r);
        char *s = cJSON_Print(root);
        cJSON_Delete(root);
        if (s == NULL)
            return ge_error_set(err, GE_ERR_NOMEM, "out of memory printing the JSON report");
        fputs(s, f);
        fputc('\n', f);
        free(s);
        break;
    }
    }
    if (fflush(f) != 0 || ferror(f))
        return ge_error_set(err, GE_ERR_IO, "writing the report failed");
    return GE_OK;
}
