/* task.c — helpers shared by the task modules (see task.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness/sha256.h"
#include "tasks/task.h"

static void free_strings(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void task_doc_release(struct task_doc *doc)
{
    free(doc->id);
    free(doc->query);
    free_strings(doc->choices, doc->n_choices);
    free_strings(doc->contexts, doc->n_choices);
    free_strings(doc->choice_labels, doc->n_choices);
    free(doc->uncond_context);
    free_strings(doc->answers, doc->n_answers);
    free(doc->fewshot_target);
    free(doc->group);
    memset(doc, 0, sizeof *doc);
}

void task_doc_content_hash(const struct task_doc *d, char hex[65])
{
    struct sha256 h;
    uint8_t digest[SHA256_DIGEST_LEN];
    sha256_init(&h);
    sha256_update(&h, d->query, strlen(d->query) + 1);
    for (size_t i = 0; i < d->n_choices; i++)
        sha256_update(&h, d->choices[i], strlen(d->choices[i]) + 1);
    for (size_t i = 0; i < d->n_answers; i++)
        sha256_update(&h, d->answers[i], strlen(d->answers[i]) + 1);
    sha256_final(&h, digest);
    sha256_digest_hex(digest, hex);
}
