/* backend_open.c — `--model` to backend dispatch and the endpoint options of the CLI (contracts in
 * backend_open.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness/cli.h"
#include "harness/fileio.h"
#include "harness/sha256.h"
#include "harness/xalloc.h"
#include "model/backend_open.h"

#define URL_FILE_LIMIT ((size_t)1 << 20)

void backend_options_init(struct backend_options *o)
{
    memset(o, 0, sizeof *o);
    runtime_options_init(&o->rt);
    endpoint_options_init(&o->ep);
}

void backend_options_release(struct backend_options *o)
{
    for (size_t i = 0; i < o->n_urls; i++)
        free(o->urls[i]);
    o->n_urls = 0;
}

static int is_url(const char *s) { return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0; }

int backend_is_remote(const struct backend_options *o) { return o->n_urls > 0; }

static int add_url(struct backend_options *o, const char *url, size_t len, struct ge_error *err)
{
    if (o->path)
        return ge_error_set(err, GE_ERR_USAGE, "--model: give either one checkpoint or endpoint URLs, not both");
    if (o->n_urls == ENDPOINT_HTTP_MAX_URLS)
        return ge_error_set(err, GE_ERR_USAGE, "--model: at most %d endpoint URLs", ENDPOINT_HTTP_MAX_URLS);
    o->urls[o->n_urls++] = xstrndup(url, len);
    return GE_OK;
}

int backend_add_model(struct backend_options *o, const char *arg, struct ge_error *err)
{
    if (is_url(arg))
        return add_url(o, arg, strlen(arg), err);
    if (arg[0] == '@') {
        char *data = NULL;
        size_t len = 0;
        int rc = file_read_all(arg + 1, URL_FILE_LIMIT, &data, &len, err);
        if (rc)
            return rc;
        struct line_iter it;
        const char *line;
        size_t n;
        size_t before = o->n_urls;
        line_iter_init(&it, data, len);
        while (rc == GE_OK && line_iter_next(&it, &line, &n)) {
            while (n > 0 && (line[0] == ' ' || line[0] == '\t')) {
                line++;
                n--;
            }
            while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
                n--;
            if (n == 0 || line[0] == '#')
                continue;
            if (n < 8 || !(strncmp(line, "http://", 7) == 0 || strncmp(line, "https://", 8) == 0))
                rc = ge_error_set(err, GE_ERR_FORMAT, "%s: line %zu: not an http:// or https:// URL", arg + 1,
                                  it.line_no);
            else
                rc = add_url(o, line, n, err);
        }
        if (rc == GE_OK && o->n_urls == before)
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: no URL in the file", arg + 1);
        free(data);
        return rc;
    }
    if (o->path || o->n_urls)
        return ge_error_set(err, GE_ERR_USAGE, "--model: only endpoint URLs may be given more than once");
    o->path = arg;
    return GE_OK;
}

static int parse_seconds(const char *arg, const char *name, long *ms, struct ge_error *err)
{
    char *end = NULL;
    double v = strtod(arg, &end);
    if (end == arg || *end != '\0' || !(v > 0) || v > 86400.0)
        return ge_error_set(err, GE_ERR_USAGE, "%s must be a number of seconds in (0, 86400], not '%s'", name, arg);
    *ms = (long)(v * 1000.0 + 0.5);
    if (*ms == 0)
        *ms = 1;
    return GE_OK;
}

int backend_parse_option(struct backend_options *o, int code, const char *arg, struct ge_error *err)
{
    uint64_t v;
    switch (code) {
    case BACKEND_OPT_MODEL_NAME: o->ep.model_name = arg; return GE_OK;
    case BACKEND_OPT_API_KEY_ENV: o->ep.api_key_env = arg; return GE_OK;
    case BACKEND_OPT_TOKENIZER: o->ep.tokenizer_path = arg; return GE_OK;
    case BACKEND_OPT_CONCURRENCY:
        if (cli_parse_u64(arg, "--concurrency", &v, err) || v == 0 || v > ENDPOINT_HTTP_MAX_CONCURRENCY)
            return ge_error_set(err, GE_ERR_USAGE, "--concurrency must be 1..%d", ENDPOINT_HTTP_MAX_CONCURRENCY);
        o->ep.http.concurrency = (size_t)v;
        return GE_OK;
    case BACKEND_OPT_TIMEOUT: return parse_seconds(arg, "--timeout", &o->ep.http.timeout_ms, err);
    case BACKEND_OPT_CONNECT_TIMEOUT: return parse_seconds(arg, "--connect-timeout", &o->ep.http.connect_timeout_ms, err);
    case BACKEND_OPT_RETRIES:
        if (cli_parse_u64(arg, "--retries", &v, err) || v > 100)
            return ge_error_set(err, GE_ERR_USAGE, "--retries must be 0..100");
        o->ep.http.max_retries = (int)v;
        return GE_OK;
    case BACKEND_OPT_PROMPTS_PER_REQUEST:
        if (cli_parse_u64(arg, "--prompts-per-request", &v, err) || v == 0 || v > 4096)
            return ge_error_set(err, GE_ERR_USAGE, "--prompts-per-request must be 1..4096");
        o->ep.prompts_per_request = (size_t)v;
        return GE_OK;
    case BACKEND_OPT_BACKOFF: {
        long ms = 0;
        if (parse_seconds(arg, "--backoff", &ms, err))
            return GE_ERR_USAGE;
        o->ep.http.backoff_base_s = (double)ms / 1000.0;
        return GE_OK;
    }
    case BACKEND_OPT_MAX_LENGTH:
        if (cli_parse_u64(arg, "--max-length", &v, err) || v == 0 || v > INT64_MAX)
            return ge_error_set(err, GE_ERR_USAGE, "--max-length: \"%s\" is not a token count (1 or more; leave "
                                "the option out for the model's own window)", arg);
        o->rt.max_length = (int64_t)v;
        return GE_OK;
    case BACKEND_OPT_BOS:
        if (strcmp(arg, "auto") == 0)
            o->rt.bos = RUNTIME_BOS_AUTO;
        else if (strcmp(arg, "always") == 0)
            o->rt.bos = RUNTIME_BOS_ALWAYS;
        else if (strcmp(arg, "never") == 0)
            o->rt.bos = RUNTIME_BOS_NEVER;
        else
            return ge_error_set(err, GE_ERR_USAGE, "--bos must be auto, always or never, not '%s'", arg);
        return GE_OK;
    default: return ge_error_set(err, GE_ERR_USAGE, "unknown model option %d", code);
    }
}

int backend_open(struct backend_options *o, struct model *out, struct ge_error *err)
{
    if (o->n_urls == 0) {
        if (o->path == NULL)
            return ge_error_set(err, GE_ERR_USAGE, "missing --model PATH or URL");
        if (o->ep.model_name || o->ep.api_key_env || o->ep.tokenizer_path)
            return ge_error_set(err, GE_ERR_USAGE, "--model-name, --api-key-env and --tokenizer apply to endpoint "
                                "URLs only; %s is a checkpoint", o->path);
        return runtime_open(o->path, &o->rt, out, err);
    }
    o->ep.urls = (const char *const *)o->urls;
    o->ep.n_urls = o->n_urls;
    o->ep.max_length = o->rt.max_length;
    o->ep.bos = o->rt.bos;
    if (o->ep.http.log == NULL)
        o->ep.http.log = stderr;
    return endpoint_open(&o->ep, out, err);
}

backend_count_fn backend_count_tokens(const struct model *m)
{
    if (!endpoint_is(m))
        return runtime_count_tokens;
    return endpoint_has_tokenizer(m) && endpoint_max_length(m) > 0 ? endpoint_count_tokens : NULL;
}

int64_t backend_max_length(const struct model *m)
{
    return endpoint_is(m) ? endpoint_max_length(m) : runtime_max_length(m);
}

void backend_settings_identity(const struct backend_options *o, struct model_info *info)
{
    if (o->rt.bos == RUNTIME_BOS_AUTO && o->rt.max_length == 0)
        return;
    char settings[96] = "";
    size_t n = 0;
    if (o->rt.bos != RUNTIME_BOS_AUTO)
        n += (size_t)snprintf(settings + n, sizeof settings - n, "--bos %s",
                              o->rt.bos == RUNTIME_BOS_ALWAYS ? "always" : "never");
    if (o->rt.max_length != 0)
        snprintf(settings + n, sizeof settings - n, "%s--max-length %lld", n ? " " : "", (long long)o->rt.max_length);
    struct sha256 h;
    uint8_t d[SHA256_DIGEST_LEN];
    sha256_init(&h);
    sha256_update(&h, "glam-eval/model-settings/v1\n", 28);
    sha256_update(&h, info->identity, strlen(info->identity));
    sha256_update(&h, "\n", 1);
    sha256_update(&h, settings, strlen(settings));
    sha256_final(&h, d);
    sha256_digest_hex(d, info->identity);
    size_t len = strlen(info->name);
    if (len + strlen(settings) + 4 < sizeof info->name)
        snprintf(info->name + len, sizeof info->name - len, " [%s]", settings);
}

void backend_store_model(const struct model *m, const struct model_info *info, struct store_model *sm)
{
    int remote = endpoint_is(m);
    *sm = (struct store_model){.identity_hash = info->identity,
                               .kind = remote ? STORE_MODEL_REMOTE : STORE_MODEL_LOCAL,
                               .name = info->name,
                               .architecture = remote && !info->architecture[0] ? NULL : info->architecture,
                               .n_params = remote ? -1 : info->n_params,
                               .n_active_params = remote ? -1 : info->n_active_params,
                               .flops_per_token = remote ? -1 : info->flops_per_token,
                               .dtype = remote && !info->dtype[0] ? NULL : info->dtype,
                               .endpoint_url = remote ? endpoint_url_set(m) : NULL,
                               .served_model = remote ? endpoint_served_model(m) : NULL};
}
