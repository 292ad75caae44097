/* wsc273.c — Winograd (WSC273): resolve a pronoun to one of two noun phrases (partial evaluation).
 *
 * Provenance
 *   dataset       lighteval/winograd_wsc, config wsc273 (same schema as winogrande_wsc; ../shared/data/wsc273/)
 *   eval split    test (273 records; the only split)
 *   few-shot      test minus the evaluated document (GPT-3 does the same: WSC273 has no train split)
 *   prompt        GPT-3 §2.4 / Appendix G (Winograd) partial evaluation, the options normalised as
 *                 lm-evaluation-harness lm_eval/tasks/wsc273/utils.py: text with "  " replaced by " ";
 *                 an option gets "'s" when the pronoun is my/his/her/our/their, and its first word is
 *                 lowercased (every occurrence, Python's str.replace) when that word is one of A, An, The, She,
 *                 He, It, They, My, His, Her, Their and text[pronoun_loc - 2] is not "." (Python indexing:
 *                 negative wraps). contexts[k] = text[:pronoun_loc] + option k; the continuation of every
 *                 option is text[pronoun_loc + len(pronoun):] as it stands (it starts with its own space;
 *                 lm-eval prepends a second " " target delimiter, GPT-3's format has one). pronoun_loc counts
 *                 code points. query = contexts[gold] so that query + fewshot_target is the resolved sentence.
 *   id            the line number (the schema has no id field) */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness/xalloc.h"
#include "tasks/mc_record.h"
#include "tasks/mc_tasks.h"

static const char *const upper_pronouns[] = {"A", "An", "The", "She", "He", "It", "They", "My", "His", "Her",
                                             "Their"};
static const char *const possessives[] = {"my", "his", "her", "our", "their"};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Python's s.replace(from, to) for a non-empty from, on a heap string; frees s. */
static char *replace_all(char *s, const char *from, const char *to)
{
    size_t from_len = strlen(from), to_len = strlen(to), n = 0;
    for (const char *p = strstr(s, from); p != NULL; p = strstr(p + from_len, from))
        n++;
    if (n == 0)
        return s;
    char *out = xmalloc(strlen(s) - n * from_len + n * to_len + 1), *o = out;
    const char *p = s;
    for (const char *q = strstr(p, from); q != NULL; q = strstr(p, from)) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, to_len);
        o += to_len;
        p = q + from_len;
    }
    strcpy(o, p);
    free(s);
    return out;
}

static int ascii_casecmp(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return 1;
    }
    return *a != *b;
}

/* lm-eval's __normalize_option; returns a new heap string, or NULL when option has no word. */
static char *wsc273_option(const char *option, const char *pronoun, int start_of_sentence)
{
    int possessive = 0;
    for (size_t i = 0; i < sizeof possessives / sizeof *possessives; i++)
        possessive |= ascii_casecmp(pronoun, possessives[i]) == 0;
    char *s = mc_concat(option, possessive ? "'s" : "", (const char *)NULL);

    const char *w = s;
    while (is_space(*w))
        w++;
    size_t w_len = 0;
    while (w[w_len] != '\0' && !is_space(w[w_len]))
        w_len++;
    if (w_len == 0) {
        free(s);
        return NULL;
    }
    char *word = xstrndup(w, w_len);
    int upper = 0;
    for (size_t i = 0; i < sizeof upper_pronouns / sizeof *upper_pronouns; i++)
        upper |= strcmp(word, upper_pronouns[i]) == 0;
    if (!start_of_sentence && upper) {
        char *lower = xstrdup(word);
        for (char *p = lower; *p != '\0'; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        s = replace_all(s, word, lower);
        free(lower);
    }
    free(word);
    return s;
}

static int wsc273_load(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err)
{
    const char *raw, *pronoun;
    size_t loc, label, n_cp;
    char *text = NULL, *option[2] = {NULL, NULL};
    int rc;
    memset(doc, 0, sizeof *doc);
    const cJSON *options = cJSON_GetObjectItemCaseSensitive(record, "options");
    if ((rc = mc_get_string(record, "text", &raw, err)) < 0 ||
        (rc = mc_get_string(record, "pronoun", &pronoun, err)) < 0 ||
        (rc = mc_get_index(record, "pronoun_loc", (size_t)-1, &loc, err)) < 0 ||
        (rc = mc_get_index(record, "label", 2, &label, err)) < 0)
        return rc;
    if (!cJSON_IsArray(options) || cJSON_GetArraySize(options) != 2 ||
        !cJSON_IsString(cJSON_GetArrayItem(options, 0)) || !cJSON_IsString(cJSON_GetArrayItem(options, 1)))
        return ge_error_set(err, GE_ERR_FORMAT, "field \"options\" is not an array of two strings");

    text = replace_all(xstrdup(raw), "  ", " ");
    n_cp = 0;
    for (const char *p = text; *p != '\0'; p++)
        n_cp += ((unsigned char)*p & 0xC0) != 0x80;
    size_t pron_len = strlen(pronoun), b_loc, b_prev = 0;
    if (pron_len == 0 || loc >= n_cp || mc_utf8_offset(text, loc, &b_loc) < 0 ||
        strncmp(text + b_loc, pronoun, pron_len) != 0) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"pronoun_loc\" = %zu does not point at \"pronoun\" in \"text\"",
                          loc);
        goto out;
    }
    const char *rest = text + b_loc + pron_len;
    if (*rest == '\0') {
        rc = ge_error_set(err, GE_ERR_FORMAT, "field \"text\" ends at the pronoun: nothing to score");
        goto out;
    }
    /* Python's text[pronoun_loc - 2]: a negative index counts from the end. */
    int start_of_sentence = 0;
    if (loc >= 2 || n_cp + loc >= 2) {
        size_t prev = loc >= 2 ? loc - 2 : n_cp + loc - 2;
        start_of_sentence = mc_utf8_offset(text, prev, &b_prev) == 0 && text[b_prev] == '.';
    }
    for (int k = 0; k < 2; k++) {
        option[k] = wsc273_option(cJSON_GetArrayItem(options, k)->valuestring, pronoun, start_of_sentence);
        if (option[k] == NULL) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "field \"options[%d]\" is empty", k);
            goto out;
        }
    }

    mc_set_id(doc, record, NULL, line_no, err);
    mc_alloc_choices(doc, 2, 1);
    for (int k = 0; k < 2; k++) {
        doc->contexts[k] = xmalloc(b_loc + strlen(option[k]) + 1);
        memcpy(doc->contexts[k], text, b_loc);
        strcpy(doc->contexts[k] + b_loc, option[k]);
        doc->choices[k] = xstrdup(rest);
    }
    doc->gold[0] = label;
    doc->n_gold = 1;
    doc->query = xstrdup(doc->contexts[label]);
    doc->fewshot_target = xstrdup(rest);
    rc = GE_OK;
out:
    free(option[0]);
    free(option[1]);
    free(text);
    return rc;
}

/* Official release files accepted besides DIR/wsc273/<split>.jsonl (tasks/release_formats.h). */
static const struct task_source wsc273_sources[] = {
    {.split = "test", .format = RELEASE_WSC_XML,
     .paths = {"wsc273/WSCollection.xml", "wsc273/official/WSCollection.xml"},
     .first_n = 273, .origin = "https://cs.nyu.edu/faculty/davise/papers/WinogradSchemas/WSCollection.xml"},
    {.split = NULL},
};

const struct task task_wsc273 = {
    .name = "wsc273",
    .display = "Winograd",
    .category = TASK_NLU,
    .kind = TASK_MULTIPLE_CHOICE,
    .version = 1,
    .eval_split = "test",
    .fewshot_split = "test",
    .expected_records = 273,
    .glam_shots = 2,
    .fewshot_sep = "\n\n",
    .primary_metric = "acc",
    .prompt_source = "GPT-3 Appendix G (Winograd), partial evaluation; lm-evaluation-harness "
                     "wsc273/default.yaml + utils.py",
    .load = wsc273_load,
    .sources = wsc273_sources,
};
