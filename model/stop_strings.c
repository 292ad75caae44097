/* stop_strings.c — the first stop string in decoded text (see stop_strings.h). */
#include "config.h"

#include <string.h>

#include "model/stop_strings.h"

size_t stop_strings_find(const char *text, size_t len, const char *const *stop, size_t n_stop, int *which)
{
    size_t best = len;
    for (size_t s = 0; s < n_stop; s++) {
        size_t sl = strlen(stop[s]);
        if (sl == 0 || sl > len)
            continue;
        for (size_t p = 0; p + sl <= len && p < best; p++)
            if (memcmp(text + p, stop[s], sl) == 0) {
                best = p;
                if (which)
                    *which = (int)s;
                break;
            }
    }
    return best;
}
