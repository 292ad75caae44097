/* jsonl_field.c — finds one string field of a JSONL line without building a tree (contract in jsonl_field.h).
 *
 * The scan reads corpora of many gigabytes of JSONL; parsing each line into a cJSON tree would copy every document
 * to find one field. This walks the line once: keys are compared as they stand (decoded only when they hold an
 * escape), other values are skipped by their brackets and quotes, and the text value is returned as byte offsets
 * so the tokenizer reads it in place (decoding its escapes itself, as the inside of a JSON string). */
#include "config.h"

#include <string.h>

#include "contamination/jsonl_field.h"
#include "contamination/normalize.h"
#include "harness/utf8.h"

static void jws(const uint8_t *s, size_t n, size_t *p)
{
    while (*p < n && (s[*p] == ' ' || s[*p] == '\t' || s[*p] == '\r' || s[*p] == '\n'))
        (*p)++;
}

/* s[*p] == '"': moves *p past the closing quote; -1 when the string is not closed. */
static int jstring(const uint8_t *s, size_t n, size_t *p)
{
    size_t q = *p + 1;
    for (;;) {
        const uint8_t *hit = memchr(s + q, '"', n - q);
        if (!hit)
            return -1;
        size_t k = (size_t)(hit - s), bs = 0;
        while (k - bs > q && s[k - bs - 1] == '\\')
            bs++;
        if (bs % 2 == 0) {
            *p = k + 1;
            return 0;
        }
        q = k + 1;
    }
}

/* Skips one JSON value at *p; -1 when malformed. */
static int jvalue(const uint8_t *s, size_t n, size_t *p)
{
    if (*p >= n)
        return -1;
    if (s[*p] == '"')
        return jstring(s, n, p);
    if (s[*p] == '{' || s[*p] == '[') {
        int depth = 0;
        while (*p < n) {
            uint8_t c = s[*p];
            if (c == '"') {
                if (jstring(s, n, p) != 0)
                    return -1;
                continue;
            }
            if (c == '{' || c == '[') {
                if (++depth > 512)
                    return -1;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    (*p)++;
                    return 0;
                }
            }
            (*p)++;
        }
        return -1;
    }
    size_t start = *p;
    while (*p < n && (strchr("+-.0123456789eEtrufalsn", s[*p]) != NULL) && s[*p] != '\0')
        (*p)++;
    return *p > start ? 0 : -1;
}

/* Decodes the JSON string s[a..b) (inside the quotes) into out (cap bytes); -1 when it does not fit or is bad. */
static int jdecode_key(const uint8_t *s, size_t a, size_t b, char *out, size_t cap, size_t *len)
{
    size_t o = 0;
    for (size_t p = a; p < b;) {
        uint32_t cp;
        if (s[p] == '\\') {
            if (cn_json_escape(s, b, &p, &cp) != 0)
                return -1;
        } else {
            cp = utf8_next((const char *)s, b, &p);
        }
        if (o + 4 > cap)
            return -1;
        o += utf8_put(cp, out + o);
    }
    *len = o;
    return 0;
}

int cn_jsonl_field(const uint8_t *s, size_t n, const char *field, size_t *vs, size_t *ve)
{
    size_t p = 0, flen = strlen(field);
    int found = 1;
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        p = 3; /* a UTF-8 byte order mark (at the start of a file) */
    jws(s, n, &p);
    if (p >= n || s[p] != '{')
        goto bad;
    p++;
    jws(s, n, &p);
    if (p < n && s[p] == '}')
        return 1;
    for (;;) {
        jws(s, n, &p);
        if (p >= n || s[p] != '"')
            goto bad;
        size_t ks = p + 1;
        if (jstring(s, n, &p) != 0)
            goto bad;
        size_t ke = p - 1;
        char key[256];
        size_t klen = 0;
        int match = 0;
        if (memchr(s + ks, '\\', ke - ks) == NULL)
            match = ke - ks == flen && memcmp(s + ks, field, flen) == 0;
        else if (jdecode_key(s, ks, ke, key, sizeof key, &klen) == 0)
            match = klen == flen && memcmp(key, field, flen) == 0;
        jws(s, n, &p);
        if (p >= n || s[p] != ':')
            goto bad;
        p++;
        jws(s, n, &p);
        size_t v0 = p;
        if (jvalue(s, n, &p) != 0)
            goto bad;
        if (match && found == 1) {
            if (s[v0] != '"') {
                found = 2;
            } else {
                *vs = v0 + 1;
                *ve = p - 1;
                found = 0;
            }
        }
        jws(s, n, &p);
        if (p < n && s[p] == ',') {
            p++;
            continue;
        }
        if (p < n && s[p] == '}')
            break;
        goto bad;
    }
    p++;
    jws(s, n, &p);
    if (p != n)
        goto bad;
    return found;
bad:
    *ve = p;
    return -1;
}

int cn_jsonl_blank(const uint8_t *s, size_t n)
{
    size_t p = 0;
    jws(s, n, &p);
    return p == n;
}
