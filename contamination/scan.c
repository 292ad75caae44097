/* scan.c — the corpus scan: the per-byte tokenizer, n-gram lookup and verification, JSONL documents and the loop
 * over this shard's files (contract in scan.h; the corpus list and part files are in corpus.c).
 *
 * Hot path: plain ASCII bytes go through one table (normalize.h) into the current word's slot of a ring of the
 * last CN_RING words; at each word end its hash extends a ring of prefix hashes, from which the hash of the window
 * of every indexed length ending there follows in O(1). Lengths with few entries are looked up only when the
 * gate bit of the last word is set. A key match is compared word by word with the entry's text; the first
 * verified hit of an entry gives the witness of each of its examples that has none yet, and the entry is then
 * done (a later hit cannot be earlier in corpus order).
 *
 * Invariants of struct scanner: words [n_words - CN_RING + 1, n_words) of the current document are in the ring;
 * poison is 1 + the position of the last overlong word of the document (0 = none), so a window starting at
 * position p is valid iff poison <= p. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contamination/scan.h"
#include "contamination/source.h"
#include "harness/strbuf.h"
#include "harness/utf8.h"
#include "harness/xalloc.h"

#define CN_RING 64                 /* words kept; > CN_MAX_N + CN_PENDING so a deferred window is still there */
#define CN_PENDING 16              /* lookups in flight: a key's filter word is prefetched when the key is made
                                      and tested CN_DEFER keys later, so cache misses overlap */
#define CN_DEFER 8
#define CN_READ_CAP ((size_t)1 << 20)

struct scanner {
    const struct cn_index *ix;
    struct cn_scan_result *res;
    uint64_t pow[CN_MAX_N + 1];
    unsigned lens[CN_MAX_N];       /* ungated lengths present in the index */
    unsigned n_lens;
    uint8_t *done;                 /* (n_entries) 1 once an entry has been hit */
    /* ring of the current document's last words */
    uint64_t prefix[CN_RING];
    uint64_t woff[CN_RING];        /* file offset of each word's first byte */
    uint32_t wlen[CN_RING];
    char wtext[CN_RING][CN_WORD_MAX];
    uint64_t n_words;              /* words so far in the document */
    uint64_t poison;
    int in_word;
    uint32_t cur_len;              /* bytes of the current word (may exceed CN_WORD_MAX) */
    uint64_t hacc, htail;          /* the current word's hash state (cn_hash_chunk over its complete chunks) and
                                      its partial last chunk */
    /* position */
    uint32_t file;
    uint64_t doc;
    /* plain text, blank-line documents */
    int blank_docs, line_has_text, doc_has_text;
    /* bad input in the current document */
    uint64_t n_invalid;            /* invalid sequences in the current JSONL document / plain file */
    uint64_t first_invalid;        /* file offset of the first */
    uint64_t file_words;           /* words in the current file */
    /* deferred lookups, FIFO: keys [pend_head, pend_tail) */
    struct {
        uint64_t key;
        uint64_t last;             /* position of the window's last word */
        unsigned len;
    } pend[CN_PENDING];
    unsigned pend_head, pend_tail;
};

static void scanner_init(struct scanner *sc, const struct cn_index *ix, struct cn_scan_result *res)
{
    memset(sc, 0, offsetof(struct scanner, prefix));
    sc->pend_head = sc->pend_tail = 0;
    sc->ix = ix;
    sc->res = res;
    for (unsigned L = 0; L <= CN_MAX_N; L++)
        sc->pow[L] = cn_base_pow(L);
    for (unsigned L = 1; L <= CN_MAX_N; L++) {
        if (!(ix->len_mask & ((uint64_t)1 << L)))
            continue;
        if (!(ix->gate_len_mask & ((uint64_t)1 << L)))
            sc->lens[sc->n_lens++] = L;
    }
    sc->done = xcalloc(ix->n_entries ? ix->n_entries : 1, 1);
    sc->n_words = 0;
    sc->poison = 0;
    sc->in_word = 0;
    sc->cur_len = 0;
}

static void scanner_release(struct scanner *sc)
{
    free(sc->done);
}

/* Compares the window of L words ending at word `last` with entry e's text. */
static int window_equals(const struct scanner *sc, uint64_t last, unsigned L, const struct cn_entry *e)
{
    const char *t = sc->ix->text + e->text_off;
    size_t tl = e->text_len, pos = 0;
    for (uint64_t i = last + 1 - L; i <= last; i++) {
        unsigned slot = (unsigned)(i & (CN_RING - 1));
        size_t wl = sc->wlen[slot];
        if (pos + wl > tl || memcmp(t + pos, sc->wtext[slot], wl) != 0)
            return 0;
        pos += wl;
        if (i < last) {
            if (pos >= tl || t[pos] != ' ')
                return 0;
            pos++;
        }
    }
    return pos == tl;
}

static void record_hit(struct scanner *sc, uint32_t e, uint64_t first_word)
{
    const struct cn_entry *en = &sc->ix->entries[e];
    sc->done[e] = 1;
    sc->res->verified++;
    uint64_t off = sc->woff[first_word & (CN_RING - 1)];
    for (uint32_t k = 0; k < en->n_post; k++) {
        struct cn_witness *w = &sc->res->witness[sc->ix->postings[en->post_off + k]];
        if (w->file == CN_NO_FILE)
            *w = (struct cn_witness){.file = sc->file, .doc = sc->doc, .offset = off, .entry = e};
    }
}

/* Tests one deferred key: filter bit, then the table, then the words. */
static void check_key(struct scanner *sc, uint64_t key, uint64_t i, unsigned L)
{
    const struct cn_index *ix = sc->ix;
    uint64_t b = key & ix->filter_mask;
    sc->res->lookups++;
    if (!(ix->filter[b >> 6] & ((uint64_t)1 << (b & 63))))
        return;
    sc->res->filtered++;
    int64_t s = cn_index_find(ix, key);
    while (s >= 0) {
        uint32_t e = ix->table_val[s];
        sc->res->hits++;
        if (!sc->done[e] && ix->entries[e].len == L && window_equals(sc, i, L, &ix->entries[e]))
            record_hit(sc, e, i + 1 - L);
        s = cn_index_next(ix, s, key);
    }
}

/* Runs every deferred lookup (before the ring or the document number changes). */
static void drain(struct scanner *sc)
{
    while (sc->pend_head != sc->pend_tail) {
        unsigned k = sc->pend_head++ & (CN_PENDING - 1);
        check_key(sc, sc->pend[k].key, sc->pend[k].last, sc->pend[k].len);
    }
}

/* Queues the window of L words ending at word i (prefix hash ph), prefetching its filter word. */
static inline void check_window(struct scanner *sc, uint64_t i, unsigned L, uint64_t ph)
{
    uint64_t before = i + 1 > L ? sc->prefix[(i - L) & (CN_RING - 1)] : 0;
    uint64_t key = cn_key(ph - before * sc->pow[L], L);
    __builtin_prefetch(&sc->ix->filter[(key & sc->ix->filter_mask) >> 6]);
    if (sc->pend_tail - sc->pend_head >= CN_DEFER) {
        unsigned k = sc->pend_head++ & (CN_PENDING - 1);
        check_key(sc, sc->pend[k].key, sc->pend[k].last, sc->pend[k].len);
    }
    unsigned t = sc->pend_tail++ & (CN_PENDING - 1);
    sc->pend[t].key = key;
    sc->pend[t].last = i;
    sc->pend[t].len = L;
}

/* Ends the current word (if any) and looks up every window that ends with it. */
static void word_end(struct scanner *sc)
{
    if (!sc->in_word)
        return;
    sc->in_word = 0;
    uint64_t i = sc->n_words++;
    unsigned slot = (unsigned)(i & (CN_RING - 1));
    uint32_t len = sc->cur_len;
    uint64_t h = 0;
    if (len > CN_WORD_MAX) {
        sc->poison = i + 1;
        len = CN_WORD_MAX;
    } else {
        h = cn_hash_final(sc->hacc, sc->htail, len);
    }
    sc->wlen[slot] = len;
    uint64_t ph = (i ? sc->prefix[(i - 1) & (CN_RING - 1)] : 0) * CN_HASH_BASE + h;
    sc->prefix[slot] = ph;
    sc->res->words++;
    sc->file_words++;
    if (sc->poison == i + 1)
        return; /* every window ending here holds the overlong word */
    for (unsigned k = 0; k < sc->n_lens; k++) {
        unsigned L = sc->lens[k];
        if (i + 1 >= L && sc->poison <= i + 1 - L)
            check_window(sc, i, L, ph);
    }
    uint32_t gm = sc->ix->gate[cn_gate_bucket(sc->ix, h)];
    while (gm) { /* the gated lengths some entry ending in this word's bucket has */
        unsigned L = (unsigned)__builtin_ctz(gm) + 1;
        gm &= gm - 1;
        if (i + 1 >= L && sc->poison <= i + 1 - L)
            check_window(sc, i, L, ph);
    }
}

static void doc_begin(struct scanner *sc)
{
    drain(sc);
    sc->n_words = 0;
    sc->poison = 0;
    sc->in_word = 0;
}

static inline void put_kept(struct scanner *sc, const char *b, size_t n, uint64_t off)
{
    char *dst = sc->wtext[sc->n_words & (CN_RING - 1)];
    if (!sc->in_word) {
        sc->in_word = 1;
        sc->cur_len = 0;
        sc->hacc = CN_HASH_SEED;
        sc->htail = 0;
        sc->woff[sc->n_words & (CN_RING - 1)] = off;
    }
    for (size_t k = 0; k < n; k++, sc->cur_len++) {
        uint32_t len = sc->cur_len;
        if (len < CN_WORD_MAX)
            dst[len] = b[k];
        sc->htail |= (uint64_t)(uint8_t)b[k] << (8 * (len & 7));
        if ((len & 7) == 7) {
            sc->hacc = cn_hash_chunk(sc->hacc, sc->htail);
            sc->htail = 0;
        }
    }
}

/* Tokenizes s[0..n) (file offsets base..) as plain text or, json = 1, as the inside of a JSON string. Returns the
 * bytes consumed: all of them unless a UTF-8 sequence is cut by the end and final == 0. A malformed JSON escape
 * counts as invalid input and its backslash is ignored. */
static size_t scan_bytes(struct scanner *sc, const uint8_t *s, size_t n, uint64_t base, int json, int final)
{
    const uint8_t *cls = json ? cn_json_class : cn_ascii_class;
    size_t p = 0;
    while (p < n) {
        uint8_t c = cls[s[p]];
        if ((uint8_t)(c - 1) < 0x7F) { /* kept ASCII: the word loop */
            if (!sc->in_word) {
                sc->in_word = 1;
                sc->cur_len = 0;
                sc->hacc = CN_HASH_SEED;
                sc->htail = 0;
                sc->woff[sc->n_words & (CN_RING - 1)] = base + p;
                sc->line_has_text = sc->doc_has_text = 1;
            }
            char *dst = sc->wtext[sc->n_words & (CN_RING - 1)];
            uint32_t len = sc->cur_len;
            uint64_t hacc = sc->hacc, tail = sc->htail;
            do { /* copy and hash the word's bytes in registers */
                if (len < CN_WORD_MAX)
                    dst[len] = (char)c;
                tail |= (uint64_t)c << (8 * (len & 7));
                if ((len & 7) == 7) {
                    hacc = cn_hash_chunk(hacc, tail);
                    tail = 0;
                }
                len++;
                if (++p == n)
                    break;
                c = cls[s[p]];
            } while ((uint8_t)(c - 1) < 0x7F);
            sc->cur_len = len;
            sc->hacc = hacc;
            sc->htail = tail;
            continue;
        }
        if (c == CN_SEP) {
            word_end(sc);
            if (s[p] == '\n' && sc->blank_docs) {
                if (!sc->line_has_text && sc->doc_has_text) {
                    drain(sc);
                    sc->res->docs++;
                    sc->doc++;
                    doc_begin(sc);
                    sc->doc_has_text = 0;
                }
                sc->line_has_text = 0;
            }
            p++;
            continue;
        }
        if (c == CN_IGNORE) {
            sc->line_has_text = sc->doc_has_text = 1;
            p++;
            continue;
        }
        /* CN_SLOW or CN_ESC */
        size_t at = p;
        uint32_t cp;
        int invalid = 0;
        if (c == CN_ESC) {
            if (cn_json_escape(s, n, &p, &cp) != 0) {
                invalid = 1;
                cp = 0xDC5C; /* ignored */
                p = at + 1;
            }
        } else {
            int need;
            cp = cn_decode(s, n, &p, final, &invalid, &need);
            if (need)
                return at;
        }
        if (invalid && sc->n_invalid++ == 0)
            sc->first_invalid = base + at;
        struct cn_char ch;
        cn_classify(cp, &ch);
        if (ch.cls == CN_SEP) {
            word_end(sc); /* only '\n' ends a line for --text-docs blank */
        } else {
            sc->line_has_text = sc->doc_has_text = 1;
            if (ch.cls == 1)
                put_kept(sc, ch.out, ch.n_out, base + at);
        }
    }
    return p;
}

/* ---- warnings ---------------------------------------------------------------------------------------------- */

struct run_state {
    const struct cn_scan_opts *o;
    const char *path;
    struct cn_file_result *fr;
    size_t n_printed;
};

/* Records a bad-input warning for the current file; returns GE_ERR_FORMAT (with err set) under --strict. */
static int bad_input(struct run_state *rs, struct ge_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad_input(struct run_state *rs, struct ge_error *err, const char *fmt, ...)
{
    char msg[GE_ERROR_MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rs->fr->n_warnings++;
    if (!rs->fr->first_warning)
        rs->fr->first_warning = xstrdup(msg);
    if (rs->o->strict)
        return ge_error_set(err, GE_ERR_FORMAT, "%s (--strict)", msg);
    size_t cap = rs->o->max_warnings ? rs->o->max_warnings : 20;
    if (rs->o->warn && rs->n_printed < cap) {
        fprintf(rs->o->warn, "glam-eval contamination scan: warning: %s\n", msg);
        if (++rs->n_printed == cap)
            fprintf(rs->o->warn, "glam-eval contamination scan: further warnings are only counted\n");
    }
    return GE_OK;
}

/* Ends a JSONL document or a plain file, reporting its invalid input. */
static int doc_finish(struct scanner *sc, struct run_state *rs, int jsonl, struct ge_error *err)
{
    word_end(sc);
    drain(sc);
    if (sc->n_invalid == 0)
        return GE_OK;
    uint64_t n_invalid = sc->n_invalid;
    sc->n_invalid = 0;
    if (jsonl)
        return bad_input(rs, err, "%s: line %llu: invalid UTF-8 or JSON escape at byte offset %llu (%llu in this "
                         "document, ignored)", rs->path, (unsigned long long)sc->doc + 1,
                         (unsigned long long)sc->first_invalid, (unsigned long long)n_invalid);
    return bad_input(rs, err, "%s: invalid UTF-8 at byte offset %llu (%llu invalid bytes in this file, ignored)",
                     rs->path, (unsigned long long)sc->first_invalid, (unsigned long long)n_invalid);
}

/* ---- JSONL ------------------------------------------------------------------------------------------------- */

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

/* Finds the top-level field `field` of the JSON object in s[0..n): *vs..*ve is the inside of its string value.
 * Returns 0 found, 1 absent, 2 not a string, -1 malformed (*ve = offset). */
static int jfind(const uint8_t *s, size_t n, const char *field, size_t *vs, size_t *ve)
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

/* One JSONL line (file offset base, document number sc->doc). */
static int jsonl_line(struct scanner *sc, struct run_state *rs, const uint8_t *s, size_t n, uint64_t base,
                      struct ge_error *err)
{
    size_t k = 0;
    jws(s, n, &k);
    if (k == n)
        return GE_OK; /* blank line: no document */
    size_t vs = 0, ve = 0;
    int f = jfind(s, n, rs->o->text_field, &vs, &ve);
    if (f == -1)
        return bad_input(rs, err, "%s: line %llu: not a JSON object (malformed at byte offset %llu); skipped",
                         rs->path, (unsigned long long)sc->doc + 1, (unsigned long long)(base + ve));
    if (f != 0)
        return bad_input(rs, err, "%s: line %llu (byte offset %llu): field \"%s\" is %s; skipped", rs->path,
                         (unsigned long long)sc->doc + 1, (unsigned long long)base, rs->o->text_field,
                         f == 1 ? "missing" : "not a string");
    doc_begin(sc);
    scan_bytes(sc, s + vs, ve - vs, base + vs, 1, 1);
    sc->res->docs++;
    rs->fr->docs++;
    return doc_finish(sc, rs, 1, err);
}

static int scan_jsonl(struct scanner *sc, struct run_state *rs, struct cn_source *src, uint8_t *buf,
                      struct ge_error *err)
{
    struct strbuf line;
    strbuf_init(&line, rs->o->max_doc_bytes);
    uint64_t off = 0, line_off = 0; /* file offset of buf[0] / of the line being assembled */
    int skipping = 0, rc = GE_OK;
    sc->doc = 0;
    for (;;) {
        size_t n = 0;
        rc = cn_source_read(src, buf, CN_READ_CAP, &n, err);
        if (rc || n == 0)
            break;
        rs->fr->bytes += n;
        sc->res->bytes += n;
        size_t p = 0;
        while (p < n && rc == GE_OK) {
            const uint8_t *nl = memchr(buf + p, '\n', n - p);
            size_t end = nl ? (size_t)(nl - buf) : n;
            if (!skipping) {
                if (line.len == 0 && nl) {
                    line_off = off + p;
                    if (end - p > rs->o->max_doc_bytes)
                        rc = bad_input(rs, err, "%s: line %llu at byte offset %llu is longer than --max-doc-bytes "
                                       "%zu; skipped", rs->path, (unsigned long long)sc->doc + 1,
                                       (unsigned long long)line_off, rs->o->max_doc_bytes);
                    else
                        rc = jsonl_line(sc, rs, buf + p, end - p, line_off, err);
                } else {
                    if (line.len == 0)
                        line_off = off + p;
                    if (strbuf_append(&line, (const char *)buf + p, end - p, NULL) != GE_OK) {
                        rc = bad_input(rs, err, "%s: line %llu at byte offset %llu is longer than --max-doc-bytes "
                                       "%zu; skipped", rs->path, (unsigned long long)sc->doc + 1,
                                       (unsigned long long)line_off, rs->o->max_doc_bytes);
                        strbuf_reset(&line);
                        skipping = 1;
                    } else if (nl) {
                        rc = jsonl_line(sc, rs, (const uint8_t *)line.data, line.len, line_off, err);
                        strbuf_reset(&line);
                    }
                }
            }
            if (nl) {
                skipping = 0;
                sc->doc++;
                p = end + 1;
            } else {
                p = n;
            }
        }
        off += n;
        if (rc)
            break;
    }
    if (rc == GE_OK && !skipping && line.len > 0) /* last line without '\n' */
        rc = jsonl_line(sc, rs, (const uint8_t *)line.data, line.len, line_off, err);
    strbuf_release(&line);
    return rc;
}

/* ---- plain text -------------------------------------------------------------------------------------------- */

static int scan_text(struct scanner *sc, struct run_state *rs, struct cn_source *src, uint8_t *buf,
                     struct ge_error *err)
{
    size_t carry = 0;
    uint64_t off = 0; /* file offset of buf[0] */
    int rc = GE_OK;
    sc->doc = 0;
    sc->line_has_text = sc->doc_has_text = 0;
    doc_begin(sc);
    for (;;) {
        size_t n = 0;
        rc = cn_source_read(src, buf + carry, CN_READ_CAP - carry, &n, err);
        if (rc)
            break;
        rs->fr->bytes += n;
        sc->res->bytes += n;
        size_t total = carry + n;
        uint64_t docs_before = sc->doc;
        size_t used = scan_bytes(sc, buf, total, off, 0, n == 0);
        rs->fr->docs += sc->doc - docs_before;
        off += used;
        carry = total - used;
        memmove(buf, buf + used, carry);
        if (n == 0)
            break;
    }
    word_end(sc);
    if (sc->doc_has_text || !sc->blank_docs) {
        sc->res->docs++;
        rs->fr->docs++;
    }
    int rc2 = doc_finish(sc, rs, 0, err);
    return rc ? rc : rc2;
}

/* ---- the corpus -------------------------------------------------------------------------------------------- */

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int is_jsonl_name(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    size_t l = strlen(tmp);
    if (has_suffix(tmp, ".gz"))
        tmp[l - 3] = '\0';
    else if (has_suffix(tmp, ".zst"))
        tmp[l - 4] = '\0';
    return has_suffix(tmp, ".jsonl") || has_suffix(tmp, ".json");
}

void cn_scan_result_init(struct cn_scan_result *res, const struct cn_index *ix)
{
    memset(res, 0, sizeof *res);
    res->n_examples = ix->n_examples;
    res->witness = xmalloc((ix->n_examples ? ix->n_examples : 1) * sizeof *res->witness);
    for (size_t i = 0; i < ix->n_examples; i++)
        res->witness[i] = (struct cn_witness){.file = CN_NO_FILE};
}

void cn_scan_result_release(struct cn_scan_result *res)
{
    for (size_t i = 0; i < res->n_files; i++) {
        free(res->files[i].first_warning);
        free(res->files[i].error);
    }
    free(res->files);
    free(res->witness);
    memset(res, 0, sizeof *res);
}

int cn_scan_buffer(const struct cn_index *ix, const char *text, size_t len, int json, uint32_t file,
                   struct cn_scan_result *res, struct ge_error *err)
{
    (void)err;
    struct scanner *sc = xmalloc(sizeof *sc);
    scanner_init(sc, ix, res);
    sc->file = file;
    doc_begin(sc);
    scan_bytes(sc, (const uint8_t *)text, len, 0, json, 1);
    word_end(sc);
    drain(sc);
    res->docs++;
    res->bytes += len;
    scanner_release(sc);
    free(sc);
    return GE_OK;
}

int cn_scan(const struct cn_index *ix, const struct cn_corpus *corpus, const struct cn_scan_opts *o,
            struct cn_scan_result *res, struct ge_error *err)
{
    cn_scan_result_init(res, ix);
    if (o->shard_count == 0 || o->shard_index >= o->shard_count)
        return ge_error_set(err, GE_ERR_USAGE, "bad shard %u/%u", o->shard_index, o->shard_count);
    res->files = xcalloc(corpus->n / o->shard_count + 1, sizeof *res->files);
    struct scanner *sc = xmalloc(sizeof *sc);
    scanner_init(sc, ix, res);
    sc->blank_docs = o->text_docs_blank;
    uint8_t *buf = xmalloc(CN_READ_CAP);
    int rc = GE_OK;
    struct run_state rs = {.o = o};
    for (size_t k = o->shard_index; k < corpus->n && rc == GE_OK; k += o->shard_count) {
        struct cn_file_result *fr = &res->files[res->n_files++];
        memset(fr, 0, sizeof *fr);
        fr->file = (uint32_t)k;
        rs.path = corpus->paths[k];
        rs.fr = fr;
        sc->file = (uint32_t)k;
        sc->file_words = 0;
        sc->n_invalid = 0;
        struct cn_source *src = NULL;
        struct ge_error ferr;
        ge_error_clear(&ferr);
        int frc = cn_source_open(corpus->paths[k], &src, &ferr);
        if (frc == GE_OK) {
            int jsonl = o->format == CN_FORMAT_JSONL || (o->format == CN_FORMAT_AUTO && is_jsonl_name(rs.path));
            frc = jsonl ? scan_jsonl(sc, &rs, src, buf, &ferr) : scan_text(sc, &rs, src, buf, &ferr);
            cn_source_close(src);
        }
        fr->words = sc->file_words;
        if (frc != GE_OK) {
            if (o->strict) {
                rc = ge_error_set(err, frc, "%s", ferr.msg);
                break;
            }
            fr->error = xstrdup(ferr.msg);
            fr->n_warnings++;
            if (o->warn)
                fprintf(o->warn, "glam-eval contamination scan: warning: %s; the rest of this file is not scanned\n",
                        ferr.msg);
        } else if (fr->bytes == 0) {
            rc = bad_input(&rs, err, "%s: empty file (0 bytes at offset 0)", rs.path);
        }
    }
    free(buf);
    scanner_release(sc);
    free(sc);
    return rc;
}
