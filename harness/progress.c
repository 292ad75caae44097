/* progress.c — terminal progress bar and periodic log lines (see progress.h).
 *
 * Invariant on a terminal: a drawn line takes fewer columns than the terminal has. A line that reaches the last
 * column wraps (or leaves the cursor pending a wrap), and then '\r' rewinds only its last row, so every redraw
 * would leave a new line behind. The width is asked of the terminal at each redraw (one ioctl, at most ten a
 * second), so a resized window is followed without a SIGWINCH handler. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "harness/progress.h"

#define BAR_WIDTH 24       /* columns of the bar inside its brackets, when there is room */
#define BAR_MIN_WIDTH 8    /* below this the bar says too little; drop fields, then the bar itself */
#define TTY_MIN_REDRAW 0.1 /* seconds */
#define TTY_DEFAULT_WIDTH 80

void progress_format_duration(double seconds, char *buf, size_t cap)
{
    if (!(seconds >= 0) || seconds > 1e9) {
        snprintf(buf, cap, "?");
        return;
    }
    long s = lround(seconds);
    if (s < 60)
        snprintf(buf, cap, "%lds", s);
    else if (s < 3600)
        snprintf(buf, cap, "%ldm%02lds", s / 60, s % 60);
    else
        snprintf(buf, cap, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

void progress_start(struct progress *p, FILE *out, int is_tty, const char *label, uint64_t total, double now)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->is_tty = is_tty < 0 ? isatty(fileno(out)) : is_tty;
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->t_start = now;
    p->t_last = now;
    p->interval = 10.0;
}

void progress_set_done_before(struct progress *p, uint64_t n)
{
    p->done = p->done_start = p->total && n > p->total ? p->total : n;
}

void progress_add_tokens(struct progress *p, uint64_t n)
{
    p->tokens += n;
}

/* Columns of the terminal on out: TIOCGWINSZ on its descriptor, else $COLUMNS, else 80. */
static int term_width(FILE *out)
{
    struct winsize ws;
    int fd = fileno(out);
    if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *env = getenv("COLUMNS");
    if (env) {
        char *end;
        long n = strtol(env, &end, 10);
        if (end != env && *end == '\0' && n > 0 && n <= 10000)
            return (int)n;
    }
    return TTY_DEFAULT_WIDTH;
}

/* Display columns of the first len bytes of s: one per UTF-8 code point (labels are task names; no wide
 * characters are expected, and the bar is ASCII '#' and '-'). */
static int columns(const char *s, size_t len)
{
    int n = 0;
    for (size_t i = 0; i < len && s[i]; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Bytes of s that make up its first n columns, never splitting a UTF-8 sequence. */
static size_t prefix_bytes(const char *s, int n)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && n-- == 0)
            break;
    return i;
}

enum {
    LINE_TOKS = 1, /* " 9950 tok/s" */
    LINE_RATE = 2, /* " 718.1/s" */
    LINE_WHEN = 4, /* " ETA 2s" or " took 2s" */
    LINE_BAR = 8,  /* " [####----]" */
};

/* The pieces of one terminal line, each already formatted; empty when not shown. */
struct line_parts {
    const char *label; /* borrowed */
    size_t label_len;  /* bytes of label to print */
    double frac;       /* share done, 0..1, for the bar */
    char pct[16];      /* " 45%" */
    char counts[48];   /* "1234/2742" */
    char rate[32];     /* "12.3/s" */
    char toks[48];     /* "5120 tok/s", or "" */
    char when[48];     /* "ETA 2m03s" or "took 2s" */
};

/* Writes the fields in `fields` with a bar of bar_w columns into buf; returns the line's columns. */
static int line_compose(char *buf, size_t cap, const struct line_parts *lp, int fields, int bar_w)
{
    char bar[BAR_WIDTH + 1] = "";
    if (fields & LINE_BAR) {
        int filled = (int)(lp->frac * bar_w);
        for (int i = 0; i < bar_w; i++)
            bar[i] = i < filled ? '#' : '-';
        bar[bar_w] = '\0';
    }
    const char *sep = lp->label_len ? " " : "";
    snprintf(buf, cap, "%.*s%s%s%s%s%s%s %s%s%s%s%s%s%s", (int)lp->label_len, lp->label,
             fields & LINE_BAR ? sep : "", fields & LINE_BAR ? "[" : "", bar, fields & LINE_BAR ? "]" : "",
             (fields & LINE_BAR) || lp->label_len ? " " : "", lp->pct, lp->counts,
             fields & LINE_RATE ? " " : "", fields & LINE_RATE ? lp->rate : "",
             (fields & LINE_TOKS) && lp->toks[0] ? " " : "", fields & LINE_TOKS ? lp->toks : "",
             (fields & LINE_WHEN) && lp->when[0] ? " " : "", fields & LINE_WHEN ? lp->when : "");
    return columns(buf, strlen(buf));
}

/* Whether every unit was already done when the bar started (answered in an earlier task's batches, or before a
 * resume): such a bar has no rate or duration of its own. */
static int answered_earlier(const struct progress *p)
{
    return p->total > 0 && p->done == p->total && p->done_start == p->total;
}

void progress_format_tty_line(const struct progress *p, double now, int final, int width, char *buf, size_t cap)
{
    double elapsed = now - p->t_start;
    double rate = elapsed > 0 ? (double)(p->done - p->done_start) / elapsed : 0.0;
    struct line_parts lp = {.label = p->label, .label_len = strlen(p->label)};
    lp.frac = p->total ? (double)p->done / (double)p->total : 0.0;
    snprintf(lp.pct, sizeof lp.pct, "%3.0f%%", 100.0 * lp.frac);
    snprintf(lp.counts, sizeof lp.counts, "%llu/%llu", (unsigned long long)p->done, (unsigned long long)p->total);
    snprintf(lp.rate, sizeof lp.rate, "%.1f/s", rate);
    if (p->done == p->done_start) /* nothing measured yet: no rate rather than a false 0.0/s */
        snprintf(lp.rate, sizeof lp.rate, "-/s");
    if (p->tokens > 0 && elapsed > 0)
        snprintf(lp.toks, sizeof lp.toks, "%.0f tok/s", (double)p->tokens / elapsed);
    char t[32] = "?";
    if (final)
        progress_format_duration(elapsed, t, sizeof t);
    else if (p->total > 0 && rate > 0)
        progress_format_duration((double)(p->total - p->done) / rate, t, sizeof t);
    snprintf(lp.when, sizeof lp.when, "%s %s", final ? "took" : "ETA", t);
    if (final && answered_earlier(p)) {
        snprintf(lp.rate, sizeof lp.rate, "answered earlier");
        lp.when[0] = '\0';
    }

    /* Most columns a line may take; see the invariant at the top of the file. */
    int max = width > 0 ? width - 1 : INT_MAX;
    /* What to give up, in order: bar columns, then tok/s, the rate, the ETA, the whole bar; then label columns.
     * Percent and counts stay to the last. */
    static const int levels[] = {
        LINE_BAR | LINE_WHEN | LINE_RATE | LINE_TOKS,
        LINE_BAR | LINE_WHEN | LINE_RATE,
        LINE_BAR | LINE_WHEN,
        LINE_BAR,
        0,
    };
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        int n = line_compose(buf, cap, &lp, levels[i], 0);
        if (levels[i] & LINE_BAR) {
            int room = max - n;
            if (room >= BAR_MIN_WIDTH) {
                line_compose(buf, cap, &lp, levels[i], room < BAR_WIDTH ? room : BAR_WIDTH);
                return;
            }
        } else if (n <= max) {
            return;
        }
    }
    /* Percent and counts alone do not fit beside the label: cut the label, dropping it (and its space) if
     * nothing is left of it; on an absurdly narrow terminal, cut the line itself. */
    int label_cols = columns(lp.label, lp.label_len);
    int over = line_compose(buf, cap, &lp, 0, 0) - max;
    lp.label_len = over < label_cols ? prefix_bytes(lp.label, label_cols - over) : 0;
    if (line_compose(buf, cap, &lp, 0, 0) > max)
        buf[prefix_bytes(buf, max)] = '\0';
}

static void draw(struct progress *p, double now, int final)
{
    double elapsed = now - p->t_start;
    double rate = elapsed > 0 ? (double)(p->done - p->done_start) / elapsed : 0.0;
    char toks[48] = "";
    if (p->tokens > 0 && elapsed > 0)
        snprintf(toks, sizeof toks, " %.0f tok/s", (double)p->tokens / elapsed);
    char eta[32] = "?", took[32];
    if (p->total > 0 && rate > 0)
        progress_format_duration((double)(p->total - p->done) / rate, eta, sizeof eta);
    progress_format_duration(elapsed, took, sizeof took);
    if (p->is_tty) {
        char line[320];
        progress_format_tty_line(p, now, final, term_width(p->out), line, sizeof line);
        fprintf(p->out, "\r%s\x1b[K", line);
        if (final)
            fputc('\n', p->out);
    } else if (final && answered_earlier(p)) {
        fprintf(p->out, "%s: %llu/%llu (100%%) answered earlier\n", p->label, (unsigned long long)p->done,
                (unsigned long long)p->total);
    } else {
        char rate_s[32] = "-/s"; /* nothing measured yet: no rate rather than a false 0.0/s */
        if (p->done != p->done_start)
            snprintf(rate_s, sizeof rate_s, "%.1f/s", rate);
        if (p->total)
            fprintf(p->out, "%s: %llu/%llu (%.0f%%) %s%s, %s %s\n", p->label, (unsigned long long)p->done,
                    (unsigned long long)p->total, 100.0 * (double)p->done / (double)p->total, rate_s, toks,
                    final ? "took" : "ETA", final ? took : eta);
        else
            fprintf(p->out, "%s: %llu done %s%s, %s elapsed\n", p->label, (unsigned long long)p->done, rate_s,
                    toks, took);
    }
    fflush(p->out);
    p->t_last = now;
    p->drawn = 1;
}

void progress_update(struct progress *p, uint64_t done, double now)
{
    p->done = p->total && done > p->total ? p->total : done;
    double wait = p->is_tty ? TTY_MIN_REDRAW : p->interval;
    if (now - p->t_last >= wait || !p->drawn)
        draw(p, now, 0);
}

void progress_finish(struct progress *p, double now)
{
    draw(p, now, 1);
}

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
