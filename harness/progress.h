/* progress.h — progress reporting for long work, on stderr.
 *
 * On a terminal: one line redrawn in place, "label [#####-----] 45% 1234/2742 12.3/s ETA 2m03s" (then
 * " 5120 tok/s" when tokens are counted; "-/s" before any unit is done in this bar, and "answered earlier" for a
 * bar whose units were all done when it started), at most ten
 * times a second, always narrower than the terminal (its width is asked at each redraw). Otherwise (a log file, CI): a plain line every `interval` seconds and at the end, so logs stay
 * readable. Time is passed in by the caller (seconds from any monotonic origin), so the module has no clock of its
 * own and its output is testable. Progress never affects results. */
#ifndef GE_PROGRESS_H
#define GE_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

struct progress {
    FILE *out;          /* borrowed; usually stderr */
    int is_tty;         /* 1: redraw in place; 0: periodic plain lines */
    char label[64];     /* what is being counted, e.g. "hellaswag 0-shot" */
    uint64_t total;     /* units of work expected; 0 = unknown */
    uint64_t done;      /* units finished so far, <= total when total > 0 */
    uint64_t done_start;/* units already finished when reporting started (a resumed run); rates exclude them */
    uint64_t tokens;    /* tokens processed since the start, for a tok/s rate; 0 = not reported */
    double t_start;     /* seconds, when progress_start was called */
    double t_last;      /* seconds, when the last line was drawn */
    double interval;    /* seconds between plain lines (non-tty) */
    int drawn;          /* 1 once anything was printed */
};

/* Starts reporting on out. is_tty < 0 asks isatty(fileno(out)). */
void progress_start(struct progress *p, FILE *out, int is_tty, const char *label, uint64_t total, double now);
/* Marks n units as finished before reporting started (a resumed run): they count in the total done, not in
 * the rate or the ETA. Call right after progress_start. */
void progress_set_done_before(struct progress *p, uint64_t n);
/* Adds n tokens processed; once any are added, lines also show tokens per second. */
void progress_add_tokens(struct progress *p, uint64_t n);
/* Records that `done` units are finished at time now (seconds); draws when due. */
void progress_update(struct progress *p, uint64_t done, double now);
/* Draws the final state and ends the line. */
void progress_finish(struct progress *p, double now);
/* Formats the terminal line for p's state at time now into buf (cap bytes; 320 always suffices): no '\r', erase
 * code or newline. final says "took" instead of "ETA". The line takes fewer than width display columns (a line
 * that reaches the last column wraps, and '\r' then rewinds only its last row): to fit it shrinks the bar, then
 * drops tok/s, the rate, the ETA and the bar, then cuts the label; percent and counts go last. width <= 0: no
 * limit. */
void progress_format_tty_line(const struct progress *p, double now, int final, int width, char *buf, size_t cap);
/* Formats seconds as "45s", "2m03s" or "1h02m" into buf (cap bytes). */
void progress_format_duration(double seconds, char *buf, size_t cap);
/* Monotonic seconds for callers (the module itself never reads a clock). */
double progress_now(void);

#endif
