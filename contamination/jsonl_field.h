/* jsonl_field.h — the string field of one JSONL line, found in place (for the contamination scan). */
#ifndef GE_CN_JSONL_FIELD_H
#define GE_CN_JSONL_FIELD_H

#include <stddef.h>
#include <stdint.h>

/* Finds the top-level field `field` of the JSON object in s[0..n) (a UTF-8 byte order mark before it is allowed;
 * the first of repeated keys counts): *vs..*ve is the inside of its string value, escapes undecoded. Returns 0
 * found, 1 absent, 2 not a string, -1 malformed (*ve = the byte offset where it stopped). Nesting deeper than 512
 * is malformed. */
int cn_jsonl_field(const uint8_t *s, size_t n, const char *field, size_t *vs, size_t *ve);
/* 1 when s[0..n) is only JSON whitespace (a blank line holds no document). */
int cn_jsonl_blank(const uint8_t *s, size_t n);

#endif
