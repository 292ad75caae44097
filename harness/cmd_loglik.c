/* cmd_loglik.c — `glam-eval loglik` and `glam-eval generate`: run the local runtime (or an endpoint, through
 * model/backend_open.h) on requests given on the command line or in a JSONL file, without a database. Useful to check a checkpoint against another
 * implementation (lm-evaluation-harness, llama.cpp) request by request. */
#include "config.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli.h"
#include "harness/commands.h"
#include "harness/fileio.h"
#include "harness/json_text.h"
#include "harness/xalloc.h"
#include "model/backend_open.h"
#include "model/runtime.h"
#include "scoring/pyfloat.h"

#define MAX_UNTIL 64


static void print_result(const struct ll_result *r)
{
    char lp[PYFLOAT_REPR_CAP];
    pyfloat_repr(r->logprob, lp);
    printf("{\"logprob\": %s, \"n_tokens\": %lld, \"is_greedy\": %s, \"truncated\": %s", lp,
           (long long)r->n_tokens, r->is_greedy ? "true" : "false", r->truncated ? "true" : "false");
    if (r->token_logprobs) {
        printf(", \"token_logprobs\": [");
        for (int64_t i = 0; i < r->n_tokens; i++) {
            pyfloat_repr(r->token_logprobs[i], lp);
            printf(i ? ", %s" : "%s", lp);
        }
        printf("]");
    }
    printf("}\n");
}

/* The output line of a request the model could not answer: {"error": "..."}. */
static void print_error(const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    char *text = cJSON_PrintUnformatted(o);
    printf("%s\n", text ? text : "{\"error\": \"?\"}");
    free(text);
    cJSON_Delete(o);
}

/* Scores each line {"context": ..., "continuation": ...} of path (a rolling request when "context" is absent
 * and --rolling is given), LOGLIK_CHUNK lines per backend call so an endpoint backend keeps many requests in
 * flight. Errors name the file and line; a request the model cannot answer prints {"error": ...} on its line,
 * is named on stderr, and makes the command fail once every request has been tried. */
#define LOGLIK_CHUNK 256
static int loglik_file(struct model *m, const char *path, int rolling, int per_token, struct ge_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc = file_read_all(path, 0, &data, &len, err);
    if (rc)
        return rc;
    if (rolling && m->ops->loglikelihood_rolling == NULL) {
        free(data);
        return ge_error_set(err, GE_ERR_USAGE, "the %s backend cannot compute rolling log-likelihoods",
                            m->ops->backend);
    }
    struct line_iter it;
    const char *line;
    size_t line_len;
    cJSON *objs[LOGLIK_CHUNK];
    size_t line_no[LOGLIK_CHUNK];
    struct ll_request reqs[LOGLIK_CHUNK];
    struct ll_result res[LOGLIK_CHUNK];
    size_t n = 0, n_done = 0, n_failed = 0, first_failed = 0;
    int more = 1;
    line_iter_init(&it, data, len);
    while (rc == GE_OK && more) {
        more = line_iter_next(&it, &line, &line_len);
        if (more && line_len == 0)
            continue;
        size_t nul;
        if (more && json_text_find_nul(line, line_len, &nul)) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line %zu: a NUL character (\\u0000) at byte %zu (the string "
                              "would end there)", path, it.line_no, nul);
            break;
        }
        if (more) {
            cJSON *obj = cJSON_ParseWithLength(line, line_len);
            const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(obj, "context");
            const cJSON *cont = cJSON_GetObjectItemCaseSensitive(obj, rolling ? "text" : "continuation");
            if (!cJSON_IsObject(obj) || !cJSON_IsString(cont) || (!rolling && !cJSON_IsString(ctx))) {
                cJSON_Delete(obj);
                rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line %zu: expected {\"context\": string, \"continuation\": "
                                  "string}%s", path, it.line_no, rolling ? " (or {\"text\": string} with --rolling)" : "");
                break;
            }
            objs[n] = obj;
            line_no[n] = it.line_no;
            reqs[n] = (struct ll_request){.context = rolling ? "" : ctx->valuestring,
                                          .continuation = cont->valuestring, .want_token_logprobs = per_token};
            n++;
        }
        if (n == LOGLIK_CHUNK || (!more && n > 0)) {
            memset(res, 0, sizeof res);
            rc = rolling ? m->ops->loglikelihood_rolling(m->self, reqs, n, res, err)
                         : m->ops->loglikelihood(m->self, reqs, n, res, err);
            if (rc)
                ge_error_prefix(err, "%s: lines %zu to %zu: ", path, line_no[0], line_no[n - 1]);
            for (size_t i = 0; i < n && rc == GE_OK; i++) {
                if (res[i].error) {
                    /* one request the model could not answer: its line says so and the others still print, so
                     * the output keeps one line per request */
                    print_error(res[i].error);
                    fprintf(stderr, "glam-eval loglik: %s: line %zu: %s\n", path, line_no[i], res[i].error);
                    if (n_failed++ == 0)
                        first_failed = line_no[i];
                } else {
                    print_result(&res[i]);
                }
                n_done++;
            }
            for (size_t i = 0; i < n; i++) {
                model_ll_result_release(&res[i]);
                cJSON_Delete(objs[i]);
            }
            n = 0;
        }
    }
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(objs[i]);
    free(data);
    if (rc == GE_OK && n_failed)
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: %zu of %zu requests failed, the first on line %zu (their output "
                          "lines hold \"error\")", path, n_failed, n_done, first_failed);
    return rc;
}

static int loglik_run(int argc, char **argv)
{
    enum { OPT_ROLLING = 256, OPT_PER_TOKEN };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"requests", required_argument, NULL, 'r'},
        {"context", required_argument, NULL, 'c'},
        {"continuation", required_argument, NULL, 'n'},
        {"rolling", no_argument, NULL, OPT_ROLLING},
        {"per-token", no_argument, NULL, OPT_PER_TOKEN},
        BACKEND_LONG_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct backend_options mo;
    backend_options_init(&mo);
    mo.rt.hash_files = 0; /* nothing is stored: a cheap identity is enough */
    const char *requests = NULL, *context = NULL, *continuation = NULL;
    int rolling = 0, per_token = 0, c;
    struct ge_error err;
    ge_error_clear(&err);
    while ((c = getopt_long(argc, argv, ":m:r:c:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (backend_add_model(&mo, optarg, &err))
                return cli_usage_error(&cmd_loglik, "%s", err.msg);
            break;
        case 'r': requests = optarg; break;
        case 'c': context = optarg; break;
        case 'n': continuation = optarg; break;
        case OPT_ROLLING: rolling = 1; break;
        case OPT_PER_TOKEN: per_token = 1; break;
        case 'h': return cli_help(&cmd_loglik);
        default:
            if (c >= BACKEND_OPT_FIRST && c < BACKEND_OPT_LAST) {
                if (backend_parse_option(&mo, c, optarg, &err))
                    return cli_usage_error(&cmd_loglik, "%s", err.msg);
                break;
            }
            return cli_option_error(&cmd_loglik, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_loglik, "unexpected argument '%s'", argv[optind]);
    if (mo.path == NULL && !backend_is_remote(&mo))
        return cli_usage_error(&cmd_loglik, "missing --model PATH or URL");
    if ((requests != NULL) == (continuation != NULL))
        return cli_usage_error(&cmd_loglik, "give either --requests FILE or --continuation TEXT (with --context)");
    struct model m;
    int rc = backend_open(&mo, &m, &err);
    if (rc) {
        backend_options_release(&mo);
        return cli_fail(&cmd_loglik, &err);
    }
    if (requests) {
        rc = loglik_file(&m, requests, rolling, per_token, &err);
    } else {
        struct ll_request req = {.context = context ? context : "", .continuation = continuation,
                                 .want_token_logprobs = per_token};
        struct ll_result res = {0};
        if (rolling && m.ops->loglikelihood_rolling == NULL)
            rc = ge_error_set(&err, GE_ERR_USAGE, "the %s backend cannot compute rolling log-likelihoods",
                              m.ops->backend);
        else
            rc = rolling ? m.ops->loglikelihood_rolling(m.self, &req, 1, &res, &err)
                         : m.ops->loglikelihood(m.self, &req, 1, &res, &err);
        if (rc == GE_OK && res.error)
            rc = ge_error_set(&err, GE_ERR_FORMAT, "%s", res.error);
        if (rc == GE_OK)
            print_result(&res);
        model_ll_result_release(&res);
    }
    m.ops->free(m.self);
    backend_options_release(&mo);
    return rc ? cli_fail(&cmd_loglik, &err) : CLI_EXIT_OK;
}

const struct command cmd_loglik = {
    .name = "loglik",
    .summary = "log-likelihood of continuations under a local checkpoint or an endpoint",
    .usage = "usage: glam-eval loglik --model PATH|URL (--requests FILE.jsonl | [--context TEXT] --continuation TEXT)\n"
             "                        [--rolling] [--per-token] [--max-length N] [--bos auto|always|never]\n"
             "\n"
             "Prints one JSON line per request: logprob (natural log, summed over the continuation's tokens),\n"
             "n_tokens, is_greedy (every continuation token is the model's argmax) and truncated; a request that\n"
             "cannot be answered prints {\"error\": ...} on its line, and the command then exits with status 1.\n"
             "Requests are tokenized as lm-evaluation-harness does: trailing whitespace of the context moves to the\n"
             "continuation, the two are encoded together and split at the context's length.\n"
             "\n"
             "Options:\n"
             "  --model PATH        a Hugging Face directory (config.json, *.safetensors, tokenizer.json) or a .gguf\n"
             "  --requests FILE     JSONL of {\"context\": ..., \"continuation\": ...} (with --rolling: {\"text\": ...})\n"
             "  --context TEXT      the context (default empty: the BOS token stands for it)\n"
             "  --continuation TEXT the text to score\n"
             "  --rolling           score the whole text (--continuation or \"text\") in disjoint windows\n"
             "  --per-token         also print token_logprobs, the log-probability of each scored token\n"
             "  --max-length N      context window in tokens (default: the model's, at most 4096)\n"
             "  --bos MODE          auto (the tokenizer's configuration), always or never (lm-evaluation-harness's\n"
             "                      HF backend default)\n"
             BACKEND_USAGE,
    .run = loglik_run,
};

static int generate_run(int argc, char **argv)
{
    
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"prompt", required_argument, NULL, 'p'},
        {"until", required_argument, NULL, 'u'},
        {"max-tokens", required_argument, NULL, 't'},
        BACKEND_LONG_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct backend_options mo;
    backend_options_init(&mo);
    mo.rt.hash_files = 0;
    const char *prompt = NULL;
    const char *until[MAX_UNTIL];
    size_t n_until = 0;
    uint64_t max_tokens = 128;
    int c;
    struct ge_error err;
    ge_error_clear(&err);
    while ((c = getopt_long(argc, argv, ":m:p:u:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (backend_add_model(&mo, optarg, &err))
                return cli_usage_error(&cmd_generate, "%s", err.msg);
            break;
        case 'p': prompt = optarg; break;
        case 'u':
            if (n_until == MAX_UNTIL)
                return cli_usage_error(&cmd_generate, "at most %d --until strings", MAX_UNTIL);
            if (optarg[0] == '\0')
                return cli_usage_error(&cmd_generate, "--until needs a non-empty string");
            until[n_until++] = optarg;
            break;
        case 't':
            if (cli_parse_u64(optarg, "--max-tokens", &max_tokens, &err) || max_tokens == 0)
                return cli_usage_error(&cmd_generate, "--max-tokens must be a whole number >= 1");
            break;
        case 'h': return cli_help(&cmd_generate);
        default:
            if (c >= BACKEND_OPT_FIRST && c < BACKEND_OPT_LAST) {
                if (backend_parse_option(&mo, c, optarg, &err))
                    return cli_usage_error(&cmd_generate, "%s", err.msg);
                break;
            }
            return cli_option_error(&cmd_generate, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_generate, "unexpected argument '%s'", argv[optind]);
    if (mo.path == NULL && !backend_is_remote(&mo))
        return cli_usage_error(&cmd_generate, "missing --model PATH or URL");
    if (prompt == NULL)
        return cli_usage_error(&cmd_generate, "missing --prompt TEXT");
    struct model m;
    int rc = backend_open(&mo, &m, &err);
    if (rc) {
        backend_options_release(&mo);
        return cli_fail(&cmd_generate, &err);
    }
    struct gen_request req = {.context = prompt, .stop = until, .n_stop = n_until, .max_tokens = (int64_t)max_tokens,
                              .beam_width = 1, .length_penalty = 1.0};
    struct gen_result res = {0};
    rc = m.ops->generate(m.self, &req, 1, &res, &err);
    if (rc == GE_OK && res.error)
        rc = ge_error_set(&err, GE_ERR_FORMAT, "%s", res.error);
    else if (rc == GE_OK) {
        fputs(res.text, stdout);
        fputc('\n', stdout);
    }
    model_gen_result_release(&res);
    m.ops->free(m.self);
    backend_options_release(&mo);
    return rc ? cli_fail(&cmd_generate, &err) : CLI_EXIT_OK;
}

const struct command cmd_generate = {
    .name = "generate",
    .summary = "greedy generation from a local checkpoint or an endpoint",
    .usage = "usage: glam-eval generate --model PATH|URL --prompt TEXT [--until S]... [--max-tokens N]\n"
             "                          [--max-length N] [--bos auto|always|never]\n"
             "\n"
             "Generates greedily until the end-of-sequence token, N tokens (default 128), or any --until string\n"
             "(matched on the decoded text, also across token boundaries); prints the text before the stop string.\n"
             BACKEND_USAGE,
    .run = generate_run,
};
