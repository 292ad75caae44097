#!/usr/bin/env bash
# test_compare.sh — `glam-eval compare`: two runs of the same model (stories260K) that differ only in the few-shot
# seed show no significant difference on most rows; a dense and a MoE `init` checkpoint are compared with the
# parameter and FLOP counts `inspect` reports; the output is reproducible from its printed seed. Prints TAP; skips
# without ../shared.
set -u
bin=${GLAM_EVAL_BIN:-./glam-eval}
shared=${GLAM_EVAL_SHARED:-../shared}
model="$shared/models/stories260K/stories260K.gguf"
data="$shared/data"
if [ ! -f "$model" ] || [ ! -d "$data" ]; then echo "1..0 # SKIP ../shared (model or data) is absent"; exit 0; fi
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
db="$tmp/c.db"
opts="--tasks arc_easy,boolq,copa,winogrande --shots 1 --limit 25 --max-length 512 --data-dir $data --db $db"

"$bin" run --model "$model" $opts --seed 1 >/dev/null 2>&1; ok $? "run A: stories260K one-shot, seed 1"
"$bin" run --model "$model" $opts --seed 2 >/dev/null 2>&1; ok $? "run B: the same with seed 2"
"$bin" compare 1 2 --db "$db" --iters 500 >"$tmp/ab.md" 2>"$tmp/ab.err"; ok $? "compare 1 2"
grep -q "seed 1234" "$tmp/ab.md"; ok $? "the resampling seed is printed"
rows=$(grep -c "^| \(ARC-e\|BoolQ\|COPA\|WinoGrande\) | " "$tmp/ab.md")
[ "$rows" = 4 ]; ok $? "one row per task and shot count ($rows)"
grep -q "^| BoolQ | acc | 1 | 25 (25, 25) |" "$tmp/ab.md"; ok $? "documents are paired (25 of 25, each run's own count shown)"
sig=$(grep -c "significant\*\*" "$tmp/ab.md")
[ "$sig" -le 1 ]; ok $? "different seeds, same model: at most 1 of 4 tasks significant ($sig)"
"$bin" compare 1 2 --db "$db" --iters 500 >"$tmp/ab2.md" 2>/dev/null && cmp -s "$tmp/ab.md" "$tmp/ab2.md"
ok $? "the comparison is reproducible bit for bit"
"$bin" compare 1 2 --db "$db" --iters 500 --seed 7 | grep -q "seed 7"; ok $? "--seed 7 is used and printed"
"$bin" compare 1 1 --db "$db" --iters 200 >"$tmp/aa.md" 2>/dev/null
grep "^| BoolQ | acc | 1 |" "$tmp/aa.md" | grep -q "| +0.00 | \[+0.00, +0.00\] |  |"
ok $? "a run against itself: difference 0, interval [0, 0], not significant"

# averages per shot setting as report has them: few-shot = each task at its GLaM K (TriviaQA 1, COPA 16, WiC 4)
fdb="$tmp/few.db"
fopts="--tasks triviaqa,copa,wic --shots few --limit 4 --max-length 512 --data-dir $data --db $fdb"
"$bin" run --model "$model" $fopts --seed 1 >/dev/null 2>&1 && "$bin" run --model "$model" $fopts --seed 2 >/dev/null 2>&1
"$bin" compare 1 2 --db "$fdb" --iters 200 >"$tmp/few.md" 2>/dev/null
grep -q "^| Avg NLU | few | 2 of 21 INCOMPLETE |" "$tmp/few.md" && grep -q "^| Avg NLG | few | 1 of 9 INCOMPLETE |" "$tmp/few.md" \
    && grep -q "^| Avg NLG | 1 | 1 of 9 INCOMPLETE |" "$tmp/few.md" && ! grep -q "^| Avg NLU | 16 |" "$tmp/few.md"
ok $? "compare: one few-shot Avg NLU over COPA (K 16) and WiC (K 4); TriviaQA (K 1) in one-shot and few-shot"

# MultiRC's F1a is set-level: compare resamples it from each option's stored prediction and gold (_pred, _gold).
# The predictions of two real runs are replaced by known ones (stories260K answers "no" to every option), so the
# point estimates are checked exactly and the interval against a bootstrap of Python's own.
mdb="$tmp/multirc.db"
mopts="--tasks multirc --shots 0 --limit 160 --max-length 512 --data-dir $data --db $mdb"
"$bin" run --model "$model" $mopts --seed 1 >/dev/null 2>&1 && "$bin" run --model "$model" $mopts --seed 2 >/dev/null 2>&1
ok $? "two MultiRC runs"
want=$(python3 - "$mdb" <<'PY'
import random, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def rows(run):
    return db.execute("SELECT p.task_run_id, p.doc_index, g.value FROM scores p JOIN scores g ON g.task_run_id = "
                      "p.task_run_id AND g.doc_index = p.doc_index AND g.metric = '_gold' JOIN task_runs t ON "
                      "t.id = p.task_run_id WHERE t.run_id = ? AND p.metric = '_pred' ORDER BY p.doc_index",
                      (run,)).fetchall()
a, b = rows(1), rows(2)
gold = [int(g) for _, _, g in a]
pa = [g if i % 4 else 1 - g for i, g in enumerate(gold)]        # A: right on 3 of 4 options
pb = [g if i % 3 == 0 else 1 - g for i, g in enumerate(gold)]   # B: right on 1 of 3
for (tr, di, _), p in zip(a, pa):
    db.execute("UPDATE scores SET value = ? WHERE task_run_id = ? AND doc_index = ? AND metric = '_pred'", (p, tr, di))
for (tr, di, _), p in zip(b, pb):
    db.execute("UPDATE scores SET value = ? WHERE task_run_id = ? AND doc_index = ? AND metric = '_pred'", (p, tr, di))
db.commit()
def f1(pred, idx):
    tp = sum(1 for i in idx if pred[i] and gold[i]); fp = sum(1 for i in idx if pred[i] and not gold[i])
    fn = sum(1 for i in idx if not pred[i] and gold[i])
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
n = len(gold); every = range(n)
rng = random.Random(5)
diffs = sorted(f1(pa, s) - f1(pb, s) for s in ([rng.randrange(n) for _ in every] for _ in range(4000)))
print("%d %.2f %.2f %.2f %.2f %.2f" % (n, 100 * f1(pa, every), 100 * f1(pb, every), 100 * (f1(pa, every) - f1(pb, every)),
                                       100 * diffs[100], 100 * diffs[3899]))
PY
)
read -r n_opt fa fb fd lo hi <<<"$want"
"$bin" compare 1 2 --db "$mdb" --iters 4000 >"$tmp/m.md" 2>"$tmp/m.err"; ok $? "compare two MultiRC runs"
line=$(grep "^| MultiRC | f1a | 0 |" "$tmp/m.md")
echo "# want $want; got: $line"
case "$line" in "| MultiRC | f1a | 0 | $n_opt ($n_opt, $n_opt) | $fa | $fb | +$fd | ["*) true ;; *) false ;; esac
ok $? "F1a of both runs and the difference, on the $n_opt paired options, as Python computes them"
python3 - "$line" "$lo" "$hi" <<'PY'
import re, sys
got = [float(x) for x in re.search(r"\[([-+0-9.]+), ([-+0-9.]+)\]", sys.argv[1]).groups()]
want = [float(sys.argv[2]), float(sys.argv[3])]
sys.exit(0 if all(abs(g - w) < 2.0 for g, w in zip(got, want)) and got[0] > 0 else 1)
PY
ok $? "its 95% interval agrees with Python's bootstrap of F1a within 2 points, and excludes 0"
grep -q "^| MultiRC | f1a | 0 | .*\*\*significant\*\* |" "$tmp/m.md"; ok $? "and is marked significant"
grep -q "^| Avg NLU | 0 | 1 of 21 INCOMPLETE | +$fd | \[" "$tmp/m.md"; ok $? "Avg NLU's interval includes MultiRC"
"$bin" compare 2 2 --db "$mdb" --iters 200 | grep -q "^| MultiRC | f1a | 0 | $n_opt ($n_opt, $n_opt) | $fb | $fb | +0.00 | \[+0.00, +0.00\] |  |"
ok $? "a MultiRC run against itself: 0 [0, 0]"
python3 - "$mdb" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM scores WHERE metric IN ('_pred', '_gold') AND task_run_id IN (SELECT id FROM task_runs WHERE run_id = 2)")
db.commit()
PY
"$bin" compare 1 2 --db "$mdb" --iters 200 | grep -q "^| MultiRC | f1a | 0 | 0 ([0-9]*, 0) | .* | no interval (no per-example scores of this metric) |"
ok $? "without the stored inputs: the stored values and no interval"

# dense vs MoE: the models table carries inspect's counts
"$bin" init --preset 0.1B --scale 0.05 --out "$tmp/dense" >/dev/null 2>&1
"$bin" init --preset 0.1B/64E --scale 0.05 --out "$tmp/moe" >/dev/null 2>&1
small="--tasks arc_easy,boolq --shots 0 --limit 8 --data-dir $data --db $db"
"$bin" run --model "$tmp/dense" $small >/dev/null 2>&1 && "$bin" run --model "$tmp/moe" $small >/dev/null 2>&1
ok $? "runs of a dense and a MoE init checkpoint"
"$bin" compare 3 4 --db "$db" --iters 200 >"$tmp/dm.md" 2>"$tmp/dm.err"; ok $? "compare dense (3) vs MoE (4)"
for m in dense moe; do
    "$bin" inspect "$tmp/$m" --json >"$tmp/$m.json"
    want=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%d | %d | %.6g" % (d["params_total"], d["params_activated_per_token"], d["flops_per_token"] / 1e9))' "$tmp/$m.json")
    id=$([ $m = dense ] && echo 3 || echo 4)
    grep "^| $id | " "$tmp/dm.md" | grep -q "| $want |"
    ok $? "$m: total / activated parameters and GFLOPs per token as inspect reports ($want)"
done
grep -q "^| 4 | .* | [0-9.e+-]* |$" "$tmp/dm.md"; ok $? "score per GFLOP is printed"

# three runs: the models table's means are over the rows and documents all of them share (run 5: COPA only, 10
# documents), so equal scores on shared documents give equal means
"$bin" run --model "$model" --tasks copa --shots 1 --limit 10 --max-length 512 --data-dir "$data" --db "$db" --seed 3 \
    >/dev/null 2>&1; ok $? "run 5: COPA only, 10 documents"
"$bin" compare 1 2 5 --db "$db" --iters 200 >"$tmp/three.md" 2>/dev/null; ok $? "compare 1 2 5"
want=$(python3 - "$db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = ("SELECT d.doc_id, s.value FROM scores s JOIN documents d ON d.task_run_id = s.task_run_id AND d.doc_index = "
     "s.doc_index JOIN task_runs t ON t.id = s.task_run_id WHERE t.run_id = ? AND t.task = 'copa' AND t.n_shots = 1 "
     "AND s.metric = 'acc'")
runs = {r: dict(db.execute(q, (r,)).fetchall()) for r in (1, 2, 5)}
common = set(runs[1]) & set(runs[2]) & set(runs[5])
print(" ".join("%.2f" % (100 * sum(runs[r][d] for d in common) / len(common)) for r in (1, 2, 5)))
PY
)
got=$(for r in 1 2 5; do grep "^| $r | " "$tmp/three.md" | awk -F'|' '{gsub(/ /, "", $7); print $7}'; done | tr '\n' ' ')
[ "$got" = "$want " ]; ok $? "each run's mean over the 1 row and 10 documents all three share ($got; want $want)"
grep -q "mean over the 1 row (task, shots) every run evaluated, each on the documents all 3 runs scored" "$tmp/three.md"
ok $? "the models table says what its means are over"
grep -q "^Only in A (not compared): arc_easy 1-shot, boolq 1-shot, winogrande 1-shot.$" "$tmp/three.md"
ok $? "task runs only one run has are listed"

# a failed task run: no "nan", the reason, and a note on the run
fopts2="--tasks copa,arc_easy --shots 0 --limit 10 --data-dir $data --db $tmp/fail.db"
"$bin" run --model "$model" $fopts2 --max-length 6 >/dev/null 2>&1; "$bin" run --model "$model" $fopts2 >/dev/null 2>&1
"$bin" compare 1 2 --db "$tmp/fail.db" --iters 200 >"$tmp/fail.md" 2>&1; ok $? "compare a failed run with a finished one"
grep -q "^| COPA | acc | 0 | 0 (0, 10) | – | [0-9.]* | – | no interval (the task run of A is failed: no scores) |" \
    "$tmp/fail.md" && ! grep -q nan "$tmp/fail.md"
ok $? "the failed task run's row says so, with no nan ($(grep "^| COPA" "$tmp/fail.md"))"
grep -q "^Note: run 1 is failed: task runs it has not finished have no scores" "$tmp/fail.md"; ok $? "and the run is noted"

"$bin" compare 1 --db "$db" 2>/dev/null; [ $? = 2 ]; ok $? "one run is a usage error"
"$bin" compare 1 99 --db "$db" 2>"$tmp/e"; [ $? = 1 ] && grep -q "no run 99" "$tmp/e"; ok $? "an unknown run is named"
echo "1..$n"
[ $fails = 0 ]
