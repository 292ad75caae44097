/* bench_endpoint.c — how fast the endpoint client is on its own: requests per second with N in flight and the
 * client's CPU time per request, against an in-process libmicrohttpd server that answers every completions request
 * with one precomputed echo response (so the server costs almost nothing and the client is what is measured).
 * The client runs the whole backend path: JSON body, libcurl multi transfer, response parsing and checks.
 * Run by hand: bench/bench_endpoint [--requests N] [--concurrency C] [--rounds R]. Not a test. */
#include "config.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "harness/xalloc.h"
#include "model/endpoint.h"

static const char MODELS[] = "{\"object\":\"list\",\"data\":[{\"id\":\"bench\"}]}";
/* The echo answer for "The capital of France is" + " Paris." in text mode (offsets in code points). */
static const char COMPLETION[] =
    "{\"id\":\"b\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\"The capital of France is "
    "Paris.\",\"finish_reason\":\"length\",\"logprobs\":{\"tokens\":[\"The\",\" capital\",\" of\",\" France\",\" "
    "is\",\" Paris\",\".\"],\"token_logprobs\":[null,-5.5,-1.25,-2.5,-0.75,-0.5,-1.5],\"top_logprobs\":[null,{\" "
    "capital\":-5.5},{\" of\":-1.25},{\" France\":-2.5},{\" is\":-0.75},{\" Paris\":-0.5},{\".\":-1.5}],"
    "\"text_offset\":[0,3,11,14,21,24,30]}}],\"usage\":{\"completion_tokens\":0}}";

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)cls;
    (void)method;
    (void)version;
    (void)upload;
    if (*state == NULL) { /* first call: headers only */
        *state = (void *)1;
        return MHD_YES;
    }
    if (*upload_size) { /* discard the body */
        *upload_size = 0;
        return MHD_YES;
    }
    const char *body = strstr(url, "/models") ? MODELS : COMPLETION;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* The server side sets TCP_NODELAY, so its header and body writes do not wait for the client's delayed ACK. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    (void)socket_context;
    if (code != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    int one = 1;
    if (ci)
        setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    size_t n_req = 4096, conc = 64, rounds = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc)
            n_req = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc)
            conc = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = strtoull(argv[++i], NULL, 10);
        else {
            printf("usage: bench_endpoint [--requests N (4096)] [--concurrency C (64)] [--rounds R (3)]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (n_req == 0 || conc == 0 || rounds == 0)
        return 2;
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, handle,
                                            NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)1,
                                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(conc + 16),
                                            MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
                                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "bench_endpoint: cannot start the server\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1", (unsigned)info->port);
    const char *urls[] = {url};
    struct endpoint_options opt;
    endpoint_options_init(&opt);
    opt.urls = urls;
    opt.n_urls = 1;
    opt.http.concurrency = conc;
    struct model m;
    struct ge_error err;
    ge_error_clear(&err);
    if (endpoint_open(&opt, &m, &err) != GE_OK) {
        fprintf(stderr, "bench_endpoint: %s\n", err.msg);
        MHD_stop_daemon(d);
        return 1;
    }
    struct ll_request *reqs = xcalloc(n_req, sizeof *reqs);
    struct ll_result *res = xcalloc(n_req, sizeof *res);
    for (size_t i = 0; i < n_req; i++)
        reqs[i] = (struct ll_request){.context = "The capital of France is", .continuation = " Paris."};
    printf("bench_endpoint: %zu loglikelihood requests per round, %zu in flight, HTTP/1.1 keep-alive to an "
           "in-process server\n", n_req, conc);
    int rc = 0;
    for (size_t r = 0; r < rounds && rc == 0; r++) {
        double t0 = now_s(), c0 = thread_cpu_s();
        rc = m.ops->loglikelihood(m.self, reqs, n_req, res, &err);
        double wall = now_s() - t0, cpu = thread_cpu_s() - c0;
        if (rc) {
            fprintf(stderr, "bench_endpoint: %s\n", err.msg);
            break;
        }
        if (res[0].logprob != -2.0 || res[0].n_tokens != 2) {
            fprintf(stderr, "bench_endpoint: wrong answer %g (%lld tokens)\n", res[0].logprob,
                    (long long)res[0].n_tokens);
            rc = 1;
        }
        printf("round %zu: %.0f requests/s, client CPU %.1f us per request (%.0f%% of one core)\n", r + 1,
               (double)n_req / wall, cpu / (double)n_req * 1e6, 100.0 * cpu / wall);
        for (size_t i = 0; i < n_req; i++)
            model_ll_result_release(&res[i]);
    }
    free(reqs);
    free(res);
    m.ops->free(m.self);
    MHD_stop_daemon(d);
    return rc ? 1 : 0;
}
