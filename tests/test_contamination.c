/* test_contamination.c — the contamination audit's normalisation, index and scanner (contamination/).
 *
 *   1. normalisation cases (tests/data/contamination/normalize_cases.jsonl): the words of each text, and the
 *      scanner's tokenizer agrees: an index of the whole text (as one example) finds it in the same bytes;
 *   2. a differential test: random texts with planted examples, scanned as plain text and as JSON strings,
 *      against a brute-force reference (every window of words compared as strings with every example n-gram);
 *   3. the scanner's two tokenizer paths (word at a time, byte loop) on random texts of every kind of character,
 *      whole and in reads of any size, against each other and the index side's tokenizer;
 *   4. a UTF-8 character and a planted example straddling the scanner's 1 MiB read boundary, in a file;
 *   5. index files: a write/load round trip (mapped, through a pipe, and read when mmap fails), a damaged,
 *      truncated or foreign file refused, and a scan whose index file was written to in place failing;
 *   6. the sample filter holds every sample n-gram of every main-length entry. */
#include "config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#include "contamination/index.h"
#include "contamination/normalize.h"
#include "contamination/scan.h"
#include "harness/fileio.h"
#include "harness/rng.h"
#include "harness/xalloc.h"
#include "tests/tap.h"

static char *hex_decode(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    char *out = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (char)v;
    }
    out[n] = '\0';
    *len = n;
    return out;
}

static void test_cases(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/contamination/normalize_cases.jsonl", tap_data_dir());
    char *data = NULL;
    size_t len = 0;
    struct ge_error err;
    ge_error_clear(&err);
    if (!tap_ok(file_read_all(path, 0, &data, &len, &err) == GE_OK, "read %s", path))
        return;
    struct line_iter it;
    const char *line;
    size_t ll;
    line_iter_init(&it, data, len);
    while (line_iter_next(&it, &line, &ll)) {
        cJSON *c = cJSON_ParseWithLength(line, ll);
        const cJSON *in = cJSON_GetObjectItem(c, "in"), *hex = cJSON_GetObjectItem(c, "in_hex"),
                    *words = cJSON_GetObjectItem(c, "words");
        int json = cJSON_IsTrue(cJSON_GetObjectItem(c, "json"));
        size_t tl;
        char *text = hex ? hex_decode(hex->valuestring, &tl) : xstrdup(in->valuestring);
        if (!hex)
            tl = strlen(text);
        struct cn_words w;
        cn_words_init(&w);
        int rc = cn_words_add(&w, text, tl, json, &err);
        char got[1024] = "", want[1024] = "";
        for (size_t i = 0; i < w.n; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "|" : "", w.text + w.start[i]);
        for (int i = 0; i < cJSON_GetArraySize(words); i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? "|" : "",
                     cJSON_GetArrayItem(words, i)->valuestring);
        tap_ok(rc == GE_OK, "case line %zu: tokenizes", it.line_no);
        tap_is_str(got, want, "case line %zu: words", it.line_no);
        /* the scanner splits the same bytes into the same words: the whole text, indexed as one example of
         * exactly its word count, is found */
        if (w.n > 0 && w.n <= CN_MAX_N && !json) {
            struct cn_index *ix = NULL;
            const char *texts[1] = {text};
            int brc = cn_index_build_texts(texts, 1, (unsigned)w.n, &ix, &err);
            struct cn_scan_result res;
            cn_scan_result_init(&res, ix);
            cn_scan_buffer(ix, text, tl, 0, 0, &res, &err);
            tap_ok(brc == GE_OK && res.witness[0].file == 0 && res.witness[0].offset < tl,
                   "case line %zu: the scanner finds the text's own n-gram", it.line_no);
            cn_scan_result_release(&res);
            cn_index_free(ix);
        }
        cn_words_release(&w);
        free(text);
        cJSON_Delete(c);
    }
    free(data);
}

/* ---- differential test ---------------------------------------------------------------------------------------- */

static const char *const vocab[] = {"alpha", "Beta", "gamma", "délta", "EPS", "zeta", "eta", "theta", "iota",
                                    "kappa", "lamb", "mu"};
#define N_VOCAB (sizeof vocab / sizeof vocab[0])

/* Appends a random separator or punctuation between words. */
static void put_sep(struct rng *r, char **buf, size_t *len, size_t *cap, int json)
{
    static const char *const plain[] = {" ", "\n", "  ", "\r\n", ", ", ". ", " - ", "\t"};
    static const char *const jsep[] = {" ", "\\n", "\\t", "\\u0020", ", ", "\\\" ", " \\/ "};
    const char *s = json ? jsep[rng_next_u64(r) % 7] : plain[rng_next_u64(r) % 8];
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

static void put_word(char **buf, size_t *len, size_t *cap, const char *w)
{
    size_t n = strlen(w);
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, w, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* Reference: example e is dirty iff one of its n-grams (or, when shorter, all its words) occurs as consecutive
 * words of the corpus; *first gets the earliest matching window's start word (for the n-gram text). */
static int ref_dirty(const struct cn_words *ex, unsigned n, const struct cn_words *corp, size_t *first)
{
    if (ex->n == 0)
        return 0;
    size_t L = ex->n < n ? ex->n : n;
    for (size_t c = 0; c + L <= corp->n; c++)
        for (size_t k = 0; k + L <= ex->n; k++) {
            size_t j = 0;
            while (j < L && strcmp(corp->text + corp->start[c + j], ex->text + ex->start[k + j]) == 0)
                j++;
            if (j == L) {
                *first = c;
                return 1;
            }
        }
    return 0;
}

static void test_differential(void)
{
    struct rng r;
    rng_seed(&r, 20261122);
    int all_ok = 1, n_sampled = 0, n_gated_sampled = 0, n_lean = 0;
    for (int round = 0; round < 80; round++) {
        /* rounds 40..79: n >= CN_SAMPLE_MIN, so the main length is probed by sampling (index.h) */
        unsigned n = round < 40 ? 2 + (unsigned)(rng_next_u64(&r) % 5)
                                : CN_SAMPLE_MIN + (unsigned)(rng_next_u64(&r) % (14 - CN_SAMPLE_MIN));
        size_t n_ex = 3 + rng_next_u64(&r) % 6;
        char *ex_text[16];
        for (size_t e = 0; e < n_ex; e++) {
            char *b = NULL;
            size_t len = 0, cap = 0;
            put_word(&b, &len, &cap, "");
            size_t nw = 1 + rng_next_u64(&r) % (2 * n + 2);
            for (size_t k = 0; k < nw; k++) {
                if (k)
                    put_sep(&r, &b, &len, &cap, 0);
                put_word(&b, &len, &cap, vocab[rng_next_u64(&r) % N_VOCAB]);
            }
            ex_text[e] = b;
        }
        struct cn_index *ix = NULL;
        struct ge_error err;
        ge_error_clear(&err);
        if (cn_index_build_texts((const char *const *)ex_text, n_ex, n, &ix, &err) != GE_OK) {
            all_ok = 0;
            break;
        }
        /* round % 3 == 0: the loaded index's gating (every length here has few entries, so all are gated);
           1: nothing gated (ungated lengths, and sampling for n >= 8); 2: the short examples' lengths gated and n
           not, as in a real index (sampled and gated: the scanner's lean word loop, plain and JSON) */
        if (round % 3 == 1)
            cn_index_regate(ix, 0);
        if (round % 3 == 2) {
            size_t count[CN_MAX_N + 1] = {0}, most_short = 0;
            for (size_t i = 0; i < ix->n_entries; i++)
                count[ix->entries[i].len]++;
            for (unsigned L = 1; L < n; L++)
                most_short = count[L] > most_short ? count[L] : most_short;
            cn_index_regate(ix, count[n] > most_short ? most_short : 0);
            n_gated_sampled += ix->sample_len && ix->gate_len_mask;
            n_lean += ix->sample_step == 8 && ix->gate_len_mask; /* the scanner's lean word loop */
        }
        if (round % 3 != 0 && n >= CN_SAMPLE_MIN)
            n_sampled += ix->sample_step == cn_sample_step(n) && ix->sample_len == n - cn_sample_step(n) + 1;
        for (int json = 0; json <= 1; json++) {
            /* a corpus of random words in which any example may occur by chance or by planting */
            char *b = NULL;
            size_t len = 0, cap = 0;
            put_word(&b, &len, &cap, "");
            size_t nw = 200 + rng_next_u64(&r) % 200;
            for (size_t k = 0; k < nw; k++) {
                if (k)
                    put_sep(&r, &b, &len, &cap, json);
                uint64_t pick = rng_next_u64(&r) % 100;
                if (pick == 0) { /* an overlong word: no window holding it matches */
                    char longw[301];
                    memset(longw, 'q', 300);
                    longw[300] = '\0';
                    put_word(&b, &len, &cap, longw);
                } else if (pick < 3 || k == 0 || k == nw - 1) { /* plant a whole example, with its own separators */
                    const char *src = ex_text[rng_next_u64(&r) % n_ex];
                    for (const char *p = src; *p; p++) {
                        char one[3] = {*p, 0, 0};
                        if (json && *p == '\n')
                            strcpy(one, "\\n");
                        else if (json && *p == '\r')
                            strcpy(one, "\\r");
                        else if (json && *p == '\t')
                            strcpy(one, "\\t");
                        put_word(&b, &len, &cap, one);
                    }
                } else {
                    put_word(&b, &len, &cap, vocab[rng_next_u64(&r) % N_VOCAB]);
                }
            }
            struct cn_words corp;
            cn_words_init(&corp);
            cn_words_add(&corp, b, len, json, &err);
            struct cn_scan_result res;
            cn_scan_result_init(&res, ix);
            cn_scan_buffer(ix, b, len, json, 0, &res, &err);
            for (size_t e = 0; e < n_ex; e++) {
                struct cn_words ew;
                cn_words_init(&ew);
                cn_words_add(&ew, ex_text[e], strlen(ex_text[e]), 0, &err);
                size_t first = 0;
                int want = ref_dirty(&ew, n, &corp, &first);
                int got = res.witness[e].file != CN_NO_FILE;
                int same = want == got;
                if (same && got) { /* the witness is the earliest matching window */
                    const struct cn_entry *en = &ix->entries[res.witness[e].entry];
                    size_t L = ew.n < n ? ew.n : n;
                    char wt[4096] = "";
                    for (size_t j = 0; j < L; j++)
                        snprintf(wt + strlen(wt), sizeof wt - strlen(wt), "%s%s", j ? " " : "",
                                 corp.text + corp.start[first + j]);
                    same = strlen(wt) == en->text_len && memcmp(wt, ix->text + en->text_off, en->text_len) == 0;
                }
                if (!same) {
                    tap_diag("round %d json %d example %zu (\"%s\", n %u): reference %d, scanner %d", round, json,
                             e, ex_text[e], n, want, got);
                    all_ok = 0;
                }
                cn_words_release(&ew);
            }
            cn_scan_result_release(&res);
            cn_words_release(&corp);
            free(b);
        }
        cn_index_free(ix);
        for (size_t e = 0; e < n_ex; e++)
            free(ex_text[e]);
    }
    tap_ok(all_ok, "scanner equals the brute-force reference on 80 random corpora (n 2-6 and 8-13; gated, ungated "
                   "and probed by sampling in %d, sampled and gated in %d), plain and JSON", n_sampled,
           n_gated_sampled);
    tap_ok(n_sampled >= 20 && n_gated_sampled >= 8 && n_lean >= 3, "sampled probing was exercised (%d of 27 "
           "rounds), with gated short examples in %d of 13, every 8th word (the lean word loop) in %d",
           n_sampled, n_gated_sampled, n_lean);
}

/* ---- the two tokenizer paths ------------------------------------------------------------------------------------ */

/* Every word of one tokenization, in order. */
struct word_rec {
    uint64_t offset, doc, len, hash;
};
struct word_log {
    char *text;            /* words, each followed by '\0' (the first CN_WORD_MAX bytes of an overlong one) */
    size_t len, cap;
    struct word_rec *rec;  /* (n) */
    size_t n, rec_cap;
};

static void log_word(void *arg, const char *word, size_t len, uint64_t hash, uint64_t offset, uint64_t doc)
{
    struct word_log *l = arg;
    size_t keep = len > CN_WORD_MAX ? CN_WORD_MAX : len;
    if (l->len + keep + 1 > l->cap) {
        l->cap = (l->len + keep + 1) * 2;
        l->text = xrealloc(l->text, l->cap);
    }
    memcpy(l->text + l->len, word, keep);
    l->len += keep;
    l->text[l->len++] = '\0';
    if (l->n == l->rec_cap) {
        l->rec_cap = l->rec_cap ? 2 * l->rec_cap : 256;
        l->rec = xrealloc(l->rec, l->rec_cap * sizeof *l->rec);
    }
    l->rec[l->n++] = (struct word_rec){.offset = offset, .doc = doc, .len = len, .hash = hash};
}

/* The first word where a and b differ (a->n == b->n when they are equal), or SIZE_MAX when none. */
static size_t first_difference(const struct word_log *a, const struct word_log *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a->rec[i], &b->rec[i], sizeof a->rec[i]) != 0)
            return i;
    if (a->n != b->n)
        return n;
    return a->len == b->len && memcmp(a->text, b->text, a->len) == 0 ? SIZE_MAX : 0;
}

/* Appends one random piece of text: words of letters and digits (either case), ASCII punctuation inside and around
 * words, whitespace of every class (including blank lines), non-ASCII letters, spaces and punctuation, invalid and
 * cut UTF-8, words of 60 to 300 bytes, and in JSON mode escapes (valid ones, or malformed when `bad`). */
static void put_soup(struct rng *r, char **b, size_t *len, size_t *cap, int json, int bad)
{
    static const char *const bits[] = {
        "the", "The", "THE", "abc123", "x", "don't", "U.S.A.", "e-mail", "\"Hello,", "said.", "(end)", "--", "...",
        "caf\xc3\xa9", "\xce\xa3\xce\xaf\xcf\x83\xcf\x85\xcf\x82", "na\xc3\xafve", "\xe2\x80\x9cquote\xe2\x80\x9d",
        "it\xe2\x80\x99s", "a\xc2\xa0" "b", "x\xe2\x80\xa8y", "\xff", "bad\xc3", "\xe2\x82", "I\xcc\x87", "\xc4\xb0",
        " ", "  ", "\t", "\n", "\n\n", "\r\n", "\x0b", "\x1c", "\x1f", "\x01", "_", "A_B", "42"};
    static const char *const jbits[] = {"\\n", "\\\"", "\\\\", "\\u00e9t\\u00e9", "\\ud83d\\ude00", "\\t", "\\/",
                                        "\\u00A0", "\\u2028", "\\ud800x", "ab\\nCD", "said\\\" ", "\\\"Go\\\" ",
                                        "x\\\\y\\/z\\b ", "a\\fB\\rc\\t "};
    static const char *const jbad[] = {"\\x", "\\u12", "\\", "\\q"};
    unsigned k = (unsigned)(rng_next_u64(r) % 100);
    char tmp[400];
    const char *piece;
    if (k < 3) { /* a long word, sometimes with punctuation or a non-ASCII letter inside */
        size_t n = 60 + rng_next_u64(r) % 240;
        for (size_t i = 0; i < n; i++)
            tmp[i] = (char)('a' + (char)(rng_next_u64(r) % 26));
        if (rng_next_u64(r) % 2)
            tmp[n / 2] = '.';
        tmp[n] = '\0';
        piece = tmp;
    } else if (json && k < 15) {
        piece = bad && k < 5 ? jbad[rng_next_u64(r) % 4] : jbits[rng_next_u64(r) % 15];
    } else if (k < 55) { /* a random ASCII word */
        size_t n = 1 + rng_next_u64(r) % 12;
        for (size_t i = 0; i < n; i++) {
            uint64_t v = rng_next_u64(r) % 40;
            tmp[i] = v < 26 ? (char)('a' + v) : v < 36 ? (char)('0' + v - 26) : (char)('A' + v - 36);
        }
        tmp[n] = ' ';
        tmp[n + 1] = '\0';
        piece = tmp;
    } else {
        piece = bits[rng_next_u64(r) % (sizeof bits / sizeof bits[0])];
    }
    if (json) { /* raw control characters and quotes are not allowed inside a JSON string */
        char esc[2400];
        size_t o = 0;
        for (const char *p = piece; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (c < 0x20)
                o += (size_t)snprintf(esc + o, sizeof esc - o, "\\u%04x", c);
            else if (c == '"')
                o += (size_t)snprintf(esc + o, sizeof esc - o, "\\\"");
            else
                esc[o++] = (char)c;
        }
        esc[o] = '\0';
        put_word(b, len, cap, esc);
        return;
    }
    put_word(b, len, cap, piece);
}

static void test_tokenizer_paths(void)
{
    struct rng r;
    rng_seed(&r, 20261123);
    const char *one[] = {"alpha beta gamma"};
    struct cn_index *ix = NULL;
    struct ge_error err;
    ge_error_clear(&err);
    if (cn_index_build_texts(one, 1, 2, &ix, &err) != GE_OK) {
        tap_ok(0, "an index for the tokenizer test: %s", err.msg);
        return;
    }
    static const size_t pieces[] = {0, 1, 3, 64, 100, 1000}; /* JSON: whole only, as scan_jsonl hands over lines */
    int same_ref = 1, same_paths = 1, rounds = 0;
    size_t words = 0;
    for (int round = 0; round < 300; round++) {
        int json = round % 3 == 1, blank = round % 3 == 2, bad = round % 6 == 1;
        char *b = NULL;
        size_t len = 0, cap = 0;
        put_word(&b, &len, &cap, "");
        size_t n = 20 + rng_next_u64(&r) % 800;
        for (size_t i = 0; i < n; i++)
            put_soup(&r, &b, &len, &cap, json, bad);
        struct word_log ref = {0};
        cn_scan_words(ix, b, len, json, blank, 1, 0, log_word, &ref);
        words += ref.n;
        /* the byte loop against the index side's tokenizer (not on malformed escapes, which it refuses) */
        struct cn_words w;
        cn_words_init(&w);
        if (cn_words_add(&w, b, len, json, &err) == GE_OK) {
            int ok = w.n == ref.n;
            size_t at = 0;
            for (size_t i = 0; ok && i < w.n; i++) {
                const char *wt = w.text + w.start[i];
                size_t wl = strlen(wt), keep = wl > CN_WORD_MAX ? CN_WORD_MAX : wl;
                ok = memcmp(ref.text + at, wt, keep) == 0 && ref.text[at + keep] == '\0';
                at += keep + 1;
            }
            if (!ok) {
                tap_diag("round %d (json %d): the byte loop has %zu words, the index side %zu", round, json, ref.n,
                         w.n);
                same_ref = 0;
            }
        }
        cn_words_release(&w);
        for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
            for (int loop = 0; loop <= 1; loop++) {
                if ((loop && pieces[k] == 0) || (json && pieces[k] != 0))
                    continue; /* that is ref, or a JSON string cut (never happens) */
                struct word_log got = {0};
                cn_scan_words(ix, b, len, json, blank, loop, pieces[k], log_word, &got);
                size_t d = first_difference(&ref, &got);
                if (d != SIZE_MAX) {
                    const struct word_rec *x = d < ref.n ? &ref.rec[d] : NULL, *y = d < got.n ? &got.rec[d] : NULL;
                    tap_diag("round %d (json %d, blank %d), reads of %zu, byte loop %d: word %zu differs: offset "
                             "%lld vs %lld, document %lld vs %lld, length %lld vs %lld", round, json, blank,
                             pieces[k], loop, d, x ? (long long)x->offset : -1, y ? (long long)y->offset : -1,
                             x ? (long long)x->doc : -1, y ? (long long)y->doc : -1, x ? (long long)x->len : -1,
                             y ? (long long)y->len : -1);
                    same_paths = 0;
                }
                free(got.rec);
                free(got.text);
            }
        }
        free(ref.text);
        free(ref.rec);
        free(b);
        rounds++;
    }
    cn_index_free(ix);
    tap_ok(same_ref, "the scanner's byte loop splits %d random texts (%zu words) as the index side does", rounds,
           words);
    tap_ok(same_paths, "the word-at-a-time path gives the same words, offsets and documents as the byte loop, "
                       "whole and in reads of 1 to 1000 bytes");
}

/* ---- the read boundary and index files ------------------------------------------------------------------------- */

static void test_boundary(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/boundary.txt", dir);
    const char *ex = "Été brûlant sur la côte sauvage";
    struct cn_index *ix = NULL;
    struct ge_error err;
    ge_error_clear(&err);
    cn_index_build_texts(&ex, 1, 4, &ix, &err);
    int all_ok = 1;
    for (size_t shift = 0; shift < 6; shift++) {
        FILE *f = fopen(path, "wb");
        size_t pre = ((size_t)1 << 20) - 3 + shift; /* 'É' (2 bytes) lands on both sides of the 1 MiB boundary */
        for (size_t i = 0; i < pre; i++)
            fputc(i % 7 == 6 ? ' ' : 'q', f);
        fputc(' ', f);
        fputs(ex, f);
        fputs(" tail", f);
        fclose(f);
        char *paths[1] = {path};
        struct cn_corpus corpus;
        cn_corpus_expand(paths, 1, &corpus, &err);
        struct cn_scan_opts o = {.format = CN_FORMAT_TEXT, .text_field = "text", .max_doc_bytes = 1 << 20,
                                 .shard_count = 1};
        struct cn_scan_result res;
        int rc = cn_scan(ix, &corpus, &o, &res, &err);
        if (rc != GE_OK || res.witness[0].file != 0 || res.witness[0].offset != pre + 1 || res.files[0].n_warnings) {
            tap_diag("shift %zu: rc %d, offset %llu (want %zu), warnings %llu", shift, rc,
                     (unsigned long long)res.witness[0].offset, pre + 1, (unsigned long long)res.files[0].n_warnings);
            all_ok = 0;
        }
        cn_scan_result_release(&res);
        cn_corpus_release(&corpus);
    }
    tap_ok(all_ok, "an example and a UTF-8 character across the 1 MiB read boundary are found at the right offset");
    remove(path);
    cn_index_free(ix);
}

/* Scans path with ix; returns cn_scan's code, *found = example 0 is dirty. */
static int scan_one(const struct cn_index *ix, const char *path, int *found, struct ge_error *err)
{
    char *paths[1] = {(char *)path};
    struct cn_corpus corpus;
    int rc = cn_corpus_expand(paths, 1, &corpus, err);
    if (rc)
        return rc;
    struct cn_scan_opts o = {.format = CN_FORMAT_TEXT, .text_field = "text", .max_doc_bytes = 1 << 20,
                             .shard_count = 1};
    struct cn_scan_result res;
    rc = cn_scan(ix, &corpus, &o, &res, err);
    *found = res.witness[0].file != CN_NO_FILE;
    cn_scan_result_release(&res);
    cn_corpus_release(&corpus);
    return rc;
}

/* The loaded index reads its text in place in the mapped file: a scan whose index file was written to in place
 * meanwhile fails, naming it; one whose file was replaced by a rename (as `index --out` does) is unaffected. */
static void test_index_changed(const char *dir)
{
    char idx[4200], corpus[4200];
    snprintf(idx, sizeof idx, "%s/c.idx", dir);
    snprintf(corpus, sizeof corpus, "%s/c.txt", dir);
    const char *texts[1] = {"the quick brown fox jumps"};
    struct cn_index *built = NULL, *ix = NULL;
    struct ge_error err;
    ge_error_clear(&err);
    cn_index_build_texts(texts, 1, 3, &built, &err);
    FILE *f = fopen(corpus, "wb");
    fputs("and then the quick brown fox jumps over\n", f);
    fclose(f);
    int found = 0;
    int ok = cn_index_write(built, idx, &err) == GE_OK && cn_index_load(idx, 1, &ix, &err) == GE_OK && ix->map;
    ok = ok && scan_one(ix, corpus, &found, &err) == GE_OK && found;
    tap_ok(ok, "a scan with a mapped index (%s)", err.msg);
    ok = ok && cn_index_write(built, idx, &err) == GE_OK; /* a new file renamed over the mapped one */
    ok = ok && scan_one(ix, corpus, &found, &err) == GE_OK && found;
    tap_ok(ok, "the index file replaced by a rename during the scan: the scan goes on with the mapped one (%s)",
           err.msg);
    cn_index_free(ix);
    ix = NULL;
    ok = ok && cn_index_load(idx, 1, &ix, &err) == GE_OK;
    int fd = ok ? open(idx, O_WRONLY) : -1;
    if (fd >= 0) { /* the same first byte written back, and a later modification time */
        ok = pwrite(fd, "G", 1, 0) == 1;
        struct stat st;
        ok = ok && fstat(fd, &st) == 0;
        struct timespec t[2] = {st.st_atim, st.st_mtim};
        t[1].tv_sec += 5;
        ok = ok && futimens(fd, t) == 0;
        close(fd);
    }
    ge_error_clear(&err);
    int rc = ok ? scan_one(ix, corpus, &found, &err) : GE_OK;
    tap_ok(ok && rc == GE_ERR_IO && strstr(err.msg, idx) && strstr(err.msg, "written to in place"),
           "the index file written to in place during the scan: the scan fails: %s", err.msg);
    cn_index_free(ix);
    ix = NULL;
    ge_error_clear(&err);
    ok = ok && cn_index_load(idx, 1, &ix, &err) == GE_OK && remove(idx) == 0;
    ok = ok && scan_one(ix, corpus, &found, &err) == GE_OK && found;
    tap_ok(ok, "the index file removed during the scan: the scan goes on with the mapped one (%s)", err.msg);
    cn_index_free(ix);
    cn_index_free(built);
    remove(idx);
    remove(corpus);
}

/* 1 when a and b hold the same index: checksum, text, entries and table. */
static int same_index(const struct cn_index *a, const struct cn_index *b)
{
    return strcmp(a->sha256, b->sha256) == 0 && a->n_entries == b->n_entries && a->text_len == b->text_len &&
           memcmp(a->text, b->text, b->text_len) == 0 &&
           memcmp(a->entries, b->entries, b->n_entries * sizeof *b->entries) == 0 && a->table_mask == b->table_mask &&
           memcmp(a->table_key, b->table_key, (b->table_mask + 1) * sizeof *b->table_key) == 0;
}

/* Loads path in a child process in which every mmap of a file fails (a seccomp filter: ENOMEM when the fd
 * argument is not -1; anonymous mappings, which malloc uses, still work), so the load takes its fallback and reads
 * the file. Returns 0 when that index equals want and owns its text, 1 when not, 2 when the filter cannot be set. */
static int load_without_file_mmap(const char *path, const struct cn_index *want)
{
#if defined(__linux__) && defined(__NR_mmap) && (defined(__x86_64__) || defined(__aarch64__))
    pid_t child = fork();
    if (child == 0) {
        unsigned fd_lo = (unsigned)offsetof(struct seccomp_data, args[4]);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        fd_lo += 4;
#endif
        struct sock_filter code[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 0, 3),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, fd_lo),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xFFFFFFFFu, 1, 0), /* fd -1: anonymous */
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOMEM & SECCOMP_RET_DATA)),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = (unsigned short)(sizeof code / sizeof code[0]), .filter = code};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
            _exit(2);
        struct cn_index *ix = NULL;
        struct ge_error err;
        ge_error_clear(&err);
        int ok = cn_index_load(path, 1, &ix, &err) == GE_OK && !ix->map && same_index(ix, want);
        if (!ok)
            fprintf(stderr, "# load without mmap: %s\n", err.msg);
        cn_index_free(ix);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status))
        return 1;
    return WEXITSTATUS(status);
#else
    (void)path;
    (void)want;
    return 2;
#endif
}

static void test_index_file(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/t.idx", dir);
    const char *texts[3] = {"one two three four five", "three four five six", "short"};
    struct cn_index *ix = NULL, *back = NULL;
    struct ge_error err;
    ge_error_clear(&err);
    cn_index_build_texts(texts, 3, 3, &ix, &err);
    tap_is_int(cn_index_write(ix, path, &err), GE_OK, "index write");
    tap_is_int(cn_index_load(path, 1, &back, &err), GE_OK, "index load (%s)", err.msg);
    tap_ok(back && back->n_entries == ix->n_entries && back->n_examples == 3 && strcmp(back->sha256, ix->sha256) == 0,
           "round trip keeps entries, examples and the checksum");
    tap_is_int((long long)ix->n_entries, 5, "3-grams deduplicated across examples (4 distinct, and short as a whole)");
    char *data = NULL;
    size_t len = 0;
    file_read_all(path, 0, &data, &len, &err);

    /* a regular file is mapped, anything else read: through a pipe the same index comes back */
    int fds[2];
    struct cn_index *piped = NULL;
    if (tap_ok(pipe(fds) == 0, "pipe")) {
        pid_t child = fork();
        if (child == 0) {
            close(fds[0]);
            _exit(write(fds[1], data, len) == (ssize_t)len ? 0 : 1);
        }
        close(fds[1]);
        char via[64];
        snprintf(via, sizeof via, "/dev/fd/%d", fds[0]);
        ge_error_clear(&err);
        int rc = cn_index_load(via, 1, &piped, &err);
        close(fds[0]);
        int status = 0;
        waitpid(child, &status, 0);
        tap_ok(rc == GE_OK && piped && same_index(piped, back), "an index read from a pipe equals the mapped one (%s)",
               err.msg);
        tap_ok(piped && !piped->map && back->map && back->text >= back->map &&
                   back->text + back->text_len <= back->map + back->map_len,
               "the mapped index reads its text in place in the file; the piped one owns a copy");
        cn_index_free(piped);
    }
    int fb = load_without_file_mmap(path, back);
    if (fb == 2)
        tap_skip("seccomp filters are not available", "the load's fallback when mmap fails");
    else
        tap_ok(fb == 0, "when mapping the file fails, the index is read instead and equals the mapped one");
    cn_index_free(back);
    back = NULL;
    FILE *empty = fopen(path, "wb");
    fclose(empty);
    ge_error_clear(&err);
    tap_ok(cn_index_load(path, 1, &back, &err) == GE_ERR_FORMAT && strstr(err.msg, "bad magic"),
           "an empty file is refused: %s", err.msg);
    ge_error_clear(&err);
    tap_ok(cn_index_load(dir, 1, &back, &err) != GE_OK && strstr(err.msg, dir), "a directory is refused: %s",
           err.msg);
    empty = fopen(path, "wb"); /* a sparse file one byte over the limit: refused before it is mapped */
    int sized = empty && ftruncate(fileno(empty), (off_t)CN_INDEX_MAX_BYTES + 1) == 0;
    if (empty)
        fclose(empty);
    ge_error_clear(&err);
    if (sized)
        tap_ok(cn_index_load(path, 1, &back, &err) == GE_ERR_LIMIT && strstr(err.msg, path) &&
               strstr(err.msg, "limit"), "an index over CN_INDEX_MAX_BYTES is refused: %s", err.msg);
    else
        tap_skip("this file system cannot make a sparse file", "an index over CN_INDEX_MAX_BYTES is refused");
    FILE *f = fopen(path, "wb");
    data[len - 3] ^= 1;
    fwrite(data, 1, len, f);
    fclose(f);
    ge_error_clear(&err);
    tap_ok(cn_index_load(path, 1, &back, &err) == GE_ERR_FORMAT && strstr(err.msg, "checksum mismatch"),
           "a flipped byte is refused: %s", err.msg);
    data[len - 3] ^= 1;
    f = fopen(path, "wb");
    fwrite(data, 1, len - 5, f);
    fclose(f);
    ge_error_clear(&err);
    tap_ok(cn_index_load(path, 1, &back, &err) == GE_ERR_FORMAT && strstr(err.msg, "truncated"),
           "a truncated file is refused: %s", err.msg);
    f = fopen(path, "wb");
    fputs("not an index at all, just text that is long enough to have a header of sixty-four bytes", f);
    fclose(f);
    ge_error_clear(&err);
    tap_ok(cn_index_load(path, 1, &back, &err) == GE_ERR_FORMAT && strstr(err.msg, "bad magic"),
           "a foreign file is refused: %s", err.msg);
    remove(path);
    free(data);
    cn_index_free(ix);
}

static void test_overlong(void)
{
    char text[700];
    memset(text, 'a', 300);
    strcpy(text + 300, " bb cc dd");
    struct cn_words w;
    cn_words_init(&w);
    cn_words_add(&w, text, strlen(text), 0, NULL);
    tap_ok(w.n == 4 && w.hash[0] == 0 && w.hash[1] != 0, "a word over %d bytes is kept but never matches",
           CN_WORD_MAX);
    cn_words_release(&w);
    const char *texts[1] = {text};
    struct cn_index *ix = NULL;
    cn_index_build_texts(texts, 1, 3, &ix, NULL);
    struct cn_scan_result res;
    cn_scan_result_init(&res, ix);
    cn_scan_buffer(ix, text, strlen(text), 0, 0, &res, NULL);
    tap_ok(ix->n_entries == 1 && res.witness[0].file == 0, "n-grams without the overlong word are still indexed "
           "and found");
    cn_scan_result_release(&res);
    cn_index_free(ix);

    /* an example with a word of exactly CN_WORD_MAX bytes; in the corpus that word runs on (overlong), so the
       scanner holds the same first CN_WORD_MAX bytes: it must not match, on any probing path */
    char word[CN_WORD_MAX + 1], example[1024], corpus[4096];
    memset(word, 'z', CN_WORD_MAX);
    word[CN_WORD_MAX] = '\0';
    snprintf(example, sizeof example, "a1 a2 a3 a4 a5 a6 %s a8 a9 a10 a11 a12 a13", word);
    const char *ex[1] = {example};
    int ok = 1;
    for (int regate = 0; regate <= 1; regate++) {
        for (int longer = 0; longer <= 1; longer++) {
            cn_index_build_texts(ex, 1, 13, &ix, NULL);
            if (regate)
                cn_index_regate(ix, 0); /* ungated: sampled probing of the 13-grams */
            snprintf(corpus, sizeof corpus, "b1 b2 b3 b4 b5 b6 b7 a1 a2 a3 a4 a5 a6 %s%s a8 a9 a10 a11 a12 a13 "
                     "b9 b10 b11 b12", word, longer ? "zzzz" : "");
            cn_scan_result_init(&res, ix);
            cn_scan_buffer(ix, corpus, strlen(corpus), 0, 0, &res, NULL);
            ok &= (res.witness[0].file == 0) == !longer;
            cn_scan_result_release(&res);
            cn_index_free(ix);
        }
    }
    tap_ok(ok, "a word of exactly %d bytes matches itself, never the first %d bytes of a longer word (gated and "
           "sampled)", CN_WORD_MAX, CN_WORD_MAX);
}

/* A short example (a gated length) is looked up rarely: its window must be tested while its words are still in
 * the scanner's ring, however many words without lookups follow it. Also a main-length example after it. */
static void test_rare_lookup(void)
{
    const char *texts[2] = {"ember quartz", "one two three four five six"};
    struct cn_index *ix = NULL;
    cn_index_build_texts(texts, 2, 6, &ix, NULL);
    int ok = ix != NULL && (ix->gate_len_mask & ((uint64_t)1 << 2));
    for (int json = 0; ok && json <= 1; json++) {
        char *b = NULL;
        size_t len = 0, cap = 0;
        put_word(&b, &len, &cap, "Ember, QUARTZ!");
        for (int k = 0; k < 300; k++)
            put_word(&b, &len, &cap, k % 7 ? " filler" : " words");
        put_word(&b, &len, &cap, " one two three four five six");
        for (int k = 0; k < 300; k++)
            put_word(&b, &len, &cap, " more");
        struct cn_scan_result res;
        cn_scan_result_init(&res, ix);
        cn_scan_buffer(ix, b, len, json, 0, &res, NULL);
        ok = res.witness[0].file == 0 && res.witness[0].offset == 0 && res.witness[1].file == 0 &&
             res.witness[1].offset == len - 300 * 5 - 27;
        cn_scan_result_release(&res);
        free(b);
    }
    tap_ok(ok, "a rarely looked-up short example followed by 600 words without lookups is found, with its offset");
    cn_index_free(ix);
}

/* The sample filter (index.h, "Sampled probing") holds every sample_len-gram of every main_len entry. The load
 * hashes only the new word of an entry that is the previous one shifted by a word; the examples here repeat
 * words of a small vocabulary, so many n-grams are already in the index, breaking those runs. */
static void test_sample_filter(void)
{
    struct rng r;
    rng_seed(&r, 20261123);
    static const char *const small[] = {"red", "green", "blue", "dark", "light"};
    size_t n_checked = 0, n_missing = 0, n_main = 0;
    for (int round = 0; round < 30; round++) {
        unsigned n = CN_SAMPLE_MIN + (unsigned)(rng_next_u64(&r) % (14 - CN_SAMPLE_MIN));
        char *ex_text[8];
        size_t n_ex = 2 + rng_next_u64(&r) % 6;
        for (size_t e = 0; e < n_ex; e++) {
            char *b = NULL;
            size_t len = 0, cap = 0;
            put_word(&b, &len, &cap, "");
            size_t nw = n + rng_next_u64(&r) % (3 * n);
            for (size_t k = 0; k < nw; k++) {
                put_word(&b, &len, &cap, k ? " " : "");
                put_word(&b, &len, &cap, small[rng_next_u64(&r) % (round % 2 ? 2 : 5)]);
            }
            ex_text[e] = b;
        }
        struct cn_index *ix = NULL;
        if (cn_index_build_texts((const char *const *)ex_text, n_ex, n, &ix, NULL) != GE_OK) {
            n_missing++;
            break;
        }
        cn_index_regate(ix, 0);
        unsigned M = ix->sample_len;
        if (M != n - cn_sample_step(n) + 1)
            n_missing++;
        for (size_t i = 0; M && i < ix->n_entries; i++) {
            const struct cn_entry *en = &ix->entries[i];
            if (en->len != ix->main_len)
                continue;
            n_main++;
            struct cn_words w;
            cn_words_init(&w);
            cn_words_add(&w, ix->text + en->text_off, en->text_len, 0, NULL);
            for (size_t off = 0; off + M <= w.n; off++, n_checked++)
                if (!cn_sample_has(ix->sample_filter, cn_filter_probe(cn_words_ngram_hash(&w, off, M), M),
                                   ix->sample_shift))
                    n_missing++;
            cn_words_release(&w);
        }
        cn_index_free(ix);
        for (size_t e = 0; e < n_ex; e++)
            free(ex_text[e]);
    }
    tap_diag("%zu sample n-grams of %zu entries checked", n_checked, n_main);
    tap_ok(n_missing == 0 && n_checked > 1000, "the sample filter holds every sample n-gram of every main-length "
           "entry, with runs of shifted entries broken by repeated n-grams (%zu missing)", n_missing);
}

int main(void)
{
    char dir[] = "/tmp/test_contamination.XXXXXX";
    if (!mkdtemp(dir))
        return tap_skip_all("cannot make a temporary directory");
    test_cases();
    test_differential();
    test_tokenizer_paths();
    test_boundary(dir);
    test_index_file(dir);
    test_index_changed(dir);
    test_overlong();
    test_rare_lookup();
    test_sample_filter();
    rmdir(dir);
    return tap_done();
}
