/* render_task_examples.c — prints docs/tasks.md: for every registered task (tasks/registry.c order) its
 * descriptor fields and one example rendered by the task's real load / load_multi from a made-up record in
 * tools/task_examples.jsonl (never benchmark data), so the document shows exactly what the code produces.
 *
 * Usage: render_task_examples tools/task_examples.jsonl > docs/tasks.md
 * Input lines: {"task": name, "dataset": text, "template": text, "record": {...the task's schema...}}, and optionally
 * "scoring": text, how `run` scores the task where that differs from the metric's reference (docs/metrics.md). A
 * registered task without a line, or a record its loader refuses, is an error (exit 1), so a new task cannot be
 * left out. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/jsonl.h"
#include "tasks/registry.h"

#define MAX_EXAMPLES 128

struct example {
    char *task, *dataset, *template_text, *record_json; /* owned */
    char *scoring;                                      /* owned; NULL when the line has none */
};

struct examples {
    struct example v[MAX_EXAMPLES];
    size_t n;
};

static int collect(void *ctx, const cJSON *rec, size_t line_no, struct ge_error *err)
{
    struct examples *ex = ctx;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "task");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "dataset");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, "template");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(rec, "record");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(rec, "scoring");
    if (!cJSON_IsString(t) || !cJSON_IsString(d) || !cJSON_IsString(m) || !cJSON_IsObject(r))
        return ge_error_set(err, GE_ERR_FORMAT, "line %zu: needs strings task, dataset, template and object record",
                            line_no);
    if (sc != NULL && !cJSON_IsString(sc))
        return ge_error_set(err, GE_ERR_FORMAT, "line %zu: scoring must be a string", line_no);
    if (ex->n == MAX_EXAMPLES)
        return ge_error_set(err, GE_ERR_LIMIT, "more than %d examples", MAX_EXAMPLES);
    struct example *e = &ex->v[ex->n++];
    e->task = strdup(t->valuestring);
    e->dataset = strdup(d->valuestring);
    e->template_text = strdup(m->valuestring);
    e->record_json = cJSON_PrintUnformatted(r);
    e->scoring = sc ? strdup(sc->valuestring) : NULL;
    return GE_OK;
}

/* Prints s as a JSON string literal, so leading spaces and newlines are visible. */
static void print_quoted(const char *s)
{
    cJSON *str = cJSON_CreateString(s);
    char *out = cJSON_PrintUnformatted(str);
    fputs(out, stdout);
    free(out);
    cJSON_Delete(str);
}

/* The data files the task reads: our JSONL, then the official release files it accepts per split. */
static void print_sources(const struct task *t)
{
    printf("- Data: `DIR/%s/<split>.jsonl`", t->name);
    for (const struct task_source *s = t->sources; s != NULL && s->split != NULL; s++) {
        printf("%s `%s`: ", s == t->sources ? "; official release files ([formats](data-formats.md)), split"
                                            : "; split", s->split);
        for (size_t i = 0; i < RELEASE_MAX_PATHS && s->paths[i] != NULL; i++)
            printf("%s`DIR/%s%s`", i ? " or " : "", s->paths[i], s->format == RELEASE_RACE_DIR ? "/*.txt" : "");
        if (s->companion)
            printf(" + `%s`", s->companion);
    }
    printf("%s\n", t->data_note ? " (not redistributable: see the task's section in data-formats.md)" : "");
}

static int render(const struct task *t, const struct example *e)
{
    cJSON *rec = cJSON_Parse(e->record_json);
    struct task_doc *docs = NULL, one;
    size_t n = 1;
    struct ge_error err;
    ge_error_clear(&err);
    int rc;
    if (t->load_multi != NULL) {
        rc = t->load_multi(rec, 1, &docs, &n, &err);
    } else {
        rc = t->load(rec, 1, &one, &err);
        docs = &one;
    }
    cJSON_Delete(rec);
    if (rc != GE_OK) {
        fprintf(stderr, "render_task_examples: %s: the example record does not load: %s\n", t->name, err.msg);
        return 1;
    }
    const struct task_doc *d = &docs[n - 1]; /* the last document: with load_multi it shows the earlier turns */
    printf("Rendered by `tools/render_task_examples` through the task's loader from a made-up record (document "
           "`%s`%s). A few-shot example is the query followed by the target:\n\n```\n%s%s\n```\n\n", d->id,
           n > 1 ? ", the last of the record's documents" : "", d->query, d->fewshot_target);
    if (t->kind == TASK_MULTIPLE_CHOICE) {
        printf("Options (continuations; gold marked):\n\n");
        for (size_t i = 0; i < d->n_choices; i++) {
            int gold = 0;
            for (size_t g = 0; g < d->n_gold; g++)
                gold |= d->gold[g] == i;
            printf("- %s", gold ? "**gold** " : "");
            if (d->contexts != NULL) {
                printf("context ");
                print_quoted(d->contexts[i]);
                printf(", continuation ");
            }
            print_quoted(d->choices[i]);
            printf("\n");
        }
        if (d->uncond_context != NULL) {
            printf("\nUnconditional context: ");
            print_quoted(d->uncond_context);
            printf("\n");
        }
    } else {
        printf("Gold answers: ");
        for (size_t i = 0; i < d->n_answers; i++) {
            printf(i ? ", " : "");
            print_quoted(d->answers[i]);
        }
        printf("\n");
    }
    printf("\n");
    for (size_t i = 0; i < n; i++)
        task_doc_release(&docs[i]);
    if (t->load_multi != NULL)
        free(docs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: render_task_examples tools/task_examples.jsonl > docs/tasks.md\n");
        return 2;
    }
    struct examples ex = {.n = 0};
    struct ge_error err;
    ge_error_clear(&err);
    if (jsonl_file_for_each(argv[1], (size_t)1 << 24, collect, &ex, &err) != GE_OK) {
        fprintf(stderr, "render_task_examples: %s: %s\n", argv[1], err.msg);
        return 1;
    }
    int status = 0;
    printf("# Tasks\n\n<!-- Generated by tools/render_task_examples from tools/task_examples.jsonl; do not edit by "
           "hand. -->\n\nOne section per registered task, in GLaM's table order (`glam-eval tasks`). Each gives "
           "GLaM's name, the dataset and splits, the metric GLaM reports, K (GLaM's few-shot count), the prompt "
           "template, the source of the format as the task's `prompt_source` field states it, and one example "
           "rendered by the real loader from a small record written for this document (not taken from any "
           "dataset). Few-shot examples are joined by the task's separator (a blank line for every task here). "
           "The provenance block at the top of each `tasks/<name>.c` has the details and caveats. `DIR` is the data "
           "directory (`--data-dir`, else `$GLAM_EVAL_DATA`, else `./data`); a split is read from our JSONL when "
           "it is there, else from the first official release file listed that exists, converted to the same "
           "records ([data-formats.md](data-formats.md) documents every format and the conversions).\n\n");
    for (size_t i = 0; task_registry[i]; i++) {
        const struct task *t = task_registry[i];
        const struct example *e = NULL;
        for (size_t k = 0; k < ex.n && !e; k++)
            if (strcmp(ex.v[k].task, t->name) == 0)
                e = &ex.v[k];
        printf("## %s (`%s`)\n\n", t->display, t->name);
        printf("- Category: %s; %s\n", task_category_name(t->category),
               t->kind == TASK_MULTIPLE_CHOICE ? "multiple choice (log-likelihood of each option)" : "generation");
        printf("- Dataset: %s\n", e ? e->dataset : "?");
        printf("- Evaluation split: `%s` (%zu records expected); few-shot examples from `%s`%s\n", t->eval_split,
               t->expected_records, t->fewshot_split,
               strcmp(t->eval_split, t->fewshot_split) == 0 ? " minus the evaluated document" : "");
        printf("- Metric: `%s`; K = %d\n", t->primary_metric, t->glam_shots);
        printf("- Format source: %s\n", t->prompt_source);
        print_sources(t);
        if (e == NULL) {
            fprintf(stderr, "render_task_examples: no example for task %s\n", t->name);
            printf("\n(no example)\n\n");
            status = 1;
            continue;
        }
        printf("- Template: `%s`\n", e->template_text);
        if (e->scoring)
            printf("- Scoring: %s\n", e->scoring);
        printf("\n");
        status |= render(t, e);
    }
    for (size_t k = 0; k < ex.n; k++) {
        free(ex.v[k].task);
        free(ex.v[k].dataset);
        free(ex.v[k].template_text);
        free(ex.v[k].record_json);
        free(ex.v[k].scoring);
    }
    return status;
}
