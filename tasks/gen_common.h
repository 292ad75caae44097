/* gen_common.h — record access and result helpers shared by the generation tasks (tasks/triviaqa.c, nq_open.c,
 * webqs.c, lambada.c, squad_v2.c, drop.c, coqa.c, gsm8k.c).
 *
 * Records are the Hugging Face JSON rows of ../shared/data (borrowed cJSON trees: everything kept is copied with
 * xstrdup). Fields are named by dotted paths ("answer.aliases"); every error is GE_ERR_FORMAT (GE_ERR_LIMIT for
 * TASK_MAX_ANSWERS) with a message that names the path, so the dataset loader only has to add file and line. */
#ifndef GE_TASK_GEN_COMMON_H
#define GE_TASK_GEN_COMMON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "harness/error.h"
#include "tasks/task.h"

/* The value at the dotted path under record, or NULL when some step is missing or not an object. Borrowed. */
const cJSON *gen_field(const cJSON *record, const char *path);

/* *out = the string at path (borrowed from record). Fails naming path when it is missing or not a string, or
 * when it is empty and allow_empty is 0. */
int gen_string(const cJSON *record, const char *path, int allow_empty, const char **out, struct ge_error *err);

/* Copies the array of strings at path into a new (*n) array *out (owned by the caller, each string too).
 * Fails naming path (and the element index) when it is not an array of strings, when it has fewer than min
 * elements, or (GE_ERR_LIMIT) more than TASK_MAX_ANSWERS. On failure *out is NULL and *n 0. */
int gen_strings(const cJSON *record, const char *path, size_t min, char ***out, size_t *n, struct ge_error *err);

/* A new string formatted like printf (xalloc policy: aborts on exhaustion; sizes are bounded by the loader's
 * line limit). */
char *gen_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* doc->id = the non-empty string at id_path when id_path is non-NULL and the record has one, else the line id
 * (scoring/doc_id.h: the 1-based line number, the rule `score` keys predictions by). A present id_path that is
 * not a string is an error naming it. */
int gen_doc_id(const cJSON *record, const char *id_path, size_t line_no, struct task_doc *doc, struct ge_error *err);

/* Appends metric name (a constant) = value to out; asserts room (TASK_MAX_METRICS is a programmer's limit). */
void gen_scores_add(struct task_doc_scores *out, const char *name, double value);

/* Closed-book question answering (NQ-open, WebQuestions): query "Q: {question}{question_end}" where question_end
 * is e.g. "?\nA:", golds from answers_path (at least one), target " " + the first gold, id = the line number. */
int gen_load_closed_book(const cJSON *record, size_t line_no, const char *answers_path, const char *question_end,
                         struct task_doc *doc, struct ge_error *err);

/* score_generation for tasks scored by exact match against doc->answers (scoring/qa_em.h): metric "em". */
int gen_score_em(const struct task_doc *doc, const char *generated, struct task_doc_scores *out,
                 struct ge_error *err);

#endif
