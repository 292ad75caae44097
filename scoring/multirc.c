/* multirc.c — MultiRC F1a and per-question exact match (see multirc.h for the definition and its source).
 *
 * Grouping options into questions sorts a private array of (paragraph, question, correct) triples, so the input
 * need not be ordered and is never modified. The counts are exact integers; the ratios are formed once at the end. */
#include "config.h"

#include <stdlib.h>

#include "scoring/multirc.h"

struct keyed {
    int64_t paragraph_id;
    int64_t question_id;
    int64_t copy;
    int correct; /* 1 when the option's prediction equals its gold label */
};

static int cmp_keyed(const void *pa, const void *pb)
{
    const struct keyed *a = pa, *b = pb;
    if (a->paragraph_id != b->paragraph_id)
        return a->paragraph_id < b->paragraph_id ? -1 : 1;
    if (a->question_id != b->question_id)
        return a->question_id < b->question_id ? -1 : 1;
    if (a->copy != b->copy)
        return a->copy < b->copy ? -1 : 1;
    return 0;
}

int multirc_score(const struct multirc_option *options, size_t n, struct multirc_scores *out, struct ge_error *err)
{
    int rc = GE_OK;
    struct keyed *keys = NULL;
    if (n == 0)
        return ge_error_set(err, GE_ERR_USAGE, "multirc: no answer options to score");
    if (n > MULTIRC_MAX_OPTIONS)
        return ge_error_set(err, GE_ERR_LIMIT, "multirc: %zu answer options exceed the limit of %zu", n,
                            MULTIRC_MAX_OPTIONS);
    size_t tp = 0, fp = 0, fn = 0, n_correct = 0;
    for (size_t i = 0; i < n; i++) {
        const struct multirc_option *o = &options[i];
        if ((o->pred != 0 && o->pred != 1) || (o->gold != 0 && o->gold != 1))
            return ge_error_set(err, GE_ERR_FORMAT,
                                "multirc: option %zu (paragraph %lld, question %lld) has label pred=%d gold=%d; "
                                "labels must be 0 or 1",
                                i, (long long)o->paragraph_id, (long long)o->question_id, o->pred, o->gold);
        tp += o->pred && o->gold;
        fp += o->pred && !o->gold;
        fn += !o->pred && o->gold;
        n_correct += o->pred == o->gold;
    }
    keys = malloc(n * sizeof *keys);
    if (keys == NULL) {
        rc = ge_error_set(err, GE_ERR_NOMEM, "multirc: out of memory grouping %zu answer options", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (struct keyed){options[i].paragraph_id, options[i].question_id, options[i].copy,
                                 options[i].pred == options[i].gold};
    qsort(keys, n, sizeof *keys, cmp_keyed);
    size_t n_questions = 0, n_exact = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int all = 1;
        while (j < n && cmp_keyed(&keys[i], &keys[j]) == 0)
            all &= keys[j++].correct;
        n_questions++;
        n_exact += (size_t)all;
        i = j;
    }
    size_t denom = 2 * tp + fp + fn;
    out->f1a = denom ? (double)(2 * tp) / (double)denom : 0.0;
    out->em = (double)n_exact / (double)n_questions;
    out->acc = (double)n_correct / (double)n;
    out->n_options = n;
    out->n_questions = n_questions;
    out->tp = tp;
    out->fp = fp;
    out->fn = fn;
out:
    free(keys);
    return rc;
}
