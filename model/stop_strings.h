/* stop_strings.h — where generation stops: the first occurrence of any stop string in decoded text.
 *
 * Stop strings are matched on text, not tokens, so a stop string split across token boundaries still stops
 * generation (lm-evaluation-harness's `until`). Used by the runtime's generate and by the server engine. */
#ifndef GE_STOP_STRINGS_H
#define GE_STOP_STRINGS_H

#include <stddef.h>

/* Earliest position in text[0..len) where any of stop[0..n_stop) begins, or len when none occurs; empty stop
 * strings never match. When which is not NULL and a stop string matched, *which is its index (the first listed
 * among those starting at the earliest position). Cost: O(len * total stop length) in the worst case. */
size_t stop_strings_find(const char *text, size_t len, const char *const *stop, size_t n_stop, int *which);

#endif
