/* commands.h — every command the binary offers; each is defined in its own harness/cmd_<name>.c. */
#ifndef GE_COMMANDS_H
#define GE_COMMANDS_H

#include "harness/cli.h"

extern const struct command cmd_version;
extern const struct command cmd_db;
extern const struct command cmd_score;
extern const struct command cmd_loglik;
extern const struct command cmd_generate;
extern const struct command cmd_inspect;
extern const struct command cmd_tokenize;
extern const struct command cmd_run;
extern const struct command cmd_tasks;
extern const struct command cmd_prompt;
extern const struct command cmd_init;
extern const struct command cmd_merge;
extern const struct command cmd_serve;
extern const struct command cmd_data;
extern const struct command cmd_report;
extern const struct command cmd_compare;
extern const struct command cmd_import;
extern const struct command cmd_contamination;

#endif
