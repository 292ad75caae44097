/* test_tasks_more.c — the tasks of tasks/multirc.c, wsc.c, record.c, race_middle.c, race_high.c, anli_r1..3.c,
 * storycloze.c and quac.c: hand-written records (not benchmark data) rendered through each task's load or
 * load_multi and compared with the strings derived by hand from the formats named in each provenance block;
 * malformed records must fail naming the field; QuAC's scorer on exact, partial and unanswerable answers; and,
 * when ../shared/data exists, every record of the shared splits (multirc, wsc, record, quac) loads.
 * Case names are "<task>/<case>[#doc]". */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/strbuf.h"
#include "scoring/jsonl.h"
#include "tasks/mc_tasks.h"
#include "tests/tap.h"

extern const struct task task_quac;

/* One expected document; strings joined by "|", gold indices by ",". */
struct expect_doc {
    const char *id;
    const char *query;
    const char *choices; /* NULL for generation */
    const char *gold;
    const char *uncond;  /* NULL = none */
    const char *target;
};

struct render_case {
    const struct task *task;
    const char *name;
    size_t line_no;
    const char *json;
    size_t n_docs;
    struct expect_doc docs[2];
};

static const struct render_case render_cases[] = {
    {&task_multirc, "basic", 1, "{\"paragraph\":\"Tom has a red kite. He flies it on windy days.\",\"question\":"
     "\"What color is the kite?\",\"answer\":\"Red\",\"idx\":{\"paragraph\":3,\"question\":1,\"answer\":0},"
     "\"label\":1}", 1,
     {{"3-1-0", "Tom has a red kite. He flies it on windy days.\nQuestion: What color is the kite?\nAnswer:",
       " Red\nIs the answer correct? no| Red\nIs the answer correct? yes", "1", NULL,
       " Red\nIs the answer correct? yes"}}},
    {&task_wsc, "detokenize", 1, "{\"text\":\"Mia gave Ann her book because she was done with it .\","
     "\"span1_index\":0,\"span2_index\":6,\"span1_text\":\"Mia\",\"span2_text\":\"she\",\"idx\":5,\"label\":1}", 1,
     {{"5", "Passage: Mia gave Ann her book because *she* was done with it.\nQuestion: In the passage above, does"
       " the pronoun \"*she*\" refer to \"*Mia*\"?\nAnswer:", " no| yes", "1", NULL, " yes"}}},
    {&task_wsc, "utf8-and-brackets", 1, "{\"text\":\"Zo\\u00eb said she ca n't ( really ) go .\",\"span1_index\":0,"
     "\"span2_index\":2,\"span1_text\":\"Zo\\u00eb\",\"span2_text\":\"she\",\"idx\":6,\"label\":0}", 1,
     {{"6", "Passage: Zo\xc3\xab said *she* can't (really) go.\nQuestion: In the passage above, does the pronoun"
       " \"*she*\" refer to \"*Zo\xc3\xab*\"?\nAnswer:", " no| yes", "0", NULL, " no"}}},
    {&task_record, "two-golds", 1, "{\"passage\":\"Anna Lee won the race in Oslo.\\n@highlight\\nLee wins\\n"
     "@highlight\\nOslo cheers\",\"query\":\"@placeholder was fastest in Oslo\",\"entities\":[\"Anna Lee\","
     "\"Lee\",\"Oslo\"],\"answers\":[\"Anna Lee\",\"Lee\"],\"idx\":{\"passage\":7,\"query\":9}}", 1,
     {{"7-9", "Anna Lee won the race in Oslo.\n\n  - Lee wins.\n  - Oslo cheers.\n",
       "  - Anna Lee was fastest in Oslo|  - Lee was fastest in Oslo|  - Oslo was fastest in Oslo", "0,1", NULL,
       "  - Anna Lee was fastest in Oslo"}}},
    {&task_race_middle, "two-questions", 4, "{\"article\":\"Sam likes tea.\",\"problems\":[{\"question\":\"What does"
     " Sam like?\",\"options\":[\"tea\",\"milk\",\"juice\",\"water\"],\"answer\":\"A\"},{\"question\":\"Sam is _ .\","
     "\"options\":[\"a cat\",\"a person\",\"a tree\",\"a car\"],\"answer\":\"B\"}]}", 2,
     {{"4_1", "Article: Sam likes tea.\n\nQuestion: What does Sam like?\nAnswer:", " tea| milk| juice| water", "0",
       "Answer:", " tea"},
      {"4_2", "Article: Sam likes tea.\n\nQuestion: What does Sam like?\nAnswer: tea\nQuestion: Sam is _ .\nAnswer:",
       " a cat| a person| a tree| a car", "1", "Answer:", " a person"}}},
    {&task_race_high, "problems-as-json-string", 2, "{\"article\":\"A.\",\"problems\":\"[{\\\"question\\\":\\\"Q?\\\","
     "\\\"options\\\":[\\\"w\\\",\\\"x\\\",\\\"y\\\",\\\"z\\\"],\\\"answer\\\":\\\"D\\\"}]\"}", 1,
     {{"2_1", "Article: A.\n\nQuestion: Q?\nAnswer:", " w| x| y| z", "3", "Answer:", " z"}}},
    {&task_anli_r1, "contradiction", 1, "{\"uid\":\"abc\",\"premise\":\"The cat slept all day.\",\"hypothesis\":"
     "\"The cat was awake at noon.\",\"label\":2,\"reason\":\"\"}", 1,
     {{"abc", "The cat slept all day.\nQuestion: The cat was awake at noon. True, False, or Neither?\nAnswer:",
       " True| Neither| False", "2", NULL, " False"}}},
    {&task_anli_r2, "neutral", 3, "{\"uid\":\"u2\",\"premise\":\"P.\",\"hypothesis\":\"H.\",\"label\":1}", 1,
     {{"u2", "P.\nQuestion: H. True, False, or Neither?\nAnswer:", " True| Neither| False", "1", NULL,
       " Neither"}}},
    {&task_anli_r3, "entailment", 3, "{\"uid\":\"u3\",\"premise\":\"P.\",\"hypothesis\":\"H.\",\"label\":0}", 1,
     {{"u3", "P.\nQuestion: H. True, False, or Neither?\nAnswer:", " True| Neither| False", "0", NULL, " True"}}},
    {&task_storycloze, "first-ending", 1, "{\"story_id\":\"s1\",\"input_sentence_1\":\"Kim was hungry.\","
     "\"input_sentence_2\":\"She opened the fridge.\",\"input_sentence_3\":\"It was empty.\",\"input_sentence_4\":"
     "\"She went to the store.\",\"sentence_quiz1\":\"She bought food.\",\"sentence_quiz2\":\"She flew to Mars.\","
     "\"answer_right_ending\":1}", 1,
     {{"s1", "Kim was hungry. She opened the fridge. It was empty. She went to the store.",
       " She bought food.| She flew to Mars.", "0", NULL, " She bought food."}}},
    {&task_quac, "span", 12, "{\"context\":\"Title: T\\n\\nBackground: B\\n\\nSection: S\\nContext: The band formed in"
     " 1990. CANNOTANSWER\\n\\nQuestion: When did it form?\",\"answer\":\"in 1990.\",\"aliases\":[]}", 1,
     {{"12", "Title: T\n\nBackground: B\n\nSection: S\nContext: The band formed in 1990. CANNOTANSWER\n\nQuestion:"
       " When did it form?\nAnswer:", NULL, NULL, NULL, " in 1990."}}},
};

struct error_case {
    const struct task *task;
    const char *name;
    const char *json;
    const char *needle;
};

static const struct error_case error_cases[] = {
    {&task_multirc, "no-idx-question", "{\"paragraph\":\"p\",\"question\":\"q\",\"answer\":\"a\",\"idx\":"
     "{\"paragraph\":0,\"answer\":0},\"label\":0}", "\"idx.question\""},
    {&task_multirc, "label", "{\"paragraph\":\"p\",\"question\":\"q\",\"answer\":\"a\",\"idx\":{\"paragraph\":0,"
     "\"question\":0,\"answer\":0},\"label\":2}", "\"label\""},
    {&task_wsc, "span2-past-end", "{\"text\":\"a b c\",\"span1_text\":\"a\",\"span2_text\":\"it\",\"span2_index\":9,"
     "\"idx\":1,\"label\":0}", "\"span2_index\""},
    {&task_wsc, "no-span1", "{\"text\":\"a b c\",\"span2_text\":\"b\",\"span2_index\":1,\"idx\":1,\"label\":0}",
     "\"span1_text\""},
    {&task_record, "answer-not-entity", "{\"passage\":\"p\",\"query\":\"@placeholder q\",\"entities\":[\"A\",\"B\"],"
     "\"answers\":[\"C\"],\"idx\":{\"passage\":1,\"query\":2}}", "\"answers\""},
    {&task_record, "no-placeholder", "{\"passage\":\"p\",\"query\":\"q\",\"entities\":[\"A\",\"B\"],\"answers\":"
     "[\"A\"],\"idx\":{\"passage\":1,\"query\":2}}", "\"query\""},
    {&task_race_middle, "answer-letter", "{\"article\":\"a\",\"problems\":[{\"question\":\"q\",\"options\":[\"w\","
     "\"x\",\"y\",\"z\"],\"answer\":\"E\"}]}", "\"problems[0].answer\""},
    {&task_race_high, "python-literal", "{\"article\":\"a\",\"problems\":\"[{'question': 'q'}]\"}", "\"problems\""},
    {&task_race_high, "option-number", "{\"article\":\"a\",\"problems\":[{\"question\":\"q\",\"options\":[\"w\",1],"
     "\"answer\":\"A\"}]}", "\"problems[0].options[1]\""},
    {&task_anli_r1, "label-range", "{\"uid\":\"u\",\"premise\":\"p\",\"hypothesis\":\"h\",\"label\":3}",
     "\"label\""},
    {&task_anli_r2, "no-hypothesis", "{\"uid\":\"u\",\"premise\":\"p\",\"label\":0}", "\"hypothesis\""},
    {&task_storycloze, "ending-zero", "{\"story_id\":\"s\",\"input_sentence_1\":\"a\",\"input_sentence_2\":\"b\","
     "\"input_sentence_3\":\"c\",\"input_sentence_4\":\"d\",\"sentence_quiz1\":\"e\",\"sentence_quiz2\":\"f\","
     "\"answer_right_ending\":0}", "\"answer_right_ending\""},
    {&task_storycloze, "no-sentence-3", "{\"story_id\":\"s\",\"input_sentence_1\":\"a\",\"input_sentence_2\":\"b\","
     "\"input_sentence_4\":\"d\",\"sentence_quiz1\":\"e\",\"sentence_quiz2\":\"f\",\"answer_right_ending\":1}",
     "\"input_sentence_3\""},
    {&task_quac, "no-answer", "{\"context\":\"c\",\"aliases\":[]}", "\"answer\""},
    {&task_quac, "alias-number", "{\"context\":\"c\",\"answer\":\"a\",\"aliases\":[1]}", "\"aliases"},
};

/* Loads json through t (load or load_multi) into a new array *docs of *n. */
static int load_json(const struct task *t, const char *json, size_t line_no, struct task_doc **docs, size_t *n,
                     struct ge_error *err)
{
    cJSON *rec = cJSON_Parse(json);
    *docs = NULL;
    *n = 0;
    if (rec == NULL)
        return ge_error_set(err, GE_ERR_FORMAT, "test record is not JSON");
    int rc;
    if (t->load_multi != NULL) {
        rc = t->load_multi(rec, line_no, docs, n, err);
    } else {
        *docs = calloc(1, sizeof **docs);
        rc = t->load(rec, line_no, *docs, err);
        *n = rc == GE_OK;
        if (rc != GE_OK) {
            free(*docs);
            *docs = NULL;
        }
    }
    cJSON_Delete(rec); /* documents must not point into the record */
    return rc;
}

static void free_docs(struct task_doc *docs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        task_doc_release(&docs[i]);
    free(docs);
}

static void check_joined(const char *name, const char *what, char **v, size_t n, const char *sep,
                         const char *want)
{
    struct strbuf sb;
    strbuf_init(&sb, 0);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strbuf_append_str(&sb, sep, NULL);
        strbuf_append_str(&sb, v[i], NULL);
    }
    tap_is_str(strbuf_str(&sb), want, "%s: %s", name, what);
    strbuf_release(&sb);
}

static void run_render_case(const struct render_case *c)
{
    char name[128];
    struct task_doc *docs;
    size_t n;
    struct ge_error err;
    ge_error_clear(&err);
    snprintf(name, sizeof name, "%s/%s", c->task->name, c->name);
    int rc = load_json(c->task, c->json, c->line_no, &docs, &n, &err);
    if (!tap_is_int(rc, 0, "%s: loads (%s)", name, err.msg))
        return;
    if (!tap_is_int((long long)n, (long long)c->n_docs, "%s: document count", name)) {
        free_docs(docs, n);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        const struct task_doc *d = &docs[k];
        const struct expect_doc *e = &c->docs[k];
        char dn[160];
        snprintf(dn, sizeof dn, "%s#%zu", name, k);
        tap_is_str(d->id, e->id, "%s: id", dn);
        tap_is_str(d->query, e->query, "%s: query", dn);
        tap_is_str(d->fewshot_target, e->target, "%s: fewshot_target", dn);
        if (e->choices == NULL) {
            tap_ok(d->n_answers >= 1 && d->n_choices == 0, "%s: generation document", dn);
            continue;
        }
        check_joined(dn, "choices", d->choices, d->n_choices, "|", e->choices);
        char gold[256] = "";
        for (size_t g = 0; g < d->n_gold; g++)
            snprintf(gold + strlen(gold), sizeof gold - strlen(gold), "%s%zu", g ? "," : "", d->gold[g]);
        tap_is_str(gold, e->gold, "%s: gold", dn);
        if (e->uncond != NULL)
            tap_is_str(d->uncond_context, e->uncond, "%s: uncond_context", dn);
        else
            tap_ok(d->uncond_context == NULL, "%s: no uncond_context", dn);
        tap_ok(d->contexts == NULL, "%s: no per-option contexts", dn);
    }
    free_docs(docs, n);
}

static void run_error_case(const struct error_case *c)
{
    struct task_doc *docs;
    size_t n;
    struct ge_error err;
    ge_error_clear(&err);
    int rc = load_json(c->task, c->json, 1, &docs, &n, &err);
    tap_is_int(rc, GE_ERR_FORMAT, "%s/%s: GE_ERR_FORMAT", c->task->name, c->name);
    if (!tap_ok(strstr(err.msg, c->needle) != NULL, "%s/%s: message names %s", c->task->name, c->name, c->needle))
        tap_diag("message: %s", err.msg);
    tap_ok(docs == NULL && n == 0, "%s/%s: no documents on failure", c->task->name, c->name);
    free_docs(docs, n);
}

/* QuAC scoring: exact span, partial span, and an unanswerable question answered with an alias. */
static void test_quac_score(void)
{
    static const struct {
        const char *name, *json, *generated;
        double f1;
    } cases[] = {
        {"exact", "{\"context\":\"c\",\"answer\":\"in 1990.\",\"aliases\":[]}", " in 1990.\n", 1.0},
        {"partial", "{\"context\":\"c\",\"answer\":\"in 1990.\",\"aliases\":[]}", " 1990", 2.0 / 3.0},
        {"cannot-alias", "{\"context\":\"c\",\"answer\":\"CANNOTANSWER\",\"aliases\":[\"Not enough information\","
         "\"Cannot answer\",\"Do not know\"]}", " cannot answer", 1.0},
        {"cannot-literal", "{\"context\":\"c\",\"answer\":\"CANNOTANSWER\",\"aliases\":[]}", " CANNOTANSWER", 1.0},
        {"cannot-missed", "{\"context\":\"c\",\"answer\":\"CANNOTANSWER\",\"aliases\":[\"Do not know\"]}", " 1990",
         0.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct task_doc *docs;
        size_t n;
        struct ge_error err;
        ge_error_clear(&err);
        if (!tap_is_int(load_json(&task_quac, cases[i].json, 1, &docs, &n, &err), 0, "quac/score-%s: loads",
                        cases[i].name))
            continue;
        struct task_doc_scores s = {0};
        int rc = task_quac.score_generation(&docs[0], cases[i].generated, &s, &err);
        tap_ok(rc == 0 && s.n == 1 && strcmp(s.name[0], "f1") == 0, "quac/score-%s: one f1 value (%s)",
               cases[i].name, err.msg);
        tap_is_double(s.value[0], cases[i].f1, 1e-9, "quac/score-%s: f1", cases[i].name);
        free_docs(docs, n);
    }
}

struct count_ctx {
    const struct task *task;
    size_t n_records;
};

static int count_record(void *ctx, const cJSON *rec, size_t line_no, struct ge_error *err)
{
    struct count_ctx *cc = ctx;
    struct task_doc *docs = NULL, one;
    size_t n = 1;
    int rc;
    if (cc->task->load_multi != NULL) {
        rc = cc->task->load_multi(rec, line_no, &docs, &n, err);
    } else {
        rc = cc->task->load(rec, line_no, &one, err);
        docs = &one;
    }
    if (rc < 0)
        return rc;
    int ok = 1;
    for (size_t i = 0; i < n; i++) { /* the invariants of task.h */
        const struct task_doc *d = &docs[i];
        ok = ok && d->id && d->id[0] && d->query && d->fewshot_target;
        if (cc->task->kind == TASK_MULTIPLE_CHOICE) {
            ok = ok && d->n_choices >= 2 && d->n_gold >= 1;
            for (size_t g = 0; g < d->n_gold; g++)
                ok = ok && d->gold[g] < d->n_choices;
        } else {
            ok = ok && d->n_answers >= 1;
        }
    }
    if (cc->task->load_multi != NULL)
        free_docs(docs, n);
    else
        task_doc_release(&one);
    if (!ok)
        return ge_error_set(err, GE_ERR_FORMAT, "loaded document breaks the task_doc invariants");
    cc->n_records++;
    return GE_OK;
}

/* MultiRC's F1a and per-question EM from per-option predictions: question 1 (options a, b) fully right, question
 * 2 (option c) wrong. Options: a gold yes pred yes (tp), b gold no pred no, c gold yes pred no (fn).
 * F1a = 2 * 1 / (2 * 1 + 0 + 1) = 2/3; EM = 1 of 2 questions. */
static void test_multirc_aggregate(void)
{
    struct task_doc docs[3];
    memset(docs, 0, sizeof docs);
    char ids[3][16] = {"0-1-0", "0-1-1", "0-2-0"};
    size_t golds[3] = {1, 0, 1}, idx[3] = {0, 1, 2}, pred[3] = {1, 0, 0};
    for (int i = 0; i < 3; i++) {
        docs[i].id = ids[i];
        docs[i].gold[0] = golds[i];
        docs[i].n_gold = 1;
    }
    struct task_doc_scores out = {0};
    struct ge_error err;
    int rc = task_multirc.aggregate(docs, idx, pred, NULL, 3, &out, &err);
    tap_ok(rc == GE_OK && out.n == 2 && strcmp(out.name[0], "f1a") == 0 && strcmp(out.name[1], "em") == 0,
           "multirc aggregate: f1a and em");
    tap_is_double(out.value[0], 2.0 / 3.0, 1e-12, "multirc aggregate: F1a over options");
    tap_is_double(out.value[1], 0.5, 1e-12, "multirc aggregate: per-question EM");
    tap_is_str(task_multirc.primary_metric, "f1a", "multirc reports F1a, as GLaM");
}

int main(void)
{
    for (size_t i = 0; i < sizeof render_cases / sizeof *render_cases; i++)
        run_render_case(&render_cases[i]);
    for (size_t i = 0; i < sizeof error_cases / sizeof *error_cases; i++)
        run_error_case(&error_cases[i]);
    test_quac_score();
    test_multirc_aggregate();

    static const struct task *const all[] = {&task_multirc, &task_wsc, &task_record, &task_race_middle,
                                             &task_race_high, &task_anli_r1, &task_anli_r2, &task_anli_r3,
                                             &task_storycloze, &task_quac};
    const char *shared = tap_shared_dir();
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        const struct task *t = all[i];
        /* ReCoRD (version 2) scores its predicted entity as an answer, so it has score_generation too. */
        tap_ok(t->version == (t == &task_record ? 2 : 1) && (t->load != NULL) != (t->load_multi != NULL) &&
                   t->glam_shots > 0 && t->expected_records > 0 && strcmp(t->fewshot_sep, "\n\n") == 0 &&
                   t->category == (t == &task_quac ? TASK_NLG : TASK_NLU) &&
                   (t->kind == TASK_GENERATE || t == &task_record) == (t->score_generation != NULL),
               "%s: descriptor fields", t->name);
        const char *splits[] = {t->eval_split, t->fewshot_split};
        for (size_t s = 0; s < 2; s++) {
            if (s == 1 && strcmp(t->fewshot_split, t->eval_split) == 0)
                break;
            char path[4096];
            snprintf(path, sizeof path, "%s/data/%s/%s.jsonl", shared ? shared : "", t->name, splits[s]);
            FILE *f = shared ? fopen(path, "rb") : NULL;
            if (f == NULL) {
                tap_skip("not in ../shared/data (fixtures only)", "%s: real %s split", t->name, splits[s]);
                continue;
            }
            fclose(f);
            struct count_ctx cc = {t, 0};
            struct ge_error err;
            ge_error_clear(&err);
            int rc = jsonl_file_for_each(path, (size_t)1 << 30, count_record, &cc, &err);
            if (!tap_is_int(rc, 0, "%s: every record of %s loads", t->name, splits[s]))
                tap_diag("%s", err.msg);
            if (s == 0)
                tap_is_int((long long)cc.n_records, (long long)t->expected_records, "%s: %s has expected_records",
                           t->name, splits[s]);
        }
    }
    return tap_done();
}
