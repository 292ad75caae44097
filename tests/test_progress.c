/* test_progress.c — progress lines: plain periodic lines off a terminal, redraws on one narrower than the
 * terminal, ETA arithmetic. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/progress.h"
#include "tests/tap.h"

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

int main(void)
{
    char buf[64];
    progress_format_duration(45, buf, sizeof buf);
    tap_is_str(buf, "45s", "duration: seconds");
    progress_format_duration(123, buf, sizeof buf);
    tap_is_str(buf, "2m03s", "duration: minutes");
    progress_format_duration(3720, buf, sizeof buf);
    tap_is_str(buf, "1h02m", "duration: hours");
    progress_format_duration(-1, buf, sizeof buf);
    tap_is_str(buf, "?", "duration: negative is unknown");

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct progress p;
    progress_start(&p, f, 0, "hellaswag", 100, 0.0);
    for (int i = 1; i <= 100; i++)
        progress_update(&p, (uint64_t)i, i * 0.5); /* 50 s in all, a plain line at most every 10 s */
    progress_finish(&p, 50.0);
    fclose(f);
    tap_ok(count_lines(text) >= 5 && count_lines(text) <= 8, "plain: one line per interval plus the last (%d lines)",
           count_lines(text));
    tap_ok(strstr(text, "hellaswag: 100/100 (100%) 2.0/s, took 50s\n") != NULL, "plain: final line has rate and time");
    tap_ok(strstr(text, "\r") == NULL, "plain: no carriage returns in logs");
    tap_ok(strstr(text, "hellaswag: 21/100 (21%) 2.0/s, ETA 40s") != NULL, "plain: ETA from the rate");
    free(text);

    f = open_memstream(&text, &len);
    progress_start(&p, f, 1, "rte", 10, 0.0);
    for (int i = 1; i <= 10; i++)
        progress_update(&p, (uint64_t)i, i * 1.0);
    progress_finish(&p, 10.0);
    fclose(f);
    tap_ok(strstr(text, "\rrte [############------------]  50% 5/10 1.0/s ETA 5s") != NULL, "tty: bar redrawn in place");
    tap_is_int(count_lines(text), 1, "tty: one line in the end");
    free(text);

    /* A resumed task: 60 of 100 were done before; 40 more in 20 s is 2.0/s (not 5.0/s), ETA 0 at the end. */
    f = open_memstream(&text, &len);
    progress_start(&p, f, 0, "boolq", 100, 0.0);
    progress_set_done_before(&p, 60);
    progress_add_tokens(&p, 1000);
    progress_update(&p, 80, 10.0);
    progress_add_tokens(&p, 1000);
    progress_update(&p, 100, 20.0);
    progress_finish(&p, 20.0);
    fclose(f);
    tap_ok(strstr(text, "boolq: 80/100 (80%) 2.0/s 100 tok/s, ETA 10s\n") != NULL,
           "resumed: rate and ETA count only this session's work, tokens per second shown");
    tap_ok(strstr(text, "boolq: 100/100 (100%) 2.0/s 100 tok/s, took 20s\n") != NULL, "resumed: final line");
    free(text);

    /* A task whose requests were all answered in an earlier task's batches (or before a resume): its bar has no
     * rate of its own, so it says so instead of "0.0/s ... took 0s". */
    f = open_memstream(&text, &len);
    progress_start(&p, f, 0, "copa 0-shot", 12, 5.0);
    progress_set_done_before(&p, 12);
    progress_finish(&p, 5.0);
    fclose(f);
    tap_is_str(text, "copa 0-shot: 12/12 (100%) answered earlier\n", "answered earlier: plain line");
    free(text);
    char done_line[320];
    progress_start(&p, NULL, 1, "copa 0-shot", 12, 5.0);
    p.done = p.done_start = 12;
    progress_format_tty_line(&p, 5.0, 1, 80, done_line, sizeof done_line);
    tap_is_str(done_line, "copa 0-shot [########################] 100% 12/12 answered earlier",
               "answered earlier: terminal line");
    p.done = p.done_start = 3;
    progress_format_tty_line(&p, 6.0, 0, 80, done_line, sizeof done_line);
    tap_ok(strstr(done_line, " -/s ETA ?") != NULL, "nothing done yet in this bar: no rate (%s)", done_line);

    /* The longest labels and counts a run shows: the unfixed line took 94 columns, so at 80 it wrapped, and each
     * redraw left a line behind. Widths count display columns; the bar is ASCII '#' and '-'. */
    static const int widths[] = {40, 60, 80, 120};
    char line[320];
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        for (int final = 0; final <= 1; final++) {
            progress_start(&p, NULL, 1, "arc_challenge 25-shot", 11980, 0.0);
            p.done = final ? 11980 : 5990; /* set directly: progress_update would draw on the NULL stream */
            progress_add_tokens(&p, 99500);
            progress_format_tty_line(&p, final ? 2.0 : 1.0, final, widths[i], line, sizeof line);
            tap_ok(strlen(line) < (size_t)widths[i], "width %d%s: line takes %zu columns: %s", widths[i],
                   final ? " final" : "", strlen(line), line);
            tap_ok(strstr(line, final ? "100% 11980/11980" : " 50% 5990/11980") != NULL,
                   "width %d%s: percent and counts kept", widths[i], final ? " final" : "");
        }
    }
    progress_format_tty_line(&p, 2.0, 1, 80, line, sizeof line);
    tap_ok(strstr(line, "arc_challenge 25-shot [") && strstr(line, "took 2s"), "width 80: label, bar and time kept");
    progress_format_tty_line(&p, 2.0, 1, 20, line, sizeof line);
    tap_is_str(line, "ar 100% 11980/11980", "width 20: the label is cut last");
    progress_format_tty_line(&p, 2.0, 1, 120, line, sizeof line);
    tap_is_str(line, "arc_challenge 25-shot [########################] 100% 11980/11980 5990.0/s 49750 tok/s took 2s",
               "width 120: everything, full bar");

    /* Through the drawing path: a memory stream has no terminal, so $COLUMNS is the width. */
    setenv("COLUMNS", "80", 1);
    f = open_memstream(&text, &len);
    progress_start(&p, f, 1, "arc_challenge 25-shot", 11980, 0.0);
    progress_add_tokens(&p, 99500);
    progress_update(&p, 11980, 2.0);
    progress_finish(&p, 2.0);
    fclose(f);
    size_t widest = 0;
    for (char *s = strtok(text, "\r\n"); s; s = strtok(NULL, "\r\n")) {
        char *esc = strstr(s, "\x1b[K");
        size_t n = esc ? (size_t)(esc - s) : strlen(s);
        widest = n > widest ? n : widest;
    }
    tap_ok(widest > 0 && widest < 80, "tty with COLUMNS=80: widest line %zu columns", widest);
    free(text);
    return tap_done();
}
