/* mc_record.h — field access and string building shared by the multiple-choice task modules (arc_easy.c,
 * piqa.c, winogrande.c, ...).
 *
 * Every getter reads one field of a borrowed cJSON record and, when the field is missing or of the wrong type,
 * fills err with GE_ERR_FORMAT and a message naming the field ("field \"answerKey\": ..."); the task loader's
 * caller adds file and line. Strings handed back by getters point into the record (borrowed, valid while the
 * record lives); strings handed back by builders are heap copies owned by the caller. */
#ifndef GE_MC_RECORD_H
#define GE_MC_RECORD_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "harness/error.h"
#include "tasks/task.h"

/* *out = record[field] when it is a JSON string (borrowed from record). */
int mc_get_string(const cJSON *record, const char *field, const char **out, struct ge_error *err);
/* *out = record[field] when it is a JSON number holding an integer in [0, n): a label or option index. */
int mc_get_index(const cJSON *record, const char *field, size_t n, size_t *out, struct ge_error *err);

/* Sets doc->id: record[field] when field is non-NULL (a non-empty string, or an integer printed in decimal),
 * else the line id (scoring/doc_id.h: the 1-based line number, the rule `score` keys predictions by). */
int mc_set_id(struct task_doc *doc, const cJSON *record, const char *field, size_t line_no, struct ge_error *err);

/* Allocates doc->choices (and doc->contexts when with_contexts) for n options, all NULL; n <= TASK_MAX_CHOICES. */
void mc_alloc_choices(struct task_doc *doc, size_t n, int with_contexts);

/* Concatenation of the NULL-terminated list of strings, as a new heap string. The pieces come from one parsed
 * JSON line already in memory, so the result is bounded by the reader's line limit. */
char *mc_concat(const char *first, ...) __attribute__((sentinel));

/* A heap copy of s[0..len) without leading and trailing ASCII whitespace (Python's str.strip() for ASCII text;
 * TODO: Python also strips Unicode spaces such as U+00A0; none occur at the ends of our fields). */
char *mc_strip(const char *s, size_t len);

/* Byte offset of code point cp_index in the UTF-8 string s (Python str offsets count code points, as in
 * wsc273's pronoun_loc and WiC's start1/end1). Returns -1 when s has fewer than cp_index code points. */
int mc_utf8_offset(const char *s, size_t cp_index, size_t *byte_off);

/* Loader for the ARC / OpenBookQA schema: id, question_field (a string), choices {text: [...], label: [...]},
 * answerKey (one of choices.label). Renders "Question: {q}\nAnswer:", options " {text}", unconditional context
 * "Answer:" and fewshot_target = the gold option. On failure doc is released (all fields zero). */
int mc_load_lettered(const cJSON *record, size_t line_no, const char *question_field, struct task_doc *doc,
                     struct ge_error *err);

/* Loader for the facebook/anli schema (anli_r1.c .. anli_r3.c): uid, premise, hypothesis, label (0 = entailment,
 * 1 = neutral, 2 = contradiction). Renders "{premise}\nQuestion: {hypothesis} True, False, or Neither?\nAnswer:"
 * (no "." added after the hypothesis, unlike CB: ANLI hypotheses end with their own punctuation), options
 * " True" / " Neither" / " False" in label order, fewshot_target = the gold option. On failure doc is released. */
/* Premise/hypothesis records (RTE, CB, ANLI): query "{premise}\nQuestion: {hypothesis}{question_suffix}", one
 * option per label in label order, id from id_key (else the line number). */
int mc_load_nli(const cJSON *record, size_t line_no, const char *id_key, const char *const *options, size_t n_options,
                const char *question_suffix, struct task_doc *doc, struct ge_error *err);
int mc_load_anli(const cJSON *record, size_t line_no, struct task_doc *doc, struct ge_error *err);

/* load_multi for the EleutherAI/race schema (race_middle.c, race_high.c): article, problems = a JSON array of
 * {question, options: [4 strings], answer: "A".."D"} (a string holding that array as JSON is accepted too; the HF
 * export's Python-literal string is refused with a message saying how to convert it). One document per problem j:
 *   query          "Article: {article}\n\n" + for each earlier problem i < j "Question: {q_i}\nAnswer: {gold_i}\n"
 *                  + "Question: {q_j}\nAnswer:"
 *   choices        " {option}"; uncond_context "Answer:"; fewshot_target the gold option
 *   id             "<line number>_<j + 1>"; group "<line number>" (the article).
 * On failure *docs is NULL, *n_docs 0 and err names the field ("problems[2].answer"). */
int mc_load_race(const cJSON *record, size_t line_no, struct task_doc **docs, size_t *n_docs, struct ge_error *err);

#endif
