/* scan.c — the corpus scan: the tokenizer, n-gram lookup and verification, JSONL documents and the loop over this
 * shard's files (contract in scan.h; the corpus list and part files are in corpus.c).
 *
 * Tokenizer: two paths that split text into the same words (test_contamination checks it on random bytes). The
 * word-at-a-time path (scan_fast) makes three bit masks per 64 bytes (whitespace, ASCII letters and digits, bytes
 * it leaves to the other path: >= 0x80 and JSON backslashes), takes the words from the start/end bits, and hashes
 * a word of letters and digits 8 bytes at a time straight from the input. Any word it cannot take (non-ASCII,
 * escapes, 64 bytes or longer, near a buffer end) goes through the byte loop (scan_scalar), which is the
 * definition of the rule and also runs alone with cn_scan_opts.byte_loop. The word-at-a-time loop is compiled
 * three times (scan_fast_body): a lean one for plain text and one for JSON, for the common index and options
 * (word_loop_is_lean), and a general one: the loop is bound by its instructions per word (docs/contamination.md,
 * "Performance").
 *
 * Lookup (add_word, per word): the word's hash extends a ring of prefix hashes, from which the hash of any window
 * ending there follows in O(1). The main length (index.h) is probed by sampling: every sample_step-th word one
 * filter probe, prefetched and tested CN_SAMPLE_DELAY samples later; a pass probes the main-length windows it
 * covers. Shorter main lengths are probed at every word. Other lengths with few entries are probed only when the
 * gate has the last two words; other lengths with many go through a small queue. A filter pass goes to the hash
 * table; a key match is compared word by word with the entry's text; the first verified hit of an entry gives the
 * witness of each of its examples that has none yet, and the entry is then done (a later hit cannot be earlier
 * in corpus order: each length's windows are tested in word order, and an example's entries have one length).
 *
 * Invariants of struct scanner: words [n_words - CN_RING + 1, n_words) of the current document are in the ring;
 * poison is 1 + the position of the last overlong word of the document (0 = none), so a window starting at
 * position p is valid iff poison <= p.
 *
 * Longer than ~800 lines on purpose: both tokenizer paths and the lookup work on the scanner's ring in one inner
 * loop, and add_word must be inlined into the word-at-a-time path (it is always_inline, which needs its definition
 * here); the JSONL field search, which does not touch the scanner, lives in jsonl_field.c. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "contamination/jsonl_field.h"
#include "contamination/scan.h"
#include "contamination/source.h"
#include "harness/progress.h"
#include "harness/strbuf.h"
#include "harness/xalloc.h"

#define CN_RING 64                 /* words kept; > CN_MAX_N + CN_DEFER so a deferred window is still there (a
                                      lookup is tested at most CN_DEFER words after its window's last word) */
#define CN_PENDING 16              /* lookups in flight: a window's filter word is prefetched when its probe is
                                      made and tested CN_DEFER words later, so cache misses overlap */
#define CN_DEFER 8
#define CN_DEFER_FILTER_BYTES ((size_t)256 << 10) /* a smaller filter is tested at once (it stays in L2) */
#define CN_SAMPLE_DELAY 3          /* a sample's filter word is prefetched, and tested this many samples later */
_Static_assert(CN_SAMPLE_DELAY * CN_SAMPLE_MAX_STEP + CN_MAX_N + 1 <= CN_RING,
               "a sample's main-length windows are still in the ring when it is tested");
#define CN_LEAN_STEP_LOG2 3        /* the lean word loop samples every CN_SAMPLE_MAX_STEP-th word */
_Static_assert(1 << CN_LEAN_STEP_LOG2 == CN_SAMPLE_MAX_STEP, "CN_LEAN_STEP_LOG2 is log2 CN_SAMPLE_MAX_STEP");
#define CN_READ_CAP ((size_t)1 << 20)

struct scanner {
    const struct cn_index *ix;
    struct cn_scan_result *res;
    uint64_t pow[CN_MAX_N + 1];
    unsigned lens[CN_MAX_N];       /* the ungated lengths present in the index other than ix->main_len */
    unsigned n_lens;
    uint64_t main_h[CN_PENDING];   /* [i % CN_PENDING]: the n-gram hash of the main_len window ending at word i of
                                      this document, its filter probe and whether there is one; tested CN_DEFER
                                      words later */
    uint64_t main_p[CN_PENDING];
    uint8_t main_ok[CN_PENDING];
    /* sampled probing (index.h): the probes of the sample windows ending at words i = 0, step, 2 step, ... of the
       document (step = ix->sample_step), [i / step % 4] (and whether there is one), tested CN_SAMPLE_DELAY samples
       later */
    uint64_t samp_p[4];
    uint8_t samp_ok[4];
    uint8_t *done;                 /* (n_entries) 1 once an entry has been hit */
    int byte_loop;                 /* cn_scan_opts.byte_loop */
    cn_word_fn trace;              /* cn_scan_words: called with every word (else NULL) */
    void *trace_arg;
    /* ring of the current document's last words */
    uint64_t prefix[CN_RING];
    uint64_t woff[CN_RING];        /* file offset of each word's first byte */
    uint32_t wlen[CN_RING];
    uint8_t over[CN_RING];         /* 1: the word is longer than CN_WORD_MAX */
    char wtext[CN_RING][CN_WORD_MAX];
    uint64_t n_words;              /* words so far in the document */
    uint64_t last_hash;            /* hash of the document's last word (0: none yet, or overlong) */
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
        uint64_t h;                /* the window's n-gram hash */
        uint64_t probe;            /* its filter probe */
        uint64_t last;             /* position of the window's last word */
        unsigned len;
    } pend[CN_PENDING];
    unsigned pend_head, pend_tail;
};

static void scanner_init(struct scanner *sc, const struct cn_index *ix, struct cn_scan_result *res)
{
    memset(sc, 0, sizeof *sc);
    sc->ix = ix;
    sc->res = res;
    for (unsigned L = 0; L <= CN_MAX_N; L++)
        sc->pow[L] = cn_base_pow(L);
    for (unsigned L = 1; L <= CN_MAX_N; L++) {
        uint64_t bit = (uint64_t)1 << L;
        if ((ix->len_mask & bit) && !(ix->gate_len_mask & bit) && L != ix->main_len)
            sc->lens[sc->n_lens++] = L;
    }
    sc->done = xcalloc(ix->n_entries ? ix->n_entries : 1, 1);
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

/* Looks up the window of L words ending at word i, of n-gram hash h, whose filter bit is set: the table, then the
 * words. */
static void check_key(struct scanner *sc, uint64_t h, uint64_t i, unsigned L)
{
    const struct cn_index *ix = sc->ix;
    uint64_t key = cn_key(h, L);
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

/* The sample window ending at word i0 passed the sample filter: probes the main_len windows ending at words
 * i0 .. i0 + sample_step - 1 (below end), all in the ring. */
static void sample_hit(struct scanner *sc, uint64_t i0, uint64_t end)
{
    unsigned L = sc->ix->main_len;
    for (uint64_t j = i0; j < i0 + sc->ix->sample_step && j < end; j++) {
        if (j + 1 < L)
            continue;
        int valid = 1;
        for (uint64_t k = j + 1 - L; k <= j; k++)
            valid &= !sc->over[k & (CN_RING - 1)];
        if (!valid)
            continue;
        uint64_t before = j + 1 > L ? sc->prefix[(j - L) & (CN_RING - 1)] : 0;
        uint64_t h = sc->prefix[j & (CN_RING - 1)] - before * sc->pow[L];
        sc->res->lookups++;
        if (cn_filter_has(sc->ix->filter, cn_filter_probe(h, L), sc->ix->filter_shift))
            check_key(sc, h, j, L);
    }
}

/* Runs every deferred lookup (before the ring or the document number changes). */
static void drain(struct scanner *sc)
{
    while (sc->pend_head != sc->pend_tail) {
        unsigned k = sc->pend_head++ & (CN_PENDING - 1);
        if (cn_filter_has(sc->ix->filter_other, sc->pend[k].probe, sc->ix->other_shift))
            check_key(sc, sc->pend[k].h, sc->pend[k].last, sc->pend[k].len);
    }
    uint64_t from = sc->n_words > CN_DEFER ? sc->n_words - CN_DEFER : 0;
    for (uint64_t i = from; i < sc->n_words; i++) {
        unsigned k = (unsigned)(i & (CN_PENDING - 1));
        if (sc->main_ok[k] && cn_filter_has(sc->ix->filter, sc->main_p[k], sc->ix->filter_shift))
            check_key(sc, sc->main_h[k], i, sc->ix->main_len);
    }
    memset(sc->main_ok, 0, sizeof sc->main_ok);
    if (sc->ix->sample_len) { /* the samples of the last CN_SAMPLE_DELAY * step words: not tested yet */
        uint64_t step = sc->ix->sample_step, span = CN_SAMPLE_DELAY * step;
        uint64_t first = sc->n_words > span ? sc->n_words - span : 0;
        first = (first + step - 1) & ~(step - 1);
        for (uint64_t i = first; i < sc->n_words; i += step) {
            unsigned k = (unsigned)(i / step) & 3;
            if (sc->samp_ok[k] && cn_sample_has(sc->ix->sample_filter, sc->samp_p[k], sc->ix->sample_shift))
                sample_hit(sc, i, sc->n_words);
        }
        memset(sc->samp_ok, 0, sizeof sc->samp_ok);
    }
}

/* Queues the window of L words ending at word i (prefix hash ph), prefetching its filter word. */
static inline void check_window(struct scanner *sc, uint64_t i, unsigned L, uint64_t ph)
{
    uint64_t before = i + 1 > L ? sc->prefix[(i - L) & (CN_RING - 1)] : 0;
    uint64_t h = ph - before * sc->pow[L];
    uint64_t probe = cn_filter_probe(h, L);
    __builtin_prefetch(&sc->ix->filter_other[probe >> sc->ix->other_shift]);
    sc->res->lookups++;
    if (sc->pend_tail - sc->pend_head >= CN_DEFER) {
        unsigned k = sc->pend_head++ & (CN_PENDING - 1);
        if (cn_filter_has(sc->ix->filter_other, sc->pend[k].probe, sc->ix->other_shift))
            check_key(sc, sc->pend[k].h, sc->pend[k].last, sc->pend[k].len);
    }
    unsigned t = sc->pend_tail++ & (CN_PENDING - 1);
    sc->pend[t].h = h;
    sc->pend[t].probe = probe;
    sc->pend[t].last = i;
    sc->pend[t].len = L;
}

/* Tests the queued lookups that are CN_DEFER words old at word i, so a queued window's words are still in the
 * ring however rare new lookups are. */
static void pend_age(struct scanner *sc, uint64_t i)
{
    while (sc->pend_head != sc->pend_tail) {
        unsigned k = sc->pend_head & (CN_PENDING - 1);
        if (sc->pend[k].last + CN_DEFER > i)
            return;
        sc->pend_head++;
        if (cn_filter_has(sc->ix->filter_other, sc->pend[k].probe, sc->ix->other_shift))
            check_key(sc, sc->pend[k].h, sc->pend[k].last, sc->pend[k].len);
    }
}

/* The word loop's state that changes with every word, and the index constants it reads: scan_fast keeps one in
 * locals (so the compiler holds it in registers across the text stores), word_done loads and stores it. */
struct word_loop {
    uint64_t i;                /* words so far in the document (sc->n_words) */
    uint64_t ph;               /* prefix hash of the last word (0 before the first) */
    uint64_t last_hash;        /* as sc->last_hash */
    uint64_t poison;           /* as sc->poison */
    uint64_t lookups;          /* main-length windows looked up since the load */
    const uint64_t *filter;    /* ix->filter, ix->filter_shift */
    unsigned filter_shift;
    uint64_t main_pow;
    unsigned main_len;
    unsigned sample_len;       /* ix->sample_len, sample_filter, sample_shift; sample_pow = pow[sample_len] */
    const uint64_t *sample_filter;
    unsigned sample_shift;
    uint64_t sample_pow;
    uint64_t sample_salt;      /* cn_filter_salt(sample_len): a sample's probe is its hash ^ sample_salt */
    unsigned sample_step_log2; /* log2 ix->sample_step */
    const uint64_t *gate_any;  /* ix->gate_any when some length is gated, else NULL */
    unsigned gate_any_shift;   /* ix->gate_any_shift */
    int general;               /* other ungated lengths or a trace: word_general for every word */
    int defer;                 /* the filter is larger than CN_DEFER_FILTER_BYTES: main_len lookups are deferred */
    int blank_docs;            /* sc->blank_docs */
};

static inline void loop_load(const struct scanner *sc, struct word_loop *w)
{
    w->i = sc->n_words;
    w->ph = sc->prefix[(sc->n_words - 1) & (CN_RING - 1)]; /* slot of word -1 is 0 (doc_begin) */
    w->last_hash = sc->last_hash;
    w->poison = sc->poison;
    w->lookups = 0;
    w->filter = sc->ix->filter;
    w->filter_shift = sc->ix->filter_shift;
    w->main_pow = sc->pow[sc->ix->main_len];
    w->main_len = sc->ix->main_len;
    w->sample_len = sc->ix->sample_len;
    w->sample_filter = sc->ix->sample_filter;
    w->sample_shift = sc->ix->sample_shift;
    w->sample_pow = sc->pow[sc->ix->sample_len];
    w->sample_salt = cn_filter_salt(sc->ix->sample_len);
    w->sample_step_log2 = sc->ix->sample_step == CN_SAMPLE_MAX_STEP ? CN_LEAN_STEP_LOG2 : 2; /* 8 or 4 */
    w->gate_any = sc->ix->gate_len_mask ? sc->ix->gate_any : NULL;
    w->gate_any_shift = sc->ix->gate_any_shift;
    w->general = sc->n_lens > 0 || sc->trace != NULL;
    w->defer = ((uint64_t)8 << (64 - sc->ix->filter_shift)) > CN_DEFER_FILTER_BYTES;
    w->blank_docs = sc->blank_docs;
}

static inline void loop_store(struct scanner *sc, const struct word_loop *w)
{
    sc->res->words += w->i - sc->n_words;
    sc->file_words += w->i - sc->n_words;
    sc->res->lookups += w->lookups;
    sc->n_words = w->i;
    sc->poison = w->poison;
    sc->last_hash = w->last_hash;
}

/* The rarer half of add_word: a trace, and the ungated lengths other than main_len. */
static void word_general(struct scanner *sc, uint64_t i, uint64_t h, uint32_t len, uint64_t ph, uint64_t poison)
{
    unsigned slot = (unsigned)(i & (CN_RING - 1));
    if (sc->trace)
        sc->trace(sc->trace_arg, sc->wtext[slot], len, len > CN_WORD_MAX ? 0 : h, sc->woff[slot], sc->doc);
    if (poison == i + 1)
        return; /* every window ending here holds the overlong word */
    for (unsigned k = 0; k < sc->n_lens; k++) {
        unsigned L = sc->lens[k];
        if (i + 1 >= L && poison <= i + 1 - L)
            check_window(sc, i, L, ph);
    }
}

/* The gated lengths gm (bit L - 1) some entry ending in the last two words' gate bucket has: few enough to test
 * the filter at once, without the queue. */
static void word_gated(struct scanner *sc, uint64_t i, uint32_t gm, uint64_t ph, uint64_t poison)
{
    if (poison == i + 1)
        return;
    while (gm) {
        unsigned L = (unsigned)__builtin_ctz(gm) + 1;
        gm &= gm - 1;
        if (i + 1 < L || poison > i + 1 - L)
            continue;
        uint64_t before = i + 1 > L ? sc->prefix[(i - L) & (CN_RING - 1)] : 0;
        uint64_t h = ph - before * sc->pow[L];
        sc->res->lookups++;
        if (cn_filter_has(sc->ix->filter_other, cn_filter_probe(h, L), sc->ix->other_shift))
            check_key(sc, h, i, L);
    }
}

/* Adds word w->i, of hash h and len bytes (its offset and text already in its ring slot), and looks up every
 * window that ends with it; len > CN_WORD_MAX marks an overlong word (h unused). lean (a constant where it is
 * inlined, see scan_fast) promises the most common index and corpus: sampled every 8th word, gated, no other
 * ungated length, no trace (word_loop_is_lean), so the word loop has no tests of them. main_len: with sampling,
 * every sample_step-th word probes the sample filter (prefetched, tested CN_SAMPLE_DELAY samples later, sample_hit);
 * without, every word probes the main filter, at once when it is small, else prefetched and tested CN_DEFER words
 * later. Either way each length's windows are tested in word order, so the first hit of an example stays first. */
static inline __attribute__((always_inline)) void add_word(struct scanner *sc, struct word_loop *w, uint64_t h,
                                                           uint32_t len, int lean)
{
    uint64_t i = w->i++;
    unsigned slot = (unsigned)(i & (CN_RING - 1));
    uint64_t hv = h;
    if (!lean && w->general && sc->pend_head != sc->pend_tail) /* only word_general queues lookups */
        pend_age(sc, i);
    if (len > CN_WORD_MAX) {
        w->poison = i + 1;
        hv = 0;
    }
    sc->wlen[slot] = len > CN_WORD_MAX ? CN_WORD_MAX : len;
    sc->over[slot] = len > CN_WORD_MAX;
    uint64_t ph = w->ph * CN_HASH_BASE + hv;
    w->ph = ph;
    sc->prefix[slot] = ph;
    unsigned L = w->main_len;
    if (lean || w->sample_len) {
        unsigned step_log2 = lean ? CN_LEAN_STEP_LOG2 : w->sample_step_log2;
        if ((i & ((1u << step_log2) - 1)) == 0) { /* a sampled word: its probe now, an earlier sample's tested */
            unsigned M = w->sample_len;
            unsigned now = (unsigned)(i >> step_log2) & 3, back = (now - CN_SAMPLE_DELAY) & 3;
            uint64_t old_p = sc->samp_p[back];
            int old_ok = sc->samp_ok[back];
            uint64_t probe = 0;
            int ok = i + 1 >= w->poison + M; /* the M words ending here are in the document, none overlong */
            if (ok) {
                uint64_t hm = ph - sc->prefix[(i - M) & (CN_RING - 1)] * w->sample_pow; /* slot of word -1 is 0 */
                probe = hm ^ w->sample_salt; /* cn_filter_probe(hm, M) */
                __builtin_prefetch(&w->sample_filter[probe >> w->sample_shift]);
                w->lookups++;
            }
            sc->samp_p[now] = probe;
            sc->samp_ok[now] = (uint8_t)ok;
            if (old_ok && cn_sample_has(w->sample_filter, old_p, w->sample_shift))
                sample_hit(sc, i - ((uint64_t)CN_SAMPLE_DELAY << step_log2), i);
        }
    } else if (L) {
        uint64_t hw = 0, probe = 0;
        int ok = 0;
        if (i + 1 >= L && w->poison <= i + 1 - L) {
            /* prefix[(i - L) mod CN_RING]: the hash of the words before the window (slot of word -1 is 0) */
            hw = ph - sc->prefix[(i - L) & (CN_RING - 1)] * w->main_pow;
            probe = cn_filter_probe(hw, L);
            ok = 1;
            w->lookups++;
        }
        if (!w->defer) { /* a filter that stays in cache: no need to overlap misses */
            if (ok && cn_filter_has(w->filter, probe, w->filter_shift))
                check_key(sc, hw, i, L);
        } else {
            if (ok)
                __builtin_prefetch(&w->filter[probe >> w->filter_shift]);
            unsigned old = (unsigned)((i - CN_DEFER) & (CN_PENDING - 1)), now = (unsigned)(i & (CN_PENDING - 1));
            uint64_t old_h = sc->main_h[old], old_p = sc->main_p[old];
            int old_ok = sc->main_ok[old];
            sc->main_h[now] = hw;
            sc->main_p[now] = probe;
            sc->main_ok[now] = (uint8_t)ok;
            if (old_ok && cn_filter_has(w->filter, old_p, w->filter_shift))
                check_key(sc, old_h, i - CN_DEFER, L);
        }
    }
    uint64_t prev = w->last_hash;
    w->last_hash = hv;
    if ((lean || w->gate_any) && cn_gate_has(w->gate_any, w->gate_any_shift, prev, hv)) /* the last two words */
        word_gated(sc, i, sc->ix->gate[cn_gate_index(prev, hv, sc->ix->gate_bits)], ph, w->poison);
    if (!lean && w->general)
        word_general(sc, i, h, len, ph, w->poison);
}

/* add_word for the byte loop. */
static void word_done(struct scanner *sc, uint64_t h, uint32_t len)
{
    struct word_loop w;
    loop_load(sc, &w);
    add_word(sc, &w, h, len, 0);
    loop_store(sc, &w);
}

/* Ends the current word of the byte loop (if any). */
static void word_end(struct scanner *sc)
{
    if (!sc->in_word)
        return;
    sc->in_word = 0;
    uint32_t len = sc->cur_len;
    word_done(sc, len > CN_WORD_MAX ? 0 : cn_hash_final(sc->hacc, sc->htail, len), len);
}

static void doc_begin(struct scanner *sc)
{
    drain(sc);
    sc->prefix[CN_RING - 1] = 0; /* word -1 (add_word) */
    sc->last_hash = 0;
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

/* A '\n' of plain text with --text-docs blank: a line without text after text ends the document. */
static void line_end(struct scanner *sc)
{
    if (!sc->line_has_text && sc->doc_has_text) {
        drain(sc);
        sc->res->docs++;
        sc->doc++;
        doc_begin(sc);
        sc->doc_has_text = 0;
    }
    sc->line_has_text = 0;
}

/* The byte loop: tokenizes s[p..n) (file offsets base..) as plain text or, json = 1, as the inside of a JSON
 * string. Returns the offset reached: n unless a UTF-8 sequence is cut by the end and final == 0. A malformed
 * JSON escape counts as invalid input and its backslash is ignored. */
static size_t scan_scalar(struct scanner *sc, const uint8_t *s, size_t p, size_t n, uint64_t base, int json,
                          int final)
{
    const uint8_t *cls = json ? cn_json_class : cn_ascii_class;
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
            if (s[p] == '\n' && sc->blank_docs)
                line_end(sc);
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
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                invalid = 1; /* a lone surrogate: ignored like an encoded one, and reported like it */
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

/* ---- the word-at-a-time path ---------------------------------------------------------------------------------
 * Most text is ASCII words of letters and digits between ASCII whitespace. For 64 bytes at a time three bit masks
 * are made (SSE2 where available): whitespace (class CN_SEP), letters and digits, and bytes the byte loop must see
 * (>= 0x80, and a JSON backslash). A word of letters and digits is then hashed 8 bytes at a time straight from the
 * input (OR 0x20 lowercases a letter and leaves a digit as it is); a word with ASCII punctuation is compacted
 * through the class table; any other word goes through the byte loop, which stays the definition
 * (test_contamination checks that both paths split random bytes into the same words). */

struct byte_masks {
    uint64_t sep;    /* bit k: byte k is ASCII whitespace */
    uint64_t alnum;  /* bit k: an ASCII letter or digit */
    uint64_t slow;   /* bit k: >= 0x80, or a JSON backslash */
};

#if defined(__SSE2__)
#include <emmintrin.h>

/* 0xFF where lo <= x <= hi (bytes as unsigned, hi - lo < 127). */
static inline __m128i bytes_in_range(__m128i x, int lo, int hi)
{
    __m128i y = _mm_add_epi8(x, _mm_set1_epi8((char)(-128 - lo)));
    return _mm_cmplt_epi8(y, _mm_set1_epi8((char)(-128 + hi - lo + 1)));
}

static inline void masks_at(const uint8_t *s, int json, struct byte_masks *m)
{
    uint64_t sep = 0, alnum = 0, slow = 0;
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * k));
        __m128i ws = _mm_or_si128(bytes_in_range(x, 0x09, 0x0D), bytes_in_range(x, 0x1C, 0x20));
        __m128i an = _mm_or_si128(bytes_in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z'),
                                  bytes_in_range(x, '0', '9'));
        __m128i sl = json ? _mm_or_si128(x, _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))) : x;
        sep |= (uint64_t)(unsigned)_mm_movemask_epi8(ws) << (16 * k);
        alnum |= (uint64_t)(unsigned)_mm_movemask_epi8(an) << (16 * k);
        slow |= (uint64_t)(unsigned)_mm_movemask_epi8(sl) << (16 * k);
    }
    m->sep = sep;
    m->alnum = alnum;
    m->slow = slow;
}
#else
static inline void masks_at(const uint8_t *s, int json, struct byte_masks *m)
{
    const uint8_t *cls = json ? cn_json_class : cn_ascii_class;
    uint64_t sep = 0, alnum = 0, slow = 0;
    for (unsigned k = 0; k < 64; k++) {
        uint8_t c = cls[s[k]];
        sep |= (uint64_t)(c == CN_SEP) << k;
        alnum |= (uint64_t)((uint8_t)(c - 1) < 0x7F) << k;
        slow |= (uint64_t)(c == CN_SLOW || c == CN_ESC) << k;
    }
    m->sep = sep;
    m->alnum = alnum;
    m->slow = slow;
}
#endif

/* The 8 bytes at p as a little-endian integer (the order of cn_hash_chunk's chunks), and back. */
static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void store_le64(char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* The bytes of a word of len <= 16 bytes in its first and second 8-byte chunk: [len][0] and [len][1]. */
static const uint64_t chunk_keep[17][2] = {
    {0, 0}, {0xFF, 0}, {0xFFFF, 0}, {0xFFFFFF, 0}, {0xFFFFFFFF, 0}, {0xFFFFFFFFFF, 0}, {0xFFFFFFFFFFFF, 0},
    {0xFFFFFFFFFFFFFF, 0}, {~0ull, 0}, {~0ull, 0xFF}, {~0ull, 0xFFFF}, {~0ull, 0xFFFFFF}, {~0ull, 0xFFFFFFFF},
    {~0ull, 0xFFFFFFFFFF}, {~0ull, 0xFFFFFFFFFFFF}, {~0ull, 0xFFFFFFFFFFFFFF}, {~0ull, ~0ull}};

/* Adds the word of letters and digits s[q..q+len) (len 1..63, s readable up to s_end; when len <= 16, s[q..q+16)
 * is readable), lowercased, to the ring. */
static inline __attribute__((always_inline)) void alnum_word(struct scanner *sc, struct word_loop *wl,
                                                            const uint8_t *s, size_t q, uint32_t len,
                                                            const uint8_t *s_end, uint64_t off, int lean)
{
    if (len > 63)
        __builtin_unreachable(); /* so add_word's tests of an overlong word go */
    unsigned slot = (unsigned)(wl->i & (CN_RING - 1));
    char *dst = sc->wtext[slot];
    const uint8_t *w = s + q;
    sc->woff[slot] = off;
    if (len <= 16) { /* most words: one or two chunks, without a branch on the length */
        uint64_t v0 = (load_le64(w) | 0x2020202020202020ull) & chunk_keep[len][0];
        uint64_t v1 = (load_le64(w + 8) | 0x2020202020202020ull) & chunk_keep[len][1];
        store_le64(dst, v0);
        store_le64(dst + 8, v1);
        uint64_t h1 = cn_hash_chunk(CN_HASH_SEED, v0), h2 = cn_hash_chunk(h1, v1);
        add_word(sc, wl, cn_hash_finish(len > 8 ? h2 : h1, len), len, lean);
        return;
    }
    uint64_t h = CN_HASH_SEED;
    uint32_t k = 0;
    for (; k + 8 <= len; k += 8) {
        uint64_t v = load_le64(w + k) | 0x2020202020202020ull;
        store_le64(dst + k, v);
        h = cn_hash_chunk(h, v);
    }
    uint64_t tail = 0;
    if (k < len) {
        uint32_t r = len - k;
        uint64_t keep = ((uint64_t)1 << (8 * r)) - 1;
        if (w + k + 8 <= s_end) {
            tail = load_le64(w + k);
        } else {
            for (uint32_t j = 0; j < r; j++)
                tail |= (uint64_t)w[k + j] << (8 * j);
        }
        tail = (tail | 0x2020202020202020ull) & keep;
        store_le64(dst + k, tail); /* the slot has CN_WORD_MAX >= 64 bytes */
    }
    add_word(sc, wl, cn_hash_final(h, tail, len), len, lean);
}

/* Writes the letters and digits of the ASCII word s[q..q+len) (kept: their bits), lowercased, to dst; returns
 * how many. */
static uint32_t ascii_compact(char *dst, const uint8_t *s, size_t q, uint32_t len, uint64_t kept)
{
    uint32_t n = 0;
    for (uint32_t k = (uint32_t)__builtin_ctzll(kept); k < len; k++) {
        uint8_t c = cn_ascii_class[s[q + k]];
        if (c != CN_IGNORE)
            dst[n++] = (char)c;
    }
    return n;
}

/* One word s[q..q+len) (whitespace before and after it) of the word-at-a-time path; kept_bits and slow_bits are
 * its bytes' masks (bit 0 = s[q]), valid for len < 64. done is the end of the previous word. */
static inline __attribute__((always_inline)) void fast_word(struct scanner *sc, struct word_loop *wl,
                                                           const uint8_t *s, size_t done, size_t q, size_t len,
                                                           uint64_t kept_bits, uint64_t slow_bits, size_t n,
                                                           uint64_t base, int json, int lean)
{
    if (!lean && wl->blank_docs && memchr(s + done, '\n', q - done)) { /* the whitespace since the last word */
        loop_store(sc, wl);
        for (size_t k = done; k < q; k++)
            if (s[k] == '\n')
                line_end(sc);
        loop_load(sc, wl);
    }
    uint64_t in_word = len >= 64 ? ~0ull : ((uint64_t)1 << len) - 1;
    uint64_t kept = kept_bits & in_word;
    if (len >= 64 || (slow_bits & in_word)) {
        loop_store(sc, wl);
        scan_scalar(sc, s, q, q + len, base, json, 1); /* a sequence cut at the end is invalid either way */
        word_end(sc);
        loop_load(sc, wl);
        return;
    }
    if (!lean && wl->blank_docs) /* (the flags matter only there) */
        sc->line_has_text = sc->doc_has_text = 1;
    if (!kept)
        return; /* only punctuation */
    uint32_t lead = (uint32_t)__builtin_ctzll(kept);
    uint64_t run = kept >> lead;
    if ((run & (run + 1)) == 0) /* letters and digits, maybe with punctuation around them */
        alnum_word(sc, wl, s, q + lead, (uint32_t)__builtin_ctzll(~run), s + n, base + q + lead, lean);
    else { /* punctuation inside the word */
        unsigned slot = (unsigned)(wl->i & (CN_RING - 1));
        uint32_t k = ascii_compact(sc->wtext[slot], s, q, (uint32_t)len, kept);
        sc->woff[slot] = base + q + lead;
        add_word(sc, wl, cn_word_hash(sc->wtext[slot], k), k, lean);
    }
}

/* fast_word for a word inside the 64-byte block at s[b]: bytes b + rq .. b + re - 1 (0 <= rq < re < 64), m the
 * block's masks. The same, with fewer instructions: the word's bits are tested in place in the block's masks. */
static inline __attribute__((always_inline)) void block_word(struct scanner *sc, struct word_loop *wl,
                                                            const uint8_t *s, size_t b, unsigned rq, unsigned re,
                                                            size_t done, const struct byte_masks *m, size_t n,
                                                            uint64_t base, int json, int lean)
{
    uint64_t word = ((uint64_t)1 << re) - ((uint64_t)1 << rq);
    uint64_t kept = m->alnum & word;
    unsigned lead = kept ? (unsigned)__builtin_ctzll(kept) : 0;
    uint64_t run = kept >> lead;
    if ((!lean && wl->blank_docs) || (m->slow & word) || (run & (run + 1))) {
        /* blank-line documents, bytes for the byte loop, or punctuation inside the word */
        fast_word(sc, wl, s, done, b + rq, re - rq, kept >> rq, (m->slow & word) >> rq, n, base, json, lean);
        return;
    }
    if (!kept)
        return; /* only punctuation */
    alnum_word(sc, wl, s, b + lead, (uint32_t)__builtin_ctzll(~run), s + n, base + b + lead, lean);
}

/* Tokenizes from s[p] (between words: sc->in_word == 0) in blocks of 64 bytes: per block the bits where words
 * start and end are made from the whitespace mask, and the words are taken in order from them. Returns where it
 * stopped: the end of the last word it handled (or p), so the byte loop goes on from there. */
static inline __attribute__((always_inline)) size_t scan_fast_body(struct scanner *sc, const uint8_t *s, size_t p,
                                                                   size_t n, uint64_t base, int json, int lean)
{
    size_t done = p;           /* every byte before this is handled */
    size_t open = SIZE_MAX;    /* start of a word that runs past the current block */
    uint64_t prev_sep = 1;     /* bit 0: the byte before the block is whitespace (p is between words) */
    uint64_t prev_alnum = 0, prev_slow = 0; /* the previous block's masks */
    struct word_loop wl;
    loop_load(sc, &wl);
    /* 16 bytes past a block stay readable, so that alnum_word may read a short word's two chunks at once */
    for (size_t b = p; n >= 80 && b <= n - 80; b += 64) {
        struct byte_masks m;
        masks_at(s + b, json, &m);
        uint64_t after_sep = (m.sep << 1) | prev_sep; /* bit k: byte k - 1 is whitespace */
        uint64_t starts = ~m.sep & after_sep, ends = m.sep & ~after_sep;
        prev_sep = m.sep >> 63;
        if (open != SIZE_MAX) {
            if (!ends)
                continue; /* the open word runs through this block */
            size_t e = b + (size_t)__builtin_ctzll(ends);
            ends &= ends - 1;
            struct byte_masks mw = {0, 0, 0};
            if (e - open < 64) { /* (else a long word, for the byte loop) it began in the previous block, at bit r */
                unsigned r = (unsigned)(open - (b - 64));
                mw.alnum = prev_alnum >> r | m.alnum << (64 - r);
                mw.slow = prev_slow >> r | m.slow << (64 - r);
            }
            fast_word(sc, &wl, s, done, open, e - open, mw.alnum, mw.slow, n, base, json, lean);
            done = e;
            open = SIZE_MAX;
        }
        while (starts) {
            unsigned rq = (unsigned)__builtin_ctzll(starts);
            starts &= starts - 1;
            if (!ends) {
                open = b + rq;
                break;
            }
            unsigned re = (unsigned)__builtin_ctzll(ends);
            ends &= ends - 1;
            block_word(sc, &wl, s, b, rq, re, done, &m, n, base, json, lean);
            done = b + re;
        }
        prev_alnum = m.alnum; /* (a block the open word runs through skips this: that word is long) */
        prev_slow = m.slow;
    }
    loop_store(sc, &wl);
    return done;
}

/* scan_fast_body compiled three times: the word loop of the most common index and corpus (word_loop_is_lean) for
 * plain text and for JSON, where every test of what the index or the options have is gone (29 of 204 instructions
 * per word when it was made, cachegrind), and the general one. */
static size_t scan_fast_lean_text(struct scanner *sc, const uint8_t *s, size_t p, size_t n, uint64_t base)
{
    return scan_fast_body(sc, s, p, n, base, 0, 1);
}

static size_t scan_fast_lean_json(struct scanner *sc, const uint8_t *s, size_t p, size_t n, uint64_t base)
{
    return scan_fast_body(sc, s, p, n, base, 1, 1);
}

static size_t scan_fast_general(struct scanner *sc, const uint8_t *s, size_t p, size_t n, uint64_t base, int json)
{
    return scan_fast_body(sc, s, p, n, base, json, 0);
}

/* The promise of add_word's lean: the index is sampled every 8th word and gated, and nothing else is looked up or
 * traced. */
static int word_loop_is_lean(const struct scanner *sc)
{
    return sc->ix->sample_step == CN_SAMPLE_MAX_STEP && sc->ix->gate_len_mask && sc->n_lens == 0 && !sc->trace &&
           !sc->blank_docs;
}

static size_t scan_fast(struct scanner *sc, const uint8_t *s, size_t p, size_t n, uint64_t base, int json)
{
    if (!word_loop_is_lean(sc))
        return scan_fast_general(sc, s, p, n, base, json);
    return json ? scan_fast_lean_json(sc, s, p, n, base) : scan_fast_lean_text(sc, s, p, n, base);
}

/* Tokenizes s[0..n) (file offsets base..): the word-at-a-time path where it applies, the byte loop elsewhere.
 * Returns the bytes consumed: all of them unless a UTF-8 sequence is cut by the end and final == 0. */
static size_t scan_bytes(struct scanner *sc, const uint8_t *s, size_t n, uint64_t base, int json, int final)
{
    size_t p = 0;
    if (sc->in_word) { /* a word carried over from the previous read: the byte loop up to its end */
        const uint8_t *cls = json ? cn_json_class : cn_ascii_class;
        size_t w = 0;
        while (w < n && cls[s[w]] != CN_SEP)
            w++;
        if (w == n)
            return scan_scalar(sc, s, 0, n, base, json, final);
        p = scan_scalar(sc, s, 0, w, base, json, 1);
        word_end(sc);
    }
    if (!sc->byte_loop)
        p = scan_fast(sc, s, p, n, base, json);
    return scan_scalar(sc, s, p, n, base, json, final);
}

/* ---- warnings ---------------------------------------------------------------------------------------------- */

struct run_state {
    const struct cn_scan_opts *o;
    const char *path;
    struct cn_file_result *fr;
    size_t n_printed;
    struct progress *prog;     /* NULL without o->progress */
    uint64_t prog_before;      /* bytes read from this shard's earlier files */
};

/* Reports the bytes read so far (src: the current file). */
static void scan_progress(struct run_state *rs, const struct cn_source *src)
{
    if (!rs->prog)
        return;
    uint64_t mib = (rs->prog_before + cn_source_in_bytes(src) + (1 << 20) - 1) >> 20; /* as the total: rounded up */
    if (rs->prog->total && mib > rs->prog->total) /* a file that grew since the scan began */
        mib = rs->prog->total;
    progress_update(rs->prog, mib, progress_now());
}

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

/* One JSONL line (file offset base, document number sc->doc). */
static int jsonl_line(struct scanner *sc, struct run_state *rs, const uint8_t *s, size_t n, uint64_t base,
                      struct ge_error *err)
{
    if (cn_jsonl_blank(s, n))
        return GE_OK; /* blank line: no document */
    size_t vs = 0, ve = 0;
    int f = cn_jsonl_field(s, n, rs->o->text_field, &vs, &ve);
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
        scan_progress(rs, src);
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
        scan_progress(rs, src);
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

static int has_suffix(const char *s, const char *suf) /* ASCII case ignored: x.JSONL.GZ is JSONL too */
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
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

void cn_scan_words(const struct cn_index *ix, const char *text, size_t len, int json, int blank_docs, int byte_loop,
                   size_t piece, cn_word_fn fn, void *arg)
{
    struct scanner *sc = xmalloc(sizeof *sc);
    struct cn_scan_result res;
    cn_scan_result_init(&res, ix);
    scanner_init(sc, ix, &res);
    sc->byte_loop = byte_loop;
    sc->blank_docs = blank_docs;
    sc->trace = fn;
    sc->trace_arg = arg;
    doc_begin(sc);
    const uint8_t *s = (const uint8_t *)text;
    size_t off = 0, end = 0;
    for (;;) { /* reads of `piece` bytes; what a read leaves unconsumed comes again with the next, as in scan_text */
        end = piece == 0 || len - end <= piece ? len : end + piece;
        off += scan_bytes(sc, s + off, end - off, off, json, end == len);
        if (end == len)
            break;
    }
    word_end(sc);
    drain(sc);
    scanner_release(sc);
    free(sc);
    cn_scan_result_release(&res);
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
    sc->byte_loop = o->byte_loop;
    uint8_t *buf = xmalloc(CN_READ_CAP);
    int rc = GE_OK;
    struct run_state rs = {.o = o};
    struct progress prog;
    if (o->progress) { /* the total from the files' sizes; unknown when one is not a regular file */
        uint64_t total = 0;
        int known = 1;
        for (size_t k = o->shard_index; k < corpus->n; k += o->shard_count) {
            struct stat st;
            if (stat(corpus->paths[k], &st) == 0 && S_ISREG(st.st_mode))
                total += (uint64_t)st.st_size;
            else
                known = 0;
        }
        char label[64];
        snprintf(label, sizeof label, "scan %u/%u, MiB", o->shard_index, o->shard_count);
        progress_start(&prog, o->progress, o->progress_tty, label, known ? (total + (1 << 20) - 1) >> 20 : 0,
                       progress_now());
        rs.prog = &prog;
    }
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
            rs.prog_before += cn_source_in_bytes(src);
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
    if (rs.prog)
        progress_finish(rs.prog, progress_now());
    free(buf);
    scanner_release(sc);
    free(sc);
    if (rc == GE_OK)
        rc = cn_index_check_file(ix, err);
    return rc;
}
