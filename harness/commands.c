/* commands.c — the command table, in the order `glam-eval --help` lists it. Commands of later milestones (run,
 * report, compare, merge, tasks, prompt, loglik, generate, tokenize, inspect, init, serve, data, contamination)
 * are added here as they land; until then the binary says they are unknown rather than pretending. */
#include "config.h"

#include <stddef.h>

#include "harness/commands.h"

const struct command *const cli_commands[] = {
    &cmd_run,
    &cmd_merge,
    &cmd_report,
    &cmd_compare,
    &cmd_import,
    &cmd_tasks,
    &cmd_data,
    &cmd_prompt,
    &cmd_loglik,
    &cmd_generate,
    &cmd_tokenize,
    &cmd_inspect,
    &cmd_init,
    &cmd_serve,
    &cmd_contamination,
    &cmd_score,
    &cmd_db,
    &cmd_version,
    NULL,
};
