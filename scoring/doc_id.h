/* doc_id.h — the id of a dataset record that has none of its own: its line number.
 *
 * Rule: a record without an id is known by its 1-based physical line number in its JSONL file, in decimal: the
 * first line is "1". Blank lines are counted (they hold no record but keep the numbers those of the file, as
 * harness/fileio.h's line_iter counts them, which every reader here uses). A record read from an official release
 * file gets the number it would have as a line of the equivalent JSONL file (tasks/release_formats.h).
 *
 * Why one home: `run` stores these ids (documents.doc_id), few-shot selection draws from them ("few-shot examples
 * depend only on (seed, task, document id)"), resume and merge match on them, and `score` keys predictions by
 * them. So the task loaders (tasks/) and the file scorers (scoring/) both derive the id through the functions
 * below; a prediction exported from a run then scores against the question it answers. The module sits in
 * scoring/ because tasks/ already builds on scoring/, not the other way round. */
#ifndef GE_DOC_ID_H
#define GE_DOC_ID_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/error.h"

#define DOC_ID_LINE_CAP 24 /* bytes of a line id, NUL included: SIZE_MAX has at most 20 digits */

/* Writes the id of the record on line line_no (1-based; 0 is a programmer's error) into buf. */
void doc_id_from_line(size_t line_no, char buf[DOC_ID_LINE_CAP]);

/* Sets *id to the id of the record on line line_no whose own id field holds v (NULL when the record has no such
 * field): v's text when v is a non-empty string, else the line id, written to line_buf. *id is borrowed from v or
 * is line_buf. A present v that is not a string is GE_ERR_FORMAT ("is not a string": callers add the field,
 * file and line) with *id NULL. This is the rule of the generation tasks with an optional id field (TriviaQA's
 * question_id, SQuAD's id, DROP's query_id) and of `score triviaqa` on JSONL. */
int doc_id_string_or_line(const cJSON *v, size_t line_no, char line_buf[DOC_ID_LINE_CAP], const char **id,
                          struct ge_error *err);

#endif
