/* merge.h — `glam-eval merge`: combine the databases of the shards of a run (`glam-eval run --shard I/N`, each on
 * its own machine) into one database that equals the database of one unsharded run.
 *
 * What is combined: the runs of all inputs whose args carry "shard":{"index":I,"count":N} (cmd_run.c) and that have
 * the same seeds and N form one run of the output; every other run is copied as a run of its own. Within a run,
 * task runs with the same (task, shots, split) become one task run (their "shard" metric variant removed), holding
 * every document, request, response and per-example score of its parts; its metrics are recomputed from those
 * scores with evaluate_metric (harness/evaluate.h), exactly as a run computes them. Models and the response cache
 * are copied too. A published reference run (published.h) is no shard's result: it is never grouped, and each
 * label is copied once with its cells (published_copy_run), however many inputs hold it with the same digest.
 *
 * What is refused (GE_ERR_STATE, naming the input database and the field): shards of one run made with different
 * models or program versions; a shard index present twice or missing; task runs that differ in task version, dataset
 * hashes or metric variants; a document or request stored differently (doc id, content hash, prompt hash); a run or
 * task run that is not finished (resume it first); an unsharded run given twice; one published label with
 * different data (digest) in two inputs (a database holds one published run per label, and cannot change it).
 * The inputs are opened read-only and never modified; the output must not exist: it is built in out_path.merging-XXXXXX (mkstemp: created exclusively),
 * its WAL written into it, and given its name by a link that never replaces a file, so out_path exists only when
 * complete and a file another process puts there meanwhile is never written into or removed. */
#ifndef GE_MERGE_H
#define GE_MERGE_H

#include <stddef.h>
#include <stdio.h>

#include "harness/error.h"

/* Merges the n_in databases in_paths (borrowed) into the new database out_path. Progress lines go to log (may be
 * NULL). Returns 0 or a negative GE_ERR_* code with err naming the database and what is wrong. */
int merge_databases(const char *out_path, const char *const *in_paths, size_t n_in, FILE *log,
                    struct ge_error *err);

#endif
