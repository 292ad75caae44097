/* test_progress.c — progress lines: plain periodic lines off a terminal, redraws on one, ETA arithmetic. */
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
    return tap_done();
}
