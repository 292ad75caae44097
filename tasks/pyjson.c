/* pyjson.c — Python json.dumps text style for cJSON values (see pyjson.h). Recursion depth is bounded by cJSON's
 * own parse nesting limit (CJSON_NESTING_LIMIT), since every value written here was parsed by cJSON. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scoring/pyfloat.h"
#include "tasks/pyjson.h"

static int append_string(struct strbuf *out, const char *s, struct ge_error *err)
{
    int rc = strbuf_append_char(out, '"', err);
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* bytes of p[-run..0) copied verbatim when the next escape (or the end) comes */
    for (; rc == GE_OK && *p; p++) {
        char esc[8];
        const char *e = NULL;
        size_t skip = 1;
        switch (*p) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                e = esc;
            } else if (p[0] == 0xC2 && p[1] == 0x85) { /* U+0085 NEXT LINE */
                e = "\\u0085";
                skip = 2;
            } else if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) { /* U+2028, U+2029 */
                e = p[2] == 0xA8 ? "\\u2028" : "\\u2029";
                skip = 3;
            }
        }
        if (e == NULL) {
            run++;
            continue;
        }
        rc = strbuf_append(out, (const char *)p - run, run, err);
        if (rc == GE_OK)
            rc = strbuf_append_str(out, e, err);
        run = 0;
        p += skip - 1;
    }
    if (rc == GE_OK)
        rc = strbuf_append(out, (const char *)p - run, run, err);
    if (rc == GE_OK)
        rc = strbuf_append_char(out, '"', err);
    return rc;
}

static int append_number(struct strbuf *out, double x, struct ge_error *err)
{
    if (!isfinite(x))
        return ge_error_set(err, GE_ERR_FORMAT, "a number is not finite");
    if (x == floor(x)) {
        if (fabs(x) >= 9007199254740992.0) /* 2^53 */
            return ge_error_set(err, GE_ERR_FORMAT, "the integer %.17g is too large to be copied exactly", x);
        return strbuf_appendf(out, err, "%.0f", x == 0 ? 0.0 : x); /* never "-0" */
    }
    char buf[PYFLOAT_REPR_CAP];
    return strbuf_append_str(out, pyfloat_repr(x, buf), err);
}

int pyjson_append(struct strbuf *out, const cJSON *item, struct ge_error *err)
{
    int rc = GE_OK;
    if (cJSON_IsNull(item))
        return strbuf_append_str(out, "null", err);
    if (cJSON_IsTrue(item))
        return strbuf_append_str(out, "true", err);
    if (cJSON_IsFalse(item))
        return strbuf_append_str(out, "false", err);
    if (cJSON_IsNumber(item))
        return append_number(out, item->valuedouble, err);
    if (cJSON_IsString(item))
        return append_string(out, item->valuestring, err);
    if (cJSON_IsArray(item) || cJSON_IsObject(item)) {
        int is_obj = cJSON_IsObject(item);
        rc = strbuf_append_char(out, is_obj ? '{' : '[', err);
        for (const cJSON *c = item->child; c && rc == GE_OK; c = c->next) {
            if (c != item->child)
                rc = strbuf_append_str(out, ", ", err);
            if (rc == GE_OK && is_obj) {
                rc = append_string(out, c->string ? c->string : "", err);
                if (rc == GE_OK)
                    rc = strbuf_append_str(out, ": ", err);
            }
            if (rc == GE_OK)
                rc = pyjson_append(out, c, err);
        }
        if (rc == GE_OK)
            rc = strbuf_append_char(out, is_obj ? '}' : ']', err);
        return rc;
    }
    return ge_error_set(err, GE_ERR_FORMAT, "a JSON value of unknown type");
}
