/* model.c — helpers shared by all backends (see model.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "model/model.h"

void model_gen_result_release(struct gen_result *r)
{
    free(r->text);
    free(r->error);
    r->text = NULL;
    r->error = NULL;
    r->n_tokens = 0;
    r->truncated = 0;
}

void model_ll_result_release(struct ll_result *r)
{
    free(r->token_logprobs);
    free(r->error);
    r->token_logprobs = NULL;
    r->error = NULL;
}
