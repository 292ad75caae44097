/* serve_http.c — libmicrohttpd glue of `glam-eval serve` (see serve_http.h): routing, authentication, body and
 * time limits, disconnect detection, turning API results into HTTP responses, and draining at shutdown.
 *
 * libmicrohttpd calls handle_request several times per request: once when the headers are in (we route, check
 * the method, the key and a declared Content-Length there, and may answer at once), once per piece of body
 * (appended to a bounded buffer), and once more with no data when the body is complete (we answer then). The
 * per-request state lives in *con_cls and is freed by request_completed, however the request ended; that call
 * comes after the response was written, so the count of requests between the two is what a shutdown waits for
 * (stopping the daemon earlier would close sockets under responses not yet sent).
 *
 * libmicrohttpd's own messages never reach stderr (they would come without our "glam-eval serve:" prefix, and
 * every failure that matters is reported as our own message or an HTTP status): mhd_log keeps the last one
 * logged while the daemon starts, so a start that fails can say why, and drops the rest. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness/serve_http.h"
#include "harness/strbuf.h"
#include "harness/xalloc.h"

#define SERVE_MAX_DISCARD ((size_t)64 << 20) /* body bytes dropped after the limit before we hang up */

enum route {
    ROUTE_NONE,
    ROUTE_COMPLETIONS,
    ROUTE_MODELS,
    ROUTE_TOKENIZE,
    ROUTE_DETOKENIZE,
    ROUTE_TOKENIZER_INFO,
    ROUTE_HEALTH,
};

static const struct {
    const char *path;
    const char *method;
    enum route route;
} routes[] = {
    {"/v1/completions", "POST", ROUTE_COMPLETIONS},
    {"/v1/models", "GET", ROUTE_MODELS},
    {"/tokenize", "POST", ROUTE_TOKENIZE},
    {"/detokenize", "POST", ROUTE_DETOKENIZE},
    {"/tokenizer_info", "GET", ROUTE_TOKENIZER_INFO},
    {"/health", "GET", ROUTE_HEALTH},
};

/* Invariants: opt.api_key points into api_key (or is NULL); stats, serial, n_fresh, n_open, adopted and draining
 * are guarded by mu, and started, start_msg and start_errno by log_mu (libmicrohttpd logs from its threads, and
 * may log while a thread holds mu); n_fresh counts the connections whose conn_ctx has fresh == 1, plus those in
 * adopted. */
struct serve_http {
    struct serve_http_options opt;
    char *api_key;                    /* owned copy, or NULL */
    const struct server_model *sm;    /* borrowed */
    struct server_engine *e;          /* borrowed */
    struct MHD_Daemon *d;
    struct sockaddr_storage addr;     /* where we bind */
    uint16_t port;
    pthread_mutex_t mu;
    uint64_t serial;                  /* completions answered, for ids */
    struct serve_http_stats stats;
    pthread_cond_t idle_cv;           /* broadcast when n_fresh or n_open falls (CLOCK_MONOTONIC) */
    int64_t n_fresh;                  /* connections accepted whose first request has not arrived yet */
    int *adopted;                     /* (n_adopted, cap max_connections) sockets handed to the daemon at the
                                         quiesce that it has not started yet (it starts them in its own thread) */
    size_t n_adopted;
    int64_t n_open;                   /* requests whose headers arrived and whose response is not yet sent */
    int draining;                     /* 1: shutting down; every response closes its connection */
    pthread_mutex_t log_mu;           /* the three below: see the invariants */
    int started;                      /* 1 once MHD_start_daemon returned: mhd_log keeps nothing more */
    char start_msg[256];              /* libmicrohttpd's last message while starting, without its newline, or "" */
    int start_errno;                  /* errno when start_msg was logged: a failed socket call's, for those */
};

/* One connection, from accept to close (libmicrohttpd's socket context). */
struct conn_ctx {
    int fresh;             /* 1 until the headers of its first request arrived */
};

/* One request in progress. */
struct req_ctx {
    enum route route;
    struct strbuf body;    /* bounded by max_body_bytes */
    size_t discarded;      /* body bytes dropped after the limit was passed */
    int64_t start_ms;      /* when the headers arrived (monotonic) */
};

static void count_status(struct serve_http *h, int status)
{
    pthread_mutex_lock(&h->mu);
    if (status < 400)
        h->stats.n_ok++;
    else if (status < 500)
        h->stats.n_client_errors++;
    else
        h->stats.n_server_errors++;
    pthread_mutex_unlock(&h->mu);
}

/* Queues status with body (a heap string we take over; NULL for an empty body). */
static enum MHD_Result respond(struct serve_http *h, struct MHD_Connection *c, int status, char *body,
                               const char *allow)
{
    size_t len = body ? strlen(body) : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body ? body : (void *)"",
                                                             body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    if (body)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (status == 401)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    pthread_mutex_lock(&h->mu);
    int draining = h->draining;
    pthread_mutex_unlock(&h->mu);
    if (draining) /* the connection closes after this response: a next request would find the daemon gone */
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES)
        count_status(h, status);
    return ret;
}

static enum MHD_Result respond_error(struct serve_http *h, struct MHD_Connection *c, const struct api_error *ae,
                                     const char *allow)
{
    return respond(h, c, ae->status, api_error_json(ae), allow);
}

/* Constant-time comparison of the bearer token with the key (the time depends on the lengths only). */
static int auth_ok(const struct serve_http *h, struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
        return 0;
    v += 7;
    while (*v == ' ')
        v++;
    size_t a = strlen(v), b = strlen(h->api_key);
    unsigned char diff = a != b;
    for (size_t i = 0; i < b; i++)
        diff |= (unsigned char)(h->api_key[i] ^ (i < a ? v[i] : 0));
    return diff == 0;
}

/* client_gone's argument. */
struct gone_ctx {
    struct MHD_Connection *c; /* borrowed: the connection whose request is waiting */
};

/* 1 when the client has closed its side: the socket polls as hung up, or reads as end-of-file. Data waiting
 * (a pipelined request) is not a disconnect. */
static int client_gone(void *arg)
{
    struct gone_ctx *g = arg;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(g->c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci == NULL)
        return 0;
    int fd = ci->connect_fd;
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    if (p.revents & (POLLHUP | POLLERR | POLLRDHUP))
        return 1;
    if (p.revents & POLLIN) {
        char b;
        if (recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
            return 1;
    }
    return 0;
}

static enum MHD_Result do_completion(struct serve_http *h, struct MHD_Connection *c, struct req_ctx *rq)
{
    struct completion_request req = {0};
    struct api_error ae;
    struct ge_error err;
    ge_error_clear(&err);
    enum MHD_Result ret;
    int st = server_api_parse_completion(h->sm, strbuf_str(&rq->body), rq->body.len, &req, &ae);
    if (st)
        return respond_error(h, c, &ae, NULL);
    int rc = server_engine_submit(h->e, req.jobs, req.n_jobs, &err);
    if (rc) {
        if (rc == GE_ERR_USAGE) /* more prompts than the queue holds: a 429 would be retried forever */
            api_error_set(&ae, 400, "invalid_request_error", NULL, "prompt", "%s", err.msg);
        else if (rc == GE_ERR_LIMIT)
            api_error_set(&ae, 429, "rate_limit_error", "queue_full", NULL, "%s", err.msg);
        else
            api_error_set(&ae, 503, "server_error", "shutting_down", NULL, "%s", err.msg);
        ret = respond_error(h, c, &ae, NULL);
        goto out;
    }
    struct gone_ctx g = {.c = c};
    int64_t deadline = h->opt.request_timeout ? rq->start_ms + (int64_t)h->opt.request_timeout * 1000 : 0;
    rc = server_engine_wait(h->e, req.jobs, req.n_jobs, deadline, client_gone, &g);
    if (rc == GE_ERR_LIMIT) {
        api_error_set(&ae, 408, "timeout_error", "request_timeout", NULL, "the completion did not finish within "
                      "%u seconds (--request-timeout)", h->opt.request_timeout);
        ret = respond_error(h, c, &ae, NULL);
        goto out;
    }
    if (rc != GE_OK) { /* the client went away: nobody to answer */
        pthread_mutex_lock(&h->mu);
        h->stats.n_disconnected++;
        pthread_mutex_unlock(&h->mu);
        ret = MHD_NO;
        goto out;
    }
    for (size_t i = 0; i < req.n_jobs; i++) {
        const struct server_job *j = req.jobs[i];
        if (j->rc == GE_ERR_STATE) {
            api_error_set(&ae, 503, "server_error", "shutting_down", NULL, "%s", j->err_msg);
            ret = respond_error(h, c, &ae, NULL);
            goto out;
        }
        if (j->rc != GE_OK) {
            api_error_set(&ae, 500, "server_error", NULL, NULL, "prompt %zu: %s", i, j->err_msg);
            ret = respond_error(h, c, &ae, NULL);
            goto out;
        }
    }
    pthread_mutex_lock(&h->mu);
    uint64_t serial = ++h->serial;
    pthread_mutex_unlock(&h->mu);
    char *body = NULL;
    st = server_api_completion_response(h->sm, &req, serial, &body, &ae);
    ret = st ? respond_error(h, c, &ae, NULL) : respond(h, c, 200, body, NULL);
out:
    completion_request_release(h->e, &req);
    return ret;
}

static enum MHD_Result dispatch(struct serve_http *h, struct MHD_Connection *c, struct req_ctx *rq)
{
    struct api_error ae;
    char *body = NULL;
    int st = 0;
    switch (rq->route) {
    case ROUTE_COMPLETIONS:
        return do_completion(h, c, rq);
    case ROUTE_MODELS:
        st = server_api_models(h->sm, &body, &ae);
        break;
    case ROUTE_TOKENIZE:
        st = server_api_tokenize(h->sm, strbuf_str(&rq->body), rq->body.len, &body, &ae);
        break;
    case ROUTE_DETOKENIZE:
        st = server_api_detokenize(h->sm, strbuf_str(&rq->body), rq->body.len, &body, &ae);
        break;
    case ROUTE_TOKENIZER_INFO:
        st = server_api_tokenizer_info(h->sm, &body, &ae);
        break;
    case ROUTE_HEALTH:
        return respond(h, c, 200, NULL, NULL); /* vLLM's /health: 200 with an empty body */
    case ROUTE_NONE:
        break;
    }
    return st ? respond_error(h, c, &ae, NULL) : respond(h, c, 200, body, NULL);
}

/* The first call of a request: route, method, key, declared size. Returns 1 when it answered. */
static int check_headers(struct serve_http *h, struct MHD_Connection *c, const char *url, const char *method,
                         struct req_ctx *rq, enum MHD_Result *ret)
{
    struct api_error ae;
    const char *allow = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(url, routes[i].path) != 0)
            continue;
        if (strcmp(method, routes[i].method) == 0)
            rq->route = routes[i].route;
        else
            allow = routes[i].method;
    }
    if (rq->route == ROUTE_NONE && allow == NULL) {
        api_error_set(&ae, 404, "invalid_request_error", "unknown_url", NULL, "Unknown request URL: %s %.200s",
                      method, url);
        *ret = respond_error(h, c, &ae, NULL);
        return 1;
    }
    if (rq->route == ROUTE_NONE) {
        api_error_set(&ae, 405, "invalid_request_error", "method_not_allowed", NULL, "%s %.200s is not allowed; "
                      "use %s", method, url, allow);
        *ret = respond_error(h, c, &ae, allow);
        return 1;
    }
    if (h->api_key != NULL && rq->route != ROUTE_HEALTH && !auth_ok(h, c)) {
        api_error_set(&ae, 401, "authentication_error", "invalid_api_key", NULL, "missing or wrong API key: send "
                      "the header 'Authorization: Bearer KEY'");
        *ret = respond_error(h, c, &ae, NULL);
        return 1;
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && n > h->opt.max_body_bytes) {
            api_error_set(&ae, 413, "invalid_request_error", "body_too_large", NULL, "the request body has %llu "
                          "bytes; the limit is %zu (--max-body-bytes)", n, h->opt.max_body_bytes);
            *ret = respond_error(h, c, &ae, NULL);
            return 1;
        }
    }
    return 0;
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                      const char *version, const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    (void)version;
    struct serve_http *h = cls;
    struct req_ctx *rq = *con_cls;
    if (rq == NULL) {
        rq = xcalloc(1, sizeof *rq);
        strbuf_init(&rq->body, h->opt.max_body_bytes > 0 ? h->opt.max_body_bytes : 1);
        rq->start_ms = server_now_ms();
        *con_cls = rq;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        struct conn_ctx *cc = ci ? ci->socket_context : NULL;
        pthread_mutex_lock(&h->mu);
        h->n_open++;
        if (cc != NULL && cc->fresh) {
            cc->fresh = 0;
            h->n_fresh--;
        }
        pthread_mutex_unlock(&h->mu);
        enum MHD_Result ret;
        if (check_headers(h, c, url, method, rq, &ret))
            return ret;
        if (strcmp(method, "GET") == 0)
            return dispatch(h, c, rq);
        return MHD_YES; /* the body follows */
    }
    if (*upload_data_size > 0) {
        struct ge_error err;
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->discarded == 0 && strbuf_append(&rq->body, upload_data, n, &err) == GE_OK)
            return MHD_YES;
        /* Over the limit (a chunked body; libmicrohttpd 0.9 cannot queue a response during an upload): drop the
         * rest and answer 413 at the end, but close the connection after SERVE_MAX_DISCARD dropped bytes. */
        rq->discarded += n;
        return rq->discarded > SERVE_MAX_DISCARD ? MHD_NO : MHD_YES;
    }
    if (rq->discarded > 0) {
        struct api_error ae;
        api_error_set(&ae, 413, "invalid_request_error", "body_too_large", NULL, "the request body is larger "
                      "than %zu bytes (--max-body-bytes)", h->opt.max_body_bytes);
        return respond_error(h, c, &ae, NULL);
    }
    return dispatch(h, c, rq);
}

static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    struct serve_http *h = cls;
    struct req_ctx *rq = *con_cls;
    if (rq == NULL)
        return;
    strbuf_release(&rq->body);
    free(rq);
    *con_cls = NULL;
    pthread_mutex_lock(&h->mu);
    h->n_open--;
    pthread_cond_broadcast(&h->idle_cv);
    pthread_mutex_unlock(&h->mu);
}

/* Removes fd from the adopted sockets; 1 when it was there. h->mu held. */
static int unadopt_locked(struct serve_http *h, int fd)
{
    for (size_t i = 0; i < h->n_adopted; i++)
        if (h->adopted[i] == fd) {
            h->adopted[i] = h->adopted[--h->n_adopted];
            return 1;
        }
    return 0;
}

/* Keeps n_fresh: a connection counts from its accept until its first request arrives (or it closes); an adopted
 * one was counted when it was handed over. */
static void connection_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    struct serve_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn_ctx *cc = xcalloc(1, sizeof *cc);
        cc->fresh = 1;
        *socket_context = cc;
        pthread_mutex_lock(&h->mu);
        if (ci == NULL || !unadopt_locked(h, ci->connect_fd))
            h->n_fresh++;
        pthread_mutex_unlock(&h->mu);
        return;
    }
    struct conn_ctx *cc = *socket_context;
    if (cc == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    if (cc->fresh) {
        h->n_fresh--;
        pthread_cond_broadcast(&h->idle_cv);
    }
    pthread_mutex_unlock(&h->mu);
    free(cc);
    *socket_context = NULL;
}

/* libmicrohttpd's logger (MHD_OPTION_EXTERNAL_LOGGER, cls = the serve_http): see the top of the file. Saves errno
 * first: for a failed socket call libmicrohttpd logs strerror(errno) right after it, so errno is still that call's
 * (start_failure checks that before relying on it). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    int saved_errno = errno;
    struct serve_http *h = cls;
    pthread_mutex_lock(&h->log_mu);
    if (!h->started) {
        vsnprintf(h->start_msg, sizeof h->start_msg, fmt, ap);
        h->start_msg[strcspn(h->start_msg, "\r\n")] = '\0';
        h->start_errno = saved_errno;
    }
    pthread_mutex_unlock(&h->log_mu);
    errno = saved_errno;
}

/* The error of a daemon that did not start: the address and port, and why. libmicrohttpd's message for a failed
 * bind or listen ends in strerror(errno), so then only that reason is given ("Address already in use"); another
 * message is given whole. Called once the start failed: no other thread logs any more. */
static int start_failure(const struct serve_http *h, struct ge_error *err)
{
    const char *msg = h->start_msg;
    const char *reason = h->start_errno != 0 ? strerror(h->start_errno) : "";
    size_t n = strlen(msg), k = strlen(reason);
    if (k > 0 && n > k + 2 && strcmp(msg + n - k, reason) == 0 && strncmp(msg + n - k - 2, ": ", 2) == 0)
        msg = reason;
    if (*msg == '\0')
        msg = "libmicrohttpd gave no reason";
    return ge_error_set(err, GE_ERR_IO, "cannot listen on %s port %u: %s", h->opt.host, (unsigned)h->opt.port, msg);
}

int serve_http_start(const struct serve_http_options *opt, const struct server_model *sm, struct server_engine *e,
                     struct serve_http **out, struct ge_error *err)
{
    *out = NULL;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int grc = getaddrinfo(opt->host, NULL, &hints, &ai);
    if (grc != 0)
        return ge_error_set(err, GE_ERR_USAGE, "--host %s: %s", opt->host, gai_strerror(grc));
    struct serve_http *h = xcalloc(1, sizeof *h);
    h->opt = *opt;
    h->api_key = opt->api_key ? xstrdup(opt->api_key) : NULL;
    h->opt.api_key = h->api_key;
    h->sm = sm;
    h->e = e;
    h->adopted = xcalloc(opt->max_connections, sizeof *h->adopted);
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->log_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->idle_cv, &ca);
    pthread_condattr_destroy(&ca);
    memcpy(&h->addr, ai->ai_addr, ai->ai_addrlen);
    int ipv6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (ipv6)
        ((struct sockaddr_in6 *)&h->addr)->sin6_port = htons(opt->port);
    else
        ((struct sockaddr_in *)&h->addr)->sin_port = htons(opt->port);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(flags, opt->port, NULL, NULL, handle_request, h,
                            /* first, as libmicrohttpd asks, so that it prints nothing even while starting */
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&h->addr,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)opt->max_connections,
                            /* Idle limit. libmicrohttpd measures it from the last byte moved, and a
                             * completion holds its connection silent for up to request_timeout: leave room. */
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)opt->request_timeout + 10,
                            MHD_OPTION_NOTIFY_COMPLETED, request_completed, (void *)h,
                            MHD_OPTION_NOTIFY_CONNECTION, connection_notify, (void *)h,
                            MHD_OPTION_END);
    pthread_mutex_lock(&h->log_mu);
    h->started = 1;
    pthread_mutex_unlock(&h->log_mu);
    if (h->d == NULL) {
        int rc = start_failure(h, err);
        serve_http_stop(h);
        return rc;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : opt->port;
    *out = h;
    return GE_OK;
}

uint16_t serve_http_port(const struct serve_http *h)
{
    return h->port;
}

void serve_http_quiesce(struct serve_http *h)
{
    MHD_socket s = MHD_quiesce_daemon(h->d);
    if (s == MHD_INVALID_SOCKET)
        return;
    /* Connections the kernel completed but the daemon has not accepted yet would be reset by the close, their
     * requests unanswered: hand them to the daemon, which answers them as the others (503 once the engine
     * stops). The daemon starts them later in its own thread, so they count as fresh from here (the drain waits
     * for them). Only while the daemon is under its connection limit (it would close them unstarted), so a flood
     * of connects cannot hold the shutdown either. */
    int fl = fcntl(s, F_GETFL);
    if (fl >= 0 && fcntl(s, F_SETFL, fl | O_NONBLOCK) == 0) {
        for (;;) {
            const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
            pthread_mutex_lock(&h->mu);
            int room = di != NULL && di->num_connections + h->n_adopted < h->opt.max_connections;
            pthread_mutex_unlock(&h->mu);
            struct sockaddr_storage a;
            socklen_t alen = sizeof a;
            int fd = room ? accept(s, (struct sockaddr *)&a, &alen) : -1;
            if (fd < 0)
                break;
            pthread_mutex_lock(&h->mu);
            h->adopted[h->n_adopted++] = fd;
            h->n_fresh++;
            pthread_mutex_unlock(&h->mu);
            if (MHD_add_connection(h->d, fd, (struct sockaddr *)&a, alen) != MHD_YES) { /* it closed fd */
                pthread_mutex_lock(&h->mu);
                h->n_fresh -= unadopt_locked(h, fd);
                pthread_mutex_unlock(&h->mu);
            }
        }
    }
    close(s);
}

int64_t serve_http_drain(struct serve_http *h)
{
    pthread_mutex_lock(&h->mu);
    h->draining = 1;
    int64_t deadline = server_now_ms() + SERVE_DRAIN_MS;
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000), .tv_nsec = (long)(deadline % 1000) * 1000000L};
    /* Every fall of n_open + n_fresh is broadcast (a first request moves one from n_fresh to n_open). */
    while (h->n_open + h->n_fresh > 0 && server_now_ms() < deadline)
        pthread_cond_timedwait(&h->idle_cv, &h->mu, &ts);
    int64_t left = h->n_open + h->n_fresh;
    pthread_mutex_unlock(&h->mu);
    return left;
}

void serve_http_stop(struct serve_http *h)
{
    if (h == NULL)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    pthread_cond_destroy(&h->idle_cv);
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->log_mu);
    free(h->adopted);
    free(h->api_key);
    free(h);
}

void serve_http_get_stats(struct serve_http *h, struct serve_http_stats *out)
{
    pthread_mutex_lock(&h->mu);
    *out = h->stats;
    pthread_mutex_unlock(&h->mu);
}
