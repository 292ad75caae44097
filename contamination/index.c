/* index.c — building, writing, loading and looking up the contamination index (format and invariants in index.h).
 *
 * Building keeps every example's words in memory for one task at a time (GPT-3's rule needs the lengths of all of
 * a task's examples before its n-grams are cut); entries are deduplicated through a temporary hash table keyed
 * like the final one, and (entry, example) pairs are sorted into postings at the end.
 *
 * Past ~800 lines because building, loading and cn_index_regate all end in the same private layout code (the
 * table, the filters, the gate and the sample filter), which the file format must not know about and which
 * nothing else may call. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contamination/index.h"
#include "harness/fileio.h"
#include "harness/outfile.h"
#include "harness/sha256.h"
#include "harness/xalloc.h"
#include "tasks/dataset.h"
#include "tasks/registry.h"
#include "tasks/task.h"

#define CN_MAX_ENTRIES ((size_t)1 << 31)

/* ---- example text ------------------------------------------------------------------------------------------ */

/* Prompt labels our task formats put at the start of a line (the tasks/ modules); removed with their colon. */
static const char *const prompt_labels[] = {
    "Question", "Answer", "Q", "A", "Passage", "Article", "Title", "Background", "Sentence 1", "Sentence 2", NULL,
};

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

char *cn_example_text(const struct task *t, const struct task_doc *d)
{
    size_t len = 0, cap = 0;
    char *buf = NULL;
    append(&buf, &len, &cap, "", 0);
    const char *q = d->query;
    if (t->kind == TASK_MULTIPLE_CHOICE && d->contexts && d->n_gold > 0)
        q = d->contexts[d->gold[0]];
    while (*q) {
        const char *nl = strchr(q, '\n');
        size_t n = nl ? (size_t)(nl - q) : strlen(q);
        const char *line = q;
        for (int i = 0; prompt_labels[i]; i++) {
            size_t k = strlen(prompt_labels[i]);
            if (n > k && strncmp(line, prompt_labels[i], k) == 0 && line[k] == ':' &&
                (n == k + 1 || line[k + 1] == ' ')) {
                line += k + 1;
                break;
            }
        }
        append(&buf, &len, &cap, line, n - (size_t)(line - q));
        append(&buf, &len, &cap, "\n", 1);
        q += n + (nl ? 1 : 0);
    }
    const char *gold = NULL;
    if (t->kind == TASK_MULTIPLE_CHOICE && d->n_gold > 0 && d->gold[0] < d->n_choices)
        gold = d->choices[d->gold[0]];
    else if (t->kind == TASK_GENERATE && d->n_answers > 0)
        gold = d->answers[0];
    if (gold) {
        append(&buf, &len, &cap, " ", 1);
        append(&buf, &len, &cap, gold, strlen(gold));
    }
    return buf;
}

/* ---- the hash table ---------------------------------------------------------------------------------------- */

int64_t cn_index_next(const struct cn_index *ix, int64_t s, uint64_t key)
{
    uint64_t p = ((uint64_t)s + 1) & ix->table_mask;
    for (;;) {
        uint64_t k = ix->table_key[p];
        if (k == key)
            return (int64_t)p;
        if (k == 0)
            return -1;
        p = (p + 1) & ix->table_mask;
    }
}

/* Memory for a large array, asking for huge pages: fewer TLB misses in the scan, and one page fault per 2 MiB
 * instead of per 4 KiB while it is filled (page faults were a third of loading a 300 MB index). */
static void *big_alloc(size_t bytes)
{
    void *p = NULL;
    size_t align = (size_t)2 << 20;
    if (bytes >= align && posix_memalign(&p, align, bytes) == 0) {
#ifdef MADV_HUGEPAGE
        madvise(p, bytes, MADV_HUGEPAGE);
#endif
        return p;
    }
    return xmalloc(bytes ? bytes : 1);
}

/* big_alloc, zeroed. */
static void *big_zalloc(size_t bytes)
{
    void *p = big_alloc(bytes);
    memset(p, 0, bytes ? bytes : 1);
    return p;
}

static void table_alloc(struct cn_index *ix, size_t n_entries)
{
    unsigned bits = 10;
    while (((uint64_t)1 << bits) < 2 * (uint64_t)n_entries)
        bits++;
    ix->table_mask = ((uint64_t)1 << bits) - 1;
    ix->table_shift = 64 - bits;
    free(ix->table_key);
    free(ix->table_val);
    ix->table_key = big_zalloc((ix->table_mask + 1) * sizeof *ix->table_key);
    ix->table_val = big_zalloc((ix->table_mask + 1) * sizeof *ix->table_val);
}

static void table_put(struct cn_index *ix, uint64_t key, uint32_t val)
{
    uint64_t s = key >> ix->table_shift;
    while (ix->table_key[s] != 0)
        s = (s + 1) & ix->table_mask;
    ix->table_key[s] = key;
    ix->table_val[s] = val;
}

/* The hashes of an entry's e->len words, read from its text (the words separated by single spaces), without
 * allocating: the index has millions of entries. */
static void entry_word_hashes(const struct cn_index *ix, const struct cn_entry *e, uint64_t wh[CN_MAX_N])
{
    const char *t = ix->text + e->text_off;
    size_t a = 0;
    for (unsigned k = 0; k < e->len; k++) {
        size_t b = a;
        if (a < e->text_len) {
            const char *sp = memchr(t + a, ' ', e->text_len - a);
            b = sp ? (size_t)(sp - t) : e->text_len;
        }
        wh[k] = cn_word_hash(t + a, b - a);
        a = b + 1;
    }
}

/* Word hashes of a run of entries, reusing the previous entry's where an entry is the previous one shifted by a
 * word: an example's consecutive n-grams are consecutive entries (when not already in the index), so hashing
 * each entry's words from scratch hashed every word L times; a quarter of a large index's load went there. */
struct entry_hasher {
    const struct cn_entry *prev; /* the entry wh holds (NULL: none yet) */
    uint64_t wh[CN_MAX_N];       /* prev's word hashes */
};

/* Sets h->wh to e's word hashes. Returns 1 when e's first e->len - 1 words are the previous entry's last ones
 * (checked on the text, so whatever the order of the entries), else 0. */
static int entry_hasher_next(const struct cn_index *ix, struct entry_hasher *h, const struct cn_entry *e)
{
    const struct cn_entry *p = h->prev;
    h->prev = e;
    if (p && p->len == e->len && e->len >= 2) {
        const char *pt = ix->text + p->text_off, *et = ix->text + e->text_off;
        const char *sp = memchr(pt, ' ', p->text_len);
        size_t rest = sp ? p->text_len - (size_t)(sp + 1 - pt) : 0; /* p's words after its first, with spaces */
        if (sp && e->text_len > rest + 1 && et[rest] == ' ' && memcmp(et, sp + 1, rest) == 0) {
            memmove(h->wh, h->wh + 1, (e->len - 1) * sizeof *h->wh);
            h->wh[e->len - 1] = cn_word_hash(et + rest + 1, e->text_len - rest - 1); /* the one new word */
            return 1;
        }
    }
    entry_word_hashes(ix, e, h->wh);
    return 0;
}

/* Adds an entry (of at least two words) to the gate: its last two words. */
static void entry_gate_add(struct cn_index *ix, const struct cn_entry *e)
{
    uint64_t wh[CN_MAX_N];
    entry_word_hashes(ix, e, wh);
    uint64_t a = wh[e->len - 2], b = wh[e->len - 1], g = cn_gate_pair(a, b);
    ix->gate[cn_gate_index(a, b, ix->gate_bits)] |= (uint32_t)1 << (e->len - 1);
    ix->gate_any[g >> ix->gate_any_shift] |= (uint64_t)1 << (g & 63);
}

/* The size of a filter for n keys: log2 of its bits (16 bits per key, at least 2^16). */
static unsigned filter_log2(size_t n)
{
    unsigned flog = 16;
    while (((uint64_t)1 << flog) < 16 * (uint64_t)n)
        flog++;
    return flog;
}

/* Filter bits are set in batches: every probe's word is prefetched first, then all are set, so the cache misses
 * of a filter larger than the cache overlap (with the table's, these writes are what is left of a large index's
 * load). */
#define FILTER_BATCH 256
struct filter_batch {
    uint64_t *filter;
    unsigned shift;
    int sample;        /* the sample filter: cn_sample_bits (else cn_filter_bits) */
    uint64_t probe[FILTER_BATCH];
    size_t n;
};

static void filter_batch_flush(struct filter_batch *b)
{
    for (size_t k = 0; k < b->n; k++)
        b->filter[b->probe[k] >> b->shift] |= b->sample ? cn_sample_bits(b->probe[k]) : cn_filter_bits(b->probe[k]);
    b->n = 0;
}

static void filter_batch_add(struct filter_batch *b, uint64_t probe)
{
    if (b->n == FILTER_BATCH)
        filter_batch_flush(b);
    __builtin_prefetch(&b->filter[probe >> b->shift], 1);
    b->probe[b->n++] = probe;
}

/* Builds the sample filter of main_len (index.h, "Sampled probing"). */
static void sample_finish(struct cn_index *ix)
{
    unsigned L = ix->main_len, step = cn_sample_step(L), M = L - (step - 1);
    size_t n_main = 0;
    for (size_t i = 0; i < ix->n_entries; i++)
        n_main += ix->entries[i].len == L;
    /* consecutive n-grams of an example share their sub-grams: about one new sample_len-gram per entry, plus
       step - 1 at the end of each example */
    unsigned flog = filter_log2(n_main + (step - 1) * ix->n_examples);
    ix->sample_step = step;
    ix->sample_len = M;
    ix->sample_shift = 64 - (flog - 6);
    ix->sample_filter = big_zalloc(((size_t)1 << flog) / 8);
    struct filter_batch b = {.filter = ix->sample_filter, .shift = ix->sample_shift, .sample = 1};
    struct entry_hasher eh = {0};
    for (size_t i = 0; i < ix->n_entries; i++) {
        const struct cn_entry *e = &ix->entries[i];
        if (e->len != L)
            continue;
        /* a shifted entry's sample_len-grams but the last are the previous entry's, whose grams are all in the
           filter already (by induction from the last entry that was not shifted) */
        unsigned first = entry_hasher_next(ix, &eh, e) ? L - M : 0;
        for (unsigned off = first; off + M <= L; off++) {
            uint64_t h = 0;
            for (unsigned k = off; k < off + M; k++)
                h = h * CN_HASH_BASE + eh.wh[k];
            filter_batch_add(&b, cn_filter_probe(h, M));
        }
    }
    filter_batch_flush(&b);
}

/* Fills the lookup structures from the entries; lengths 2.. with at most gate_max entries are gated. */
static void index_layout(struct cn_index *ix, size_t gate_max)
{
    size_t count[CN_MAX_N + 1] = {0};
    ix->len_mask = ix->gate_len_mask = 0;
    table_alloc(ix, ix->n_entries);
    for (size_t i = 0; i < ix->n_entries; i++) {
        if (i + 16 < ix->n_entries) { /* the slot 16 entries on: its cache miss overlaps these inserts */
            uint64_t slot = ix->entries[i + 16].key >> ix->table_shift;
            __builtin_prefetch(&ix->table_key[slot], 1);
            __builtin_prefetch(&ix->table_val[slot], 1);
        }
        table_put(ix, ix->entries[i].key, (uint32_t)i);
        count[ix->entries[i].len]++;
        ix->len_mask |= (uint64_t)1 << ix->entries[i].len;
    }
    size_t n_gated = 0;
    for (unsigned L = 2; L <= CN_MAX_N; L++)
        if (count[L] > 0 && count[L] <= gate_max) {
            n_gated += count[L];
            ix->gate_len_mask |= (uint64_t)1 << L;
        }
    ix->main_len = 0;
    for (unsigned L = 1; L <= CN_MAX_N; L++)
        if (count[L] > 0 && !(ix->gate_len_mask & ((uint64_t)1 << L)) && (!ix->main_len || count[L] > count[ix->main_len]))
            ix->main_len = L;
    /* the filters: of main_len, and of every other length */
    unsigned flog = filter_log2(count[ix->main_len]), olog = filter_log2(ix->n_entries - count[ix->main_len]);
    ix->filter_shift = 64 - (flog - 6);
    ix->other_shift = 64 - (olog - 6);
    free(ix->filter);
    free(ix->filter_other);
    ix->filter = big_zalloc(((size_t)1 << flog) / 8);
    ix->filter_other = big_zalloc(((size_t)1 << olog) / 8);
    struct filter_batch main_b = {.filter = ix->filter, .shift = ix->filter_shift};
    struct filter_batch other_b = {.filter = ix->filter_other, .shift = ix->other_shift};
    for (size_t i = 0; i < ix->n_entries; i++) {
        const struct cn_entry *e = &ix->entries[i];
        struct filter_batch *b = e->len == ix->main_len ? &main_b : &other_b;
        filter_batch_add(b, cn_filter_probe(cn_key_unmix(e->key, e->len), e->len));
        if (e->key == 1) /* cn_key maps two hashes to 1 */
            filter_batch_add(b, cn_filter_probe((uint64_t)e->len * 0xD6E8FEB86659FD93ull, e->len));
    }
    filter_batch_flush(&main_b);
    filter_batch_flush(&other_b);
    /* the bit set: 64 bits per gated entry (about 1.3% of absent pairs pass; two bits per pair let through a tenth
       of that, but testing them cost more instructions per word than the passes they saved), at most 64 KiB; the
       length masks: about 2 buckets per entry, at most 64 KiB (a pair that passes but shares a bucket with other
       pairs only probes a few more lengths, in the small filter_other) */
    unsigned any_bits = 12, gate_bits = 10;
    while (any_bits < CN_GATE_ANY_MAX_BITS && ((size_t)1 << any_bits) < 64 * n_gated)
        any_bits++;
    while (gate_bits < CN_GATE_BITS && ((size_t)1 << gate_bits) < 2 * n_gated)
        gate_bits++;
    ix->gate_any_shift = 64 - (any_bits - 6);
    ix->gate_bits = gate_bits;
    free(ix->gate);
    free(ix->gate_any);
    ix->gate = xcalloc((size_t)1 << gate_bits, sizeof *ix->gate);
    ix->gate_any = xcalloc(((size_t)1 << any_bits) / 64, sizeof *ix->gate_any);
    for (size_t i = 0; i < ix->n_entries; i++)
        if (ix->gate_len_mask & ((uint64_t)1 << ix->entries[i].len))
            entry_gate_add(ix, &ix->entries[i]);
    free(ix->sample_filter);
    ix->sample_filter = NULL;
    ix->sample_len = ix->sample_step = 0;
    if (cn_sample_step(ix->main_len))
        sample_finish(ix);
}

int cn_index_check_file(const struct cn_index *ix, struct ge_error *err)
{
    struct stat st;
    if (!ix->map || !ix->path || stat(ix->path, &st) != 0)
        return GE_OK; /* not mapped, or the file is gone: the mapping keeps the old contents */
    const struct cn_file_stamp *m = &ix->map_stamp;
    if ((uint64_t)st.st_dev != m->dev || (uint64_t)st.st_ino != m->ino)
        return GE_OK; /* replaced by another file (a rename): the mapped one is unchanged */
    if ((uint64_t)st.st_size != m->size || (int64_t)st.st_mtim.tv_sec != m->mtime_s ||
        (int64_t)st.st_mtim.tv_nsec != m->mtime_ns)
        return ge_error_set(err, GE_ERR_IO, "%s: the index file was written to in place while this program read it "
                            "(its size or modification time changed), so the n-grams verified against it may have "
                            "changed; replace an index by writing a new file and renaming it (as `contamination "
                            "index --out` does), then scan again", ix->path);
    return GE_OK;
}

void cn_index_regate(struct cn_index *ix, size_t gate_max_entries)
{
    index_layout(ix, gate_max_entries);
}

/* ---- building ---------------------------------------------------------------------------------------------- */

struct builder {
    struct cn_index *ix;
    size_t entries_cap, examples_cap, tasks_cap;
    uint64_t text_cap;
    uint64_t *pair_entry, *pair_example; /* (n_pairs) (entry, example) postings before sorting */
    size_t n_pairs, pairs_cap;
    uint32_t *last_example;              /* (entries_cap) last example appended per entry, + 1 (0 = none) */
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Adds the n-gram words[from .. from+L) of example ex. */
static int add_ngram(struct builder *b, const struct cn_words *w, size_t from, unsigned L, uint32_t ex,
                     struct ge_error *err)
{
    struct cn_index *ix = b->ix;
    uint64_t h = cn_words_ngram_hash(w, from, L);
    if (h == 0 && L > 0) {
        for (size_t i = from; i < from + L; i++)
            if (w->hash[i] == 0)
                return GE_OK; /* contains an overlong word: never matches */
    }
    uint64_t key = cn_key(h, L);
    /* the words joined by spaces */
    char tmp[CN_MAX_N * (CN_WORD_MAX + 1)];
    size_t tl = 0;
    for (size_t i = from; i < from + L; i++) {
        const char *s = w->text + w->start[i];
        size_t n = strlen(s);
        if (i > from)
            tmp[tl++] = ' ';
        memcpy(tmp + tl, s, n);
        tl += n;
    }
    int64_t s = cn_index_find(ix, key);
    while (s >= 0) {
        uint32_t e = ix->table_val[s];
        struct cn_entry *en = &ix->entries[e];
        if (en->len == L && en->text_len == tl && memcmp(ix->text + en->text_off, tmp, tl) == 0) {
            if (b->last_example[e] != ex + 1) {
                if (b->n_pairs == b->pairs_cap) {
                    b->pairs_cap = b->pairs_cap ? b->pairs_cap * 2 : 4096;
                    b->pair_entry = xrealloc(b->pair_entry, b->pairs_cap * sizeof *b->pair_entry);
                    b->pair_example = xrealloc(b->pair_example, b->pairs_cap * sizeof *b->pair_example);
                }
                b->pair_entry[b->n_pairs] = e;
                b->pair_example[b->n_pairs++] = ex;
                b->last_example[e] = ex + 1;
            }
            return GE_OK;
        }
        s = cn_index_next(ix, s, key);
    }
    if (ix->n_entries >= CN_MAX_ENTRIES)
        return ge_error_set(err, GE_ERR_LIMIT, "more than %zu distinct n-grams", CN_MAX_ENTRIES);
    if (ix->n_entries == b->entries_cap) {
        b->entries_cap = b->entries_cap ? b->entries_cap * 2 : 4096;
        ix->entries = xrealloc(ix->entries, b->entries_cap * sizeof *ix->entries);
        b->last_example = xrealloc(b->last_example, b->entries_cap * sizeof *b->last_example);
    }
    if ((ix->n_entries + 1) * 2 > ix->table_mask + 1) { /* grow the table, re-inserting every entry */
        table_alloc(ix, (ix->n_entries + 1) * 2);
        for (size_t i = 0; i < ix->n_entries; i++)
            table_put(ix, ix->entries[i].key, (uint32_t)i);
    }
    if (ix->text_len + tl > b->text_cap) {
        b->text_cap = (ix->text_len + tl) * 2 + 4096;
        ix->text = xrealloc(ix->text, b->text_cap);
    }
    memcpy(ix->text + ix->text_len, tmp, tl);
    uint32_t e = (uint32_t)ix->n_entries++;
    ix->entries[e] = (struct cn_entry){.key = key, .text_off = ix->text_len, .text_len = (uint32_t)tl, .len = L};
    ix->text_len += tl;
    table_put(ix, key, e);
    b->last_example[e] = 0;
    return add_ngram(b, w, from, L, ex, err); /* now found: records the posting */
}

/* GPT-3's N for a task: the 5th-percentile length (nearest rank) of its examples in words, clamped to 8..13. */
static unsigned gpt3_n(const uint32_t *lens, size_t n)
{
    if (n == 0)
        return 13;
    uint32_t *s = xmalloc(n * sizeof *s);
    memcpy(s, lens, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_u32);
    size_t rank = (n * 5 + 99) / 100; /* ceil(0.05 n), >= 1 */
    unsigned v = s[rank - 1];
    free(s);
    return v < 8 ? 8 : v > 13 ? 13 : v;
}

/* Adds a task's examples (their words, ids and content hashes) with n-gram length n. */
static int add_task(struct builder *b, const char *name, const char *split, const char *sha, unsigned n,
                    const struct cn_words *words, char *const *ids, const char (*hashes)[65], size_t n_docs,
                    struct ge_error *err)
{
    struct cn_index *ix = b->ix;
    int rc = GE_OK;
    if (ix->n_tasks == b->tasks_cap) {
        b->tasks_cap = b->tasks_cap ? b->tasks_cap * 2 : 32;
        ix->tasks = xrealloc(ix->tasks, b->tasks_cap * sizeof *ix->tasks);
    }
    struct cn_task_info *ti = &ix->tasks[ix->n_tasks++];
    memset(ti, 0, sizeof *ti);
    ti->name = xstrdup(name);
    ti->split = xstrdup(split);
    ti->dataset_sha256 = xstrdup(sha);
    ti->n = n;
    for (size_t i = 0; i < n_docs && rc == GE_OK; i++) {
        if (ix->n_examples == b->examples_cap) {
            b->examples_cap = b->examples_cap ? b->examples_cap * 2 : 4096;
            ix->examples = xrealloc(ix->examples, b->examples_cap * sizeof *ix->examples);
        }
        uint32_t ex = (uint32_t)ix->n_examples++;
        struct cn_example *e = &ix->examples[ex];
        e->task = (uint32_t)(ix->n_tasks - 1);
        e->n_words = (uint32_t)words[i].n;
        e->doc_id = xstrdup(ids[i]);
        memcpy(e->content_hash, hashes[i], 65);
        ti->n_examples++;
        size_t nw = words[i].n;
        if (nw == 0) {
            ti->n_empty++;
        } else if (nw < ti->n) {
            ti->n_short++;
            rc = add_ngram(b, &words[i], 0, (unsigned)nw, ex, err);
        } else {
            for (size_t k = 0; k + ti->n <= nw && rc == GE_OK; k++)
                rc = add_ngram(b, &words[i], k, ti->n, ex, err);
        }
    }
    return rc;
}

static int build_task(struct builder *b, const struct task *t, const struct cn_build_opts *o, FILE *warn,
                      struct ge_error *err)
{
    struct dataset ds;
    int rc = dataset_load(t, o->data_dir, t->eval_split, 0, warn, &ds, err);
    if (rc == GE_ERR_NOTFOUND && o->skip_missing) {
        if (warn)
            fprintf(warn, "glam-eval contamination: skipping %s: %s\n", t->name, err->msg);
        ge_error_clear(err);
        return GE_OK;
    }
    if (rc)
        return rc;
    size_t n_docs = ds.n_docs;
    if (o->limit && n_docs > o->limit)
        n_docs = o->limit;
    struct cn_words *words = xcalloc(n_docs ? n_docs : 1, sizeof *words);
    uint32_t *lens = xcalloc(n_docs ? n_docs : 1, sizeof *lens);
    for (size_t i = 0; i < n_docs && rc == GE_OK; i++) {
        char *text = cn_example_text(t, &ds.docs[i]);
        cn_words_init(&words[i]);
        rc = cn_words_add(&words[i], text, strlen(text), 0, err);
        lens[i] = (uint32_t)words[i].n;
        free(text);
    }
    if (rc)
        goto out;
    char **ids = xcalloc(n_docs ? n_docs : 1, sizeof *ids);
    char (*hashes)[65] = xcalloc(n_docs ? n_docs : 1, sizeof *hashes);
    for (size_t i = 0; i < n_docs; i++) {
        ids[i] = ds.docs[i].id;
        task_doc_content_hash(&ds.docs[i], hashes[i]);
    }
    rc = add_task(b, t->name, t->eval_split, ds.sha256, o->gpt3 ? gpt3_n(lens, n_docs) : o->n, words, ids,
                  (const char (*)[65])hashes, n_docs, err);
    free(ids);
    free(hashes);
out:
    for (size_t i = 0; i < n_docs; i++)
        cn_words_release(&words[i]);
    free(words);
    free(lens);
    dataset_release(&ds);
    return rc;
}

static int build_finish(struct builder *bp, int rc, struct cn_index **out);

int cn_index_build(const struct cn_build_opts *o, FILE *warn, struct cn_index **out, struct ge_error *err)
{
    *out = NULL;
    if (!o->gpt3 && (o->n < 1 || o->n > CN_MAX_N))
        return ge_error_set(err, GE_ERR_USAGE, "--ngram must be between 1 and %d", CN_MAX_N);
    const struct task *sel[REGISTRY_MAX_SELECTED];
    size_t n_sel = 0;
    int rc = task_select(o->tasks, sel, REGISTRY_MAX_SELECTED, &n_sel, err);
    if (rc)
        return rc;
    struct cn_index *ix = xcalloc(1, sizeof *ix);
    ix->gpt3 = o->gpt3;
    ix->n = o->gpt3 ? 13 : o->n;
    struct builder b = {.ix = ix};
    table_alloc(ix, 512);
    for (size_t i = 0; i < n_sel && rc == GE_OK; i++)
        rc = build_task(&b, sel[i], o, warn, err);
    if (rc == GE_OK && ix->n_tasks == 0)
        rc = ge_error_set(err, GE_ERR_NOTFOUND, "no task of '%s' has data in %s", o->tasks, o->data_dir);
    return build_finish(&b, rc, out);
}

/* Sorts the postings, builds the lookup structures and hands the index over (or frees it when rc != 0). */
static int build_finish(struct builder *bp, int rc, struct cn_index **out)
{
    struct builder b = *bp;
    struct cn_index *ix = b.ix;
    if (rc == GE_OK) {
        /* postings: counting sort of the pairs by entry; examples stay increasing within an entry */
        ix->n_postings = b.n_pairs;
        ix->postings = xmalloc((b.n_pairs ? b.n_pairs : 1) * sizeof *ix->postings);
        for (size_t p = 0; p < b.n_pairs; p++)
            ix->entries[b.pair_entry[p]].n_post++;
        uint64_t off = 0;
        for (size_t e = 0; e < ix->n_entries; e++) {
            ix->entries[e].post_off = off;
            off += ix->entries[e].n_post;
            ix->entries[e].n_post = 0;
        }
        for (size_t p = 0; p < b.n_pairs; p++) {
            struct cn_entry *en = &ix->entries[b.pair_entry[p]];
            ix->postings[en->post_off + en->n_post++] = (uint32_t)b.pair_example[p];
        }
        index_layout(ix, CN_GATE_MAX_ENTRIES);
    }
    free(b.pair_entry);
    free(b.pair_example);
    free(b.last_example);
    if (rc) {
        cn_index_free(ix);
        return rc;
    }
    *out = ix;
    return GE_OK;
}

int cn_index_build_texts(const char *const *texts, size_t n, unsigned ngram, struct cn_index **out,
                         struct ge_error *err)
{
    *out = NULL;
    if (ngram < 1 || ngram > CN_MAX_N)
        return ge_error_set(err, GE_ERR_USAGE, "n-gram length must be between 1 and %d", CN_MAX_N);
    struct cn_index *ix = xcalloc(1, sizeof *ix);
    ix->n = ngram;
    struct builder b = {.ix = ix};
    table_alloc(ix, 512);
    struct cn_words *words = xcalloc(n ? n : 1, sizeof *words);
    char **ids = xcalloc(n ? n : 1, sizeof *ids);
    char (*hashes)[65] = xcalloc(n ? n : 1, sizeof *hashes);
    int rc = GE_OK;
    for (size_t i = 0; i < n && rc == GE_OK; i++) {
        cn_words_init(&words[i]);
        rc = cn_words_add(&words[i], texts[i], strlen(texts[i]), 0, err);
        ids[i] = xmalloc(24);
        snprintf(ids[i], 24, "%zu", i);
        sha256_hash_hex(texts[i], strlen(texts[i]), hashes[i]);
    }
    if (rc == GE_OK)
        rc = add_task(&b, "texts", "texts", "0000000000000000000000000000000000000000000000000000000000000000",
                      ngram, words, ids, (const char (*)[65])hashes, n, err);
    for (size_t i = 0; i < n; i++) {
        cn_words_release(&words[i]);
        free(ids[i]);
    }
    free(words);
    free(ids);
    free(hashes);
    return build_finish(&b, rc, out);
}

void cn_index_free(struct cn_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->n_tasks; i++) {
        free(ix->tasks[i].name);
        free(ix->tasks[i].split);
        free(ix->tasks[i].dataset_sha256);
    }
    for (size_t i = 0; i < ix->n_examples; i++)
        free(ix->examples[i].doc_id);
    free(ix->tasks);
    free(ix->examples);
    if (ix->map)
        munmap(ix->map, ix->map_len);
    else
        free(ix->text);
    free(ix->entries);
    free(ix->postings);
    free(ix->table_key);
    free(ix->table_val);
    free(ix->gate);
    free(ix->gate_any);
    free(ix->filter);
    free(ix->filter_other);
    free(ix->sample_filter);
    free(ix->path);
    free(ix);
}

/* ---- the file ---------------------------------------------------------------------------------------------- */

/* The key of a fixed 3-gram: an index written by a program with another hash or key function fails this. */
static uint64_t hash_probe(void)
{
    struct cn_words w;
    cn_words_init(&w);
    cn_words_add(&w, "glam eval contamination", 23, 0, NULL);
    uint64_t k = cn_key(cn_words_ngram_hash(&w, 0, 3), 3);
    cn_words_release(&w);
    return k;
}

struct wbuf {
    uint8_t *d;
    size_t len, cap;
};

static void wput(struct wbuf *w, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (w->len + n > w->cap) {
        w->cap = (w->len + n) * 2 + 4096;
        w->d = xrealloc(w->d, w->cap);
    }
    memcpy(w->d + w->len, p, n);
    w->len += n;
}

static void wu32(struct wbuf *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    wput(w, b, 4);
}

static void wu64(struct wbuf *w, uint64_t v)
{
    wu32(w, (uint32_t)v);
    wu32(w, (uint32_t)(v >> 32));
}

static void wstr(struct wbuf *w, const char *s)
{
    size_t n = strlen(s);
    wu32(w, (uint32_t)n);
    wput(w, s, n);
}

int cn_index_write(struct cn_index *ix, const char *path, struct ge_error *err)
{
    struct wbuf w = {0};
    wput(&w, "GECNIDX\0", 8);
    wu32(&w, CN_INDEX_VERSION);
    wu32(&w, 0);
    wu64(&w, 0);
    uint8_t zero[40] = {0};
    wput(&w, zero, 40);
    wu32(&w, (uint32_t)ix->gpt3);
    wu32(&w, ix->n);
    wstr(&w, cn_normalization_name);
    wu64(&w, hash_probe());
    wu32(&w, (uint32_t)ix->n_tasks);
    for (size_t i = 0; i < ix->n_tasks; i++) {
        const struct cn_task_info *t = &ix->tasks[i];
        wstr(&w, t->name);
        wstr(&w, t->split);
        wstr(&w, t->dataset_sha256);
        wu32(&w, t->n);
        wu32(&w, t->n_examples);
        wu32(&w, t->n_short);
        wu32(&w, t->n_empty);
    }
    wu32(&w, (uint32_t)ix->n_examples);
    for (size_t i = 0; i < ix->n_examples; i++) {
        wu32(&w, ix->examples[i].task);
        wu32(&w, ix->examples[i].n_words);
        wstr(&w, ix->examples[i].doc_id);
        wstr(&w, ix->examples[i].content_hash);
    }
    wu64(&w, ix->text_len);
    wput(&w, ix->text, ix->text_len);
    wu32(&w, (uint32_t)ix->n_entries);
    for (size_t i = 0; i < ix->n_entries; i++) {
        const struct cn_entry *e = &ix->entries[i];
        wu64(&w, e->key);
        wu64(&w, e->text_off);
        wu32(&w, e->text_len);
        wu32(&w, e->len);
        wu64(&w, e->post_off);
        wu32(&w, e->n_post);
    }
    wu64(&w, ix->n_postings);
    for (uint64_t i = 0; i < ix->n_postings; i++)
        wu32(&w, ix->postings[i]);
    uint64_t plen = w.len - 64;
    for (int i = 0; i < 8; i++)
        w.d[16 + i] = (uint8_t)(plen >> (8 * i));
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, w.d + 64, plen);
    sha256_final(&h, w.d + 24);
    sha256_digest_hex(w.d + 24, ix->sha256);

    struct out_file out;
    int rc = out_file_open(&out, path, err);
    if (rc == GE_OK) {
        errno = 0;
        if (fwrite(w.d, 1, w.len, out.f) != w.len || fflush(out.f) != 0) {
            /* the reason now (a file-size limit, a full disk): the commit would only see the stream's error flag */
            int e = errno;
            out_file_abort(&out);
            rc = ge_error_set(err, GE_ERR_IO, "%s: cannot write: %s", path, e ? strerror(e) : "a write failed");
        } else {
            rc = out_file_commit(&out, err);
        }
    }
    free(w.d);
    return rc;
}

/* A bounds-checked reader over the payload. */
struct rbuf {
    const uint8_t *d;
    size_t len, pos;
    int bad;          /* set once a read ran past the end */
};

static uint32_t ru32(struct rbuf *r)
{
    if (r->bad || r->len - r->pos < 4) {
        r->bad = 1;
        return 0;
    }
    const uint8_t *p = r->d + r->pos;
    r->pos += 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t ru64(struct rbuf *r)
{
    uint64_t lo = ru32(r);
    return lo | (uint64_t)ru32(r) << 32;
}

static char *rstr(struct rbuf *r)
{
    uint32_t n = ru32(r);
    if (r->bad || r->len - r->pos < n) {
        r->bad = 1;
        return xstrdup("");
    }
    char *s = xstrndup((const char *)r->d + r->pos, n);
    r->pos += n;
    return s;
}

/* The bytes of an index file: a regular file is mapped read-only (*mapped = 1: no copy, and no page faults on
 * fresh memory; the index keeps the mapping for its text and copies the rest), anything else is read. */
static int index_file_open(const char *path, char **data, size_t *len, int *mapped, struct cn_file_stamp *stamp,
                           struct ge_error *err)
{
    *data = NULL;
    *len = 0;
    *mapped = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        if ((uint64_t)st.st_size > CN_INDEX_MAX_BYTES) {
            close(fd);
            return ge_error_set(err, GE_ERR_LIMIT, "%s: file is larger than the limit of %zu bytes", path,
                                CN_INDEX_MAX_BYTES);
        }
        int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
        flags |= MAP_POPULATE;
#endif
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, flags, fd, 0);
        if (p != MAP_FAILED) {
            close(fd);
            *stamp = (struct cn_file_stamp){.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino,
                                            .size = (uint64_t)st.st_size, .mtime_s = (int64_t)st.st_mtim.tv_sec,
                                            .mtime_ns = (int64_t)st.st_mtim.tv_nsec};
            *data = p;
            *len = (size_t)st.st_size;
            *mapped = 1;
            return GE_OK;
        }
    }
    if (fd >= 0)
        close(fd);
    return file_read_all(path, CN_INDEX_MAX_BYTES, data, len, err);
}

int cn_index_load(const char *path, int with_table, struct cn_index **out, struct ge_error *err)
{
    *out = NULL;
    char *data = NULL;
    size_t len = 0;
    int mapped = 0;
    struct cn_file_stamp stamp = {0};
    int rc = index_file_open(path, &data, &len, &mapped, &stamp, err);
    if (rc)
        return rc;
    struct cn_index *ix = xcalloc(1, sizeof *ix);
    ix->path = xstrdup(path);
    const uint8_t *d = (const uint8_t *)data;
    if (len < 64 || memcmp(d, "GECNIDX\0", 8) != 0) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: not a glam-eval contamination index (bad magic at offset 0)", path);
        goto out;
    }
    struct rbuf hr = {.d = d, .len = 64, .pos = 8};
    uint32_t version = ru32(&hr);
    ru32(&hr);
    uint64_t plen = ru64(&hr);
    if (version != CN_INDEX_VERSION) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: index format version %u at offset 8; this program reads version %d",
                          path, version, CN_INDEX_VERSION);
        goto out;
    }
    if (plen != len - 64) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: payload length %llu at offset 16, but the file has %zu bytes after "
                          "the header (truncated or damaged)", path, (unsigned long long)plen, len - 64);
        goto out;
    }
    uint8_t digest[32];
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, d + 64, plen);
    sha256_final(&h, digest);
    if (memcmp(digest, d + 24, 32) != 0) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: checksum mismatch (SHA-256 at offset 24): the file is damaged", path);
        goto out;
    }
    sha256_digest_hex(digest, ix->sha256);
    struct rbuf r = {.d = d + 64, .len = plen};
    ix->gpt3 = ru32(&r) != 0;
    ix->n = ru32(&r);
    char *norm = rstr(&r);
    int norm_ok = strcmp(norm, cn_normalization_name) == 0 && ru64(&r) == hash_probe();
    free(norm);
    if (!r.bad && !norm_ok) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: built with another normalisation rule or hash function; rebuild it with this program",
                          path);
        goto out;
    }
    uint32_t nt = ru32(&r);
    if (nt > 4096)
        r.bad = 1;
    ix->tasks = xcalloc(nt ? nt : 1, sizeof *ix->tasks);
    for (uint32_t i = 0; i < nt && !r.bad; i++) {
        struct cn_task_info *t = &ix->tasks[ix->n_tasks++];
        t->name = rstr(&r);
        t->split = rstr(&r);
        t->dataset_sha256 = rstr(&r);
        t->n = ru32(&r);
        t->n_examples = ru32(&r);
        t->n_short = ru32(&r);
        t->n_empty = ru32(&r);
        if (t->n < 1 || t->n > CN_MAX_N)
            r.bad = 1;
    }
    uint32_t ne = ru32(&r);
    if ((uint64_t)ne * 16 > plen)
        r.bad = 1;
    ix->examples = xcalloc(!r.bad && ne ? ne : 1, sizeof *ix->examples);
    for (uint32_t i = 0; i < ne && !r.bad; i++) {
        struct cn_example *e = &ix->examples[ix->n_examples++];
        e->task = ru32(&r);
        e->n_words = ru32(&r);
        e->doc_id = rstr(&r);
        char *hash = rstr(&r);
        if (!sha256_is_hex(hash) || e->task >= ix->n_tasks)
            r.bad = 1;
        else
            memcpy(e->content_hash, hash, 65);
        free(hash);
    }
    ix->text_len = ru64(&r);
    if (r.bad || r.len - r.pos < ix->text_len) {
        r.bad = 1;
    } else if (mapped) { /* read in place: no copy, and processes loading one file share its pages */
        ix->text = data + 64 + r.pos;
        ix->map = data;
        ix->map_len = len;
        ix->map_stamp = stamp;
        r.pos += ix->text_len;
    } else {
        ix->text = big_alloc(ix->text_len);
        memcpy(ix->text, r.d + r.pos, ix->text_len);
        r.pos += ix->text_len;
    }
    uint32_t nn = ru32(&r);
    if ((uint64_t)nn * 36 > plen)
        r.bad = 1;
    ix->entries = big_zalloc((!r.bad && nn ? nn : 1) * sizeof *ix->entries);
    for (uint32_t i = 0; i < nn && !r.bad; i++) {
        struct cn_entry *e = &ix->entries[ix->n_entries++];
        e->key = ru64(&r);
        e->text_off = ru64(&r);
        e->text_len = ru32(&r);
        e->len = ru32(&r);
        e->post_off = ru64(&r);
        e->n_post = ru32(&r);
        if (e->len < 1 || e->len > CN_MAX_N || e->text_off > ix->text_len || e->text_len > ix->text_len - e->text_off)
            r.bad = 1;
    }
    ix->n_postings = ru64(&r);
    if (r.bad || (r.len - r.pos) / 4 < ix->n_postings || r.len - r.pos != ix->n_postings * 4) {
        r.bad = 1;
    } else {
        ix->postings = big_alloc((ix->n_postings ? ix->n_postings : 1) * sizeof *ix->postings);
        for (uint64_t i = 0; i < ix->n_postings; i++) {
            ix->postings[i] = ru32(&r);
            if (ix->postings[i] >= ix->n_examples)
                r.bad = 1;
        }
    }
    if (r.bad) {
        rc = ge_error_set(err, GE_ERR_FORMAT, "%s: malformed payload near offset %zu (a count or offset is out of "
                          "range)", path, (size_t)64 + r.pos);
        goto out;
    }
    for (size_t i = 0; i < ix->n_entries; i++) {
        const struct cn_entry *e = &ix->entries[i];
        if (e->post_off > ix->n_postings || e->n_post > ix->n_postings - e->post_off) {
            rc = ge_error_set(err, GE_ERR_FORMAT, "%s: entry %zu: postings out of range", path, i);
            goto out;
        }
    }
    if (with_table)
        index_layout(ix, CN_GATE_MAX_ENTRIES);
out:
    if (!mapped)
        free(data);
    else if (!ix->map) /* the text is not in it */
        munmap(data, len);
    if (rc) {
        cn_index_free(ix);
        return rc;
    }
    *out = ix;
    return GE_OK;
}
