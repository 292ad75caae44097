/* progress.c — terminal progress bar and periodic log lines (see progress.h). */
#include "config.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/progress.h"

#define BAR_WIDTH 24
#define TTY_MIN_REDRAW 0.1 /* seconds */

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
        char bar[BAR_WIDTH + 1];
        int filled = p->total ? (int)((double)p->done / (double)p->total * BAR_WIDTH) : 0;
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < filled ? '#' : '-';
        bar[BAR_WIDTH] = '\0';
        double pct = p->total ? 100.0 * (double)p->done / (double)p->total : 0.0;
        fprintf(p->out, "\r%s [%s] %3.0f%% %llu/%llu %.1f/s%s %s %s\x1b[K", p->label, bar, pct,
                (unsigned long long)p->done, (unsigned long long)p->total, rate, toks, final ? "took" : "ETA",
                final ? took : eta);
        if (final)
            fputc('\n', p->out);
    } else if (p->total) {
        fprintf(p->out, "%s: %llu/%llu (%.0f%%) %.1f/s%s, %s %s\n", p->label, (unsigned long long)p->done,
                (unsigned long long)p->total, 100.0 * (double)p->done / (double)p->total, rate, toks,
                final ? "took" : "ETA", final ? took : eta);
    } else {
        fprintf(p->out, "%s: %llu done %.1f/s%s, %s elapsed\n", p->label, (unsigned long long)p->done, rate, toks,
                took);
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
