/* pyjson.h — writing a parsed JSON value in the text style of Python's json.dumps(value, ensure_ascii=False),
 * the style of every generated file in ../shared/data (its README, "JSON text style"):
 *   separators ", " and ": ", no newlines; keys in the order given; strings escaped as json.dumps escapes them
 *   (\" \\ \n \r \t \b \f, other code points below U+0020 as \u00xx with lowercase hex, everything else as
 *   UTF-8), except that U+2028, U+2029 and U+0085 are written \u2028, \u2029, \u0085 so that a record is always
 *   one physical line; integers in decimal; other numbers as Python's repr(float) (scoring/pyfloat.h).
 *
 * cJSON keeps numbers as doubles, so the original spelling of a number is not known: an integral value is
 * written as an integer ("1.0" in the input becomes "1"), and an integral value of magnitude 2^53 or more, which
 * a double may not hold exactly, is an error rather than a silently different number. None of the Hub schemas
 * glam-eval reads has a float feature (TODO: use the /rows "features" types if one ever does). */
#ifndef GE_TASK_PYJSON_H
#define GE_TASK_PYJSON_H

#include <cjson/cJSON.h>

#include "harness/error.h"
#include "harness/strbuf.h"

/* Appends item to out in the style above. Fails with GE_ERR_FORMAT for a number that cannot be written exactly
 * (see above) and GE_ERR_LIMIT when out's limit is reached; out may then hold a partial value. */
int pyjson_append(struct strbuf *out, const cJSON *item, struct ge_error *err);

#endif
