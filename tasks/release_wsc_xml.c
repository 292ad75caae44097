/* release_wsc_xml.c — Ernest Davis's WSCollection.xml (https://cs.nyu.edu/faculty/davise/papers/WinogradSchemas/
 * WSCollection.xml), the official Winograd Schema Challenge file, read into rows of lighteval/winograd_wsc.
 *
 * The file's shape (285 schemas; the first 273 are WSC273):
 *   <?xml version="1.0" encoding="ISO-8859-1"?> <collection> <schema>
 *     <text><txt1>...</txt1><pron>...</pron><txt2>...</txt2></text>
 *     <quote><quote1>...</quote1><pron>...</pron><quote2>...</quote2></quote>
 *     <answers><answer>...</answer><answer>...</answer></answers>
 *     <correctAnswer> A </correctAnswer> <source>...</source>
 *   </schema> ... </collection>
 * This is a small, bounds-checked reader for exactly what that file uses, not a general XML parser: elements
 * (attributes are skipped), character data with the five predefined entities and numeric character references,
 * CDATA, comments, processing instructions and a DOCTYPE without an internal subset. Anything else (an unknown
 * entity, a mismatched end tag, text outside the root) is an error naming file and line. The declared encoding
 * must be ISO-8859-1 (converted to UTF-8) or UTF-8 (the default; must be valid; a byte-order mark is skipped).
 *
 * Conversion, as the Hugging Face loading script winograd_wsc.py (ElementTree) does it, for every child element
 * of the root in order (ordinal = position + 1; only the first first_n are read): clean(s) = " ".join(s.split())
 * with Python's whitespace; an element's text is its character data before its first child (ElementTree .text);
 *   text        " ".join([clean(txt1), clean(text/pron), clean(txt2)]).strip()
 *   quote       " ".join([clean(quote1), clean(text/pron), clean(quote2)]).strip()   (the pronoun of <text>)
 *   pronoun     clean(text/pron); options: clean(answer) for each <answer>
 *   label       1 when "B" occurs in clean(correctAnswer), else 0
 *   pronoun_loc len(clean(txt1)) + 1 when txt1 is not empty, else 0 (code points)
 *   quote_loc   pronoun_loc - (len(clean(quote1)) + 1 when quote1 is not empty, else 0)
 *   source      clean(source)
 * A missing txt1, txt2, quote1 or quote2 counts as "", as findtext(name, "") gives; a missing <text>, <quote>,
 * <pron>, <answers>, <correctAnswer>, <source> or answer text makes the schema malformed (the script would stop). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/strbuf.h"
#include "harness/utf8.h"
#include "harness/xalloc.h"
#include "tasks/release_formats.h"

#define XML_MAX_DEPTH 32
#define XML_MAX_NODES 1000000
#define XML_NAME_CAP 64

/* One element. Invariant: children are in document order; text is NUL-terminated UTF-8. */
struct xml_node {
    char name[XML_NAME_CAP];
    char *text;                 /* character data before the first child (ElementTree's .text); owned */
    size_t line;                /* line of the start tag, 1-based */
    struct xml_node *children;  /* (n_children) owned */
    size_t n_children, cap_children;
};

static void xml_node_release(struct xml_node *n)
{
    for (size_t i = 0; i < n->n_children; i++)
        xml_node_release(&n->children[i]);
    free(n->children);
    free(n->text);
}

/* Parser state over the UTF-8 text s[0..len). */
struct xml_parser {
    const char *path;
    const char *s;
    size_t len, pos, line;
    size_t n_nodes;
    struct ge_error *err;
};

static int xml_fail(struct xml_parser *p, const char *what)
{
    return ge_error_set(p->err, GE_ERR_FORMAT, "%s: line %zu: %s", p->path, p->line, what);
}

/* Advances to just after the first occurrence of end (counting lines); fails with what when it never comes. */
static int xml_skip_past(struct xml_parser *p, const char *end, const char *what)
{
    size_t end_len = strlen(end);
    while (p->pos + end_len <= p->len) {
        if (memcmp(p->s + p->pos, end, end_len) == 0) {
            p->pos += end_len;
            return GE_OK;
        }
        if (p->s[p->pos] == '\n')
            p->line++;
        p->pos++;
    }
    return xml_fail(p, what);
}

/* Appends the entity or character reference at s[pos] == '&' to out. */
static int xml_entity(struct xml_parser *p, struct strbuf *out)
{
    static const struct { const char *name; char c; } named[] = {
        {"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    const char *s = p->s + p->pos + 1;
    size_t left = p->len - p->pos - 1;
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t n = strlen(named[i].name);
        if (left >= n && memcmp(s, named[i].name, n) == 0) {
            p->pos += 1 + n;
            return strbuf_append_char(out, named[i].c, p->err);
        }
    }
    if (left >= 3 && s[0] == '#') {
        int hex = s[1] == 'x';
        size_t k = hex ? 2 : 1;
        uint32_t cp = 0;
        size_t digits = 0;
        for (; k < left && digits < 8; k++, digits++) {
            char c = s[k];
            int v = c >= '0' && c <= '9' ? c - '0' : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (v < 0)
                break;
            cp = cp * (hex ? 16 : 10) + (uint32_t)v;
        }
        if (digits > 0 && k < left && s[k] == ';' && cp > 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
            char buf[4];
            p->pos += 1 + k + 1;
            return strbuf_append(out, buf, utf8_put(cp, buf), p->err);
        }
        return xml_fail(p, "malformed numeric character reference");
    }
    return xml_fail(p, "unknown entity (only &amp; &lt; &gt; &quot; &apos; and &#...; are supported)");
}

/* Reads a name at pos into buf. */
static int xml_name(struct xml_parser *p, char buf[XML_NAME_CAP])
{
    size_t n = 0;
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/')
            break;
        if (n + 1 == XML_NAME_CAP)
            return xml_fail(p, "element name too long");
        buf[n++] = c;
        p->pos++;
    }
    buf[n] = '\0';
    return n == 0 ? xml_fail(p, "missing element name") : GE_OK;
}

/* Parses the content of node (its start tag already read) up to and including its end tag. */
static int xml_content(struct xml_parser *p, struct xml_node *node, int depth)
{
    struct strbuf text, tail; /* tail: character data after a child, checked but not kept (ElementTree's .tail) */
    strbuf_init(&text, 0);
    strbuf_init(&tail, 0);
    int rc = GE_OK;
    for (;;) {
        if (p->pos >= p->len) {
            rc = ge_error_set(p->err, GE_ERR_FORMAT, "%s: line %zu: element <%s> is not closed", p->path, node->line,
                              node->name);
            break;
        }
        char c = p->s[p->pos];
        if (c != '<') {
            if (c == '&') {
                strbuf_reset(&tail);
                if ((rc = xml_entity(p, node->n_children == 0 ? &text : &tail)) < 0)
                    break;
                continue;
            }
            if (c == '\n')
                p->line++;
            if (node->n_children == 0 && (rc = strbuf_append_char(&text, c, p->err)) < 0)
                break;
            p->pos++;
            continue;
        }
        const char *t = p->s + p->pos;
        size_t left = p->len - p->pos;
        if (left >= 4 && memcmp(t, "<!--", 4) == 0) {
            if ((rc = xml_skip_past(p, "-->", "comment is not closed")) < 0)
                break;
        } else if (left >= 9 && memcmp(t, "<![CDATA[", 9) == 0) {
            size_t start = p->pos + 9;
            p->pos = start;
            if ((rc = xml_skip_past(p, "]]>", "CDATA section is not closed")) < 0)
                break;
            if (node->n_children == 0 && (rc = strbuf_append(&text, p->s + start, p->pos - 3 - start, p->err)) < 0)
                break;
        } else if (left >= 2 && t[1] == '?') {
            if ((rc = xml_skip_past(p, "?>", "processing instruction is not closed")) < 0)
                break;
        } else if (left >= 2 && t[1] == '/') {
            char name[XML_NAME_CAP];
            p->pos += 2;
            if ((rc = xml_name(p, name)) < 0)
                break;
            while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\r' ||
                                       p->s[p->pos] == '\n'))
                p->line += p->s[p->pos++] == '\n';
            if (strcmp(name, node->name) != 0 || p->pos >= p->len || p->s[p->pos] != '>') {
                char msg[3 * XML_NAME_CAP];
                snprintf(msg, sizeof msg, "end tag </%s> does not close <%s> (opened on line %zu)", name, node->name,
                         node->line);
                rc = xml_fail(p, msg);
                break;
            }
            p->pos++;
            break; /* done */
        } else {
            if (depth + 1 >= XML_MAX_DEPTH || p->n_nodes >= XML_MAX_NODES) {
                rc = xml_fail(p, "elements nested too deeply or too many");
                break;
            }
            if (node->n_children == node->cap_children) {
                node->cap_children = node->cap_children ? node->cap_children * 2 : 8;
                node->children = xrealloc(node->children, node->cap_children * sizeof *node->children);
            }
            struct xml_node *child = &node->children[node->n_children++];
            memset(child, 0, sizeof *child);
            p->n_nodes++;
            child->line = p->line;
            p->pos++;
            if ((rc = xml_name(p, child->name)) < 0)
                break;
            /* Skip attributes up to '>' or "/>", honouring quotes. */
            char quote = 0;
            while (p->pos < p->len && (quote || (p->s[p->pos] != '>' && p->s[p->pos] != '/'))) {
                char ch = p->s[p->pos++];
                p->line += ch == '\n';
                if (quote && ch == quote)
                    quote = 0;
                else if (!quote && (ch == '"' || ch == '\''))
                    quote = ch;
            }
            if (p->pos < p->len && p->s[p->pos] == '/') {
                if (p->pos + 1 >= p->len || p->s[p->pos + 1] != '>') {
                    rc = xml_fail(p, "malformed start tag");
                    break;
                }
                p->pos += 2;
                child->text = xstrdup("");
                continue;
            }
            if (p->pos >= p->len) {
                rc = xml_fail(p, "start tag is not closed");
                break;
            }
            p->pos++;
            if ((rc = xml_content(p, child, depth + 1)) < 0)
                break;
        }
    }
    node->text = strbuf_detach(&text, NULL);
    strbuf_release(&tail);
    return rc;
}

/* Parses the document: prolog (declaration, comments, DOCTYPE), one root element, trailing misc. */
static int xml_parse(struct xml_parser *p, struct xml_node *root)
{
    int rc = GE_OK;
    int have_root = 0;
    memset(root, 0, sizeof *root);
    while (rc == GE_OK && p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            p->line += c == '\n';
            p->pos++;
            continue;
        }
        const char *t = p->s + p->pos;
        size_t left = p->len - p->pos;
        if (c != '<')
            return xml_fail(p, "text outside the root element");
        if (left >= 4 && memcmp(t, "<!--", 4) == 0) {
            rc = xml_skip_past(p, "-->", "comment is not closed");
        } else if (left >= 2 && t[1] == '?') {
            rc = xml_skip_past(p, "?>", "processing instruction is not closed");
        } else if (left >= 9 && memcmp(t, "<!DOCTYPE", 9) == 0) {
            size_t q = p->pos;
            while (q < p->len && p->s[q] != '>' && p->s[q] != '[')
                q++;
            if (q < p->len && p->s[q] == '[')
                return xml_fail(p, "a DOCTYPE with an internal subset is not supported");
            rc = xml_skip_past(p, ">", "DOCTYPE is not closed");
        } else if (have_root) {
            return xml_fail(p, "a second root element");
        } else {
            have_root = 1;
            root->line = p->line;
            p->pos++;
            p->n_nodes = 1;
            if ((rc = xml_name(p, root->name)) < 0)
                break;
            while (p->pos < p->len && p->s[p->pos] != '>')
                p->line += p->s[p->pos++] == '\n';
            if (p->pos >= p->len || p->s[p->pos - 1] == '/')
                return xml_fail(p, "the root element is empty or not closed");
            p->pos++;
            rc = xml_content(p, root, 0);
        }
    }
    if (rc == GE_OK && !have_root)
        rc = xml_fail(p, "no root element");
    return rc;
}

/* The first child named name, or NULL. */
static const struct xml_node *xml_find(const struct xml_node *n, const char *name)
{
    for (size_t i = 0; n != NULL && i < n->n_children; i++)
        if (strcmp(n->children[i].name, name) == 0)
            return &n->children[i];
    return NULL;
}

/* " ".join(s.split()) with Python's whitespace, as a new string. */
static char *py_clean(const char *s)
{
    size_t len = strlen(s), pos = 0;
    struct strbuf sb;
    strbuf_init(&sb, 0);
    int pending_space = 0;
    while (pos < len) {
        size_t start = pos;
        uint32_t cp = utf8_next(s, len, &pos);
        if (unicode_is_space(cp)) {
            pending_space = sb.len > 0;
            continue;
        }
        if (pending_space)
            strbuf_append_char(&sb, ' ', NULL);
        pending_space = 0;
        strbuf_append(&sb, s + start, pos - start, NULL);
    }
    return strbuf_detach(&sb, NULL);
}

/* clean(findtext(name, dflt)) under n: the child's text, dflt when there is no such child (NULL = required). */
static char *clean_child(const struct xml_node *n, const char *name, int required)
{
    const struct xml_node *c = xml_find(n, name);
    if (c == NULL)
        return required ? NULL : xstrdup("");
    return py_clean(c->text);
}

/* " ".join([a, b, c]).strip() for clean parts a, b, c: only an empty first or last part leaves whitespace (a
 * single space) at an end, so stripping spaces is Python's strip() here. */
static char *join3_strip(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = xmalloc(la + lb + lc + 3);
    memcpy(s, a, la);
    s[la] = ' ';
    memcpy(s + la + 1, b, lb);
    s[la + 1 + lb] = ' ';
    memcpy(s + la + lb + 2, c, lc + 1);
    size_t start = 0, end = la + lb + lc + 2;
    while (start < end && s[start] == ' ')
        start++;
    while (end > start && s[end - 1] == ' ')
        end--;
    char *out = xstrndup(s + start, end - start);
    free(s);
    return out;
}

static int wsc_schema(const struct xml_node *schema, cJSON **out, char *msg, size_t msg_cap)
{
    const struct xml_node *text = xml_find(schema, "text"), *quote = xml_find(schema, "quote");
    const struct xml_node *answers = xml_find(schema, "answers");
    char *t1 = NULL, *t2 = NULL, *q1 = NULL, *q2 = NULL, *pron = NULL, *correct = NULL, *source = NULL;
    int rc = GE_ERR_FORMAT;
    if (text == NULL || quote == NULL || answers == NULL) {
        snprintf(msg, msg_cap, "<%s> has no <%s>", schema->name, text == NULL ? "text" : quote == NULL ? "quote"
                 : "answers");
        goto out;
    }
    t1 = clean_child(text, "txt1", 0);
    t2 = clean_child(text, "txt2", 0);
    q1 = clean_child(quote, "quote1", 0);
    q2 = clean_child(quote, "quote2", 0);
    pron = clean_child(text, "pron", 1);
    correct = clean_child(schema, "correctAnswer", 1);
    source = clean_child(schema, "source", 1);
    if (pron == NULL || correct == NULL || source == NULL) {
        snprintf(msg, msg_cap, "<%s> has no <%s>", pron == NULL ? "text" : schema->name,
                 pron == NULL ? "pron" : correct == NULL ? "correctAnswer" : "source");
        goto out;
    }
    cJSON *r = cJSON_CreateObject();
    char *s = join3_strip(t1, pron, t2);
    cJSON_AddStringToObject(r, "text", s);
    free(s);
    cJSON_AddStringToObject(r, "pronoun", pron);
    size_t t1_len = utf8_count_chars(t1, strlen(t1)), q1_len = utf8_count_chars(q1, strlen(q1));
    double loc = t1_len > 0 ? (double)t1_len + 1 : 0;
    cJSON_AddNumberToObject(r, "pronoun_loc", loc);
    s = join3_strip(q1, pron, q2);
    cJSON_AddStringToObject(r, "quote", s);
    free(s);
    cJSON_AddNumberToObject(r, "quote_loc", loc - (q1_len > 0 ? (double)q1_len + 1 : 0));
    cJSON *options = cJSON_AddArrayToObject(r, "options");
    for (size_t i = 0; i < answers->n_children; i++) {
        if (strcmp(answers->children[i].name, "answer") != 0)
            continue;
        char *o = py_clean(answers->children[i].text);
        cJSON_AddItemToArray(options, cJSON_CreateString(o));
        free(o);
    }
    cJSON_AddNumberToObject(r, "label", strchr(correct, 'B') != NULL);
    cJSON_AddStringToObject(r, "source", source);
    *out = r;
    rc = GE_OK;
out:
    free(t1);
    free(t2);
    free(q1);
    free(q2);
    free(pron);
    free(correct);
    free(source);
    return rc;
}

/* ISO-8859-1 bytes -> UTF-8 (every byte is its code point). */
static char *latin1_to_utf8(const char *s, size_t len, size_t *out_len)
{
    char *out = xmalloc(2 * len + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            *o++ = (char)c;
        } else {
            *o++ = (char)(0xC0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3F));
        }
    }
    *o = '\0';
    *out_len = (size_t)(o - out);
    return out;
}

/* The encoding named in the XML declaration, or "" when there is none. */
static void xml_encoding(const char *data, size_t len, char enc[32])
{
    enc[0] = '\0';
    if (len < 5 || memcmp(data, "<?xml", 5) != 0)
        return;
    const char *end = memchr(data, '>', len), *e = data;
    if (end == NULL)
        return;
    while (e + 8 <= end && memcmp(e, "encoding", 8) != 0)
        e++;
    if (e + 8 > end)
        return;
    e += 8;
    while (e < end && (*e == ' ' || *e == '='))
        e++;
    if (e >= end || (*e != '"' && *e != '\''))
        return;
    char q = *e++;
    size_t n = 0;
    while (e < end && *e != q && n + 1 < 32)
        enc[n++] = *e++;
    enc[n] = '\0';
}

int release_read_wsc_xml(const char *path, const char *data, size_t len, size_t first_n,
                         const struct release_sink *sink, struct ge_error *err)
{
    char enc[32];
    char *utf8 = NULL;
    struct xml_node root;
    memset(&root, 0, sizeof root);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 byte-order mark */
        data += 3;
        len -= 3;
    }
    xml_encoding(data, len, enc);
    if (strcasecmp(enc, "ISO-8859-1") == 0 || strcasecmp(enc, "latin1") == 0 || strcasecmp(enc, "latin-1") == 0) {
        utf8 = latin1_to_utf8(data, len, &len);
        data = utf8;
    } else if (enc[0] != '\0' && strcasecmp(enc, "UTF-8") != 0) {
        return ge_error_set(err, GE_ERR_FORMAT, "%s: line 1: encoding \"%s\" is not supported (ISO-8859-1 or UTF-8)",
                            path, enc);
    } else if (!utf8_is_valid(data, len)) {
        return ge_error_set(err, GE_ERR_FORMAT, "%s: not valid UTF-8 (and no ISO-8859-1 declaration)", path);
    }
    struct xml_parser p = {.path = path, .s = data, .len = len, .pos = 0, .line = 1, .err = err};
    int rc = xml_parse(&p, &root);
    for (size_t i = 0; rc == GE_OK && i < root.n_children && (first_n == 0 || i < first_n); i++) {
        const struct xml_node *schema = &root.children[i];
        char where[RELEASE_WHERE_CAP], msg[256];
        snprintf(where, sizeof where, "line %zu (schema %zu)", schema->line, i + 1);
        cJSON *row = NULL;
        if (wsc_schema(schema, &row, msg, sizeof msg) < 0)
            rc = sink->malformed(sink->ctx, path, where, msg, err);
        else
            rc = sink->record(sink->ctx, row, i + 1, path, where, err);
        cJSON_Delete(row);
    }
    xml_node_release(&root);
    free(utf8);
    return rc;
}
