/* wsc.c — WSC (SuperGLUE): does the marked pronoun refer to the given noun phrase? Yes/no multiple choice.
 *
 * Provenance
 *   dataset       aps/super_glue, config wsc.fixed (../shared/data/wsc/)
 *   eval split    validation (104 records; GLaM's split, test labels are private)
 *   few-shot      train (FewGLUE's 32 examples, all of them label 1 = yes: few-shot prompts only ever show
 *                 " yes", a bias of the shared data, not of the task)
 *   prompt        lm-evaluation-harness lm_eval/tasks/super_glue/wsc/preprocess_wsc.py default_doc_to_text and
 *                 default.yaml (options " no" / " yes", gold = label):
 *                   pre  = " ".join(text.split()[:span2_index])
 *                   post = text[len(pre) + len(span2_text) + 1:]          (code points, as Python slices)
 *                   "Passage: " + general_detokenize(pre + " *{span2_text}*" + post) + "\n"
 *                   "Question: In the passage above, does the pronoun \"*{span2_text}*\" refer to
 *                    \"*{span1_text}*\"?\nAnswer:"
 *                 general_detokenize: " n't"->"n't", " )"->")", "( "->"(", "\" "->"\"", " \""->"\"", then a space
 *                 before ' . or , is dropped. GPT-3 Appendix G's WSC figure asks instead which noun the bold
 *                 pronoun refers to and scores the noun phrase; the brief allows lm-eval's yes/no form, which needs
 *                 no span scoring. str.split() here splits on ASCII whitespace only (TODO: Python also splits on
 *                 Unicode spaces; none occur in WSC texts).
 *   id            idx */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness/strbuf.h"
#include "harness/xalloc.h"
#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static size_t cp_count(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A new string: s with every occurrence of from (non-empty) replaced by to, left to right (Python str.replace). */
static char *replace_all(const char *s, const char *from, const char *to)
{
    struct strbuf sb;
    size_t from_len = strlen(from);
    strbuf_init(&sb, 0);
    for (const char *hit; (hit = strstr(s, from)) != NULL; s = hit + from_len) {
        strbuf_append(&sb, s, (size_t)(hit - s), NULL);
        strbuf_append_str(&sb, to, NULL);
    }
    strbuf_append_str(&sb, s, NULL);
    char *out = xstrdup(strbuf_str(&sb));
    strbuf_release(&sb);
    return out;
}

/* lm-eval's utils.general_detokenize; takes ownership of s and returns a new string. */
static char *general_detokenize(char *s)
{
    static const char *const pairs[][2] = {{" n't", "n't"}, {" )", ")"}, {"( ", "("}, {"\" ", "\""}, {" \"", "\""}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char *next = replace_all(s, pairs[i][0], pairs[i][1]);
        free(s);
        s = next;
    }
    /* re.sub(r" (['.,])", r"\1", s) */
    size_t w = 0;
    for (size_t r = 0; s[r]; r++)
        if (!(s[r] == ' ' && (s[r + 1] == '\'' || s[r + 1] == '.' || s[r + 1] == ',')))
            s[w++] = s[r];
    s[w] = '\0';
    return s;
}

static int wsc_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *text, *span1, *span2;
    size_t label, span2_index;
    int rc;
    memset(doc, 0, sizeof *doc);
    if ((rc = mc_get_string(record, "text", &text, err)) < 0 ||
        (rc = mc_get_string(record, "span1_text", &span1, err)) < 0 ||
        (rc = mc_get_string(record, "span2_text", &span2, err)) < 0 ||
        (rc = mc_get_index(record, "span2_index", (size_t)1 << 20, &span2_index, err)) < 0 ||
        (rc = mc_get_index(record, "label", 2, &label, err)) < 0 ||
        (rc = mc_set_id(doc, record, "idx", line_no, err)) < 0)
        goto out;

    /* pre = the first span2_index whitespace-separated words joined by single spaces. */
    struct strbuf pre;
    strbuf_init(&pre, 0);
    const char *p = text;
    size_t n_words = 0;
    for (;;) {
        while (is_space(*p))
            p++;
        if (*p == '\0')
            break;
        const char *b = p;
        while (*p && !is_space(*p))
            p++;
        if (n_words < span2_index) {
            if (n_words > 0)
                strbuf_append_char(&pre, ' ', NULL);
            strbuf_append(&pre, b, (size_t)(p - b), NULL);
        }
        n_words++;
    }
    if (span2_index >= n_words) {
        strbuf_release(&pre);
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"span2_index\" = %zu is past the %zu words of \"text\"",
                          span2_index, n_words);
        goto out;
    }
    size_t off;
    const char *post = "";
    if (mc_utf8_offset(text, cp_count(strbuf_str(&pre)) + cp_count(span2) + 1, &off) == 0)
        post = text + off;
    char *passage = general_detokenize(mc_concat(strbuf_str(&pre), " *", span2, "*", post, (const char *)NULL));
    strbuf_release(&pre);
    doc->query = mc_concat("Passage: ", passage, "\nQuestion: In the passage above, does the pronoun \"*", span2,
                           "*\" refer to \"*", span1, "*\"?\nAnswer:", (const char *)NULL);
    free(passage);
    mc_alloc_choices(doc, 2, 0);
    doc->choices[0] = xstrdup(" no");
    doc->choices[1] = xstrdup(" yes");
    doc->gold[0] = label;
    doc->n_gold = 1;
    doc->fewshot_target = xstrdup(doc->choices[label]);
out:
    if (rc < 0)
        task_doc_release(doc);
    return rc;
}

#define SUPERGLUE_ORIGIN "SuperGLUE 1.0.3 release, https://super.gluebenchmark.com/tasks (combined.zip)"

/* Official release files accepted besides DIR/wsc/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source wsc_sources[] = {
    {.split = "validation", .format = RELEASE_SG_WSC, .paths = {"WSC/val.jsonl", "wsc/official/val.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = "train", .format = RELEASE_SG_WSC, .paths = {"WSC/train.jsonl", "wsc/official/train.jsonl"},
     .origin = SUPERGLUE_ORIGIN},
    {.split = NULL},
};

const struct task task_wsc = {
    .name = "wsc",
    .display = "WSC",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "validation",
    .fewshot_split = "train",
    .expected_records = 104,
    .glam_shots = 2,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc",
    .prompt_source = "lm-evaluation-harness super_glue/wsc/default.yaml + preprocess_wsc.py (yes/no form)",
    .load = wsc_load,
    .sources = wsc_sources,
};
