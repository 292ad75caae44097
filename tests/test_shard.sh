#!/usr/bin/env bash
# test_shard.sh — `glam-eval run --shard I/N` and `glam-eval merge`: shards 0/2 and 1/2 of a run on the real
# stories260K model, merged, equal one unsharded run (per-example scores, every request's log-likelihood, every
# metric); inconsistent parts are refused naming the database and the field, and the inputs stay unchanged.
# Prints TAP; skips without ../shared or the sqlite3 command.
set -u
bin=${GLAM_EVAL_BIN:-./glam-eval}
shared=${GLAM_EVAL_SHARED:-../shared}
model="$shared/models/stories260K/stories260K.gguf"
data="$shared/data"
if [ ! -f "$model" ] || [ ! -d "$data" ]; then echo "1..0 # SKIP ../shared (model or data) is absent"; exit 0; fi
command -v sqlite3 >/dev/null 2>&1 || { echo "1..0 # SKIP the sqlite3 command is not installed"; exit 0; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

opts="--model $model --tasks arc_easy,boolq,lambada --shots 0,1 --limit 10 --max-length 512 --data-dir $data"
"$bin" run $opts --db "$tmp/full.db" >"$tmp/full.out" 2>"$tmp/full.err"; ok $? "unsharded run"
"$bin" run $opts --shard 0/2 --db "$tmp/s0.db" >"$tmp/s0.out" 2>"$tmp/s0.err"; ok $? "run --shard 0/2"
"$bin" run $opts --shard 1/2 --db "$tmp/s1.db" >"$tmp/s1.out" 2>"$tmp/s1.err"; ok $? "run --shard 1/2"
grep -q "(partial)" "$tmp/s0.out" && grep -q "PARTIAL" "$tmp/s0.out"; ok $? "a shard's table marks its metrics partial"
got=$(sqlite3 "$tmp/s1.db" "SELECT group_concat(doc_index) FROM (SELECT DISTINCT doc_index FROM documents ORDER BY 1)")
[ "$got" = "1,3,5,7,9" ]; ok $? "shard 1/2 holds documents k mod 2 == 1 ($got)"
got=$(sqlite3 "$tmp/s0.db" "SELECT count(*) FROM task_runs WHERE json_extract(metric_variants, '\$.shard') = '0/2'")
[ "$got" = 6 ]; ok $? "each task run of shard 0/2 records its shard ($got)"
got=$(sqlite3 "$tmp/s0.db" "SELECT json_extract(args, '\$.shard.index') || '/' || json_extract(args, '\$.shard.count') FROM runs")
[ "$got" = "0/2" ]; ok $? "the run's args record the shard ($got)"

sum() { for f in "$@"; do sha256sum "$f"; done; }
sum "$tmp/s0.db" "$tmp/s1.db" >"$tmp/inputs.sum"
"$bin" merge "$tmp/m.db" "$tmp/s0.db" "$tmp/s1.db" >"$tmp/m.out" 2>"$tmp/m.err"; ok $? "merge s0.db s1.db"
sum "$tmp/s0.db" "$tmp/s1.db" | cmp -s - "$tmp/inputs.sum"; ok $? "merge leaves its inputs unchanged"
(umask 022 && "$bin" merge "$tmp/mode.db" "$tmp/s0.db" "$tmp/s1.db" >/dev/null 2>&1) &&
    [ "$(stat -c %a "$tmp/mode.db")" = 644 ]
ok $? "OUT gets the mode of any new database under the umask (644 with umask 022), not mkstemp's 600"

q_scores="SELECT t.task, t.n_shots, s.doc_index, s.metric, printf('%.17g', s.value) FROM scores s JOIN task_runs t ON t.id = s.task_run_id ORDER BY 1, 2, 3, 4"
q_ll="SELECT t.task, t.n_shots, q.doc_index, q.req_index, q.request_hash, printf('%.17g', r.logprob), r.text, r.error FROM requests q JOIN responses r ON r.request_id = q.id JOIN task_runs t ON t.id = q.task_run_id ORDER BY 1, 2, 3, 4"
q_metrics="SELECT t.task, t.n_shots, m.metric, printf('%.17g', m.value), printf('%.17g', m.std_error), m.stderr_method, m.n FROM metrics m JOIN task_runs t ON t.id = m.task_run_id ORDER BY 1, 2, 3"
q_tr="SELECT task, n_shots, split, task_version, dataset_hashes, metric_variants, status FROM task_runs ORDER BY 1, 2"
same() { sqlite3 "$tmp/full.db" "$1" >"$tmp/a"; sqlite3 "$tmp/m.db" "$1" >"$tmp/b"; [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b"; }
same "$q_scores"; ok $? "merged per-example scores equal the unsharded run's"
same "$q_ll"; ok $? "merged log-likelihoods (and generations) of every request equal the unsharded run's"
same "$q_metrics"; ok $? "merged metrics (mean, standard error, n) equal the unsharded run's"
same "$q_tr"; ok $? "merged task runs equal the unsharded run's (shard variant removed, finished)"
got=$(sqlite3 "$tmp/m.db" "SELECT count(*) || ' ' || min(status) FROM runs")
[ "$got" = "1 finished" ]; ok $? "the shards became one finished run ($got)"
same "SELECT request_hash, printf('%.17g', logprob), text FROM response_cache ORDER BY 1"
ok $? "the merged response cache equals the unsharded run's"

# Error cases: the output is never left behind and the message names the database and the field.
"$bin" merge "$tmp/m.db" "$tmp/s0.db" "$tmp/s1.db" >/dev/null 2>"$tmp/e.err"
[ $? = 1 ] && grep -q "m.db: already exists" "$tmp/e.err"; ok $? "merge refuses an existing output"
"$bin" merge "$tmp/e1.db" "$tmp/s0.db" >/dev/null 2>"$tmp/e.err"
[ $? = 1 ] && grep -q "s0.db: run 1 is shard 0/2, but no input holds shard 1/2" "$tmp/e.err" && [ ! -e "$tmp/e1.db" ]
ok $? "a missing shard is refused and no output is left"
"$bin" merge "$tmp/e2.db" "$tmp/s0.db" "$tmp/s0.db" >/dev/null 2>"$tmp/e.err"
[ $? = 1 ] && grep -q "field args.shard: shard 0/2 is also run 1 in" "$tmp/e.err" && [ ! -e "$tmp/e2.db" ]
ok $? "a shard present twice is refused"
"$bin" run $opts --bos never --shard 1/2 --db "$tmp/s1n.db" >/dev/null 2>&1
"$bin" merge "$tmp/e4.db" "$tmp/s0.db" "$tmp/s1n.db" >/dev/null 2>"$tmp/e.err"
[ $? = 1 ] && grep -q "field model: identity" "$tmp/e.err" && [ ! -e "$tmp/e4.db" ]
ok $? "shards run with different --bos are refused (the settings are part of the model's identity)"
if "$bin" init --preset 0.1B --scale 0.02 --out "$tmp/other" >/dev/null 2>&1; then
    "$bin" run --model "$tmp/other" --tasks arc_easy --shots 0 --limit 4 --data-dir "$data" --shard 1/2 \
        --db "$tmp/o1.db" >/dev/null 2>&1
    "$bin" merge "$tmp/e3.db" "$tmp/s0.db" "$tmp/o1.db" >/dev/null 2>"$tmp/e.err"
    [ $? = 1 ] && grep -q "o1.db: run 1 (shard 1/2): field model" "$tmp/e.err" && [ ! -e "$tmp/e3.db" ]
    ok $? "shards of different models are refused naming the field model"
else
    n=$((n + 1)); echo "ok $n # SKIP glam-eval init could not write a second model"
fi
cp "$tmp/s1.db" "$tmp/s1x.db"
sqlite3 "$tmp/s1x.db" "UPDATE task_runs SET dataset_hashes = json_set(dataset_hashes, '\$.x', 'y') WHERE task = 'boolq'"
"$bin" merge "$tmp/e4.db" "$tmp/s0.db" "$tmp/s1x.db" >/dev/null 2>"$tmp/e.err"
[ $? = 1 ] && grep -q "s1x.db: task run .*boolq 0-shot.*field dataset_hashes differs from that of the same task run in .*s0.db" "$tmp/e.err" && [ ! -e "$tmp/e4.db" ]
ok $? "a different dataset hash is refused naming the database and the field"
cp "$tmp/s1.db" "$tmp/s1p.db"
sqlite3 "$tmp/s1p.db" "UPDATE requests SET context = context || 'x' WHERE id = (SELECT min(id) FROM requests)"
"$bin" merge "$tmp/e5.db" "$tmp/s0.db" "$tmp/s1p.db" >/dev/null 2>"$tmp/e.err"
[ $? = 1 ] && grep -q "s1p.db: task run .*field request_hash" "$tmp/e.err" && [ ! -e "$tmp/e5.db" ]
ok $? "a changed prompt is refused naming the database and the field"
"$bin" run $opts --shard 2/2 --db "$tmp/x.db" >/dev/null 2>"$tmp/e.err"
[ $? = 2 ] && grep -q -- "--shard" "$tmp/e.err"; ok $? "--shard 2/2 is a usage error"
"$bin" merge "$tmp/e6.db" >/dev/null 2>&1
[ $? = 2 ]; ok $? "merge without inputs is a usage error"
ls "$tmp" | grep -q "merging-"; [ $? = 1 ]; ok $? "no merge left a temporary OUT.merging-XXXXXX file behind"
# The output is built beside OUT and named OUT only when complete, never replacing what is there by then: a
# dangling link at OUT (nothing exists, so the early check passes) is neither written through nor removed.
ln -s "$tmp/nowhere.db" "$tmp/e7.db"
"$bin" merge "$tmp/e7.db" "$tmp/s0.db" "$tmp/s1.db" >/dev/null 2>"$tmp/e.err"
rc=$?
left=$(ls "$tmp" | grep "^e7.db.merging-")
[ $rc = 1 ] && grep -q "e7.db: appeared during the merge.*left at .*e7.db.merging-" "$tmp/e.err" && [ -L "$tmp/e7.db" ] &&
    [ ! -e "$tmp/nowhere.db" ] && [ -n "$left" ] && [ "$(sqlite3 "$tmp/$left" "SELECT count(*) FROM runs")" = 1 ]
ok $? "something at OUT by the end: the merge neither writes through it nor replaces it, and keeps its result"
rm -f "$tmp/e7.db" "$tmp/$left"
"$bin" merge "$tmp/e8.db" "$tmp/full.db" "$tmp/full.db" >/dev/null 2>"$tmp/e.err"
[ $? = 1 ] && grep -q "full.db: run 1 is the same run as run 1 in .*full.db" "$tmp/e.err" && [ ! -e "$tmp/e8.db" ]
ok $? "the same unsharded run given twice is refused (it was copied twice)"

# MultiRC's F1a is a set-level aggregate, not a mean: merge must recompute it over all shards (from the stored
# aggregate inputs), and a shard that holds no document of a small task is an empty part, not an error.
opts3="--model $model --tasks copa,multirc --shots 0 --limit 5 --max-length 512 --data-dir $data"
"$bin" run $opts3 --db "$tmp/a.db" >/dev/null 2>&1; ok $? "unsharded multirc run"
rc=0
for i in 0 1 2 3 4 5; do "$bin" run $opts3 --shard $i/6 --db "$tmp/p$i.db" >"$tmp/p$i.out" 2>&1 || rc=1; done
[ $rc = 0 ]; ok $? "6 shards of 5 documents run (shard 5/6 is empty)"
grep -q "multirc .*(no documents in this shard)" "$tmp/p5.out"; ok $? "the empty shard says so in its table"
"$bin" merge "$tmp/am.db" "$tmp"/p[0-5].db >/dev/null 2>&1; ok $? "merge the 6 parts"
q_m="SELECT t.task, m.metric, printf('%.17g', m.value), printf('%.17g', m.std_error), m.n FROM metrics m JOIN task_runs t ON t.id = m.task_run_id ORDER BY 1, 2"
sqlite3 "$tmp/a.db" "$q_m" >"$tmp/a"; sqlite3 "$tmp/am.db" "$q_m" >"$tmp/b"
grep -q "^multirc|f1a|" "$tmp/a" && cmp -s "$tmp/a" "$tmp/b"; ok $? "merged metrics incl. MultiRC f1a and em equal the unsharded run's"
[ "$(sqlite3 "$tmp/am.db" "SELECT count(*) FROM metrics WHERE metric IN ('f1a', 'em') AND std_error IS NOT NULL AND
    stderr_method = 'bootstrap-1000'")" = 2 ]
ok $? "with their bootstrap standard errors (over MultiRC's questions), recomputed by merge"

echo "1..$n"
[ $fails -eq 0 ]
