/* data_http.c — libcurl GETs with retries and resumable file downloads (see data_http.h). */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tasks/data_http.h"

#define HTTP_ERROR_BODY_CAP 4096   /* bytes of a non-2xx body kept for the error message */
#define HTTP_MAX_BACKOFF_MS 60000u /* longest wait without Retry-After */

/* One transfer's sink. Exactly one of body and file is set. */
struct xfer {
    CURL *curl;              /* borrowed */
    struct strbuf *body;     /* body mode: borrowed */
    FILE *file;              /* file mode: borrowed, opened for appending */
    uint64_t start;          /* file mode: bytes in the file before this request */
    int decided;             /* the status was looked at (first write) */
    int to_error;            /* the status is not 2xx: the body goes to errbody */
    struct strbuf errbody;   /* owned; at most HTTP_ERROR_BODY_CAP bytes */
    int limit_hit;           /* body mode: the body exceeded its limit */
    int io_errno;            /* file mode: errno of a failed write, 0 if none */
    struct ge_error err;     /* the body's limit error */
};

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nmemb;
    if (!x->decided) {
        long code = 0;
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
        x->decided = 1;
        x->to_error = !(code == 200 || (x->file && code == 206));
        if (x->file && code == 200 && x->start > 0) { /* the server ignored Range: start over */
            if (fflush(x->file) != 0 || ftruncate(fileno(x->file), 0) != 0) {
                x->io_errno = errno ? errno : EIO;
                return 0;
            }
            x->start = 0;
        }
    }
    if (x->to_error) {
        size_t room = HTTP_ERROR_BODY_CAP - x->errbody.len;
        (void)strbuf_append(&x->errbody, ptr, n < room ? n : room, NULL);
        return n;
    }
    if (x->body) {
        if (strbuf_append(x->body, ptr, n, &x->err) != GE_OK) {
            x->limit_hit = 1;
            return 0;
        }
        return n;
    }
    if (fwrite(ptr, 1, n, x->file) != n) {
        x->io_errno = errno ? errno : EIO;
        return 0;
    }
    return n;
}

int http_client_init(struct http_client *hc, long timeout_s, unsigned max_retries, unsigned base_wait_ms,
                     unsigned max_wait_s, FILE *log, struct ge_error *err)
{
    memset(hc, 0, sizeof *hc);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ge_error_set(err, GE_ERR_IO, "libcurl could not be initialised");
    CURL *c = curl_easy_init();
    if (c == NULL) {
        curl_global_cleanup();
        return ge_error_set(err, GE_ERR_IO, "libcurl could not create a handle");
    }
    hc->curl = c;
    hc->timeout_s = timeout_s > 0 ? timeout_s : 60;
    hc->max_retries = max_retries;
    hc->base_wait_ms = base_wait_ms;
    hc->max_wait_s = max_wait_s;
    hc->log = log;
    return GE_OK;
}

void http_client_release(struct http_client *hc)
{
    if (hc->curl) {
        curl_easy_cleanup(hc->curl);
        curl_global_cleanup();
    }
    hc->curl = NULL;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int transient_curl_error(CURLcode res)
{
    switch (res) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* The server's explanation of a failed request: a JSON body's "error" string, else the body's start. */
static void server_message(const struct strbuf *errbody, char *out, size_t cap)
{
    out[0] = '\0';
    if (errbody->len == 0)
        return;
    cJSON *j = cJSON_ParseWithLength(strbuf_str(errbody), errbody->len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsString(e))
        snprintf(out, cap, ": %s", e->valuestring);
    else
        snprintf(out, cap, ": %.300s", strbuf_str(errbody));
    cJSON_Delete(j);
    for (char *p = out; *p; p++) /* keep the message on one line */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

/* Runs the request in body or file mode with the retry policy of data_http.h. */
static int get_with_retries(struct http_client *hc, const char *url, struct strbuf *body, const char *path,
                            uint64_t *bytes_out, struct ge_error *err)
{
    CURL *c = hc->curl;
    char errbuf[CURL_ERROR_SIZE];
    int rc = GE_OK;
    for (unsigned attempt = 0;; attempt++) {
        struct xfer x;
        memset(&x, 0, sizeof x);
        x.curl = c;
        strbuf_init(&x.errbody, HTTP_ERROR_BODY_CAP + 1);
        char range[32];
        if (body) {
            strbuf_reset(body);
            x.body = body;
        } else {
            x.file = fopen(path, "ab");
            if (x.file == NULL) {
                strbuf_release(&x.errbody);
                return ge_error_set(err, GE_ERR_IO, "%s: %s", path, strerror(errno));
            }
            fseek(x.file, 0, SEEK_END);
            long pos = ftell(x.file);
            x.start = pos > 0 ? (uint64_t)pos : 0;
        }
        curl_easy_reset(c);
        errbuf[0] = '\0';
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION " (data fetch)");
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, hc->timeout_s);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, hc->timeout_s);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
        if (body) {
            curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding libcurl can decode */
        } else if (x.start > 0) {
            snprintf(range, sizeof range, "%llu-", (unsigned long long)x.start);
            curl_easy_setopt(c, CURLOPT_RANGE, range);
        }
        CURLcode res = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_off_t retry_after = 0;
        curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after);
        if (x.file) {
            int bad = fflush(x.file) != 0 || fsync(fileno(x.file)) != 0;
            if (bad && x.io_errno == 0)
                x.io_errno = errno ? errno : EIO;
            long pos = (fseek(x.file, 0, SEEK_END) == 0) ? ftell(x.file) : -1;
            if (fclose(x.file) != 0 && x.io_errno == 0)
                x.io_errno = errno ? errno : EIO;
            if (bytes_out)
                *bytes_out = pos > 0 ? (uint64_t)pos : 0;
        }
        char smsg[400];
        server_message(&x.errbody, smsg, sizeof smsg);
        strbuf_release(&x.errbody);
        int transient = 0;
        if (x.limit_hit)
            return ge_error_set(err, GE_ERR_LIMIT, "%s: the response is too large (%s)", url, x.err.msg);
        if (x.io_errno)
            return ge_error_set(err, GE_ERR_IO, "%s: %s", path, strerror(x.io_errno));
        if (res != CURLE_OK) {
            transient = transient_curl_error(res);
            rc = ge_error_set(err, GE_ERR_IO, "%s: %s%s%s", url, curl_easy_strerror(res), errbuf[0] ? ": " : "",
                              errbuf);
        } else if (code == 200 || (!body && code == 206) || (!body && code == 416 && x.start > 0)) {
            return GE_OK;
        } else {
            /* 501 is how the dataset viewer says it cannot serve a dataset at all: not worth retrying */
            transient = code == 429 || (code >= 500 && code != 501);
            int unavailable = code == 401 || code == 403 || code == 404 || code == 410 || code == 501;
            rc = ge_error_set(err, unavailable ? GE_ERR_NOTFOUND : GE_ERR_IO, "HTTP %ld from %s%s", code, url, smsg);
        }
        if (!transient)
            return rc;
        if (attempt >= hc->max_retries)
            return ge_error_prefix(err, "gave up after %u attempts: ", attempt + 1);
        unsigned wait_ms;
        if (retry_after > 0) {
            if ((unsigned long long)retry_after > hc->max_wait_s)
                return ge_error_prefix(err, "the server asks to wait %lld s (Retry-After), more than the %u s "
                                       "allowed (--max-wait): ", (long long)retry_after, hc->max_wait_s);
            wait_ms = (unsigned)retry_after * 1000u;
        } else {
            unsigned long long w = (unsigned long long)hc->base_wait_ms << (attempt < 20 ? attempt : 20);
            wait_ms = w > HTTP_MAX_BACKOFF_MS ? HTTP_MAX_BACKOFF_MS : (unsigned)w;
        }
        if (hc->log)
            fprintf(hc->log, "glam-eval data: %s; retrying in %.1f s (retry %u of %u)\n", err->msg, wait_ms / 1000.0,
                    attempt + 1, hc->max_retries);
        sleep_ms(wait_ms);
    }
}

int http_get_body(struct http_client *hc, const char *url, struct strbuf *body, struct ge_error *err)
{
    return get_with_retries(hc, url, body, NULL, NULL, err);
}

int http_get_file(struct http_client *hc, const char *url, const char *path, uint64_t *bytes_out,
                  struct ge_error *err)
{
    return get_with_retries(hc, url, NULL, path, bytes_out, err);
}

int http_append_query_value(struct strbuf *out, const char *s, struct ge_error *err)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = GE_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p && rc == GE_OK; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '.' || *p == '_' || *p == '~') {
            rc = strbuf_append_char(out, (char)*p, err);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = strbuf_append(out, e, 3, err);
        }
    }
    return rc;
}
